"""The rolling-origin loop: at each origin, forecasts from the history known then, outcomes
read afterwards, scores.

History reaches every model only through :func:`models.data.series_as_of`; the months after an
origin are read by :func:`outcomes_after` once all of that origin's forecasts exist. Each
origin's random numbers come from :func:`origin_seed` (run seed and origin month), so an
origin's forecasts do not change when other origins are added or dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.data import month_date, series_as_of
from models.evaluation.backtest.scores import score_forecast
from models.evaluation.reference_forecasts import all_reference_samples
from models.inference.monthly import MODEL_NAME, OriginForecast
from scenarios.backtest_config import LoadedBacktest

__all__ = ["BacktestResult", "BacktestSettings", "Forecaster", "OriginRangeError",
           "check_history", "origin_seed", "outcomes_after", "run_backtest"]

Forecaster = Callable[[pd.DataFrame, int, int, int], OriginForecast]
"""``forecaster(history, horizons, draws, seed)``: a forecast from ``history``, the frame
:func:`models.data.series_as_of` returned at the origin (columns ``month_id, deaths``), as
:class:`models.inference.monthly.OriginForecast` with ``samples`` of shape ``(draws, horizons)``
(e.g. :class:`models.inference.monthly.LatentNBForecaster`)."""


@dataclass(frozen=True)
class BacktestSettings:
    """What one backtest run does (the config, with ``--quick`` applied)."""

    origins: tuple[int, ...]
    """Origin months (ViEWS month ids)."""
    horizons: int
    draws: int
    """Monte Carlo draws per forecast, for every model (config ``forecast.draws``)."""
    seed: int
    benchmarks: tuple[str, ...]

    @classmethod
    def from_config(cls, loaded: LoadedBacktest, quick: bool = False) -> BacktestSettings:
        c = loaded.config
        origins = c.origins.month_ids()
        if quick and len(origins) > c.quick.origins:
            pick = np.unique(np.linspace(0, len(origins) - 1, c.quick.origins).round().astype(int))
            origins = [origins[i] for i in pick]
        return cls(origins=tuple(origins), horizons=c.forecast.horizons,
                   draws=c.quick.draws if quick else c.forecast.draws,
                   seed=c.forecast.seed, benchmarks=tuple(c.benchmarks))


def outcomes_after(deaths: pd.DataFrame, origin: int, horizons: int) -> pd.Series:
    """Observed deaths in months ``origin+1 .. origin+horizons``, indexed by horizon (months
    beyond the data are absent). Used only to score forecasts already made."""
    months = deaths["month_id"].to_numpy()
    keep = (months > origin) & (months <= origin + horizons)
    rows = deaths.loc[keep]
    return pd.Series(rows["deaths"].to_numpy(dtype=float),
                     index=(rows["month_id"].to_numpy() - origin).astype(int), name="observed")


def origin_seed(seed: int, origin: int) -> int:
    """Seed of one origin's random numbers, from the run seed and the origin month: an origin's
    forecasts do not change when other origins are added or dropped."""
    return int(np.random.SeedSequence([int(seed), int(origin)]).generate_state(1)[0])


@dataclass
class BacktestResult:
    settings: BacktestSettings
    forecast_scores: pd.DataFrame
    """One row per (origin, model, horizon): ``origin, origin_date, model, horizon, observed``,
    the metrics of :func:`models.evaluation.scoring.score_samples`, and ``covered_<level>`` for
    :data:`models.evaluation.backtest.scores.NOMINAL_LEVELS`."""
    fits: pd.DataFrame
    """One row per origin: our model's fit time and diagnostics."""
    seconds: dict
    samples: dict | None = None
    """``{origin: {model: (draws, H)}}`` when ``keep_samples`` (tests, small runs)."""


class OriginRangeError(ValueError):
    """Origins the data cannot support; ``key`` is the config key to blame (first or last)."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(f"origins -> {key}: {message}")


def check_history(deaths: pd.DataFrame, settings: BacktestSettings, window: int) -> None:
    """Raise :class:`OriginRangeError` if an origin has fewer than ``max(window, 12)`` months of
    data up to it (conflictology resamples the last 12) or no month after it to score."""
    first_month = int(deaths["month_id"].min())
    last_month = int(deaths["month_id"].max())
    need = max(window, 12)
    early = [o for o in settings.origins if o - need + 1 < first_month]
    if early:
        raise OriginRangeError("first", f"{month_date(early[0]):%Y-%m} has fewer than {need} "
                               f"months of data before it (data start "
                               f"{month_date(first_month):%Y-%m})")
    late = [o for o in settings.origins if o >= last_month]
    if late:
        raise OriginRangeError("last", f"{month_date(late[0]):%Y-%m} leaves no month to "
                               f"score (data end {month_date(last_month):%Y-%m})")


def run_backtest(deaths: pd.DataFrame, settings: BacktestSettings, forecaster: Forecaster, *,
                 window: int = 12, keep_samples: bool = False,
                 progress: Callable[[str], None] | None = None) -> BacktestResult:
    """Forecast at every origin with ``forecaster`` and the benchmarks, then score.

    ``deaths``: one unit's tidy monthly series (``month_id, deaths``, consecutive months).
    History reaches ``forecaster`` and the benchmarks only through :func:`series_as_of`; the
    outcomes are read by :func:`outcomes_after` after the origin's forecasts are made.
    ``window``: months the forecaster needs before the first origin (checked up front).
    """
    deaths = deaths.sort_values("month_id", kind="stable").reset_index(drop=True)
    check_history(deaths, settings, window)
    say = progress or (lambda msg: None)
    rows, fits, kept = [], [], {}
    t_start = time.perf_counter()
    for i, origin in enumerate(settings.origins):
        seed = origin_seed(settings.seed, origin)
        history = series_as_of(deaths, origin)
        t0 = time.perf_counter()
        ours = forecaster(history, settings.horizons, settings.draws, seed)
        forecast_seconds = time.perf_counter() - t0
        refs = all_reference_samples(history["deaths"].to_numpy(dtype=float), settings.horizons,
                                     settings.draws, seed)
        forecasts = {MODEL_NAME: ours.samples, **{b: refs[b] for b in settings.benchmarks}}
        for name, x in forecasts.items():
            if x.shape != (settings.draws, settings.horizons):
                raise ValueError(f"{name} at origin {origin}: samples of shape {x.shape}, "
                                 f"expected {(settings.draws, settings.horizons)}")
        if keep_samples:
            kept[origin] = forecasts
        observed = outcomes_after(deaths, origin, settings.horizons)
        origin_date = f"{month_date(origin):%Y-%m}"
        for name, x in forecasts.items():
            s = score_forecast(x, observed, rng=np.random.default_rng([seed, len(name)]))
            s.insert(0, "model", name)
            s.insert(0, "origin_date", origin_date)
            s.insert(0, "origin", origin)
            rows.append(s)
        fits.append({"origin": origin, "origin_date": origin_date,
                     "forecast_seconds": forecast_seconds, **ours.diagnostics})
        d = ours.diagnostics
        say(f"origin {origin_date} ({i + 1}/{len(settings.origins)}): {forecast_seconds:.1f} s"
            + (f", max R-hat {d['max_rhat']:.3f}, {d['divergences']} divergences"
               if "max_rhat" in d else ""))
    return BacktestResult(settings=settings, forecast_scores=pd.concat(rows, ignore_index=True),
                          fits=pd.DataFrame(fits),
                          seconds={"origins": time.perf_counter() - t_start},
                          samples=kept if keep_samples else None)
