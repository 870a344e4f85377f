"""NUTS diagnostics, one definition for every fit (the nowcast and the monthly backtest model).

A fit passes when, over the parameters checked, the worst rank-normalised split R-hat is at most
:data:`RHAT_MAX`, the smallest bulk and tail ESS are at least :data:`ESS_MIN`, and no transition
diverged (Vehtari et al. 2021, "Rank-normalization, folding, and localization").
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import xarray as xr

from models.runtime import import_arviz

__all__ = ["ESS_MIN", "NOWCAST_DERIVED", "RETRY_TARGET_ACCEPT", "RHAT_MAX", "convergence",
           "diagnose", "remedies"]

RHAT_MAX = 1.01
"""Largest acceptable R-hat."""
ESS_MIN = 400
"""Smallest acceptable bulk and tail effective sample size (100 per chain for 4 chains)."""
NOWCAST_DERIVED = ("intensity", "ar_deviation_path", "intensity_at_origin", "displaced_at_origin",
                   "expected_true_count")
"""Deterministic quantities of the nowcast, left out of its checks (they follow the parameters)."""
RETRY_TARGET_ACCEPT = 0.99
"""Target acceptance of the one automatic retry of a fit that diverged (the run's nowcast and
every leave-out refit). Smaller steps are the standard remedy for divergent transitions
(Betancourt 2017); the retry uses the same seed, is recorded with the first attempt's
divergences, and a fit still divergent after it fails its diagnostics as before."""


def convergence(ds: xr.Dataset, sample_stats: xr.Dataset | None) -> dict:
    """Worst R-hat, smallest bulk and tail ESS over every variable of ``ds`` (chain, draw, ...)
    and the number of divergent transitions, with ``passed`` and the failed checks as
    ``messages``."""
    az = import_arviz()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # constant draws in degenerate fits
        rhat = az.rhat(ds)
        ess_bulk = az.ess(ds, method="bulk")
        ess_tail = az.ess(ds, method="tail")

    def worst(d, fn):
        return float(fn([fn(d[v].values) for v in d.data_vars]))

    divergences = (int(sample_stats["diverging"].values.sum())
                   if sample_stats is not None and "diverging" in sample_stats else 0)
    out = {"max_rhat": worst(rhat, np.nanmax), "min_ess_bulk": worst(ess_bulk, np.nanmin),
           "min_ess_tail": worst(ess_tail, np.nanmin), "divergences": divergences,
           "chains": int(ds.sizes["chain"]), "draws": int(ds.sizes["draw"])}
    messages = []
    if not out["max_rhat"] <= RHAT_MAX:
        messages.append(f"max R-hat {out['max_rhat']:.3f} > {RHAT_MAX}")
    if not out["min_ess_bulk"] >= ESS_MIN:
        messages.append(f"min bulk ESS {out['min_ess_bulk']:.0f} < {ESS_MIN}")
    if not out["min_ess_tail"] >= ESS_MIN:
        messages.append(f"min tail ESS {out['min_ess_tail']:.0f} < {ESS_MIN}")
    if divergences:
        messages.append(f"{divergences} divergent transitions")
    out["passed"] = not messages
    out["messages"] = messages
    return out


def remedies(diagnostics: dict, sampler) -> list[str]:
    """What to change for each failed check, with the config key (or option) and the value to
    try (``sampler``: the config's sampler settings; ``diagnostics["target_accept"]``, when
    recorded, is the value the fit used, which ``--target-accept`` or the automatic retry may
    have raised). Divergences: smaller steps (target_accept up to
    :data:`RETRY_TARGET_ACCEPT`); R-hat or ESS: longer warm-up and more draws."""
    out = []
    used = diagnostics.get("target_accept", sampler.target_accept)
    if diagnostics.get("divergences"):
        if used < RETRY_TARGET_ACCEPT:
            out.append(f"sampler.target_accept: {RETRY_TARGET_ACCEPT:g} in the config or "
                       f"--target-accept {RETRY_TARGET_ACCEPT:g} (now {used:g}): smaller steps "
                       "remove most divergences")
        else:
            out.append(f"divergences persist at target_accept {used:g}: the posterior has a "
                       "funnel or ridge; check the evidence for reports that contradict each "
                       "other and the priors for ones far from the reports (the prior-data "
                       "conflicts)")
    if not diagnostics.get("max_rhat", 0) <= RHAT_MAX or not min(
            diagnostics.get("min_ess_bulk", ESS_MIN), diagnostics.get("min_ess_tail", ESS_MIN)
    ) >= ESS_MIN:
        out.append(f"sampler.tune: {2 * sampler.tune} and sampler.posterior_draws: "
                   f"{2 * sampler.posterior_draws} (now {sampler.tune} and "
                   f"{sampler.posterior_draws}): longer warm-up and more draws")
    return out


def diagnose(posterior: xr.Dataset, sample_stats: xr.Dataset, sampler: str,
             exclude: Sequence[str] = NOWCAST_DERIVED) -> dict:
    """:func:`convergence` over the free parameters of a posterior (``exclude``: deterministic
    variables), with the sampler's name."""
    free = [v for v in posterior.data_vars if v not in exclude]
    return {"sampler": sampler, **convergence(posterior[free], sample_stats)}
