"""Rolling-origin backtest of our monthly casualty model against the ViEWS benchmarks.

    python -m models.backtest configs/backtest-syria.yaml --out DIR [--quick] [--quiet]

At every origin month ``t`` (config ``origins``) the backtest reads the history known at ``t``
through :func:`models.data.series_as_of` (and only through it), fits our model to the last
``window_months`` of it, forecasts months ``t+1 .. t+H`` as ``samples`` draws, draws the four
benchmark forecasts (:mod:`models.evaluation.reference_forecasts`) from the same history, and scores all of
them against the months that followed (:mod:`models.evaluation.scoring`). Outcomes are read only after
every forecast of that origin exists, from a separate function (:func:`outcomes_after`).

Our model, ``latent_nb``
------------------------
The latent-intensity family of the event model (:func:`models.inference.nowcast.latent_intensity`, called,
not copied) at monthly resolution, for one unit (country)::

    log lambda[t] = a + trend * (t - t_origin) + eps[t]                      deaths per month
    eps[t]        = persistence * eps[t-1] + innovation_sd * z[t]             AR(1)
    deaths[t]     ~ NegBin(mean lambda[t], size = dispersion)                 exact UCDP counts

fitted by NUTS (nutpie) to the window's months; the model is compiled once and refitted at each
origin with ``compiled.with_data`` (the window has a fixed length, so the shapes never change).
The forecast continues the same process draw by draw: for each posterior draw, the AR(1)
deviation runs on from its value at the origin with new innovations, the trend is damped
(Gardner-McKenzie: the log-mean moves by ``trend * sum_{k<=h} damping^k`` after ``h`` months,
so a trend fitted to two years is not extrapolated at full strength for a third), and each
month's count is a negative-binomial draw around ``lambda``. The draws are joint over horizons
(one row = one trajectory), in the ``(n_samples, H)`` layout of the reference forecasts.

With ``model.ar_anchor: mean`` (the shipped config) the AR(1) path is centred on its window
mean (``eps - mean(eps)``, :func:`models.inference.nowcast.latent_intensity` with ``anchor="mean"``), so
``a`` is the window's mean log-intensity on the trend line at the origin and no common shift of
the deviations can trade off against it; with ``start`` (the default, the event model's form)
the path starts at one innovation and ``a`` and a persistent deviation form a ridge (NUTS
R-hat and divergences, see the tuning record). The forecast starts from the centred
deviation at the origin and reverts to the same trend line.

Priors (:data:`MONTHLY_PRIORS`) are generic and weak, the same at every origin, so no data
after an origin (nor any data at all) shape them; the data enter only through the likelihood of
the window's months, all at or before the origin.

With ``model.december_effect`` the observation model gets one more term, a December reporting
factor (``deaths ~ NegBin(lambda * exp(december_excess * is_december), size)``, prior in
:data:`MONTHLY_PRIORS`): the latent intensity is untouched, the factor plays the part the
reporting shares play in the event model. It is estimated at each origin from the Decembers in
the window, and forecast Decembers get it too.

Tuning record (what was chosen, on which data)
----------------------------------------------
* Priors, window (24 months) and damping (0.8) were set before any forecast was scored. The
  persistence prior's upper end (~0.9) and the window were chosen from NUTS behaviour (divergences,
  time per fit) in trial fits on eight Syria windows 2012-2023, i.e. on data of the evaluation
  period, but without looking at any forecast or score.
* The first full Syria run (this config with ``december_effect: false``) gave CRPS ratios to
  conflictology of 1.14, 1.11, 1.09 at horizons 1-3 and 90% coverage 0.89. The per-origin
  scores showed that almost all of the deficit at horizon 1 came from the six November and
  December origins of 2014-2016 (the December spikes). The December term was added because of
  that: a model choice informed by the evaluation period, although the spikes themselves were
  in the data before the first origin (December 2012 and 2013). Reported as such.
* Variants of persistence (upper end 0.97), trend sd (0.05) and damping (0.9) were compared on
  the neighbours (Iraq, Turkey, Israel, Lebanon; origins 2019-12..2023-04, every 2 months), not
  on Syria: none beat the chosen settings there (CRPS ratios to conflictology within a few per
  cent of each other, 90% coverage 0.91-0.92), so nothing was changed.
* NUTS and calibration (second round). The full Syria run with the settings above had clean
  fits (max R-hat <= 1.01 and no divergence) at 14 of 112 origins, although the log-intensity at
  the origin converged: the level ``a`` and a persistent AR deviation traded off (a ridge). Its
  90% coverage fell with horizon (0.90 at h1, 0.73 at h12). Variants were compared on the
  neighbours only (same design as above: Iraq, Turkey, Israel, Lebanon; 21 origins each,
  2019-12..2023-04 every 2 months, 84 fits, seed 11, 1000 draws per forecast). CRPS ratio
  to conflictology as ratio of sums over Iraq, Turkey and Israel (Lebanon's near-zero months
  make its ratios meaningless and are left out of it); "bad" = max R-hat > 1.01 or a
  divergence:

  ======================================================  ======  ======  =====  =====  ===
  variant                                                 h1-3    h1-12   cov50  cov90  bad
  ======================================================  ======  ======  =====  =====  ===
  previous settings (AR from the window's start)          1.088   1.068   0.69   0.91   67
  AR pinned to 0 at the origin, run backwards             1.256   1.122   0.69   0.92   65
  same, 4 chains                                          1.180   1.136   0.69   0.91   68
  same, 4 chains, persistence 90% in (0.5, 0.98)          1.899   1.774   0.71   0.91   72
  AR centred on its window mean (``ar_anchor: mean``)     0.987   0.997   0.65   0.91   56
  mean, persistence 90% in (0.3, 0.97)                    1.006   1.009   0.67   0.92   66
  mean, 4 chains x 1000 draws, tune 1000                  0.989   0.993   0.66   0.91   53
  mean, target_accept 0.99                                0.984   0.993   0.66   0.91   50
  mean, 4 x 500, tune 1000, target_accept 0.99            0.995   0.993   0.65   0.91   49
  **mean, 4 x 1000, tune 1000, target_accept 0.99**       0.984   0.993   0.65   0.91   22
  ======================================================  ======  ======  =====  =====  ===

  Pinning the deviation at the origin makes the forecast revert to the (noisy) origin month
  instead of the window's level: much worse on the spiky low-count neighbours. Centring it on
  the window mean keeps the forecast of the previous model (revert to the trend line) but
  identifies the level; it was better on every neighbour except Iraq (equal; h1-3 ratios Iraq,
  Turkey, Israel, Lebanon 0.955, 1.097, 1.305, 4.89 before, 0.955, 1.083, 0.989, 0.96 with the
  chosen row), 5 times faster per fit, and with target_accept 0.99 nearly free of divergences
  (2-3 fits of 84); most of the remaining R-hat excess went with more draws. The last row was chosen (in the shipped config;
  ~3 s per fit). Persistence near 1 (for more long-horizon spread) was worse on the neighbours
  and was not taken, so nothing in the chosen model widens long-horizon forecasts. The 22 bad
  neighbour fits are low-count windows of Turkey, Israel and Lebanon (Iraq: none).
  The Syria run with the chosen settings, made once afterwards: clean fits at 79 of 112 origins
  (before 14; R-hat > 1.01 in 24, worst 1.020, before 81, worst 1.103; divergences in 12 fits,
  14 transitions, before 77 and 387; R-hat of the log-intensity at the origin > 1.01 in none),
  3.5 s per fit, 417 s in all. CRPS ratios to conflictology 0.600, 0.621, 0.608 at h1-3 (before
  0.599, 0.618, 0.608) and 0.681 at h12 (before 0.650); coverage unchanged and still too narrow
  at long horizons: 90% pooled 0.83 (0.91 at h1 falling to 0.73 at h12), 50% 0.40 (0.53 to
  0.30). Open: the long-horizon spread (Syria's level drifts more than a stationary AR around
  a damped trend allows) and the last 20% of fits. Not re-tuned on Syria.

Outputs (``DIR``, written to a temporary sibling and renamed when complete)
-------------------------------------------------------------------------
* ``scores.csv``: ``model, horizon, metric, value``: mean of each metric over the origins
  (:func:`models.evaluation.scoring.summarise_scores`); metrics ``crps, log_score, binned_log_score,
  mis_90, interval_score_50, coverage_50, coverage_90``; models ``latent_nb`` and the benchmarks;
* ``forecast_scores.csv``: the same per origin (``origin``, ``origin_date``), with PIT bounds;
* ``fits.csv``: per origin, fit time and NUTS diagnostics of our model;
* ``crps_by_horizon.png``, ``calibration.png``, ``summary.md``, ``run.json``,
  ``config.resolved.json`` (the validated config, whose hash ``run.json`` records).

Bad config or data: one line per problem on stderr (file, line, key), exit 2, no traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import shutil
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from models.data import DataError, load_monthly_deaths, month_date, series_as_of
from models.evaluation.reference_forecasts import all_reference_samples
from models.evaluation.scoring import SUMMARY_METRICS, coverage, pit_histogram, score_samples
from models.inference.priors import Prior
from scenarios.backtest_config import ConfigError, LoadedBacktest, load_backtest_config
from scenarios.distributions import Beta, LogNormal, Normal

__all__ = [
    "MODEL_NAME",
    "MONTHLY_PRIORS",
    "BacktestResult",
    "BacktestSettings",
    "LatentNBForecaster",
    "MonthlyLatentModel",
    "OriginForecast",
    "crps_ratios",
    "forecast_paths",
    "main",
    "outcomes_after",
    "plot_calibration",
    "plot_crps_by_horizon",
    "run_backtest",
    "scores_table",
    "write_outputs",
]

MODEL_NAME = "latent_nb"
SCORE_COLUMNS = ("model", "horizon", "metric", "value")
NOMINAL_LEVELS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
"""Central-interval levels of the coverage-vs-nominal plot."""
RHAT_MAX = 1.01
MAX_LOG_INTENSITY = np.log(1e7)
"""Forecast log-intensities are capped at 10 million deaths a month (far above any recorded
country-month) so a rare runaway trend draw cannot overflow the negative-binomial sampler."""

# --- priors -----------------------------------------------------------------------------------

MONTHLY_PRIORS: dict[str, Prior] = {
    "intensity_at_origin": Prior(
        LogNormal(dist="lognormal", low=1.0, high=20_000.0),
        "Deaths per month in the unit at the origin on the trend line, without the AR deviation "
        "(with model.ar_anchor: mean, the window's mean log-intensity carried along the trend "
        "to the origin). Generic and weak: "
        "90% interval from a nearly quiet month (1) to the worst country-months in UCDP data "
        "(~20,000); log-scale sd 3.0, so the window's counts decide the level.",
    ),
    "trend": Prior(
        Normal(dist="normal", mean=0.0, sd=0.03),
        "Change of log-intensity per month. sd 0.03: a trend of 1 sd changes the level by a "
        "factor 2 in two years, the pace of a war winding down or building up; faster changes "
        "are left to the AR(1) deviations. Generic (not fitted to any unit).",
    ),
    "persistence": Prior(
        Beta(dist="beta", low=0.2, high=0.9),
        "Month-to-month AR(1) coefficient of deviations from the trend line: deviations that "
        "last from weeks to several months. Kept below ~0.95 on purpose: with persistence near "
        "1 the deviations become a second trend, the level and the deviations are not "
        "identified in a two-year window, and NUTS diverges (seen in trial fits).",
    ),
    "innovation_sd": Prior(
        LogNormal(dist="lognormal", low=0.05, high=1.0),
        "sd of monthly log-intensity innovations: from months that resemble each other (5%) to "
        "months that differ by a factor 2.7. Generic and wide.",
    ),
    "dispersion": Prior(
        LogNormal(dist="lognormal", low=1.0, high=30.0),
        "Negative-binomial size of a month's count given its intensity: from strongly "
        "clustered months (size 1: a few mass-casualty events dominate) to near-Poisson noise "
        "around the intensity (size 30: ~18% sd for large counts). Generic and wide.",
    ),
    "december_excess": Prior(
        Normal(dist="normal", mean=0.0, sd=1.0),
        "Log-ratio of a December's recorded deaths to the intensity (used with "
        "model.december_effect). Syria's UCDP December counts 2012-2016 are 3-5 times the "
        "months around them (Dec 2012: 14,153 after ~5,500/month; Dec 2013: 19,209 after "
        "~4,800), visible in the data before the first origin (2014-01), presumably deaths "
        "dated only to their year and placed at its end. sd 1 on the log scale: a year-end "
        "factor between 1/5 and 5 at 90%, either sign, so windows without it estimate ~0.",
    ),
}
"""Priors of ``latent_nb`` at monthly resolution, each with its basis. The same at every origin:
nothing observed enters them, so they cannot leak data from after an origin."""

# --- our model ----------------------------------------------------------------------------------

POSTERIOR_VARS = ("log_base_intensity", "trend", "persistence", "innovation_sd", "dispersion",
                  "ar_deviation_path")
DECEMBER = 12


class MonthlyLatentModel:
    """``latent_nb`` for ``n_units`` series of ``window`` months, compiled once (nutpie) and
    refitted to new counts with ``with_data``.

    ``fit(counts)`` takes counts of shape ``(n_units, window)`` (deaths per month, oldest first,
    the last column the origin month) and returns posterior draws as flat arrays. ``anchor``
    (``"start"`` or ``"mean"``) is passed to :func:`models.inference.nowcast.latent_intensity`.
    """

    def __init__(self, window: int, *, n_units: int = 1, priors: dict[str, Prior] | None = None,
                 december_effect: bool = False, anchor: str = "start"):
        self.window = int(window)
        self.n_units = int(n_units)
        self.december_effect = bool(december_effect)
        self.anchor = anchor
        self.priors = dict(MONTHLY_PRIORS if priors is None else priors)
        self.model = self._build()
        self._compiled = None
        self.compile_seconds: float | None = None

    def _build(self):
        import pymc as pm
        import pytensor.tensor as pt

        from models.inference.nowcast import latent_intensity, nb_logpmf

        coords = {"unit": np.arange(self.n_units), "month": np.arange(self.window)}
        with pm.Model(coords=coords) as model:
            deaths = pm.Data("monthly_deaths", np.zeros((self.n_units, self.window)),
                             dims=("unit", "month"))
            lam, _ = latent_intensity(self.window, self.priors, series_dim="unit",
                                      time_dim="month", anchor=self.anchor)
            size_spec = self.priors["dispersion"].spec
            size = pm.LogNormal("dispersion", mu=size_spec.mu, sigma=size_spec.sigma)
            mean = lam
            if self.december_effect:
                # Which of the window's months are Decembers changes with the origin: data.
                december = pm.Data("is_december", np.zeros(self.window), dims="month")
                spec = self.priors["december_excess"].spec
                excess = pm.Normal("december_excess", mu=spec.mean, sigma=spec.sd, dims="unit")
                mean = lam * pt.exp(excess[:, None] * december[None, :])
            pm.Potential("monthly_deaths_loglik", nb_logpmf(deaths, mean, size).sum())
        return model

    def compiled(self):
        """The nutpie-compiled model (compiled on first use, then reused)."""
        if self._compiled is None:
            import nutpie

            t0 = time.perf_counter()
            names = list(POSTERIOR_VARS) + (["december_excess"] if self.december_effect else [])
            self._compiled = nutpie.compile_pymc_model(self.model, freeze_model=False,
                                                       var_names=names)
            self.compile_seconds = time.perf_counter() - t0
        return self._compiled

    def fit(self, counts: np.ndarray, *, seed: int, chains: int, tune: int, draws: int,
            target_accept: float, is_december: np.ndarray | None = None,
            ) -> tuple[dict[str, np.ndarray], dict]:
        """NUTS fit to ``counts`` ``(n_units, window)``; ``is_december`` ``(window,)`` marks the
        window's Decembers (needed when the model has the December effect). Returns (posterior
        draws flattened over chains: ``a, trend, eps_origin`` (and ``december_excess``) of shape
        ``(n_draws, n_units)``, ``persistence, innovation_sd, dispersion`` of shape
        ``(n_draws,)``; diagnostics)."""
        import nutpie

        y = np.asarray(counts, dtype=float)
        if y.shape != (self.n_units, self.window):
            raise ValueError(f"counts must have shape {(self.n_units, self.window)}, got {y.shape}")
        if not np.all(np.isfinite(y)) or np.any(y < 0) or np.any(y != np.round(y)):
            raise ValueError("counts must be finite non-negative whole numbers")
        data = {"monthly_deaths": y}
        if self.december_effect:
            if is_december is None or np.shape(is_december) != (self.window,):
                raise ValueError(f"is_december must have shape ({self.window},)")
            data["is_december"] = np.asarray(is_december, dtype=float)
        compiled = self.compiled().with_data(**data)
        t0 = time.perf_counter()
        idata = nutpie.sample(compiled, draws=draws, tune=tune, chains=chains, seed=seed,
                              target_accept=target_accept, progress_bar=False, save_warmup=False,
                              cores=min(chains, os.cpu_count() or 1))
        seconds = time.perf_counter() - t0
        post = idata.posterior
        stack = lambda v: post[v].values.reshape(-1, *post[v].shape[2:])  # noqa: E731
        params = {
            "a": stack("log_base_intensity"),
            "trend": stack("trend"),
            "eps_origin": stack("ar_deviation_path")[:, :, -1],
            "persistence": stack("persistence"),
            "innovation_sd": stack("innovation_sd"),
            "dispersion": stack("dispersion"),
        }
        if self.december_effect:
            params["december_excess"] = stack("december_excess")
        return params, _diagnostics(idata, seconds)


def _diagnostics(idata, seconds: float) -> dict:
    """R-hat (rank-normalised, split) and bulk ESS of the scalar and per-unit parameters and of
    the log-intensity at the origin (what the forecast starts from), and divergences."""
    import arviz as az

    post = idata.posterior
    names = ["log_base_intensity", "trend", "persistence", "innovation_sd", "dispersion"]
    names += ["december_excess"] if "december_excess" in post else []
    ds = post[names].copy()
    ds["log_intensity_at_origin"] = (post["log_base_intensity"]
                                     + post["ar_deviation_path"].isel(month=-1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # constant draws in degenerate fits
        rhat = az.rhat(ds)
        ess = az.ess(ds, method="bulk")
    max_rhat = float(max(np.nanmax(rhat[v].values) for v in rhat.data_vars))
    divergences = int(idata.sample_stats["diverging"].values.sum())
    return {
        "fit_seconds": seconds,
        "max_rhat": max_rhat,
        "rhat_log_intensity_at_origin": float(np.nanmax(rhat["log_intensity_at_origin"].values)),
        "min_ess_bulk": float(min(np.nanmin(ess[v].values) for v in ess.data_vars)),
        "divergences": divergences,
        "chains": int(post.sizes["chain"]),
        "draws": int(post.sizes["draw"]),
    }


def forecast_paths(params: dict[str, np.ndarray], horizons: int, n_samples: int,
                   damping: float, rng: np.random.Generator, unit: int = 0,
                   is_december: np.ndarray | None = None) -> np.ndarray:
    """Monthly deaths for horizons ``1..horizons`` continuing the fitted process, shape
    ``(n_samples, horizons)`` (people per month, whole numbers).

    Each path takes one posterior draw (draws are reused, in a random order, when
    ``n_samples`` exceeds their number) and runs the AR(1) deviation on from its origin value,
    adds the damped trend and draws negative-binomial counts. If ``params`` has
    ``december_excess``, ``is_december`` ``(horizons,)`` marks the target Decembers, whose
    mean count is multiplied by ``exp(december_excess)`` as in the fit.
    """
    n_post = params["persistence"].shape[0]
    reps = -(-n_samples // n_post)
    idx = np.concatenate([rng.permutation(n_post) for _ in range(reps)])[:n_samples]
    a = params["a"][idx, unit]
    trend = params["trend"][idx, unit]
    eps = params["eps_origin"][idx, unit]
    phi = params["persistence"][idx]
    sigma = params["innovation_sd"][idx]
    size = params["dispersion"][idx]
    excess = np.zeros(n_samples)
    if "december_excess" in params:
        if is_december is None or np.shape(is_december) != (horizons,):
            raise ValueError(f"is_december must have shape ({horizons},) with december_excess")
        excess = params["december_excess"][idx, unit]
    dec = np.zeros(horizons) if is_december is None else np.asarray(is_december, dtype=float)
    z = rng.standard_normal((n_samples, horizons))
    steps = np.arange(1, horizons + 1)
    damped_steps = np.cumsum(float(damping) ** steps)  # sum_{k<=h} damping^k
    out = np.empty((n_samples, horizons))
    for h in range(horizons):  # AR(1) recursion: each month depends on the previous one
        eps = phi * eps + sigma * z[:, h]
        log_lam = np.minimum(a + trend * damped_steps[h] + eps + excess * dec[h],
                             MAX_LOG_INTENSITY)
        lam = np.exp(log_lam)
        out[:, h] = rng.negative_binomial(size, size / (size + lam))
    return out


@dataclass
class OriginForecast:
    """One model's forecast at one origin: ``samples`` ``(n_samples, H)`` and fit diagnostics."""

    samples: np.ndarray
    diagnostics: dict = field(default_factory=dict)


