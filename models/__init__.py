"""Scenario and forecast models of conflict casualties and displacement: the library API.

    from models import run_scenarios, write_run, load_run
    from models.storage import fit_cache_directory   # the user's fit cache
    result = run_scenarios(["configs/escalation.yaml"], cache_dir=fit_cache_directory())
    run_dir = write_run(result, "results")
    idata, record = load_run(run_dir)

The rooms follow the flow: :mod:`models.inference` (priors, nowcast, diagnostics, fit cache),
:mod:`models.simulation` (Monte Carlo engine, random streams), :mod:`models.outputs` (run
results, statistics, hubverse/ViEWS tables, the stored run, plots, report, the writer),
:mod:`models.evaluation` (scores, reference forecasts, comparison, backtest),
:mod:`models.pipeline` (the flow, once) and :mod:`models.cli` (thin command lines) on top.
Importing this package has no side effects; the names below are imported on first use, so
``import models`` stays quick.
"""

from __future__ import annotations

import importlib

__all__ = ["ALL", "MIXTURE", "TARGETS", "NowcastState", "RunResult", "list_runs", "load_run",
           "run_scenarios", "summarise", "write_run"]

_HOMES = {
    "ALL": "models.vocabulary", "MIXTURE": "models.vocabulary", "TARGETS": "models.vocabulary",
    "NowcastState": "models.state", "RunResult": "models.outputs.run_result",
    "list_runs": "models.outputs.store", "load_run": "models.outputs.store",
    "run_scenarios": "models.pipeline", "summarise": "models.outputs.statistics",
    "write_run": "models.outputs.write",
}


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'models' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
