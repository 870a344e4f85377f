"""The likelihood of new reports under a stored forecast, draw by draw (used by
:mod:`models.evaluation.update`).

The reporting model is the nowcast's (:mod:`models.inference.nowcast`), applied to the forecast's
simulated true counts instead of the nowcast's latent intensity:

* deaths (civilian, combatant, all actors): a report is a binomial thinning of the true count in
  its window and regions, ``reported | N ~ Binomial(N, share x subset share)``; exact values
  use the pmf, intervals ("dozens") the probability of the interval, lower bounds the upper tail;
* injured: ``NegBin(mean share x wounded_to_killed x N, size dispersion x days)``, ``N`` the
  deaths of all actors in the window (the nowcast's size for a window of equal days);
* displaced and refugees: ``log(reported) ~ Normal(log(share x true), 0.3)``, interval-censored
  like the nowcast's term (an exact figure: the density of its log).

True counts. The part of a window after the old origin comes from the forecast's cumulative
targets (differences of ``cum_deaths``, ``cum_civilian_deaths``, ``cum_displaced``,
``cum_refugees``; day 0 is the state at the origin). The part on or before the old origin comes
from the old nowcast's posterior draw that the forecast draw continues (``posterior_draw``):
deaths are the draw's deaths to the origin (the counts the forecast's totals start from) split
binomially over the days in proportion to the draw's intensity (the whole count when the window
covers every observed day); displacement is the draw's expected displacement over those days, as
in the nowcast (``P (exp(-H_before) - exp(-H_through))``, refugees x refugee share).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from models.inference.priors import DISPLACEMENT_REPORT_LOG_SD
from scenarios.evidence import Observation

DEATH_CATEGORIES = {"civilian_deaths": (0,), "combatant_deaths": (1,), "deaths": (0, 1),
                    "injured": (0, 1)}
"""Which death categories (civilian 0, combatant 1) a quantity counts."""


@dataclass
class RunDraws:
    """The old run's draws, aligned to its forecast draws (one row per forecast draw)."""

    regions: list[str]
    observed_days: int
    """Days of the old nowcast, from the episode start to the old origin, both included."""
    horizon: int
    intensity: np.ndarray          # (N, R, T) deaths/day of all actors
    civilian_share: np.ndarray     # (N, R)
    dispersion: np.ndarray         # (N,)
    origin_deaths: np.ndarray      # (N, R, 2) civilian, combatant deaths to the old origin
    cum_hazard: np.ndarray         # (N, R, T) displacement hazard by the end of each day
    population: np.ndarray         # (N, R)
    refugee_share: np.ndarray      # (N, R)
    displaced_at_origin: np.ndarray  # (N, R) the forecast's day-0 stock (rounded, clipped)
    refugees_at_origin: np.ndarray   # (N, R) the forecast's day-0 border crossings
    shares: dict[str, np.ndarray]  # reporting profile -> (N,)
    subsets: dict[str, np.ndarray]  # subset -> (N,)
    wounded_to_killed: np.ndarray | None  # (N,) or None when the old nowcast had no injured
    forecast: dict[str, np.ndarray]  # scenario -> (N, H, target, R) cumulative targets
    targets: list[str]


def window_parts(o: Observation, observed_days: int) -> tuple[range, tuple[int, int] | None]:
    """The observation's days on or before the old origin (day indices from the start) and its
    forecast days after it (``(h1, h2)``, 1 = the day after the origin), or None."""
    last_old = observed_days - 1
    pre = range(o.first_day, min(o.last_day, last_old) + 1)
    post = None
    if o.last_day > last_old:
        post = (max(o.first_day, observed_days) - last_old, o.last_day - last_old)
    return pre, post


