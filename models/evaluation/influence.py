"""Evidence influence: how each headline number moves when one report is left out.

For each report (an ``evidence:`` entry of the primary config; a report separated into several
disjoint windows counts once, all its rows left out together) the nowcast is refitted on the
compiled model with that report's claims replaced by "at least 0" (P(report >= 0) = 1: its
likelihood term is exactly zero, so the posterior is the one without it; notebook 03 shows the
reasoning), through :meth:`~models.inference.nowcast.NowcastModel.set_evidence` (new data, no
recompilation). Every scenario of the run is then re-simulated from the refitted state with the
run's seed, draws, horizon and weights, and the median and the 5% and 95% quantiles at the
headline horizons are compared with the run's own (:data:`models.outputs.drivers.INFLUENCE_COLUMNS`).

A report another was separated against (a day's toll inside a running total that includes it)
leaves the other's window as it was separated: leaving out the day's toll then removes the
information about that day, not the running total's. The table names such reports
(``separated_with``).

    from models.evaluation.influence import attach_influence
    table = attach_influence(result)      # result.extra["evidence_influence"]: written by the
                                          # writer as influence.csv, a chart and a report table

A refit that diverges is sampled once more with smaller steps (:data:`RETRY_TARGET_ACCEPT`);
the table keeps each refit's divergences and target acceptance.

Cost: one NUTS fit (a few seconds once compiled; the compilation, 30-60 s, happens once) and one
simulation per report.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from models.inference.diagnostics import RETRY_TARGET_ACCEPT
from models.inference.nowcast import EvidenceArrays, NowcastModel
from models.inference.sampling import sample_retrying
from models.outputs.drivers import INFLUENCE_COLUMNS
from models.outputs.run_result import RunResult
from models.outputs.statistics import headline_horizons
from models.simulation.engine import simulate_scenarios
from models.vocabulary import ALL, TARGETS
from scenarios.evidence import Observation

__all__ = ["RETRY_TARGET_ACCEPT", "attach_influence", "evidence_influence", "without_report"]

QUANTILES = (0.05, 0.5, 0.95)


def without_report(obs: Sequence[Observation], evidence_id: str) -> list[Observation]:
    """The observations with every claim of one report replaced by "at least 0" (no
    information); the rows, their order and windows unchanged (the compiled model's shapes)."""
    return [dataclasses.replace(o, low=0.0, high=math.inf) if o.evidence_id == evidence_id
            else o for o in obs]


def _quantiles(forecast, horizons, region, targets) -> dict:
    """(scenario, target, horizon) -> (q05, median, q95)."""
    x = forecast["forecast"].sel(region=region, day=list(horizons), target=list(targets))
    q = np.quantile(x.values, QUANTILES, axis=1)  # (q, scenario, day, target)
    return {(str(s), str(t), int(h)): tuple(float(v) for v in q[:, i, j, k])
            for i, s in enumerate(x["scenario"].values)
            for j, h in enumerate(x["day"].values)
            for k, t in enumerate(x["target"].values)}


def _relative(new: float, old: float) -> float:
    return new / old - 1.0 if old != 0 else (0.0 if new == 0 else math.inf)


def evidence_influence(result: RunResult, *, sampler: str | None = None,
                       horizons: Sequence[int] | None = None, region: str = ALL,
                       targets: Sequence[str] = TARGETS, model: NowcastModel | None = None,
                       say: Callable[[str], None] | None = None) -> pd.DataFrame:
    """One row per report left out, scenario, target and horizon (``INFLUENCE_COLUMNS``).

    ``result``: the run (its primary config's evidence, sampler settings, seed, draws, weights);
    ``sampler``: default the run's; ``horizons``: default the headline horizons; ``model``: a
    :class:`NowcastModel` of the primary config to reuse (compiled once, and left with the
    config's own evidence at the end)."""
    say = say or (lambda message: None)
    cfg = result.primary.config
    f = cfg.sampler
    sampler = sampler or result.diagnostics.get("sampler") or f.backend
    horizons = list(horizons or headline_horizons(result))
    targets = [t for t in targets if t in result.forecast["target"].values]
    model = model or NowcastModel(cfg)
    evidence = model.evidence
    rows_all = evidence.death + evidence.disp
    width = int(evidence.grid_width.max(initial=1)) or 1  # keep the compiled grid's shape
    reports = list(dict.fromkeys(o.evidence_id for o in rows_all))
    scenarios = {c.config.scenario.id: c.config.assumptions for c in result.configs}
    reference = _quantiles(result.forecast, horizons, region, targets)
    out = []
    try:
        for i, ev in enumerate(reports):
            t0 = time.perf_counter()
            model.set_evidence(EvidenceArrays.from_observations(without_report(rows_all, ev)),
                               grid_width=width)
            idata, record = sample_retrying(model, seed=result.seed, sampler=sampler, settings=f)
            divergences, accept = record["divergences"], record["target_accept"]
            state = model.state_for_seed(idata.posterior, result.seed)
            forecast = simulate_scenarios(state, scenarios, horizon_days=result.horizon,
                                          seed=result.seed, draws=result.draws,
                                          weights=result.weights)
            moved = _quantiles(forecast, horizons, region, targets)
            mine = [o for o in rows_all if o.evidence_id == ev]
            separated = sorted({d for o in mine for d in o.derived_from if d != ev}
                               | {o.evidence_id for o in rows_all
                                  if ev in o.derived_from and o.evidence_id != ev})
            for (scen, target, h), (q05, med, q95) in moved.items():
                r05, rmed, r95 = reference[(scen, target, h)]
                out.append({"scenario": scen, "target": target, "region": region, "horizon": h,
                            "evidence": ev, "quantity": mine[0].quantity,
                            "median_all": rmed, "median_without": med,
                            "median_change": _relative(med, rmed),
                            "q05_change": _relative(q05, r05),
                            "q95_change": _relative(q95, r95), "divergences": divergences,
                            "target_accept": accept,
                            "separated_with": ", ".join(separated)})
            say(f"evidence influence: without '{ev}' ({i + 1}/{len(reports)}) "
                f"{time.perf_counter() - t0:.1f} s, {divergences} divergences "
                f"(target_accept {accept:.2f})")
    finally:
        model.set_evidence(evidence, grid_width=width)  # back to the config's own evidence
    return pd.DataFrame(out, columns=INFLUENCE_COLUMNS)


def attach_influence(result: RunResult, **kwargs) -> pd.DataFrame:
    """:func:`evidence_influence` of the run, kept in ``result.extra["evidence_influence"]``
    (records), where the writer finds it (``influence.csv``, chart, report table)."""
    table = evidence_influence(result, **kwargs)
    result.extra["evidence_influence"] = table.to_dict("records")
    return table
