"""The scenario levers of the Monte Carlo engine: which distributions a scenario's
:class:`~scenarios.schema.Assumptions` hold, by path, and how each is sampled once per draw.

A lever is sampled by its inverse CDF at a uniform from the stream ``lever/<path>`` (keyed by
chunk), so scenarios sharing a lever path get comonotone, draw-by-draw comparable values, and a
lever that only one scenario has changes no other lever's numbers. See
:mod:`models.simulation.engine` for the process the levers act in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.simulation import rng as mcrng
from scenarios.levers import REGIMES, Assumptions


@dataclass(frozen=True)
class Lever:
    name: str
    """Path in the assumptions, e.g. ``regimes/escalated/intensity_multiplier``."""
    dists: tuple
    """Frozen scipy distribution per scenario, None where the scenario lacks the lever."""
    kind: str
    """``multiplier`` (> 0), ``hazard`` (>= 0), ``half_life`` (> 0) or ``rate`` (0..1)."""


def lever_specs(a: Assumptions) -> dict[str, tuple]:
    """Lever path -> (distribution spec, kind) for one scenario's assumptions."""
    specs: dict[str, tuple] = {}
    for regime in REGIMES:
        reg = a.regimes[regime]
        for field in ("intensity_multiplier", "displacement_multiplier", "return_multiplier"):
            specs[f"regimes/{regime}/{field}"] = (getattr(reg, field), "multiplier")
    for src, tos in a.transitions.items():
        for dst, tr in tos.items():
            specs[f"transitions/{src}/{dst}"] = (tr.daily_hazard, "hazard")
    for eid, ev in a.events.items():
        specs[f"events/{eid}/daily_hazard"] = (ev.daily_hazard, "hazard")
        specs[f"events/{eid}/intensity_multiplier"] = (ev.intensity_multiplier, "multiplier")
    specs["trend_half_life_days"] = (a.trend_half_life_days, "half_life")
    specs["daily_return_rate"] = (a.daily_return_rate, "rate")
    for region, rm in a.region_multipliers.items():
        for field in ("intensity_multiplier", "displacement_multiplier"):
            if getattr(rm, field) is not None:
                specs[f"region_multipliers/{region}/{field}"] = (getattr(rm, field), "multiplier")
    return specs


def build_levers(assumptions: Sequence[Assumptions]) -> list[Lever]:
    """Every lever path of any scenario (in order of first appearance), with each scenario's
    frozen distribution or None."""
    per_scenario = [lever_specs(a) for a in assumptions]
    names: list[str] = []
    for specs in per_scenario:
        names += [k for k in specs if k not in names]
    return [Lever(name,
                  tuple(specs[name][0].frozen() if name in specs else None for specs in per_scenario),
                  next(specs[name][1] for specs in per_scenario if name in specs))
            for name in names]


def lever_variable(name: str) -> str:
    """Dataset variable holding a lever's sampled values: ``lever__`` + path with ``/`` -> ``__``."""
    return "lever__" + name.replace("/", "__")


def open_uniforms(gen: np.random.Generator, n: int) -> np.ndarray:
    """Uniforms on a grid of midpoints strictly inside (0, 1), so inverse CDFs stay finite."""
    return (gen.integers(0, 2**52, n) + 0.5) * 2.0**-52


def sample_levers(levers: Sequence[Lever], scenarios: Sequence[str], seed: int, c: int,
                  n: int) -> dict[str, np.ndarray]:
    """Lever path -> (scenario, draw) values for the ``n`` draws of chunk ``c`` (NaN where a
    scenario lacks the lever). A sampled value outside the lever's support is an error."""
    out = {}
    for lev in levers:
        u = open_uniforms(mcrng.stream(seed, "lever/" + lev.name, c), n)
        vals = np.full((len(scenarios), n), np.nan)
        for s, dist in enumerate(lev.dists):
            if dist is None:
                continue
            v = dist.ppf(u)
            ok = {"multiplier": v > 0, "hazard": v >= 0, "half_life": v > 0,
                  "rate": (v >= 0) & (v <= 1)}[lev.kind] & np.isfinite(v)
            if not ok.all():
                bad = float(v[~ok][0])
                raise ValueError(
                    f"scenario '{scenarios[s]}', lever '{lev.name}': sampled value {bad} is not "
                    f"a valid {lev.kind.replace('_', ' ')}; choose a distribution whose support "
                    "fits (lognormal for multipliers and half-lives, beta for rates)")
            vals[s] = v
        out[lev.name] = vals
    return out
