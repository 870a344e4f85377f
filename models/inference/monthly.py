"""``latent_nb``: the monthly latent-intensity model the backtest fits and forecasts with.

The latent-intensity family of the event model (:func:`models.inference.latent.latent_intensity`,
called, not copied) at monthly resolution, for one unit (country)::

    log lambda[t] = a + trend * (t - t_origin) + eps[t]                      deaths per month
    eps[t]        = persistence * eps[t-1] + innovation_sd * z[t]             AR(1)
    deaths[t]     ~ NegBin(mean lambda[t], size = dispersion)                 exact UCDP counts

fitted by NUTS (nutpie) to the window's months; the model is compiled once and refitted at each
origin with ``compiled.with_data`` (the window has a fixed length, so the shapes never change).
The forecast continues the same process draw by draw (:func:`forecast_paths`): for each
posterior draw, the AR(1) deviation runs on from its value at the origin with new innovations,
the trend is damped (Gardner-McKenzie: the log-mean moves by ``trend * sum_{k<=h} damping^k``
after ``h`` months, so a trend fitted to two years is not extrapolated at full strength for a
third), and each month's count is a negative-binomial draw around ``lambda``. The draws are
joint over horizons (one row = one trajectory), in the ``(draws, H)`` layout of the reference
forecasts.

With ``model.ar_anchor: mean`` (the shipped config) the AR(1) path is centred on its window
mean (``eps - mean(eps)``, :func:`models.inference.latent.latent_intensity` with
``anchor="mean"``), so ``a`` is the window's mean log-intensity on the trend line at the origin
and no common shift of the deviations can trade off against it; with ``start`` (the default,
the event model's form) the path starts at one innovation and ``a`` and a persistent deviation
form a ridge (NUTS R-hat and divergences, docs/backtest-tuning.md). The forecast starts from the
centred deviation at the origin and reverts to the same trend line.

Priors: the level (``intensity_at_origin``) and the trend come from the nowcast's rule applied
at each origin to the data up to it (:class:`models.inference.monthly_priors.MonthlyPriorRule`:
the country's own months partially pooled with the cross-country pool, in deaths per month), or
are the fixed weak :data:`~models.inference.monthly_priors.WEAK_PRIORS`; persistence,
innovation sd, dispersion (and the December factor) are monthly judgements, the same for every
country (:data:`~models.inference.monthly_priors.JUDGEMENT_PRIORS`). The level and trend priors
are data of the compiled model (``with_data``), so one compilation serves every origin and
country; no data after an origin reach them.

With ``model.december_effect`` the observation model gets one more term, a December reporting
factor (``deaths ~ NegBin(lambda * exp(december_excess * is_december), size)``, prior in
:data:`~models.inference.monthly_priors.JUDGEMENT_PRIORS`): the latent intensity is untouched, the factor plays the part the
reporting shares play in the event model. It is estimated at each origin from the Decembers in
the window, and forecast Decembers get it too.

What was chosen, on which data (priors, window, damping, the December term, the AR anchor,
the NUTS settings) and what the Syria runs gave: ``docs/backtest-tuning.md``.

Words: ``draws`` are Monte Carlo draws of a forecast (config ``forecast.draws``);
``posterior_draws`` are NUTS draws per chain (config ``sampler.posterior_draws``). Diagnostics:
:func:`models.inference.diagnostics.convergence`, with the R-hat of the log-intensity at the
origin and the fit time added.
"""

from __future__ import annotations

import copy
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pandas as pd

from models.inference.diagnostics import convergence
from models.inference.monthly_priors import (
    JUDGEMENT_PRIORS,
    WEAK_PRIORS,
    MonthlyPriorRule,
    MonthlyPriors,
)
from models.inference.priors import Prior
from models.inference.sampling import sample_nutpie
from models.runtime import import_arviz

__all__ = [
    "DECEMBER",
    "LEVEL_TREND",
    "MAX_LOG_INTENSITY",
    "MODEL_NAME",
    "MONTHLY_PRIORS",
    "POSTERIOR_VARS",
    "LatentNBForecaster",
    "MonthlyLatentModel",
    "MonthlyPriorRule",
    "MonthlyPriors",
    "OriginForecast",
    "forecast_paths",
    "is_december",
    "monthly_diagnostics",
]

MODEL_NAME = "latent_nb"
"""The model's name in configs (``model.name``), score tables and plots."""
MAX_LOG_INTENSITY = np.log(1e7)
"""Forecast log-intensities are capped at 10 million deaths a month (far above any recorded
country-month) so a rare runaway trend draw cannot overflow the negative-binomial sampler."""
POSTERIOR_VARS = ("log_base_intensity", "trend", "persistence", "innovation_sd", "dispersion",
                  "ar_deviation_path")
