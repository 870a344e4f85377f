"""NUTS with one automatic retry: a fit that diverged is sampled once more with smaller steps.

Divergent transitions mean the sampler's step was too large for the posterior's curvature
somewhere; a higher target acceptance gives smaller steps and removes most of them (Betancourt
2017, "A conceptual introduction to Hamiltonian Monte Carlo"). The retry uses the same seed and
:data:`~models.inference.diagnostics.RETRY_TARGET_ACCEPT`; it is made once, and the record says
what the first attempt met, so a fit still divergent afterwards fails its diagnostics openly.
Used by the run's nowcast fit and by every leave-out refit of the evidence influence.
"""

from __future__ import annotations

import json

import numpy as np

from models.inference.diagnostics import RETRY_TARGET_ACCEPT

__all__ = ["compile_for_nutpie", "complete_posterior", "sample_retrying", "sampler_record"]


def compile_for_nutpie(model, **kwargs):
    """``nutpie.compile_pymc_model(model, freeze_model=False, **kwargs)`` with numba's fastmath
    off.

    Why: with fastmath (PyTensor's default) LLVM may reassociate floating-point sums, and code
    compiled afresh and code loaded from the compile cache came out different: measured on the
    escalation config, the same seed gave one posterior with an empty compile cache and another
    with a warm one (so a first run on a new machine did not reproduce the second). Without
    fastmath both give the same draws bit for bit; sampling time did not measurably change."""
    import nutpie
    import pytensor

    with pytensor.config.change_flags(numba__fastmath=False):
        return nutpie.compile_pymc_model(model, freeze_model=False, **kwargs)


def sample_nutpie(compiled, *, chains: int, draws: int, **kwargs):
    """``nutpie.sample(compiled, chains=chains, draws=draws, **kwargs)``, complete or an interrupt.

    nutpie answers a Ctrl-C by aborting the sampler and returning the draws made so far; when
    there are none yet, the abort raises an error of its own ("Sampler has no results to take",
    seen in CI as exit 2 instead of 130) from inside its handler of the KeyboardInterrupt. That
    is still the user's interrupt: the KeyboardInterrupt is raised again. A returned trace goes
    through :func:`complete_posterior`."""
    import nutpie

    try:
        idata = nutpie.sample(compiled, chains=chains, draws=draws, **kwargs)
    except Exception as error:
        if isinstance(error.__context__, KeyboardInterrupt):
            raise error.__context__ from None
        raise
    return complete_posterior(idata, chains, draws)


def complete_posterior(idata, chains: int, draws: int):
    """``idata`` if it holds every chain and draw asked for; else the sampler was interrupted.

    Why: nutpie (and PyMC) catch Ctrl-C during sampling and return the draws made so far, so
    an interrupted fit would otherwise go on as a short posterior (and into the fit cache).
    nutpie pads the chains an interrupt cut short to the longest one with NaN, so a posterior of
    the full size can still be incomplete: a value that is not finite counts as a draw not made
    (a sampler never returns one otherwise; seen once in CI as "n must not be NaN" from the
    simulation after a Ctrl-C during NUTS). Raises KeyboardInterrupt, which the command lines
    turn into exit 130."""
    sizes = idata.posterior.sizes if "posterior" in idata.groups() else {}
    if sizes.get("chain") != chains or sizes.get("draw") != draws:
        raise KeyboardInterrupt(f"NUTS stopped early: {dict(sizes)} of {chains} chains x "
                                f"{draws} draws")
    missing = [name for name, v in idata.posterior.data_vars.items()
               if np.issubdtype(v.dtype, np.floating) and not np.isfinite(v.values).all()]
    if missing:
        raise KeyboardInterrupt(f"NUTS stopped early: draws missing (not finite) in "
                                f"{', '.join(missing[:3])}")
    return idata


def sample_retrying(model, *, seed: int, sampler: str, settings,
                    target_accept: float | None = None, progress: bool = False):
    """``model.sample(...)`` (a :class:`~models.inference.nowcast.NowcastModel`) with the NUTS
    settings ``settings`` (a config's ``sampler:``: chains, tune, posterior_draws) at
    ``target_accept`` (default ``settings.target_accept``), and, if any transition diverged
    below :data:`RETRY_TARGET_ACCEPT`, once more at it with the same seed.

    Returns ``(idata, record)``: the kept fit, and ``target_accept`` (the value it used),
    ``divergences`` (its divergent transitions) and ``retry`` (None, or the first attempt's
    ``target_accept`` and ``divergences``)."""
    accept = settings.target_accept if target_accept is None else target_accept
    retry = None
    while True:
        idata = model.sample(seed=seed, sampler=sampler, chains=settings.chains,
                             tune=settings.tune, draws=settings.posterior_draws,
                             target_accept=accept, progress=progress)
        divergences = int(np.asarray(idata.sample_stats["diverging"]).sum())
        if divergences == 0 or accept >= RETRY_TARGET_ACCEPT or retry is not None:
            return idata, {"target_accept": accept, "divergences": divergences, "retry": retry}
        retry = {"target_accept": accept, "divergences": divergences}
        accept = RETRY_TARGET_ACCEPT


def sampler_record(idata) -> dict:
    """The target acceptance a stored fit used and its retry (attribute ``sampler_record``,
    written by :func:`~models.inference.nowcast.fit_nowcast`); empty for a fit stored without
    it."""
    text = idata.attrs.get("sampler_record")
    return json.loads(text) if isinstance(text, str) else {}
