"""Scenario sweeps: one scenario's forecast with chosen levers held at each point of a grid.

``python -m models.sweep configs/escalation.yaml --grid regimes/escalated/intensity_multiplier=1.5,2,3``
answers "what if this lever were 1.5, 2 or 3?" with the config's own nowcast (fitted once,
through the fit cache) and the engine, a grid point at a time: at each point every named lever
is a :class:`~scenarios.distributions.Fixed` value and every other lever keeps its distribution.
Every point is simulated with the config's seed, so the points share their random numbers
(common random numbers, as the scenarios of a run do): the differences between points are the
levers', not Monte Carlo noise.

Each grid point is one task (:func:`sweep_point`), run in this process (``client=None``) or on a
``dask.distributed`` cluster (:func:`models.evaluation.distributed.map_tasks`) with identical
numbers (tested). A task returns only the point's headline quantiles and, with ``parts_dir``,
writes them to its own CSV part file as soon as it finishes, so the driver never holds a draw
of any point (memory stays that of one simulation per worker). A task that fails is reported
with its inputs; the others are kept.

Lever paths are those of :func:`models.simulation.levers.lever_specs` (the ``lever__`` variables
of a forecast): ``regimes/<regime>/<intensity|displacement|return>_multiplier``,
``transitions/<from>/<to>``, ``events/<id>/<daily_hazard|intensity_multiplier>``,
``trend_half_life_days``, ``daily_return_rate``, ``region_multipliers/<region>/<field>``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from models.simulation.engine import simulate_scenarios
from models.simulation.levers import lever_specs
from models.state import NowcastState
from models.vocabulary import ALL, TARGETS
from scenarios.levers import Assumptions

__all__ = ["QUANTILES", "SWEEP_COLUMNS", "SweepResult", "grid_points", "parse_grid",
           "point_assumptions", "run_sweep", "sweep_point", "write_sweep"]

QUANTILES = (0.05, 0.5, 0.95)
SWEEP_COLUMNS = ["point", "target", "region", "horizon", "q05", "median", "q95"]
"""Columns of the sweep table after the lever columns (one per swept lever, its value)."""
KIND_RANGE = {"multiplier": (0.0, False), "half_life": (0.0, False), "hazard": (0.0, True),
              "rate": (0.0, True)}
"""Lever kind -> (lower limit, whether the limit itself is allowed); hazards and rates are also
at most 1."""


def parse_grid(items: Sequence[str], assumptions: Assumptions) -> dict[str, list[float]]:
    """``["path=v1,v2", ...]`` -> lever path -> values, checked against the scenario's levers and
    their kinds (multipliers and half-lives > 0, hazards and rates in [0, 1]). Raises ValueError
    naming the item and what is expected."""
    specs = lever_specs(assumptions)
    grid: dict[str, list[float]] = {}
    for item in items:
        path, sep, values = item.partition("=")
        path = path.strip()
        if not sep or not path or not values.strip():
            raise ValueError(f"--grid {item!r}: expected LEVER=V1,V2,... "
                             "(e.g. regimes/escalated/intensity_multiplier=1.5,2,3)")
        if path not in specs:
            import difflib

            near = difflib.get_close_matches(path, list(specs), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise ValueError(f"--grid {item!r}: the scenario has no lever {path!r}{hint} "
                             f"(its levers: {', '.join(specs)})")
        if path in grid:
            raise ValueError(f"--grid {item!r}: lever {path!r} given twice")
        try:
            numbers = [float(v) for v in values.split(",")]
        except ValueError:
            raise ValueError(f"--grid {item!r}: values must be numbers separated by commas") \
                from None
        kind = specs[path][1]
        low, closed = KIND_RANGE[kind]
        for v in numbers:
            bad = (not np.isfinite(v) or v < low or (v == low and not closed)
                   or (kind in ("hazard", "rate") and v > 1))
            if bad:
                expected = ("in [0, 1]" if kind in ("hazard", "rate") else "greater than 0")
                raise ValueError(f"--grid {item!r}: {v:g} is not a value of a {kind} lever "
                                 f"(expected {expected})")
        if len(set(numbers)) != len(numbers):
            raise ValueError(f"--grid {item!r}: a value is given twice")
        grid[path] = numbers
    if not grid:
        raise ValueError("--grid: at least one LEVER=V1,V2,... is needed")
    return grid


def grid_points(grid: Mapping[str, Sequence[float]]) -> dict[str, dict[str, float]]:
    """Point label (``p000``, ``p001``, ...) -> lever path -> value, the Cartesian product of
    the grid in the order given (the last lever varies fastest)."""
    paths = list(grid)
    return {f"p{i:03d}": dict(zip(paths, values, strict=True))
            for i, values in enumerate(itertools.product(*(grid[p] for p in paths)))}


def point_assumptions(assumptions: Assumptions, point: Mapping[str, float]) -> Assumptions:
    """The scenario's assumptions with each lever of ``point`` held at its value."""
    data = assumptions.model_dump()
    for path, value in point.items():
        keys = path.split("/")
        node = data
        for k in keys[:-1]:
            node = node[k]
        leaf = keys[-1]
        if keys[0] == "transitions":  # a transition's lever is its daily hazard
            node = node[leaf]
            leaf = "daily_hazard"
        node[leaf] = {"dist": "fixed", "value": float(value)}
    return Assumptions.model_validate(data)