Forecaster = Callable[[pd.DataFrame, int, int, int], OriginForecast]
"""``forecaster(history, horizons, n_samples, seed)``: a forecast from ``history``, the frame
:func:`models.data.series_as_of` returned at the origin (columns ``month_id, deaths``)."""


class LatentNBForecaster:
    """``latent_nb`` as a :data:`Forecaster`: fit to the last ``window`` months of the history,
    forecast by :func:`forecast_paths`."""

    def __init__(self, window: int, *, damping: float, chains: int, tune: int, draws: int,
                 target_accept: float, priors: dict[str, Prior] | None = None,
                 december_effect: bool = False, anchor: str = "start"):
        self.model = MonthlyLatentModel(window, priors=priors, december_effect=december_effect,
                                        anchor=anchor)
        self.window = window
        self.damping = damping
        self.sampler = {"chains": chains, "tune": tune, "draws": draws,
                        "target_accept": target_accept}

    def __call__(self, history: pd.DataFrame, horizons: int, n_samples: int,
                 seed: int) -> OriginForecast:
        counts = history["deaths"].to_numpy(dtype=float)[-self.window:]
        if counts.size < self.window:
            raise ValueError(f"latent_nb needs {self.window} months of history, got {counts.size}")
        months = history["month_id"].to_numpy()[-self.window:]
        targets = months[-1] + np.arange(1, horizons + 1)
        is_dec = lambda m: (np.mod(m - 1, 12) + 1 == DECEMBER).astype(float)  # noqa: E731
        seeds = np.random.SeedSequence(seed).generate_state(2)
        params, diag = self.model.fit(counts[None, :], seed=int(seeds[0]),
                                      is_december=is_dec(months), **self.sampler)
        rng = np.random.default_rng(seeds[1])
        return OriginForecast(forecast_paths(params, horizons, n_samples, self.damping, rng,
                                             is_december=is_dec(targets)), diag)


