"""Uncertain quantities in scenario configs.

Every scenario lever is a distribution, never a point. Analysts think in plausible ranges, so the
main forms are stated by a central 90% interval (``low``/``high``: 5% and 95% quantiles)::

    {dist: lognormal, low: 0.7, high: 1.4}     # positive multipliers, rates, ratios
    {dist: beta, low: 0.01, high: 0.05}        # shares and daily probabilities in (0, 1)
    {dist: uniform, low: 0.0, high: 1.0}       # hard bounds, flat in between
    {dist: normal, mean: 0.0, sd: 0.1}         # signed quantities (trends)

One exception holds a lever at a point: ``{dist: fixed, value: 2.0}``, what ``models.sweep`` sets a
lever to at each grid point ("what if the escalated intensity were exactly 2x?"); a config may
use it for a lever the analyst treats as known, and the forecast then carries no uncertainty
about that lever.

Each spec gives a frozen scipy distribution, so Monte Carlo levers are drawn by the inverse CDF of
named uniform streams (common random numbers: two scenarios with the same uniform stream and
different distributions get comonotone, draw-by-draw comparable values).
"""

from __future__ import annotations

from functools import cached_property
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import optimize, stats

Z95 = stats.norm.ppf(0.95)


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def frozen(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantile function: maps uniforms in (0, 1) to values of this quantity."""
        return self.frozen().ppf(u)

    def interval90(self) -> tuple[float, float]:
        lo, hi = self.frozen().ppf([0.05, 0.95])
        return float(lo), float(hi)

    def median(self) -> float:
        return float(self.frozen().median())


class LogNormal(_Spec):
    """Positive quantity whose 5% and 95% quantiles are ``low`` and ``high``."""

    dist: Literal["lognormal"]
    low: float = Field(gt=0)
    high: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self):
        if not self.high > self.low:
            raise ValueError(f"high ({self.high}) must be greater than low ({self.low})")
        return self

    @property
    def mu(self) -> float:
        return float((np.log(self.low) + np.log(self.high)) / 2)

    @property
    def sigma(self) -> float:
        return float((np.log(self.high) - np.log(self.low)) / (2 * Z95))

    def frozen(self):
        return stats.lognorm(s=self.sigma, scale=np.exp(self.mu))


class Beta(_Spec):
    """Share or probability in (0, 1), by its 90% interval (``low``, ``high``) or by ``mean`` and
    ``concentration`` (alpha + beta, the 'prior sample size')."""

    dist: Literal["beta"]
    low: float | None = Field(default=None, gt=0, lt=1)
    high: float | None = Field(default=None, gt=0, lt=1)
    mean: float | None = Field(default=None, gt=0, lt=1)
    concentration: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_form(self):
        by_interval = self.low is not None or self.high is not None
        by_moments = self.mean is not None or self.concentration is not None
        if by_interval == by_moments:
            raise ValueError("give either low and high (90% interval) or mean and concentration")
        if by_interval and (self.low is None or self.high is None or not self.high > self.low):
            raise ValueError("low and high must both be given, with high > low")
        if by_moments and (self.mean is None or self.concentration is None):
            raise ValueError("mean and concentration must both be given")
        return self

    @cached_property
    def alpha_beta(self) -> tuple[float, float]:
        if self.mean is not None:
            return self.mean * self.concentration, (1 - self.mean) * self.concentration
        return _beta_from_interval(self.low, self.high)

    def frozen(self):
        a, b = self.alpha_beta
        return stats.beta(a, b)


class Uniform(_Spec):
    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self):
        if not self.high > self.low:
            raise ValueError(f"high ({self.high}) must be greater than low ({self.low})")
        return self

    def frozen(self):
        return stats.uniform(loc=self.low, scale=self.high - self.low)


class Normal(_Spec):
    dist: Literal["normal"]
    mean: float
    sd: float = Field(gt=0)

    def frozen(self):
        return stats.norm(loc=self.mean, scale=self.sd)


class _PointMass:
    """The frozen form of :class:`Fixed`: every quantile is the value."""

    def __init__(self, value: float):
        self.value = float(value)

    def ppf(self, u):
        return np.full(np.shape(u), self.value, dtype="float64")

    def median(self) -> float:
        return self.value


class Fixed(_Spec):
    """A quantity held at one value, without uncertainty: what a sweep (``models.sweep``) sets a
    lever to at each grid point; in a config, for a lever the analyst treats as known."""

    dist: Literal["fixed"]
    value: float

    def frozen(self):
        return _PointMass(self.value)


Distribution = Annotated[LogNormal | Beta | Uniform | Normal | Fixed, Field(discriminator="dist")]
DISTRIBUTION_NAMES = ("lognormal", "beta", "uniform", "normal", "fixed")


def _beta_from_interval(low: float, high: float) -> tuple[float, float]:
    """Beta(a, b) whose 5% and 95% quantiles are ``low`` and ``high`` (solved on log a, log b)."""

    def misfit(log_ab):
        a, b = np.exp(log_ab)
        q = stats.beta.ppf([0.05, 0.95], a, b)
        return [np.log(q[0] / low), np.log(q[1] / high)]

    mid = (low + high) / 2
    # Start from the moment match of a distribution with sd ~ interval / 3.3.
    var = ((high - low) / (2 * Z95)) ** 2
    conc = max(mid * (1 - mid) / var - 1, 0.5)
    sol = optimize.root(misfit, np.log([mid * conc, (1 - mid) * conc]), method="hybr")
    a, b = np.exp(sol.x)
    q = stats.beta.ppf([0.05, 0.95], a, b)
    if not (sol.success and np.allclose(q, [low, high], rtol=1e-3)):
        raise ValueError(f"no beta distribution has 90% interval [{low}, {high}]")
    return float(a), float(b)
