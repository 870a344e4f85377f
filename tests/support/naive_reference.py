"""A plain, per-draw, per-day reference implementation of the scenario process.

Written from the process description in :mod:`models.simulation.engine` (its module docstring), not from the
vectorised code: one Python loop over draws, one over days, one over regions, scalar numpy calls for
every random variate. It draws its own random numbers (one ``np.random.Generator``), so it agrees
with the engine in distribution, not draw by draw; the tests compare the two with two-sample tests.

It is also the "naive" baseline of the speed target (``benchmarks/mc.py``): it is written the way
one would write the model without thinking about speed, but without deliberate waste (frozen scipy
distributions are built once per scenario, not once per draw).
"""

from __future__ import annotations

import math

import numpy as np

from models.state import NowcastState
from models.vocabulary import TARGETS
from scenarios.levers import REGIMES, Assumptions


def sample_levers(assumptions: Assumptions, rng: np.random.Generator, frozen: dict) -> dict:
    """One draw of every lever, by the inverse CDF of a uniform (scalar scipy calls)."""

    def draw(key, spec):
        if key not in frozen:
            frozen[key] = spec.frozen()
        return float(frozen[key].ppf(rng.random()))

    a = assumptions
    levers = {"half_life": draw("half_life", a.trend_half_life_days),
              "return_rate": draw("return_rate", a.daily_return_rate)}
    for name in REGIMES:
        reg = a.regimes[name]
        levers[("intensity", name)] = draw(("intensity", name), reg.intensity_multiplier)
        levers[("displacement", name)] = draw(("displacement", name), reg.displacement_multiplier)
        levers[("return", name)] = draw(("return", name), reg.return_multiplier)
    for src, tos in a.transitions.items():
        for dst, tr in tos.items():
            levers[("hazard", src, dst)] = draw(("hazard", src, dst), tr.daily_hazard)
    for eid, ev in a.events.items():
        levers[("event_hazard", eid)] = draw(("event_hazard", eid), ev.daily_hazard)
        levers[("event_multiplier", eid)] = draw(("event_multiplier", eid), ev.intensity_multiplier)
    for region, rm in a.region_multipliers.items():
        if rm.intensity_multiplier is not None:
            levers[("region_intensity", region)] = draw(("region_intensity", region),
                                                        rm.intensity_multiplier)
        if rm.displacement_multiplier is not None:
            levers[("region_displacement", region)] = draw(("region_displacement", region),
                                                           rm.displacement_multiplier)
    return levers