# --- the backtest loop ------------------------------------------------------------------------


@dataclass(frozen=True)
class BacktestSettings:
    """What one backtest run does (the config, with ``--quick`` applied)."""

    origins: tuple[int, ...]
    """Origin months (ViEWS month ids)."""
    horizons: int
    n_samples: int
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
                   n_samples=c.quick.samples if quick else c.forecast.samples,
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
    :data:`NOMINAL_LEVELS`."""
    fits: pd.DataFrame
    """One row per origin: our model's fit time and diagnostics."""
    seconds: dict
    samples: dict | None = None
    """``{origin: {model: (n_samples, H)}}`` when ``keep_samples`` (tests, small runs)."""


class OriginRangeError(ValueError):
    """Origins the data cannot support; ``key`` is the config key to blame (first or last)."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(f"origins -> {key}: {message}")


def _check_history(deaths: pd.DataFrame, settings: BacktestSettings, window: int) -> None:
    first_month = int(deaths["month_id"].min())
    last_month = int(deaths["month_id"].max())
    need = max(window, 12)  # conflictology resamples the last 12 months
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
    _check_history(deaths, settings, window)
    say = progress or (lambda msg: None)
    rows, fits, kept = [], [], {}
    t_start = time.perf_counter()
    for i, origin in enumerate(settings.origins):
        seed = origin_seed(settings.seed, origin)
        history = series_as_of(deaths, origin)
        t0 = time.perf_counter()
        ours = forecaster(history, settings.horizons, settings.n_samples, seed)
        forecast_seconds = time.perf_counter() - t0
        refs = all_reference_samples(history["deaths"].to_numpy(dtype=float), settings.horizons,
                                     settings.n_samples, seed)
        forecasts = {MODEL_NAME: ours.samples, **{b: refs[b] for b in settings.benchmarks}}
        for name, x in forecasts.items():
            if x.shape != (settings.n_samples, settings.horizons):
                raise ValueError(f"{name} at origin {origin}: samples of shape {x.shape}, "
                                 f"expected {(settings.n_samples, settings.horizons)}")
        if keep_samples:
            kept[origin] = forecasts
        observed = outcomes_after(deaths, origin, settings.horizons)
        h_idx = observed.index.to_numpy() - 1
        for name, x in forecasts.items():
            per_h = x[:, h_idx].T  # (horizons scored, n_samples)
            s = score_samples(per_h, observed.to_numpy(),
                              rng=np.random.default_rng([seed, len(name)]))
            for level in NOMINAL_LEVELS:
                s[f"covered_{level:g}"] = coverage(per_h, observed.to_numpy(), level)
            s.insert(0, "horizon", observed.index.to_numpy())
            s.insert(0, "model", name)
            s.insert(0, "origin_date", f"{month_date(origin):%Y-%m}")
            s.insert(0, "origin", origin)
            rows.append(s)
        fits.append({"origin": origin, "origin_date": f"{month_date(origin):%Y-%m}",
                     "forecast_seconds": forecast_seconds, **ours.diagnostics})
        d = ours.diagnostics
        say(f"origin {month_date(origin):%Y-%m} ({i + 1}/{len(settings.origins)}): "
            f"{forecast_seconds:.1f} s"
            + (f", max R-hat {d['max_rhat']:.3f}, {d['divergences']} divergences"
               if "max_rhat" in d else ""))
    return BacktestResult(settings=settings, forecast_scores=pd.concat(rows, ignore_index=True),
                          fits=pd.DataFrame(fits),
                          seconds={"origins": time.perf_counter() - t_start},
                          samples=kept if keep_samples else None)


# --- summaries ----------------------------------------------------------------------------------


def scores_table(forecast_scores: pd.DataFrame) -> pd.DataFrame:
    """Mean of each metric over origins per model and horizon: columns exactly
    ``model, horizon, metric, value`` (models in the order they appear)."""
    from models.evaluation.scoring import summarise_scores

    long = summarise_scores(forecast_scores, by=["model", "horizon"])
    order = {m: i for i, m in enumerate(pd.unique(forecast_scores["model"]))}
    metric_order = {m: i for i, m in enumerate(SUMMARY_METRICS)}
    long = long.sort_values(["model", "horizon", "metric"],
                            key=lambda c: c.map(order) if c.name == "model"
                            else c.map(metric_order) if c.name == "metric" else c)
    return long[list(SCORE_COLUMNS)].reset_index(drop=True)


def _block_bootstrap_indices(n: int, block: int, n_boot: int, rng: np.random.Generator):
    """Moving-block bootstrap of ``n`` consecutive origins: ``(n_boot, n)`` index arrays built
    from blocks of ``block`` consecutive origins (forecasts from nearby origins overlap, so
    resampling single origins would understate the uncertainty)."""
    block = max(1, min(block, n))
    n_blocks = -(-n // block)
    starts = rng.integers(0, n - block + 1, size=(n_boot, n_blocks))
    idx = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(n_boot, -1)
    return idx[:, :n]


def crps_ratios(forecast_scores: pd.DataFrame, reference: str, *, model: str = MODEL_NAME,
                block: int = 12, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Mean CRPS of ``model`` / mean CRPS of ``reference`` per horizon over the same origins,
    with a 90% moving-block bootstrap interval over origins (paired: both models' CRPS of a
    resampled origin enter together). Columns ``horizon, ratio, low, high, n``; below 1 means
    ``model`` is better."""
    wide = forecast_scores.pivot_table(index=["origin", "horizon"], columns="model",
                                       values="crps")[[model, reference]].dropna()
    rng = np.random.default_rng(seed)
    out = []
    for h, g in wide.groupby(level="horizon"):
        ours, ref = g[model].to_numpy(), g[reference].to_numpy()
        idx = _block_bootstrap_indices(len(g), block, n_boot, rng)
        with np.errstate(divide="ignore", invalid="ignore"):
            boot = ours[idx].sum(1) / ref[idx].sum(1)
            ratio = ours.sum() / ref.sum()
        # With fewer than two blocks of origins the bootstrap has nothing to resample.
        low, high = (np.nanquantile(boot, [0.05, 0.95]) if len(g) >= 2 * block
                     else (np.nan, np.nan))
        out.append({"horizon": int(h), "ratio": ratio, "low": low, "high": high, "n": len(g)})
    return pd.DataFrame(out)


