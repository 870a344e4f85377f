"""The hand-over between the Bayesian nowcast and the Monte Carlo engine.

:class:`NowcastState` holds, for every posterior draw, the state of the conflict on the forecast
origin day as the nowcast inferred it. The engine continues exactly this process forward (same
latent log-intensity with AR(1) deviations and a fading trend, same negative-binomial daily deaths,
same displacement hazard), with the scenario's regime and event multipliers on top.

Shapes: ``n`` draws, ``R`` regions (order of :attr:`regions`). Units in each field's comment.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

TARGETS = ("cum_deaths", "cum_civilian_deaths", "displaced", "cum_displaced")
"""Forecast targets (hubverse ``target`` column):

* ``cum_deaths``: deaths of all actors since the episode start (people);
* ``cum_civilian_deaths``: civilian deaths since the episode start (people);
* ``displaced``: people currently displaced by this episode (stock, people);
* ``cum_displaced``: displacement movements since the episode start (flow, people; a person
  displaced twice counts twice, as in IDMC's internal-displacement counts).
"""

CATEGORIES = ("civilian", "combatant")
ALL = "all"
"""Location id for the sum over regions."""


@dataclass(frozen=True)
class NowcastState:
    regions: tuple[str, ...]
    log_intensity: np.ndarray
    """(n, R) log of expected all-actor deaths per day on the origin day (log people/day)."""
    ar_deviation: np.ndarray
    """(n, R) AR(1) deviation of the log-intensity on the origin day (part of ``log_intensity``)."""
    trend: np.ndarray
    """(n, R) daily growth of the log-intensity on the origin day (1/day)."""
    persistence: np.ndarray
    """(n,) AR(1) coefficient of daily log-intensity deviations (unitless, 0..1)."""
    innovation_sd: np.ndarray
    """(n,) sd of daily log-intensity innovations."""
    dispersion: np.ndarray
    """(n,) negative-binomial size of daily death counts (larger = closer to Poisson)."""
    civilian_share: np.ndarray
    """(n, R) share of deaths that are civilians (0..1)."""
    displacement_per_death: np.ndarray
    """(n, R) people displaced per death while the whole population is still at risk (people)."""
    population_at_risk: np.ndarray
    """(n, R) people living in the region at the episode start."""
    displaced_at_origin: np.ndarray
    """(n, R) people displaced between the episode start and the origin (people)."""
    deaths_to_origin: np.ndarray
    """(n, R, 2) deaths from the episode start to the origin by category (civilian, combatant)."""

    @property
    def n_draws(self) -> int:
        return self.log_intensity.shape[0]

    def take(self, index: np.ndarray) -> NowcastState:
        """The state at the given draw indices (resampling draws for larger Monte Carlo runs)."""
        kw = {f.name: getattr(self, f.name)[index] for f in fields(self) if f.name != "regions"}
        return NowcastState(regions=self.regions, **kw)

    def validate(self) -> None:
        n, r = self.n_draws, len(self.regions)
        for f in fields(self):
            if f.name == "regions":
                continue
            a = getattr(self, f.name)
            if a.shape[0] != n or not np.all(np.isfinite(a)):
                raise ValueError(f"NowcastState.{f.name}: expected {n} finite draws, shape {a.shape}")
            if a.ndim > 1 and a.shape[1] != r:
                raise ValueError(f"NowcastState.{f.name}: expected {r} regions, shape {a.shape}")


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
    )
