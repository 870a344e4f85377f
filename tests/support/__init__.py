"""Helpers shared by the tests (and the benchmarks): synthetic states, shipped levers, runs.

Test data live here, not in production code: :func:`example_state` is a plausible synthetic
nowcast state for tests that must not depend on a fit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from models.simulation.engine import simulate_scenarios as simulate
from models.state import NowcastState
from scenarios.loader import load_config

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"

__all__ = ["CONFIGS", "ROOT", "example_state", "shipped_assumptions", "simulate"]


def shipped_assumptions(*names: str) -> dict:
    """Scenario id -> assumptions of the shipped configs ``configs/<name>.yaml``."""
    return {name: load_config(CONFIGS / f"{name}.yaml").config.assumptions for name in names}


def example_state(n: int = 1000, seed: int = 0, regions=("aleppo", "idlib")) -> NowcastState:
    """A plausible synthetic state (for tests and benchmarks that must not depend on a fit):
    about 20-60 deaths/day per region, populations of 2 and 4 million."""
    rng = np.random.default_rng(seed)
    r = len(regions)
    pop = np.array([2.0e6, 4.0e6, 1.0e6, 1.0e6][:r]) * rng.lognormal(0, 0.05, (n, r))
    return NowcastState(
        regions=tuple(regions),
        log_intensity=np.log(30) + rng.normal(0, 0.4, (n, r)),
        ar_deviation=rng.normal(0, 0.2, (n, r)),
        trend=rng.normal(0.02, 0.05, (n, r)),
        persistence=rng.beta(8, 2, n),
        innovation_sd=rng.lognormal(np.log(0.2), 0.3, n),
        dispersion=rng.lognormal(np.log(5), 0.3, n),
        civilian_share=rng.beta(4, 6, (n, r)),
        displacement_per_death=rng.lognormal(np.log(300), 0.5, (n, r)),
        population_at_risk=pop,
        displaced_at_origin=pop * rng.beta(2, 60, (n, r)),
        deaths_to_origin=rng.poisson(60, (n, r, 2)).astype(float),
        # drawn last, so the fields above keep the values they had before these existed
        flight_hazard=rng.lognormal(np.log(2e-4), 0.5, (n, r)),
        refugee_share=rng.beta(2, 18, (n, r)),
        refugees_at_origin=np.round(pop * rng.beta(2, 60, (n, r)) * 0.1),
    )