def sweep_point(state: NowcastState, assumptions: Assumptions, point: dict[str, float],
                label: str, *, horizon_days: int, seed: int, draws: int,
                horizons: Sequence[int], parts_dir: str | None = None) -> pd.DataFrame:
    """One grid point: simulate the scenario with ``point``'s levers held, and return (and with
    ``parts_dir``, write to ``<parts_dir>/<label>.csv``) its quantiles of every target at
    ``horizons`` (days after the origin) for every region and all of them."""
    forecast = simulate_scenarios(state, {label: point_assumptions(assumptions, point)},
                                  horizon_days=horizon_days, seed=seed, draws=draws)
    f = forecast["forecast"].sel(scenario=label, day=list(horizons))
    q = f.quantile(list(QUANTILES), dim="draw")
    rows = []
    for h in horizons:
        for target in [t for t in TARGETS if t in f["target"].values]:
            for region in [str(r) for r in f["region"].values]:
                v = q.sel(day=h, target=target, region=region).values
                rows.append({**point, "point": label, "target": target, "region": region,
                             "horizon": int(h), "q05": float(v[0]), "median": float(v[1]),
                             "q95": float(v[2])})
    table = pd.DataFrame(rows, columns=[*point, *SWEEP_COLUMNS])
    if parts_dir is not None:  # streamed: the driver reads parts, never draws
        from models.storage import atomic_file

        with atomic_file(Path(parts_dir) / f"{label}.csv") as tmp:
            table.to_csv(tmp, index=False)
    return table


@dataclass
class SweepResult:
    """The sweep table (one row per point, target, region and horizon; the swept levers'
    values first), the grid, the scenario, the failures (label -> message)."""

    table: pd.DataFrame
    grid: dict[str, list[float]]
    scenario: str
    failures: dict[str, str]


def run_sweep(state: NowcastState, assumptions: Assumptions, grid: Mapping[str, Sequence[float]],
              *, scenario: str, horizon_days: int, seed: int, draws: int,
              horizons: Sequence[int], client=None, parts_dir: str | Path | None = None,
              progress: Callable[[str], None] | None = None) -> SweepResult:
    """Every point of ``grid`` (:func:`grid_points`) through :func:`sweep_point`, serially in
    this process or, with a ``client``, one task per point on its cluster (the same numbers)."""
    say = progress or (lambda message: None)
    points = grid_points(grid)
    common = {"state": state, "assumptions": assumptions, "horizon_days": horizon_days,
              "seed": seed, "draws": draws, "horizons": list(horizons),
              "parts_dir": None if parts_dir is None else str(parts_dir)}
    tasks = {label: {**common, "point": point, "label": label} for label, point in points.items()}
    failures: dict[str, str] = {}
    if client is None:
        done = {}
        for k, (label, kwargs) in enumerate(tasks.items(), start=1):
            try:
                done[label] = sweep_point(**kwargs)
                say(f"[{k}/{len(tasks)}] {label} {points[label]} done")
            except Exception as e:  # reported with its inputs; the others go on
                failures[label] = f"{type(e).__name__}: {e}"
                say(f"[{k}/{len(tasks)}] {label} {points[label]} failed: {failures[label]}")
    else:
        from models.evaluation.distributed import map_tasks

        done, failed = map_tasks(client, sweep_point, tasks, progress=say)
        failures = {f.label: f"{points[f.label]}: {f.error}" for f in failed}
    table = pd.concat([done[label] for label in tasks if label in done], ignore_index=True) \
        if done else pd.DataFrame(columns=[*grid, *SWEEP_COLUMNS])
    return SweepResult(table=table, grid={k: list(v) for k, v in grid.items()},
                       scenario=scenario, failures=failures)


def all_regions(table: pd.DataFrame) -> pd.DataFrame:
    """The rows for all regions together (what the chart draws)."""
    return table[table["region"] == ALL]


def write_sweep(out: str | Path, state: NowcastState, assumptions: Assumptions,
                grid: Mapping[str, Sequence[float]], *, scenario: str, horizon_days: int,
                seed: int, draws: int, horizons: Sequence[int], client=None,
                meta: Mapping | None = None, plots: bool = True, dpi: int = 110,
                progress: Callable[[str], None] | None = None) -> tuple[Path, SweepResult]:
    """Run the sweep into ``out`` atomically (it appears complete or not at all; an existing
    ``out`` is refused): ``parts/<point>.csv`` as each point finishes, ``sweep.csv`` (every
    point), ``sweep.json`` (grid, scenario, seed, draws, horizons, failures and ``meta``) and
    ``plots/sweep_day<h>.png`` per horizon. Returns (out, result)."""
    import json

    from models.outputs.atomic import atomic_directory

    out = Path(out)
    with atomic_directory(out) as tmp:
        (tmp / "parts").mkdir()
        result = run_sweep(state, assumptions, grid, scenario=scenario,
                           horizon_days=horizon_days, seed=seed, draws=draws, horizons=horizons,
                           client=client, parts_dir=tmp / "parts", progress=progress)
        result.table.to_csv(tmp / "sweep.csv", index=False, float_format="%.2f")
        record = {"scenario": scenario, "grid": result.grid, "points": grid_points(grid),
                  "seed": seed, "draws": draws, "horizon_days": horizon_days,
                  "horizons": list(horizons), "failures": result.failures, **(meta or {})}
        (tmp / "sweep.json").write_text(json.dumps(record, indent=2, default=str) + "\n")
        if plots and not result.table.empty:
            from models.outputs.sweep_plots import plot_sweep

            (tmp / "plots").mkdir()
            for h in horizons:
                fig = plot_sweep(result.table, list(grid), horizon=h, scenario=scenario)
                fig.savefig(tmp / "plots" / f"sweep_day{h}.png", dpi=dpi)
    return out, result