def coverage_curve(forecast_scores: pd.DataFrame) -> pd.DataFrame:
    """Empirical coverage of central intervals at :data:`NOMINAL_LEVELS`, per model
    (all horizons pooled): columns ``model, nominal, coverage``."""
    cols = [f"covered_{lv:g}" for lv in NOMINAL_LEVELS]
    means = forecast_scores.groupby("model", sort=False)[cols].mean()
    long = means.reset_index().melt(id_vars="model", var_name="nominal", value_name="coverage")
    long["nominal"] = long["nominal"].str.removeprefix("covered_").astype(float)
    return long


# --- plots (take tables, return figures) ------------------------------------------------------

MODEL_COLOURS = {MODEL_NAME: "#1b4f9c", "conflictology": "#d95f02", "last": "#7570b3",
                 "bootstrap": "#66a61e", "zero": "#999999"}


def plot_crps_by_horizon(scores: pd.DataFrame, ratios: pd.DataFrame, *, reference: str = "conflictology"):
    """Left: mean CRPS per horizon for every model (log scale). Right: CRPS ratio of our model
    to ``reference`` per horizon with its 90% block-bootstrap interval. Returns the figure."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax, ax_r = fig.subplots(1, 2)
    crps = scores[scores["metric"] == "crps"]
    for name, g in crps.groupby("model", sort=False):
        ax.plot(g["horizon"], g["value"], marker="o", ms=3.5,
                lw=2.4 if name == MODEL_NAME else 1.3, color=MODEL_COLOURS.get(name),
                label=name + (" (ours)" if name == MODEL_NAME else ""))
    ax.set_yscale("log")
    ax.set_xlabel("horizon (months after the origin)")
    ax.set_ylabel("mean CRPS (deaths per month)")
    ax.set_title("CRPS by horizon (lower is better)", loc="left", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    ax_r.axhline(1.0, color="#555555", lw=1, ls="--")
    ax_r.fill_between(ratios["horizon"], ratios["low"], ratios["high"],
                      color=MODEL_COLOURS[MODEL_NAME], alpha=0.18, lw=0,
                      label="90% block-bootstrap interval")
    ax_r.plot(ratios["horizon"], ratios["ratio"], marker="o", ms=3.5, lw=2.2,
              color=MODEL_COLOURS[MODEL_NAME], label=f"{MODEL_NAME} / {reference}")
    ax_r.set_xlabel("horizon (months after the origin)")
    ax_r.set_ylabel(f"CRPS ratio to {reference}")
    ax_r.set_title(f"Below 1: better than {reference}", loc="left", fontsize=10)
    ax_r.legend(fontsize=8, frameon=False)
    for a in (ax, ax_r):
        a.set_xticks(sorted(crps["horizon"].unique()))
        a.grid(alpha=0.3, lw=0.5)
    return fig


def plot_calibration(pit_all: dict[str, np.ndarray], pit_positive: dict[str, np.ndarray],
                     curve: pd.DataFrame, *, n_positive: int, n_all: int):
    """PIT histograms (all outcomes; outcomes > 0) for the models in ``pit_all`` and coverage
    of central intervals vs their nominal level for every model in ``curve``."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 4.2), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, hists, title in ((axes[0], pit_all, f"PIT, all outcomes (n = {n_all})"),
                             (axes[1], pit_positive, f"PIT, outcomes > 0 (n = {n_positive})")):
        k = len(hists)
        for j, (name, hist) in enumerate(hists.items()):
            n_bins = hist.size
            centres = (np.arange(n_bins) + 0.5) / n_bins
            width = 1.0 / n_bins / (k + 0.5)
            ax.bar(centres + (j - (k - 1) / 2) * width, hist * n_bins, width=width,
                   color=MODEL_COLOURS.get(name), label=name, alpha=0.9)
        ax.axhline(1.0, color="#555555", lw=1, ls="--")
        ax.set_xlim(0, 1)
        ax.set_xlabel("PIT (non-randomised, Czado et al. 2009)")
        ax.set_ylabel("density (1 = calibrated)")
        ax.set_title(title, loc="left", fontsize=10)
        ax.legend(fontsize=8, frameon=False)
    ax = axes[2]
    ax.plot([0, 1], [0, 1], color="#555555", lw=1, ls="--")
    for name, g in curve.groupby("model", sort=False):
        ax.plot(g["nominal"], g["coverage"], marker="o", ms=3.5,
                lw=2.4 if name == MODEL_NAME else 1.2, color=MODEL_COLOURS.get(name), label=name)
    ax.set_xlabel("nominal level of the central interval")
    ax.set_ylabel("share of outcomes inside")
    ax.set_title("Coverage vs nominal (all horizons)", loc="left", fontsize=10)
    ax.set_xlim(0, 1), ax.set_ylim(0, 1)
    ax.legend(fontsize=8, frameon=False)
    for a in axes:
        a.grid(alpha=0.3, lw=0.5)
    return fig