"""Variables nutpie keeps (plus ``december_excess`` with the December effect)."""
DECEMBER = 12


# --- priors -----------------------------------------------------------------------------------

MONTHLY_PRIORS: dict[str, Prior] = {**WEAK_PRIORS, **JUDGEMENT_PRIORS}
"""The model's default priors: the weak data-free level and trend and the judgements (every
fit may replace the level and trend, :meth:`MonthlyLatentModel.fit`)."""

LEVEL_TREND = ("intensity_at_origin", "trend")
"""The priors that are data of the compiled model (set per fit)."""

# --- the model ----------------------------------------------------------------------------------


class MonthlyLatentModel:
    """``latent_nb`` for ``n_units`` series of ``window`` months, compiled once (nutpie) and
    refitted to new counts with ``with_data``.

    ``fit(counts)`` takes counts of shape ``(n_units, window)`` (deaths per month, oldest first,
    the last column the origin month) and returns posterior draws as flat arrays. ``anchor``
    (``"start"`` or ``"mean"``) is passed to :func:`models.inference.latent.latent_intensity`.
    ``priors`` (default :data:`MONTHLY_PRIORS`) holds every prior; the level and trend priors
    (:data:`LEVEL_TREND`) are data of the model, so each fit may give its own.
    """

    def __init__(self, window: int, *, n_units: int = 1, priors: dict[str, Prior] | None = None,
                 december_effect: bool = False, anchor: str = "start",
                 innovation_nu: float | None = None):
        self.window = int(window)
        self.innovation_nu = None if innovation_nu is None else float(innovation_nu)
        self.n_units = int(n_units)
        self.december_effect = bool(december_effect)
        self.anchor = anchor
        self.priors = {**MONTHLY_PRIORS, **(priors or {})}
        self.model = self._build()
        self._compiled = None
        self.compile_seconds: float | None = None

    def _build(self):
        import pymc as pm  # imported on first use: reading backtest results does not need PyMC
        import pytensor.tensor as pt

        from models.inference.latent import latent_intensity, nb_logpmf

        coords = {"unit": np.arange(self.n_units), "month": np.arange(self.window)}
        with pm.Model(coords=coords) as model:
            deaths = pm.Data("monthly_deaths", np.zeros((self.n_units, self.window)),
                             dims=("unit", "month"))
            # Level and trend priors as data: set per fit (with_data), one compilation for all.
            level = {k: pm.Data(f"prior_{k}", v, dims="unit")
                     for k, v in self._prior_data(self.priors).items()}
            priors = dict(self.priors) | {
                "intensity_at_origin": Prior(SimpleNamespace(
                    mu=level["log_intensity_mu"], sigma=level["log_intensity_sigma"]), ""),
                "trend": Prior(SimpleNamespace(mean=level["trend_mean"],
                                               sd=level["trend_sd"]), "")}
            lam, _ = latent_intensity(self.window, priors, series_dim="unit",
                                      time_dim="month", anchor=self.anchor)
            if self.innovation_nu is not None:
                # Student-t innovations: the standard-normal prior of latent_intensity's
                # non-centred innovations is replaced by a t(nu) density (one Potential adding
                # log t - log normal), so the model is still built by latent_intensity.
                z = model["innovation_z"]
                t_dist = pm.StudentT.dist(nu=self.innovation_nu, mu=0.0, sigma=1.0)
                pm.Potential("innovation_t", (pm.logp(t_dist, z)
                                              - pm.logp(pm.Normal.dist(0.0, 1.0), z)).sum())
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

    def _prior_data(self, priors: dict[str, Prior]) -> dict[str, np.ndarray]:
        """The level and trend priors as the model's data, one value per unit."""
        i, t = priors["intensity_at_origin"].spec, priors["trend"].spec
        return {k: np.full(self.n_units, float(v)) for k, v in (
            ("log_intensity_mu", i.mu), ("log_intensity_sigma", i.sigma),
            ("trend_mean", t.mean), ("trend_sd", t.sd))}

    def compiled(self):
        """The nutpie-compiled model (compiled on first use, then reused)."""
        if self._compiled is None:
            from models.inference.sampling import compile_for_nutpie

            t0 = time.perf_counter()
            names = list(POSTERIOR_VARS) + (["december_excess"] if self.december_effect else [])
            self._compiled = compile_for_nutpie(self.model, var_names=names)
            self.compile_seconds = time.perf_counter() - t0
        return self._compiled

    def fit(self, counts: np.ndarray, *, seed: int, chains: int, tune: int, posterior_draws: int,
            target_accept: float, is_december: np.ndarray | None = None,
            priors: dict[str, Prior] | None = None) -> tuple[dict[str, np.ndarray], dict]:
        """NUTS fit to ``counts`` ``(n_units, window)``: ``chains`` chains of ``tune`` warm-up
        and ``posterior_draws`` kept draws each. ``is_december`` ``(window,)`` marks the
        window's Decembers (needed when the model has the December effect). ``priors``: this
        fit's level and trend priors (default: the model's). Returns (posterior
        draws flattened over chains: ``a, trend, eps_origin`` (and ``december_excess``) of shape
        ``(n_posterior, n_units)``, ``persistence, innovation_sd, dispersion`` of shape
        ``(n_posterior,)``; :func:`monthly_diagnostics`)."""
        y = np.asarray(counts, dtype=float)
        if y.shape != (self.n_units, self.window):
            raise ValueError(f"counts must have shape {(self.n_units, self.window)}, got {y.shape}")
        if not np.all(np.isfinite(y)) or np.any(y < 0) or np.any(y != np.round(y)):
            raise ValueError("counts must be finite non-negative whole numbers")
        level = self.priors | {k: v for k, v in (priors or {}).items() if k in LEVEL_TREND}
        data = {"monthly_deaths": y} | {f"prior_{k}": v
                                        for k, v in self._prior_data(level).items()}
        if self.december_effect:
            if is_december is None or np.shape(is_december) != (self.window,):
                raise ValueError(f"is_december must have shape ({self.window},)")
            data["is_december"] = np.asarray(is_december, dtype=float)
        compiled = self.compiled().with_data(**data)
        t0 = time.perf_counter()
        idata = sample_nutpie(compiled, draws=posterior_draws, tune=tune, chains=chains,
                              seed=seed, target_accept=target_accept, progress_bar=False,
                              save_warmup=False, cores=min(chains, os.cpu_count() or 1))
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
        return params, monthly_diagnostics(idata, seconds)


