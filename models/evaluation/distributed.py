"""The embarrassingly parallel jobs on a ``dask.distributed`` cluster: backtest countries or
origins, SBC replicates (and, through :func:`map_tasks`, scenario sweeps).

Each job is cut into tasks that call the same library functions the serial path calls, with the
same seeds (a backtest origin's seed comes from the run seed and the origin month; an SBC
replicate's from the seed and its index), so the results equal the serial run's (tested). No pool
of our own: a :class:`distributed.Client` the caller passes, or one made here::

    with cluster(workers=2) as client:              # a LocalCluster of 2 worker processes
        run = backtest_distributed(loaded, client=client, per="origin")
    with cluster(scheduler="tcp://10.0.0.5:8786") as client:   # an existing cluster
        sbc = sbc_distributed(config, 150, client=client)

Workers compile a model once per process and keep it (``_WORKER_MODELS``); the nowcast's and
``latent_nb``'s compilation (30-60 s) is paid once per worker, not per task. A task that fails
is reported with its inputs (:class:`TaskFailure`, a status line) and the others are kept: a
backtest without the failed countries or origins, the failures listed in its ``meta``.
Progress: a bar of the finished tasks on a terminal, else one status line per finished task
(``progress``).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from models.evaluation.backtest.loop import BacktestResult, BacktestSettings, run_backtest
from models.evaluation.backtest.pipeline import (
    BacktestRun,
    CountriesRun,
    forecaster_from_config,
    load_backtest_data,
    prior_rule,
    run_meta,
    units,
)
from models.inference.calibration import SBCResult, sbc_design, sbc_replicate, sbc_result
from scenarios.backtest_config import LoadedBacktest, load_backtest_config

__all__ = ["TaskFailure", "backtest_distributed", "cluster", "map_tasks", "sbc_distributed"]

_WORKER_MODELS: dict = {}
"""Per worker process: compiled models by what they were built from (reused across tasks)."""


@dataclass(frozen=True)
class TaskFailure:
    label: str
    inputs: dict
    error: str

    def __str__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.inputs.items() if k != "forecaster")
        return f"task {self.label} failed ({shown}): {self.error}"


@contextmanager
def cluster(client=None, *, scheduler: str | None = None, workers: int | None = None,
            processes: bool = True) -> Iterator:
    """A :class:`distributed.Client`: ``client`` as given (left open), else one connected to
    ``scheduler`` (an address such as ``tcp://host:8786``), else a
    :class:`distributed.LocalCluster` of ``workers`` processes (default: one per CPU), one thread
    each, its HTTP server on a free port (8787 may be taken); closed on exit.
    ``processes=False``: threads in this process (tests)."""
    if client is not None:
        yield client
        return
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler) as c:
            yield c
        return
    n = workers or os.cpu_count() or 1
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=processes,
                      dashboard_address=":0") as lc, Client(lc) as c:
        yield c


def map_tasks(client, fn: Callable, tasks: Mapping[str, dict], *,
              progress: Callable[[str], None] | None = None) -> tuple[dict, list[TaskFailure]]:
    """Run ``fn(**kwargs)`` for every ``label -> kwargs`` on the cluster; return (label ->
    result, in the order of ``tasks``, for the tasks that succeeded; the failures).

    Progress (when ``progress`` is given): on a terminal, a bar of the finished tasks with each
    finished task's line above it; elsewhere (a log), one ``progress`` line per finished task."""
    from distributed import as_completed

    from models.progress import Progress

    say = progress or (lambda message: None)
    token = hashlib.sha256(f"{time.time_ns()}-{os.getpid()}".encode()).hexdigest()[:8]
    futures = {client.submit(fn, **kwargs, key=f"{fn.__name__}-{label}-{token}", pure=False):
               label for label, kwargs in tasks.items()}
    results, failures = {}, []
    t0 = time.perf_counter()
    with Progress(f"{fn.__name__.removesuffix('_task')} tasks", total=len(tasks),
                  quiet=progress is None) as bar:
        for k, future in enumerate(as_completed(futures), start=1):
            label = futures[future]
            try:
                results[label] = future.result()
                line = f"[{k}/{len(tasks)}] {label} done ({time.perf_counter() - t0:.0f} s)"
            except Exception as e:  # reported with its inputs; the others go on
                failures.append(TaskFailure(label, dict(tasks[label]),
                                            f"{type(e).__name__}: {e}"))
                line = f"[{k}/{len(tasks)}] {failures[-1]}"
            bar.update()
            if not bar.note(line):
                say(line)
            future.release()
    return {label: results[label] for label in tasks if label in results}, failures


# ---------------------------------------------------------------------------------------------
# Backtest: one task per country, or per (country, origin)


def _base_forecaster(loaded: LoadedBacktest, quick: bool):
    """``latent_nb`` of the config, compiled once per worker process."""
    key = ("latent_nb", loaded.config_hash, quick)
    if key not in _WORKER_MODELS:
        fc = forecaster_from_config(loaded.config, quick=quick)
        if hasattr(fc, "model"):
            fc.model.compiled()
        _WORKER_MODELS[key] = fc
    return _WORKER_MODELS[key]


def backtest_task(config_path: str, quick: bool, label: str, origin: int | None = None,
                  forecaster=None) -> BacktestResult:
    """One country's backtest (``origin`` None: every origin; else that origin only), as the
    serial path runs it: the same data, prior rule, settings and seeds."""
    loaded = load_backtest_config(config_path)
    unit = next(u for u in units(loaded) if u.label == label)
    deaths = load_backtest_data(loaded, quick=quick, unit=unit)
    base = forecaster if forecaster is not None else _base_forecaster(loaded, quick)
    fc = (base.with_prior_rule(prior_rule(loaded, unit)) if hasattr(base, "with_prior_rule")
          else base)
    settings = BacktestSettings.from_config(loaded, quick=quick)
    if origin is not None:
        settings = replace(settings, origins=(int(origin),))
    return run_backtest(deaths, settings, fc, window=loaded.config.model.window_months)


def _joined(settings: BacktestSettings, parts: list[BacktestResult]) -> BacktestResult:
    """Per-origin results as one run (origins in the config's order)."""
    done = [o for p in parts for o in p.settings.origins]
    return BacktestResult(
        settings=replace(settings, origins=tuple(o for o in settings.origins if o in done)),
        forecast_scores=pd.concat([p.forecast_scores for p in parts], ignore_index=True),
        fits=pd.concat([p.fits for p in parts], ignore_index=True),
        seconds={"origins": sum(p.seconds["origins"] for p in parts)})


def backtest_distributed(loaded: LoadedBacktest, *, quick: bool = False,
                         only: list[str] | None = None, per: str = "country", client=None,
                         scheduler: str | None = None, workers: int | None = None,
                         forecaster=None, progress: Callable[[str], None] | None = None,
                         started: float | None = None) -> BacktestRun | CountriesRun:
    """The config's backtest on a cluster: one task per country (``per="country"``) or per
    country and origin (``per="origin"``). Returns what the serial path returns
    (:func:`~models.evaluation.backtest.backtest_from_config` for one country,
    :func:`~models.evaluation.backtest.backtest_countries` for a list), so the same writers
    apply; ``meta["distributed"]`` records the cluster and any failed tasks.

    ``forecaster``: a picklable stand-in for ``latent_nb`` (tests); default each worker builds
    and compiles the config's. ``client`` / ``scheduler`` / ``workers``: see :func:`cluster`."""
    if per not in ("country", "origin"):
        raise ValueError(f"per: expected 'country' or 'origin', got {per!r}")
    started = time.perf_counter() if started is None else started
    say = progress or (lambda message: None)
    several = loaded.config.data.countries is not None
    todo = [u for u in units(loaded) if only is None or u.label in only]
    for u in todo:
        load_backtest_data(loaded, quick=quick, unit=u)  # data errors up front, on the driver
    settings = BacktestSettings.from_config(loaded, quick=quick)
    path = str(Path(loaded.path).resolve())
    tasks: dict[str, dict] = {}
    for u in todo:
        base = {"config_path": path, "quick": quick, "label": u.label, "forecaster": forecaster}
        if per == "country":
            tasks[u.label] = base
        else:
            tasks |= {f"{u.label}/{o}": base | {"origin": o} for o in settings.origins}
    with cluster(client, scheduler=scheduler, workers=workers) as c:
        n_workers = len(c.scheduler_info().get("workers", {}))
        say(f"backtest '{loaded.config.name}': {len(todo)} countries x "
            f"{len(settings.origins)} origins as {len(tasks)} tasks on {n_workers} workers")
        done, failures = map_tasks(c, backtest_task, tasks, progress=say)
        address = c.scheduler.address if c.scheduler is not None else None
    record = {"scheduler": address, "workers": n_workers, "per": per, "tasks": len(tasks),
              "failed": [str(f) for f in failures]}
    runs = {}
    for u in todo:
        parts = ([done[u.label]] if u.label in done else []) if per == "country" else \
            [done[f"{u.label}/{o}"] for o in settings.origins if f"{u.label}/{o}" in done]
        if not parts:
            continue
        result = parts[0] if per == "country" else _joined(settings, parts)
        meta = run_meta(loaded, quick=quick, started=started, unit=u)
        meta["seconds"] = {"compile": float("nan"), "origins": result.seconds["origins"]}
        runs[u.label] = BacktestRun(result=result, meta=meta | {"distributed": record})
    if not runs:
        raise RuntimeError("every task failed: " + "; ".join(str(f) for f in failures))
    if not several:
        return next(iter(runs.values()))
    meta = run_meta(loaded, quick=quick, started=started) | {
        "country": None, "iso3": None, "countries": list(runs), "distributed": record}
    meta["seconds"] = {"compile": float("nan"),
                       "origins": sum(r.meta["seconds"]["origins"] for r in runs.values()),
                       "wall": time.perf_counter() - started}
    return CountriesRun(runs=runs, meta=meta)


# ---------------------------------------------------------------------------------------------
# SBC: one task per replicate


def _nowcast_model(config):
    """The config's :class:`~models.inference.nowcast.NowcastModel`, compiled once per worker."""
    from models.inference.nowcast import NowcastModel

    key = ("nowcast", hashlib.sha256(config.model_dump_json().encode()).hexdigest())
    if key not in _WORKER_MODELS:
        _WORKER_MODELS[key] = NowcastModel(config)
    return _WORKER_MODELS[key]


def sbc_task(config, reports, truth: dict, i: int, settings: dict) -> tuple[list[dict], bool]:
    """One SBC replicate (:func:`models.inference.calibration.sbc_replicate`)."""
    return sbc_replicate(_nowcast_model(config), reports, truth, i, **settings)


def sbc_distributed(config, n_replicates: int, *, seed: int = 0, chains: int = 2,
                    tune: int = 300, draws: int = 250, thin: int = 5, bins: int = 10,
                    alpha: float = 0.01, client=None, scheduler: str | None = None,
                    workers: int | None = None,
                    progress: Callable[[str], None] | None = None) -> SBCResult:
    """:func:`models.inference.calibration.run_sbc` with one task per replicate: the same prior
    draws and simulated reports (made here), the same per-replicate seeds, the same result. A
    failed replicate is left out and said (``progress``)."""
    from models.inference.nowcast import NowcastModel

    design = sbc_design(NowcastModel(config), n_replicates, seed=seed, chains=chains,
                        draws=draws, thin=thin, bins=bins)
    settings = {"seed": seed, "chains": chains, "tune": tune, "draws": draws, "thin": thin,
                "n_post": design.n_post}
    tasks = {f"replicate-{i}": {"config": config, "reports": design.reports[i],
                                "truth": design.truth(i), "i": i, "settings": settings}
             for i in range(n_replicates)}
    with cluster(client, scheduler=scheduler, workers=workers) as c:
        done, failures = map_tasks(c, sbc_task, tasks, progress=progress)
    if failures and progress is None:
        import warnings

        warnings.warn("; ".join(str(f) for f in failures), RuntimeWarning, stacklevel=2)
    rows = [row for rows, _ in done.values() for row in rows]
    divergent = sum(int(d) for _, d in done.values())
    return sbc_result(rows, design.n_post, bins=bins, alpha=alpha, divergent=divergent)