def simulate_naive(state: NowcastState, assumptions: Assumptions, horizon_days: int,
                   rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Simulate every draw of ``state`` under one scenario.

    Returns ``forecast`` (draw, day, target, region) with regions as in ``state.regions`` (no
    "all"), ``regime`` (draw, day) as indices into REGIMES, and ``event_day`` (draw, event) with
    ``inf`` for events that do not happen within the horizon.
    """
    n, n_regions, horizon = state.n_draws, len(state.regions), horizon_days
    regions = list(state.regions)
    forecast = np.zeros((n, horizon, len(TARGETS), n_regions))
    regime_path = np.zeros((n, horizon), dtype=np.int8)
    event_ids = list(assumptions.events)
    event_day = np.full((n, len(event_ids)), np.inf)
    frozen: dict = {}
    initial = REGIMES.index(assumptions.initial_regime)

    for i in range(n):
        lev = sample_levers(assumptions, rng, frozen)
        # Event days: first success of a daily Bernoulli(hazard), by the geometric inverse CDF.
        days = {}
        for eid in event_ids:
            u = rng.random()
            hz = lev[("event_hazard", eid)]
            if hz >= 1:
                t = 1
            elif hz <= 0:
                t = math.inf
            else:
                t = max(1, math.ceil(math.log(1 - u) / math.log(1 - hz)))
            days[eid] = t
            if t <= horizon:
                event_day[i, event_ids.index(eid)] = t
        decay = 0.5 ** (1 / lev["half_life"])
        trend_sum, decay_pow = 0.0, 1.0
        regime = initial
        eps = [float(state.ar_deviation[i, r]) for r in range(n_regions)]
        population = [float(np.round(state.population_at_risk[i, r])) for r in range(n_regions)]
        displaced = [min(max(float(np.round(state.displaced_at_origin[i, r])), 0.0), population[r])
                     for r in range(n_regions)]
        displaced_origin = list(displaced)
        refugees = [min(max(float(np.round(state.refugees_at_origin[i, r])), 0.0), displaced[r])
                    for r in range(n_regions)]
        cum_new = [0.0] * n_regions
        g_int = [lev.get(("region_intensity", name), 1.0) for name in regions]
        g_disp = [lev.get(("region_displacement", name), 1.0) for name in regions]
        cum_deaths = [float(state.deaths_to_origin[i, r].sum()) for r in range(n_regions)]
        cum_civ = [float(state.deaths_to_origin[i, r, 0]) for r in range(n_regions)]
        for h in range(1, horizon + 1):
            # 1. Markov step of the regime.
            u = rng.random()
            hazards = [lev.get(("hazard", REGIMES[regime], b), 0.0) for b in REGIMES]
            total = sum(hazards)
            leave = 1 - math.exp(-total)
            if u < leave:
                cum = 0.0
                for b, hz in enumerate(hazards):
                    cum += hz
                    if u < leave * cum / total:
                        regime = b
                        break
            # 2. Events on this day: the regime becomes at least the highest moves_to, then at
            # most the lowest lowers_to. Each event's multiplier acts in its regions from its day.
            log_event = [0.0] * n_regions
            floor = max((REGIMES.index(assumptions.events[eid].moves_to) for eid in event_ids
                         if days[eid] == h and assumptions.events[eid].moves_to), default=None)
            cap = min((REGIMES.index(assumptions.events[eid].lowers_to) for eid in event_ids
                       if days[eid] == h and assumptions.events[eid].lowers_to), default=None)
            if floor is not None:
                regime = max(regime, floor)
            if cap is not None:
                regime = min(regime, cap)
            for eid in event_ids:
                ev = assumptions.events[eid]
                if days[eid] <= h:
                    for r in range(n_regions):
                        if ev.regions is None or regions[r] in ev.regions:
                            log_event[r] += math.log(lev[("event_multiplier", eid)])
            regime_path[i, h - 1] = regime
            name = REGIMES[regime]
            # 3. The nowcast's trend fades with the half-life.
            decay_pow *= decay
            trend_sum += decay_pow
            log_regime = math.log(lev[("intensity", name)] / lev[("intensity", REGIMES[initial])])
            for r in range(n_regions):
                eps[r] = state.persistence[i] * eps[r] + state.innovation_sd[i] * rng.standard_normal()
                log_lambda = (state.log_intensity[i, r] - state.ar_deviation[i, r]
                              + state.trend[i, r] * trend_sum + eps[r] + log_regime
                              + math.log(g_int[r]) + log_event[r])
                lam = math.exp(log_lambda)
                k = state.dispersion[i]
                share = state.civilian_share[i, r]
                civ = rng.negative_binomial(k, k / (k + lam * share))
                comb = rng.negative_binomial(k, k / (k + lam * (1 - share)))
                deaths = civ + comb
                m = lev[("displacement", name)] * g_disp[r]
                p_new = 1 - math.exp(-(state.displacement_per_death[i, r] * m * deaths / population[r]
                                       + state.flight_hazard[i, r] * decay_pow * m))
                new = rng.binomial(int(population[r] - displaced[r]), p_new)
                refugees[r] += rng.binomial(new, state.refugee_share[i, r])
                p_ret = min(1.0, lev["return_rate"] * lev[("return", name)])
                returns = rng.binomial(int(displaced[r]), p_ret)
                displaced[r] += new - returns
                cum_new[r] += new
                cum_deaths[r] += deaths
                cum_civ[r] += civ
                forecast[i, h - 1, :, r] = (cum_deaths[r], cum_civ[r], displaced[r],
                                            displaced_origin[r] + cum_new[r], refugees[r])
    return {"forecast": forecast, "regime": regime_path, "event_day": event_day,
            "events": event_ids}