def monthly_diagnostics(idata, seconds: float) -> dict:
    """:func:`models.inference.diagnostics.convergence` over the scalar and per-unit parameters
    and the log-intensity at the origin (what the forecast starts from), plus that quantity's
    own R-hat (``rhat_log_intensity_at_origin``) and the NUTS time (``fit_seconds``).
    ``messages`` (the failed checks) are joined into one string, one CSV cell."""
    post = idata.posterior
    names = ["log_base_intensity", "trend", "persistence", "innovation_sd", "dispersion"]
    names += ["december_excess"] if "december_excess" in post else []
    ds = post[names].copy()
    ds["log_intensity_at_origin"] = (post["log_base_intensity"]
                                     + post["ar_deviation_path"].isel(month=-1))
    conv = convergence(ds, idata.sample_stats)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # constant draws in degenerate fits
        rhat_origin = import_arviz().rhat(ds[["log_intensity_at_origin"]])
    return {
        "fit_seconds": seconds,
        "max_rhat": conv["max_rhat"],
        "rhat_log_intensity_at_origin": float(np.nanmax(rhat_origin["log_intensity_at_origin"]
                                                        .values)),
        "min_ess_bulk": conv["min_ess_bulk"],
        "min_ess_tail": conv["min_ess_tail"],
        "divergences": conv["divergences"],
        "chains": conv["chains"],
        "draws": conv["draws"],
        "passed": conv["passed"],
        "messages": "; ".join(conv["messages"]),
    }