def pit_histograms(forecast_scores: pd.DataFrame, models, *, positive_only: bool = False,
                   n_bins: int = 10) -> dict[str, np.ndarray]:
    out = {}
    for name in models:
        g = forecast_scores[forecast_scores["model"] == name]
        if positive_only:
            g = g[g["observed"] > 0]
        out[name] = pit_histogram(g["pit_lower"].to_numpy(), g["pit_upper"].to_numpy(), n_bins)
    return out


# --- summary --------------------------------------------------------------------------------------


def _fmt(x: float, digits: int = 3) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:.{digits}f}"


def summary_markdown(result: BacktestResult, scores: pd.DataFrame,
                     ratios: dict[str, pd.DataFrame], meta: dict) -> str:
    """The short report: CRPS ratios to each benchmark per horizon, coverage, targets, NUTS."""
    s = result.settings
    fs = result.forecast_scores
    ours = scores[scores["model"] == MODEL_NAME].pivot(index="horizon", columns="metric",
                                                       values="value")
    lines = [f"# Backtest: {meta['name']}", ""]
    lines += [f"Unit {meta['country']} from `{meta['data_path']}`; {len(s.origins)} origins "
              f"{month_date(s.origins[0]):%Y-%m} to {month_date(s.origins[-1]):%Y-%m}"
              f"{' (--quick)' if meta['quick'] else ''}; horizons 1-{s.horizons} months; "
              f"{s.n_samples} draws per forecast; model `{MODEL_NAME}` fitted to the last "
              f"{meta['window_months']} months, trend damping {meta['trend_damping']}, "
              f"December effect {'on' if meta['december_effect'] else 'off'}, AR deviations "
              f"anchored at the {meta['ar_anchor']}; "
              f"seed {s.seed}.", ""]
    lines += ["## CRPS ratio of latent_nb to each benchmark (mean over origins; < 1 = better)",
              ""]
    bench = list(ratios)
    head = "| horizon | " + " | ".join(bench) + " |"
    lines += [head, "|---:|" + "---:|" * len(bench)]
    horizons = sorted(fs["horizon"].unique())
    for h in horizons:
        cells = []
        for b in bench:
            r = ratios[b].set_index("horizon").loc[h]
            cells.append(f"{_fmt(r['ratio'])} [{_fmt(r['low'], 2)}, {_fmt(r['high'], 2)}]")
        lines.append(f"| {h} | " + " | ".join(cells) + " |")
    lines += ["", "Brackets: 90% moving-block bootstrap interval over origins (blocks of 12 "
              "months; paired). Mean CRPS per model and horizon: `scores.csv`.", ""]
    lines += ["## Coverage of latent_nb's central intervals", "",
              "| horizon | 50% | 90% | mean CRPS |", "|---:|---:|---:|---:|"]
    for h in horizons:
        lines.append(f"| {h} | {_fmt(ours.loc[h, 'coverage_50'], 2)} | "
                     f"{_fmt(ours.loc[h, 'coverage_90'], 2)} | {_fmt(ours.loc[h, 'crps'], 1)} |")
    pooled = fs.groupby("model", sort=False)[["coverage_50", "coverage_90", "crps"]].mean()
    lines += ["", "All horizons pooled: " + "; ".join(
        f"{m} 50% {_fmt(r.coverage_50, 2)}, 90% {_fmt(r.coverage_90, 2)}"
        for m, r in pooled.iterrows()), ""]
    if "conflictology" in ratios:
        r3 = ratios["conflictology"].set_index("horizon").reindex([1, 2, 3])["ratio"]
        beat = [f"h{h}: {'yes' if v < 1 else 'no'} ({_fmt(v)})" for h, v in r3.items()]
        cov90 = pooled.loc[MODEL_NAME, "coverage_90"]
        lines += ["## Targets (issue 6)", "",
                  "- CRPS below conflictology at horizons 1-3: " + ", ".join(beat),
                  f"- 90% coverage in [0.85, 0.95]: {'yes' if 0.85 <= cov90 <= 0.95 else 'no'} "
                  f"({_fmt(cov90, 3)} pooled; per horizon "
                  f"{_fmt(ours['coverage_90'].min(), 2)}-{_fmt(ours['coverage_90'].max(), 2)})",
                  ""]
    f = result.fits
    if "max_rhat" in f.columns:
        bad_rhat = int((f["max_rhat"] > RHAT_MAX).sum())
        with_div = int((f["divergences"] > 0).sum())
        either = int(((f["max_rhat"] > RHAT_MAX) | (f["divergences"] > 0)).sum())
        lines += ["## NUTS diagnostics of latent_nb (one fit per origin)", "",
                  f"- fits: {len(f)}; with max R-hat > {RHAT_MAX}: {bad_rhat} (worst "
                  f"{f['max_rhat'].max():.3f}); with divergences: {with_div} "
                  f"({int(f['divergences'].sum())} divergent transitions in all); either: "
                  f"{either}",
                  f"- R-hat of the log-intensity at the origin (what forecasts start from) > "
                  f"{RHAT_MAX}: {int((f['rhat_log_intensity_at_origin'] > RHAT_MAX).sum())} fits; "
                  f"min bulk ESS {f['min_ess_bulk'].min():.0f}",
                  f"- sampler: nutpie, {meta['sampler']}", ""]
    t = meta["seconds"]
    lines += ["## Time", "",
              f"- compile {_fmt(t.get('compile', np.nan), 1)} s (once); fit + forecast per "
              f"origin: mean {f['forecast_seconds'].mean():.2f} s, max "
              f"{f['forecast_seconds'].max():.2f} s; NUTS alone mean "
              f"{f['fit_seconds'].mean() if 'fit_seconds' in f else np.nan:.2f} s; "
              f"whole run {_fmt(t.get('total', np.nan), 1)} s", ""]
    lines += ["Plots: `crps_by_horizon.png`, `calibration.png`. Per-forecast scores: "
              "`forecast_scores.csv`; per-fit diagnostics: `fits.csv`.", ""]
    return "\n".join(lines)