def true_counts(d: RunDraws, o: Observation, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Scenario -> (N,) true count of the observation's quantity over its window and regions
    (for injured: the deaths of all actors the injured count scales)."""
    r_idx = [d.regions.index(r) for r in o.covered]
    pre_days, post = window_parts(o, d.observed_days)
    n = d.intensity.shape[0]
    pre = np.zeros(n)
    if o.quantity in DEATH_CATEGORIES:
        if len(pre_days):
            lam = d.intensity[:, r_idx, :]
            if len(pre_days) == d.observed_days:
                frac = np.ones(lam.shape[:2])
            else:
                frac = lam[:, :, pre_days.start:pre_days.stop].sum(-1) / lam.sum(-1)
            for c in DEATH_CATEGORIES[o.quantity]:
                counts = d.origin_deaths[:, r_idx, c].astype(np.int64)
                pre += rng.binomial(counts, np.clip(frac, 0.0, 1.0)).sum(-1)
    elif len(pre_days):
        h = d.cum_hazard[:, r_idx, :]
        before = h[:, :, pre_days.start - 1] if pre_days.start > 0 else 0.0
        through = h[:, :, pre_days.stop - 1]
        moved = d.population[:, r_idx] * (np.exp(-before) - np.exp(-through))
        if o.quantity == "refugees":
            moved = moved * d.refugee_share[:, r_idx]
        pre = moved.sum(-1)
    out = {}
    for scenario, fc in d.forecast.items():
        total = pre.copy()
        if post is not None:
            h1, h2 = post
            total += (_cumulative(d, fc, o.quantity, r_idx, h2)
                      - _cumulative(d, fc, o.quantity, r_idx, h1 - 1))
        out[scenario] = total
    return out


def _cumulative(d: RunDraws, fc: np.ndarray, quantity: str, r_idx: list[int], h: int):
    """(N,) the quantity's cumulative count in the regions at forecast day ``h`` (0: the origin),
    from the old origin's own starting point (so differences count the days in between)."""
    t = d.targets.index
    if quantity in DEATH_CATEGORIES:
        if h == 0:
            cats = DEATH_CATEGORIES[quantity]
            return d.origin_deaths[:, r_idx][:, :, list(cats)].sum((-1, -2))
        deaths = fc[:, h - 1, t("cum_deaths"), :][:, r_idx]
        civ = fc[:, h - 1, t("cum_civilian_deaths"), :][:, r_idx]
        value = {"civilian_deaths": civ, "combatant_deaths": deaths - civ}.get(quantity, deaths)
        return value.sum(-1)
    if h == 0:
        start = d.refugees_at_origin if quantity == "refugees" else d.displaced_at_origin
        return start[:, r_idx].sum(-1)
    target = "cum_refugees" if quantity == "refugees" else "cum_displaced"
    return fc[:, h - 1, t(target), :][:, r_idx].sum(-1)


def thinning(d: RunDraws, o: Observation) -> np.ndarray:
    share = d.shares[o.reporting]
    return share * d.subsets[o.subset] if o.subset else share


def log_likelihood(d: RunDraws, o: Observation, count: np.ndarray) -> np.ndarray:
    """(N,) log probability of the report given each draw's true count (see module docstring)."""
    q = thinning(d, o)
    lo, hi = o.low, o.high
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if o.quantity in ("displaced", "refugees"):
            return _log_lognormal_report(q * count, lo, hi)
        n = np.round(np.maximum(count, 0)).astype(np.int64)
        if o.quantity == "injured":
            if d.wounded_to_killed is None:
                raise ValueError("injured report without wounded_to_killed draws")
            days = o.last_day - o.first_day + 1
            size = d.dispersion * days
            mean = q * d.wounded_to_killed * n
            dist = stats.nbinom(size, size / (size + np.maximum(mean, 1e-300)))
        else:
            dist = stats.binom(n, q)
        return _log_interval(dist, lo, hi)


def _log1mexp(x):
    """log(1 - exp(x)) for x <= 0 (-inf at 0)."""
    x = np.minimum(x, 0.0)
    return np.where(x > -math.log(2), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def _log_interval(dist, lo: float, hi: float) -> np.ndarray:
    """log P(lo <= X <= hi) of a discrete frozen distribution, from the tail it lies in."""
    if lo == hi:
        return dist.logpmf(lo)
    upper_tail = dist.logsf(lo - 1)  # log P(X >= lo)
    if math.isinf(hi):
        return upper_tail
    lower_tail = dist.logcdf(hi)     # log P(X <= hi)
    from_upper = upper_tail + _log1mexp(dist.logsf(hi) - upper_tail)
    from_lower = lower_tail + _log1mexp(dist.logcdf(lo - 1) - lower_tail)
    use_upper = lo > dist.mean()
    out = np.where(use_upper, from_upper, from_lower)
    return np.where(np.isfinite(upper_tail) & np.isfinite(lower_tail), out, -np.inf)


def _log_lognormal_report(expected: np.ndarray, lo: float, hi: float) -> np.ndarray:
    s = DISPLACEMENT_REPORT_LOG_SD
    loc = np.log(expected)
    log_lo, log_hi = math.log(max(lo, 0.5)), math.log(min(hi, 1e12))
    if math.isclose(log_lo, log_hi):
        out = stats.norm.logpdf(log_lo, loc, s)
    else:
        z_lo, z_hi = (log_lo - loc) / s, (log_hi - loc) / s
        upper = z_lo > 0  # the interval in the upper tail: subtract upper tails
        big = np.where(upper, special.log_ndtr(-z_lo), special.log_ndtr(z_hi))
        small = np.where(upper, special.log_ndtr(-z_hi), special.log_ndtr(z_lo))
        out = big + _log1mexp(small - big)
    return np.where(expected > 0, out, -np.inf)


def log_mean_exp(x: np.ndarray) -> float:
    """log of the mean of exp(x) (-inf when every term is -inf)."""
    top = np.max(x)
    if not np.isfinite(top):
        return -math.inf
    return float(top + np.log(np.mean(np.exp(x - top))))


def effective_draws(x: np.ndarray) -> float:
    """How many draws carry the average (Kish: (sum w)^2 / sum w^2 of w = exp(x))."""
    top = np.max(x)
    if not np.isfinite(top):
        return 0.0
    w = np.exp(x - top)
    return float(w.sum() ** 2 / (w**2).sum())
