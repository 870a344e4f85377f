"""A backtest config, run as a library call: the data it names, the forecaster it describes,
the rolling-origin loop, and the run's description for the outputs::

    loaded = load_backtest_config("configs/backtest-syria.yaml")
    run = backtest_from_config(loaded, quick=True)
    write_outputs(run.result, "results/backtest-syria-quick", run.meta)

Problems the data reveal (a country not in the file, origins the data cannot support) are
raised as :class:`scenarios.yaml_source.ConfigError` at the config key to blame.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from models.data import DataError, load_monthly_deaths
from models.evaluation.backtest.loop import (
    BacktestResult,
    BacktestSettings,
    Forecaster,
    OriginRangeError,
    check_history,
    run_backtest,
)
from models.inference.monthly import MODEL_NAME, LatentNBForecaster
from scenarios.backtest_config import BacktestConfig, LoadedBacktest
from scenarios.yaml_source import ConfigError

__all__ = ["BacktestRun", "backtest_from_config", "forecaster_from_config",
           "load_backtest_data", "run_meta", "sampler_settings"]


@dataclass
class BacktestRun:
    result: BacktestResult
    meta: dict
    """The run's description (:func:`run_meta`) with ``seconds``: what the writer records."""


def load_backtest_data(loaded: LoadedBacktest, *, quick: bool = False) -> pd.DataFrame:
    """The unit's monthly deaths (``data``), checked against the origins: a country missing
    from the file or origins without enough history raise :class:`ConfigError` at their key;
    other data problems raise :class:`models.data.DataError`."""
    c = loaded.config
    try:
        deaths = load_monthly_deaths(loaded.data_path, country=c.data.country)
    except DataError as e:
        if "no rows for country" in str(e) or "no events for country" in str(e):
            raise ConfigError([f"{loaded.where('data', 'country')}: data -> country: "
                               f"{e}"]) from None
        raise
    try:
        check_history(deaths, BacktestSettings.from_config(loaded, quick=quick),
                      c.model.window_months)
    except OriginRangeError as e:
        raise ConfigError([f"{loaded.where('origins', e.key)}: {e}"]) from None
    return deaths


def sampler_settings(config: BacktestConfig, *, quick: bool = False) -> dict:
    """NUTS settings of one fit (``sampler``, with ``quick`` applied): ``chains, tune,
    posterior_draws, target_accept``."""
    return {"chains": config.sampler.chains,
            "tune": config.quick.tune if quick else config.sampler.tune,
            "posterior_draws": (config.quick.posterior_draws if quick
                                else config.sampler.posterior_draws),
            "target_accept": config.sampler.target_accept}


def forecaster_from_config(config: BacktestConfig, *, quick: bool = False) -> LatentNBForecaster:
    """``latent_nb`` as the config's ``model`` and ``sampler`` describe it (not compiled yet)."""
    m = config.model
    return LatentNBForecaster(m.window_months, damping=m.trend_damping,
                              december_effect=m.december_effect, anchor=m.ar_anchor,
                              **sampler_settings(config, quick=quick))


def run_meta(loaded: LoadedBacktest, *, quick: bool, started: float) -> dict:
    """What ``run.json`` and the summary say about the run (timings are added by the run)."""
    c = loaded.config
    return {"name": c.name, "config_path": str(loaded.path), "config_hash": loaded.config_hash,
            "config": loaded.resolved, "data_path": str(loaded.data_path),
            "country": c.data.country, "quick": quick,
            "window_months": c.model.window_months, "trend_damping": c.model.trend_damping,
            "december_effect": c.model.december_effect, "ar_anchor": c.model.ar_anchor,
            "sampler": sampler_settings(c, quick=quick), "seed": c.forecast.seed,
            "started": started}


def backtest_from_config(loaded: LoadedBacktest, *, quick: bool = False,
                         deaths: pd.DataFrame | None = None,
                         forecaster: Forecaster | None = None,
                         progress: Callable[[str], None] | None = None,
                         started: float | None = None) -> BacktestRun:
    """Run the backtest a loaded config describes (``quick``: its ``quick:`` settings).

    ``deaths``: the data if already read (:func:`load_backtest_data`); ``forecaster``: a
    stand-in for ``latent_nb`` (default :func:`forecaster_from_config`, compiled here);
    ``progress``: called with one status line at a time; ``started``: ``time.perf_counter()``
    at the start of the run (default now), for the whole run's duration."""
    started = time.perf_counter() if started is None else started
    say = progress or (lambda msg: None)
    c = loaded.config
    settings = BacktestSettings.from_config(loaded, quick=quick)
    if deaths is None:
        deaths = load_backtest_data(loaded, quick=quick)
    say(f"backtest '{c.name}': {len(settings.origins)} origins, horizons 1-{settings.horizons}, "
        f"{settings.draws} draws; compiling {MODEL_NAME} (window {c.model.window_months} "
        "months)...")
    if forecaster is None:
        forecaster = forecaster_from_config(c, quick=quick)
    compile_seconds = float("nan")
    if hasattr(forecaster, "model"):  # latent_nb: compile up front, timed apart from the fits
        forecaster.model.compiled()
        compile_seconds = forecaster.model.compile_seconds
        say(f"compiled in {compile_seconds:.1f} s")
    result = run_backtest(deaths, settings, forecaster, window=c.model.window_months,
                          progress=say)
    meta = run_meta(loaded, quick=quick, started=started)
    meta["seconds"] = {"compile": compile_seconds, "origins": result.seconds["origins"]}
    return BacktestRun(result=result, meta=meta)