# --- writing ----------------------------------------------------------------------------------

MARKER = "backtest.marker"
"""A file every backtest output directory holds: only such a directory is ever replaced."""


def package_versions() -> dict[str, str]:
    out = {}
    for name in ("numpy", "pandas", "pymc", "pytensor", "nutpie", "arviz", "scoringrules"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            out[name] = importlib.metadata.version(name)
    return out


@contextlib.contextmanager
def _atomic_directory(final: Path):
    """Fill a temporary sibling of ``final`` and rename it into place when complete. An
    existing ``final`` is replaced only if it is a previous backtest output (holds
    :data:`MARKER`); on any error the temporary directory is removed and ``final`` untouched."""
    final = Path(final)
    if final.exists() and not (final / MARKER).is_file():
        raise FileExistsError(f"{final}: exists and is not a backtest output directory; "
                              "not overwriting it")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.name}.tmp-{os.getpid()}-{time.time_ns()}"
    tmp.mkdir()
    try:
        yield tmp
        if final.exists():
            old = final.parent / f".{final.name}.old-{os.getpid()}-{time.time_ns()}"
            os.rename(final, old)
            os.rename(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_outputs(result: BacktestResult, out_dir: Path, meta: dict) -> Path:
    """Write tables, plots and summary to ``out_dir`` atomically (see module docstring)."""
    scores = scores_table(result.forecast_scores)
    benchmarks = [m for m in result.settings.benchmarks]
    block = 12
    ratios = {b: crps_ratios(result.forecast_scores, b, block=block, seed=result.settings.seed)
              for b in benchmarks}
    fs = result.forecast_scores
    curve = coverage_curve(fs)
    pit_models = [MODEL_NAME] + [b for b in ("conflictology",) if b in benchmarks]
    positive = fs[(fs["model"] == MODEL_NAME) & (fs["observed"] > 0)]
    with _atomic_directory(Path(out_dir)) as tmp:
        (tmp / MARKER).write_text("written by python -m models.backtest\n", encoding="utf-8")
        scores.to_csv(tmp / "scores.csv", index=False)
        fs.to_csv(tmp / "forecast_scores.csv", index=False)
        result.fits.to_csv(tmp / "fits.csv", index=False)
        ref = "conflictology" if "conflictology" in ratios else benchmarks[0]
        fig = plot_crps_by_horizon(scores, ratios[ref], reference=ref)
        fig.savefig(tmp / "crps_by_horizon.png", dpi=120)
        fig = plot_calibration(pit_histograms(fs, pit_models),
                               pit_histograms(fs, pit_models, positive_only=True), curve,
                               n_positive=len(positive),
                               n_all=int((fs["model"] == MODEL_NAME).sum()))
        fig.savefig(tmp / "calibration.png", dpi=120)
        meta = {**meta, "seconds": {**meta["seconds"],
                                    "total": time.perf_counter() - meta["started"]}}
        (tmp / "summary.md").write_text(summary_markdown(result, scores, ratios, meta),
                                        encoding="utf-8")
        run = {k: v for k, v in meta.items() if k != "started"}
        run |= {"origins": [f"{month_date(o):%Y-%m}" for o in result.settings.origins],
                "n_samples": result.settings.n_samples, "versions": package_versions(),
                "crps_ratios": {b: r.to_dict(orient="records") for b, r in ratios.items()}}
        (tmp / "run.json").write_text(json.dumps(run, indent=2, default=str) + "\n",
                                      encoding="utf-8")
        (tmp / "config.resolved.json").write_text(
            json.dumps(meta["config"], indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return Path(out_dir)


# --- CLI ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m models.backtest",
        description="Rolling-origin backtest of the monthly casualty model against the ViEWS "
                    "benchmarks.")
    parser.add_argument("config", help="backtest config YAML (e.g. configs/backtest-syria.yaml)")
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument("--quick", action="store_true",
                        help="few origins and small draws (config section 'quick'), for CI")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    say = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    try:
        loaded = load_backtest_config(args.config)
        c = loaded.config
        settings = BacktestSettings.from_config(loaded, quick=args.quick)
        try:
            deaths = load_monthly_deaths(loaded.data_path, country=c.data.country)
        except DataError as e:
            if "no rows for country" in str(e) or "no events for country" in str(e):
                raise ConfigError([f"{loaded.where('data', 'country')}: data -> country: "
                                   f"{e}"]) from None
            raise
        try:
            _check_history(deaths, settings, c.model.window_months)
        except OriginRangeError as e:
            raise ConfigError([f"{loaded.where('origins', e.key)}: {e}"]) from None
        if Path(args.out).exists() and not (Path(args.out) / MARKER).is_file():
            raise ConfigError([f"--out {args.out}: exists and is not a backtest output "
                               "directory; not overwriting it"])
    except (ConfigError, DataError) as e:
        for line in str(e).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 2

    sampler = {"chains": c.sampler.chains, "tune": c.quick.tune if args.quick else c.sampler.tune,
               "draws": c.quick.draws if args.quick else c.sampler.draws,
               "target_accept": c.sampler.target_accept}
    say(f"backtest '{c.name}': {len(settings.origins)} origins, horizons 1-{settings.horizons}, "
        f"{settings.n_samples} draws; compiling {MODEL_NAME} (window {c.model.window_months} "
        "months)...")
    try:
        forecaster = LatentNBForecaster(c.model.window_months, damping=c.model.trend_damping,
                                        december_effect=c.model.december_effect,
                                        anchor=c.model.ar_anchor, **sampler)
        forecaster.model.compiled()
        say(f"compiled in {forecaster.model.compile_seconds:.1f} s")
        result = run_backtest(deaths, settings, forecaster, window=c.model.window_months,
                              progress=say)
        meta = {"name": c.name, "config_path": str(loaded.path), "config_hash": loaded.config_hash,
                "config": loaded.resolved, "data_path": str(loaded.data_path),
                "country": c.data.country, "quick": args.quick,
                "window_months": c.model.window_months, "trend_damping": c.model.trend_damping,
                "december_effect": c.model.december_effect, "ar_anchor": c.model.ar_anchor,
                "sampler": sampler, "seed": settings.seed, "started": started,
                "seconds": {"compile": forecaster.model.compile_seconds,
                            "origins": result.seconds["origins"]}}
        out = write_outputs(result, Path(args.out), meta)
    except KeyboardInterrupt:
        print("interrupted; no results written", file=sys.stderr)
        return 130
    except OSError as e:  # e.g. the output directory cannot be written
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not args.quiet:
        print((out / "summary.md").read_text(encoding="utf-8"))
        print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
