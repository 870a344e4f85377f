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
    """(n, R) people displaced per death while the whole population is still at risk (people):
    the flight that violence causes."""
    flight_hazard: np.ndarray
    """(n, R) daily probability that a person still at risk flees for reasons other than that
    day's deaths (the front moving, fear, evacuation orders) (1/day): displacement's own driver."""
    refugee_share: np.ndarray
    """(n, R) share of newly displaced people who cross an international border (0..1)."""
    population_at_risk: np.ndarray
    """(n, R) people living in the region at the episode start."""
    displaced_at_origin: np.ndarray
    """(n, R) people displaced between the episode start and the origin (people)."""
    deaths_to_origin: np.ndarray
    """(n, R, 2) deaths from the episode start to the origin by category (civilian, combatant)."""
    refugees_at_origin: np.ndarray
    """(n, R) people from the region who crossed a border between the episode start and the
    origin (people)."""

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
