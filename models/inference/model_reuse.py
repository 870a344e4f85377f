"""One compiled nowcast per model structure and process: a refit after an evidence change in
seconds (a notebook kernel, a sweep, a long-lived process).

Compiling the nowcast (nutpie's numba compile of the log density and its gradient) takes 25-40 s;
sampling takes 3-7 s. The compiled graph depends on the episode (regions, days), the priors, the
reporting and subset profiles, and on the evidence's rows (which quantity, regions and days each
report covers, who reported it, whether a displacement figure is exact); the reported values
themselves are data (``pm.Data`` containers: the death grids, their masks and complements, the
displacement bounds), replaced by :meth:`NowcastModel.set_evidence` without recompiling, at any
grid width. :func:`model_structure` is a key of everything compiled; :func:`reusable_model`
returns the process's model of that structure with the config's evidence values in it (or a new
one, kept for next time). A refit with it gives the same draws, to the bit, as a fresh model
compiled for the new config (tested).

Across processes the compile cannot be saved today: nutpie's compiled model holds numba
``cfunc`` closures over the PyTensor-generated functions, which neither pickle (a local object)
nor cloudpickle (a ``PyCapsule``) can serialise, and numba refuses to cache them on disk ("uses
dynamic globals"); nutpie itself silences that warning.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict

import numpy as np

from models.inference.episode_priors import episode_priors
from models.inference.nowcast import EvidenceArrays, NowcastModel, _population_prior
from scenarios.evidence import observations
from scenarios.schema import DEATH_QUANTITIES, Config

__all__ = ["KEEP", "adopt_evidence", "model_structure", "reusable_model"]

KEEP = 2
"""Compiled models kept per process (each holds its compiled functions: a few hundred MB)."""
_MODELS: OrderedDict[str, NowcastModel] = OrderedDict()


def model_structure(config: Config) -> str:
    """SHA-256 of everything the compiled nowcast of ``config`` depends on but the evidence
    values: regions, days, population prior, priors, reporting and subset profiles, and per
    report its quantity, regions, window, reporting profile, subset (and for displacement
    whether it is exact, a constant of the graph)."""
    obs = observations(config)
    ev = EvidenceArrays.from_observations(obs)
    exact = np.isclose(ev.disp_log_low, ev.disp_log_high).tolist() if ev.disp else []
    pop_mu, pop_sigma = _population_prior(config, config.lexicon)
    rows = [[o.evidence_id, o.quantity, list(o.covered), o.first_day, o.last_day, o.reporting,
             o.subset, o.quantity in DEATH_QUANTITIES] for o in ev.death + ev.disp]
    payload = {
        "regions": list(config.episode.regions), "days": config.episode.observed_days,
        "population": [pop_mu.tolist(), pop_sigma.tolist()],
        "priors": episode_priors(config).table(),
        "reporting": {k: list(p.share.alpha_beta) for k, p in config.reporting.items()},
        "subsets": {k: list(s.share.alpha_beta) for k, s in config.subsets.items()},
        "rows": rows, "displacement_exact": exact,
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def adopt_evidence(model: NowcastModel, config: Config) -> None:
    """Put ``config``'s evidence values into ``model`` (of the same structure): the data the
    sampler reads and what the fit records (observed and constant data, predictive reports)."""
    model.config = config
    model.evidence = EvidenceArrays.from_observations(observations(config))
    model.set_evidence(model.evidence)


def reusable_model(config: Config) -> tuple[NowcastModel, bool]:
    """``(model, reused)``: this process's nowcast of ``config``'s structure with its evidence
    values in place (``reused`` True: compiled before, no compile now), or a new one, kept (the
    :data:`KEEP` most recent)."""
    key = model_structure(config)
    model = _MODELS.get(key)
    if model is not None:
        _MODELS.move_to_end(key)
        adopt_evidence(model, config)
        return model, True
    model = NowcastModel(config)
    _MODELS[key] = model
    while len(_MODELS) > KEEP:
        _MODELS.popitem(last=False)
    return model, False