def forecast_paths(params: dict[str, np.ndarray], horizons: int, draws: int,
                   damping: float, rng: np.random.Generator, unit: int = 0,
                   is_december: np.ndarray | None = None,
                   innovation_nu: float | None = None) -> np.ndarray:
    """Monthly deaths for horizons ``1..horizons`` continuing the fitted process, shape
    ``(draws, horizons)`` (people per month, whole numbers).

    Each path takes one posterior draw (posterior draws are reused, in a random order, when
    ``draws`` exceeds their number) and runs the AR(1) deviation on from its origin value,
    adds the damped trend and draws negative-binomial counts. If ``params`` has
    ``december_excess``, ``is_december`` ``(horizons,)`` marks the target Decembers, whose
    mean count is multiplied by ``exp(december_excess)`` as in the fit. ``innovation_nu``:
    Student-t innovations with that many degrees of freedom, as in a fit with
    ``innovation_nu`` (None: normal).
    """
    n_post = params["persistence"].shape[0]
    reps = -(-draws // n_post)
    idx = np.concatenate([rng.permutation(n_post) for _ in range(reps)])[:draws]
    a = params["a"][idx, unit]
    trend = params["trend"][idx, unit]
    eps = params["eps_origin"][idx, unit]
    phi = params["persistence"][idx]
    sigma = params["innovation_sd"][idx]
    size = params["dispersion"][idx]
    excess = np.zeros(draws)
    if "december_excess" in params:
        if is_december is None or np.shape(is_december) != (horizons,):
            raise ValueError(f"is_december must have shape ({horizons},) with december_excess")
        excess = params["december_excess"][idx, unit]
    dec = np.zeros(horizons) if is_december is None else np.asarray(is_december, dtype=float)
    z = (rng.standard_normal((draws, horizons)) if innovation_nu is None
         else rng.standard_t(innovation_nu, (draws, horizons)))
    steps = np.arange(1, horizons + 1)
    damped_steps = np.cumsum(float(damping) ** steps)  # sum_{k<=h} damping^k
    out = np.empty((draws, horizons))
    for h in range(horizons):  # AR(1) recursion: each month depends on the previous one
        eps = phi * eps + sigma * z[:, h]
        log_lam = np.minimum(a + trend * damped_steps[h] + eps + excess * dec[h],
                             MAX_LOG_INTENSITY)
        lam = np.exp(log_lam)
        out[:, h] = rng.negative_binomial(size, size / (size + lam))
    return out


def is_december(months) -> np.ndarray:
    """1.0 for ViEWS month ids that are Decembers, else 0.0."""
    return (np.mod(np.asarray(months) - 1, 12) + 1 == DECEMBER).astype(float)


@dataclass
class OriginForecast:
    """One model's forecast at one origin: ``samples`` ``(draws, H)`` and fit diagnostics."""

    samples: np.ndarray
    diagnostics: dict = field(default_factory=dict)


class LatentNBForecaster:
    """``latent_nb`` as a backtest forecaster, ``forecaster(history, horizons, draws, seed)``:
    fit to the last ``window`` months of ``history`` (the frame
    :func:`models.data.series_as_of` returned at the origin: ``month_id, deaths``), forecast by
    :func:`forecast_paths`. ``chains, tune, posterior_draws, target_accept``: NUTS settings.

    ``prior_rule`` (e.g. :class:`MonthlyPriorRule`): called with the same history at every
    origin, gives that fit's level and trend priors (:class:`MonthlyPriors`), recorded with the
    fit's diagnostics; None: the model's fixed priors. :meth:`with_prior_rule` gives a
    forecaster for another country that shares the compiled model."""

    def __init__(self, window: int, *, damping: float, chains: int, tune: int,
                 posterior_draws: int, target_accept: float,
                 priors: dict[str, Prior] | None = None, december_effect: bool = False,
                 anchor: str = "start", innovation_nu: float | None = None,
                 prior_rule: Callable[[pd.DataFrame], MonthlyPriors] | None = None):
        self.model = MonthlyLatentModel(window, priors=priors, december_effect=december_effect,
                                        anchor=anchor, innovation_nu=innovation_nu)
        self.window = window
        self.damping = damping
        self.sampler = {"chains": chains, "tune": tune, "posterior_draws": posterior_draws,
                        "target_accept": target_accept}
        self.prior_rule = prior_rule

    def with_prior_rule(self, rule: Callable[[pd.DataFrame], MonthlyPriors] | None
                        ) -> LatentNBForecaster:
        """The same forecaster (the same compiled model) with another prior rule."""
        other = copy.copy(self)
        other.prior_rule = rule
        return other

    def __call__(self, history: pd.DataFrame, horizons: int, draws: int,
                 seed: int) -> OriginForecast:
        counts = history["deaths"].to_numpy(dtype=float)[-self.window:]
        if counts.size < self.window:
            raise ValueError(f"latent_nb needs {self.window} months of history, got {counts.size}")
        months = history["month_id"].to_numpy()[-self.window:]
        targets = months[-1] + np.arange(1, horizons + 1)
        seeds = np.random.SeedSequence(seed).generate_state(2)
        derived = None if self.prior_rule is None else self.prior_rule(history)
        params, diag = self.model.fit(counts[None, :], seed=int(seeds[0]),
                                      is_december=is_december(months),
                                      priors=None if derived is None else derived.priors,
                                      **self.sampler)
        if derived is not None:
            diag = diag | derived.record()
        rng = np.random.default_rng(seeds[1])
        return OriginForecast(forecast_paths(params, horizons, draws, self.damping, rng,
                                             is_december=is_december(targets),
                                             innovation_nu=self.model.innovation_nu), diag)
