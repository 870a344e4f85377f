"""The Monte Carlo scenario engine: from each posterior draw, casualties and displacement day by day.

The process (this description is the specification; ``tests/support/naive_reference.py`` implements it
independently, as a plain loop). For every posterior draw ``i`` (a row of a :class:`NowcastState`),
every scenario, every region ``r`` and forecast days ``h = 1..H`` after the origin:

1. **Levers**, once per draw: each distribution in the scenario's :class:`Assumptions` (regime
   multipliers, transition hazards, event hazards and multipliers, region multipliers, trend
   half-life, return rate) is sampled by its inverse CDF at a uniform from the stream
   ``lever/<path>`` (:mod:`models.simulation.levers`), so scenarios sharing a lever name get
   comonotone, draw-by-draw comparable values. Region multipliers ``g_int[r]``, ``g_disp[r]``
   (``region_multipliers``) are 1 where not given.
2. **Events**, once per draw: an event happens at most once, on day
   ``T = max(1, ceil(log(1-u) / log(1-hazard)))`` (first success of daily Bernoulli trials;
   ``u`` from stream ``event/<id>``). From day ``T`` on, intensity in the event's regions
   (``regions``; default all) is multiplied by the event's multiplier (below 1: a pause, a side
   withdrawing); other regions are untouched.
3. **Regime**, shared by all regions (the conflict-wide phase; local differences are the region
   multipliers and region-scoped events), each day: from regime ``a`` (day 0: ``initial_regime``),
   with daily hazards ``h_ab``, the chain leaves with probability ``1 - exp(-sum_b h_ab)``, to
   ``b`` with probability proportional to ``h_ab``: one uniform ``u`` (stream ``regime``) picks
   the first ``b`` (in :data:`REGIMES` order) with ``u < leave * cumsum(h_a)_b / sum(h_a)``;
   ``u >= leave`` stays. Then the events with ``T == h`` act: the regime becomes at least their
   largest ``moves_to``, then at most their smallest ``lowers_to`` (a cap wins over a rise on the
   same day). Later days' transitions may move it again.
4. **Intensity** (log deaths/day): ``log_lambda_h = (log_intensity - ar_deviation)
   + trend * sum_{j=1..h} 0.5**(j / half_life) + eps_h + log(m_int[regime_h] / m_int[initial])
   + log(g_int[r]) + sum of log multipliers of events with T <= h acting in r``, with the
   nowcast's AR(1) deviation continued: ``eps_0 = ar_deviation``,
   ``eps_h = persistence * eps_{h-1} + innovation_sd * z_h``.
   Multipliers are relative to the initial regime: "prolonged at current intensity" means ~1.
5. **Deaths**: civilians ~ NegBin(mean ``lambda * civilian_share``, size ``dispersion``),
   combatants ~ NegBin(mean ``lambda * (1 - civilian_share)``, same size), independent.
6. **Displacement**, with ``P`` = round(population_at_risk) and ``D`` (currently displaced,
   starting at round(displaced_at_origin) clipped to [0, P]) as at the start of the day, and
   ``m = m_disp[regime_h] * g_disp[r]``: new ~ Binomial(P - D, 1 - exp(-(displacement_per_death
   * m * deaths_h / P + flight_hazard * 0.5**(h / half_life) * m))) with ``deaths_h`` that day's
   deaths of all actors in the region: flight caused by the day's deaths plus flight of its own
   (the front moving, fear, evacuation orders), both scaled by the same multiplier, which keeps
   the two correlated across regimes. The flight of its own fades with the trend's half-life:
   the wave of the offensive's first days passes (flight from later violence comes through the
   deaths). Of them, cross ~ Binomial(new, refugee_share) cross an international border (and
   stay counted as displaced). returns ~ Binomial(D, min(1, daily_return_rate * m_ret[regime_h]));
   then ``D += new - returns``.
7. **Targets** (:data:`models.vocabulary.TARGETS`): cum_deaths = deaths_to_origin (both
   categories) + deaths since the origin; cum_civilian_deaths likewise for civilians; displaced =
   D; cum_displaced = D at the origin + all new displacement since (movements: a person displaced
   twice counts twice); cum_refugees = B + all crossings since, ``B`` = round(refugees_at_origin)
   clipped to [0, D at the origin]. Region ``"all"`` is the sum over regions.

Random numbers: streams named as above, keyed by chunk (``CHUNK_DRAWS`` draws, fixed, so numbers do
not depend on memory settings) and day; normals ``innovation/<region>``, gamma mixing of the
negative binomials ``mixing/<region>/<category>`` (its count depends only on the draw's dispersion,
the same in every scenario), and paired Poisson and binomial samplers (see :mod:`models.simulation.rng`)
``deaths/<region>/<category>``, ``displacement/<region>``, ``refugees/<region>``,
``returns/<region>``: a draw's numbers never depend on other draws' parameters, so two scenarios
that differ in one lever differ only where that lever acts (a region-scoped event leaves the
other regions' numbers unchanged), and more draws extend a run rather than reshuffle it.
Scenarios share posterior draws: draw ``i`` uses state row ``posterior_draw[i]`` in every scenario.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import xarray as xr

from models.simulation import rng as mcrng
from models.simulation.levers import build_levers, lever_variable, open_uniforms, sample_levers
from models.state import NowcastState
from models.vocabulary import ALL, CATEGORIES, MIXTURE, TARGETS
from scenarios.levers import REGIMES, Assumptions

CHUNK_DRAWS = 10_000
"""Draws per chunk. Random streams are keyed by chunk index, so this constant is part of the
definition of the random numbers: changing it changes every result (never a memory setting)."""

BLOCK_ELEMENTS = 1 << 17
"""Largest working array of the day loop (regions x scenarios x draws of a block). Purely a speed
setting, results do not depend on it (tested). Larger blocks spread numpy's per-call overhead,
smaller ones stay in cache; measured on 2 regions x 4 scenarios, a whole 10,000-draw chunk in one
block was fastest (1 MB arrays: 890 ns/path-day CPU, vs 1,070 at 256 kB and 1,670 at 64 kB)."""

_LN2 = np.log(2.0)


def posterior_index(n_posterior: int, draws: int) -> np.ndarray:
    """Which posterior draw each Monte Carlo draw uses: evenly spaced rows when thinning (so every
    chain is represented), ``i mod n`` when there are more Monte Carlo draws (each row used
    equally often, no resampling noise)."""
    i = np.arange(draws)
    return i * n_posterior // draws if draws <= n_posterior else i % n_posterior


def _check_state(state: NowcastState) -> None:
    """The hand-over must describe a possible state: NaN or negative counts from a nowcast bug
    would otherwise flow silently into every forecast."""
    state.validate()
    problems = [name for name, ok in (
        ("population_at_risk >= 1", np.all(np.round(state.population_at_risk) >= 1)),
        ("dispersion > 0", np.all(state.dispersion > 0)),
        ("0 <= civilian_share <= 1", np.all((state.civilian_share >= 0) & (state.civilian_share <= 1))),
        ("innovation_sd >= 0", np.all(state.innovation_sd >= 0)),
        ("displacement_per_death >= 0", np.all(state.displacement_per_death >= 0)),
        ("displaced_at_origin >= 0", np.all(state.displaced_at_origin >= 0)),
        ("deaths_to_origin >= 0", np.all(state.deaths_to_origin >= 0)),
        ("flight_hazard >= 0", np.all(state.flight_hazard >= 0)),
        ("0 <= refugee_share <= 1", np.all((state.refugee_share >= 0) & (state.refugee_share <= 1))),
        ("refugees_at_origin >= 0", np.all(state.refugees_at_origin >= 0)),
    ) if not ok]
    if problems:
        raise ValueError("NowcastState out of range: " + "; ".join(problems) + " fails for some draws")


class _Plan:
    """Everything about a run that does not depend on the chunk."""

    def __init__(self, state: NowcastState, scenarios: Mapping[str, Assumptions],
                 horizon_days: int, seed: int, draws: int | None,
                 weights: Mapping[str, float] | None):
        _check_state(state)
        if not scenarios:
            raise ValueError("simulate_scenarios: no scenarios given")
        if MIXTURE in scenarios:
            raise ValueError(f"'{MIXTURE}' is reserved for the weighted mixture; rename that scenario")
        if horizon_days < 1:
            raise ValueError(f"horizon_days must be >= 1, got {horizon_days}")
        self.state, self.seed, self.horizon = state, int(seed), int(horizon_days)
        self.names = list(scenarios)
        self.assumptions = [scenarios[s] for s in self.names]
        self.n_draws = state.n_draws if draws is None else int(draws)
        if self.n_draws < 1:
            raise ValueError(f"draws must be >= 1, got {self.n_draws}")
        self.posterior_draw = posterior_index(state.n_draws, self.n_draws)
        self.regions = tuple(state.regions)
        self.initial = np.array([REGIMES.index(a.initial_regime) for a in self.assumptions])

        self.levers = build_levers(self.assumptions)
        self.events: list[str] = []
        for a in self.assumptions:
            self.events += [e for e in a.events if e not in self.events]
        S, E, A = len(self.names), len(self.events), len(REGIMES)
        # Per (scenario, event): moves_to / lowers_to as indices into REGIMES (-1 / A for none or
        # event absent) and the regions it acts in, (R, S, E).
        self.moves_to = np.full((S, E), -1, dtype=np.int64)
        self.lowers_to = np.full((S, E), A, dtype=np.int64)
        self.event_regions = np.ones((len(self.regions), S, E), dtype=bool)
        problems = []
        for s, a in enumerate(self.assumptions):
            for e, eid in enumerate(self.events):
                ev = a.events.get(eid)
                if ev is not None and ev.moves_to is not None:
                    self.moves_to[s, e] = REGIMES.index(ev.moves_to)
                if ev is not None and ev.lowers_to is not None:
                    self.lowers_to[s, e] = REGIMES.index(ev.lowers_to)
                if ev is not None and ev.regions is not None:
                    self.event_regions[:, s, e] = [r in ev.regions for r in self.regions]
                    problems += [f"scenario '{self.names[s]}', event '{eid}': unknown region "
                                 f"'{r}'" for r in ev.regions if r not in self.regions]
            problems += [f"scenario '{self.names[s]}', region_multipliers: unknown region '{r}'"
                         for r in a.region_multipliers if r not in self.regions]
        if problems:
            raise ValueError("; ".join(problems) + f" (the state's regions: {', '.join(self.regions)})")

        self.weights = None
        if weights is not None:
            unknown = [k for k in weights if k not in scenarios]
            if unknown:
                raise ValueError(f"scenario weights name unknown scenarios {unknown}; "
                                 f"known: {self.names}")
            w = np.array([float(weights.get(s, 0.0)) for s in self.names])
            if np.any(w < 0) or not np.all(np.isfinite(w)) or not w.sum() > 0:
                raise ValueError(f"scenario weights must be finite, >= 0 and not all 0: {dict(weights)}")
            self.weights = w
        self.n_out = len(self.names) + (self.weights is not None)

    @property
    def n_chunks(self) -> int:
        return -(-self.n_draws // CHUNK_DRAWS)

    def chunk_bounds(self, c: int) -> tuple[int, int]:
        return c * CHUNK_DRAWS, min((c + 1) * CHUNK_DRAWS, self.n_draws)


@dataclass
class _ChunkTables:
    """Per-chunk, per-draw quantities derived from levers (shapes: R regions, S scenarios, A
    regimes, E events, n draws)."""

    log_intensity_rel: np.ndarray  # (S, A, n) log(m_int[a] / m_int[initial])
    displacement_mult: np.ndarray  # (S, A, n)
    return_prob: np.ndarray  # (S, A, n) min(1, rate * m_ret[a])
    thresholds: np.ndarray  # (S, n, A, A) cumulative move thresholds from a to b
    event_day: np.ndarray  # (S, E, n) float, inf = not within the horizon / absent
    event_log_mult: np.ndarray  # (R, S, E, n) 0 where absent or not acting in the region
    decay: np.ndarray  # (S, n) daily factor of the trend: 0.5 ** (1 / half_life)
    region_log_int: np.ndarray | None  # (R, S, n) log g_int[r]; None: no region multipliers
    region_disp: np.ndarray | None  # (R, S, n) g_disp[r]; None: no region multipliers


def _tables(plan: _Plan, c: int, n: int, lev: dict[str, np.ndarray]) -> _ChunkTables:
    S, A, E = len(plan.names), len(REGIMES), len(plan.events)
    m_int = np.stack([lev[f"regimes/{r}/intensity_multiplier"] for r in REGIMES], axis=1)
    m_disp = np.stack([lev[f"regimes/{r}/displacement_multiplier"] for r in REGIMES], axis=1)
    m_ret = np.stack([lev[f"regimes/{r}/return_multiplier"] for r in REGIMES], axis=1)
    log_m = np.log(m_int)
    log_rel = log_m - np.take_along_axis(log_m, plan.initial[:, None, None], axis=1)
    return_prob = np.minimum(1.0, lev["daily_return_rate"][:, None, :] * m_ret)

    hazard = np.zeros((S, n, A, A))
    for a, src in enumerate(REGIMES):
        for b, dst in enumerate(REGIMES):
            name = f"transitions/{src}/{dst}"
            if name in lev:
                hazard[:, :, a, b] = np.nan_to_num(lev[name].astype(float), nan=0.0)
    total = hazard.sum(axis=3, keepdims=True)
    leave = -np.expm1(-total)
    with np.errstate(invalid="ignore", divide="ignore"):
        thresholds = np.where(total > 0, leave * np.cumsum(hazard, axis=3) / total, 0.0)

    event_day = np.full((S, E, n), np.inf)
    event_log_mult = np.zeros((S, E, n))
    for e, eid in enumerate(plan.events):
        u = open_uniforms(mcrng.stream(plan.seed, f"event/{eid}", c), n)
        hz = lev.get(f"events/{eid}/daily_hazard")
        mult = lev.get(f"events/{eid}/intensity_multiplier")
        for s in range(S):
            if hz is None or np.isnan(hz[s, 0]):
                continue
            with np.errstate(divide="ignore"):  # hazard 0: log(1) = 0, the event never happens
                t = np.ceil(np.log1p(-u) / np.log1p(-np.minimum(hz[s], 1.0)))
            t = np.where(hz[s] >= 1, 1.0, np.maximum(t, 1.0))
            event_day[s, e] = np.where(t <= plan.horizon, t, np.inf)
            event_log_mult[s, e] = np.log(mult[s])
    event_log_mult = plan.event_regions[..., None] * event_log_mult[None]
    decay = np.exp(-_LN2 / lev["trend_half_life_days"])

    def per_region(field: str) -> np.ndarray | None:
        names = [f"region_multipliers/{r}/{field}" for r in plan.regions]
        if not any(name in lev for name in names):
            return None
        return np.stack([np.nan_to_num(lev[name], nan=1.0) if name in lev else np.ones((S, n))
                         for name in names])

    region_int = per_region("intensity_multiplier")
    return _ChunkTables(log_rel, m_disp, return_prob, thresholds, event_day, event_log_mult, decay,
                        None if region_int is None else np.log(region_int),
                        per_region("displacement_multiplier"))


def _blocks(n: int, per_draw: int) -> list[slice]:
    size = max(64, BLOCK_ELEMENTS // max(per_draw, 1))
    return [slice(lo, min(lo + size, n)) for lo in range(0, n, size)]


def _simulate_chunk(plan: _Plan, c: int, forecast: np.ndarray, regime_out: np.ndarray) -> dict:
    """Simulate chunk ``c`` for every scenario into ``forecast`` (H, T, R+1, >=S, n) and
    ``regime_out`` (H, >=S, n) (views whose last axis is this chunk's draws). Returns levers,
    event days and the mixture choice for the chunk."""
    lo, hi = plan.chunk_bounds(c)
    n, S, R, A = hi - lo, len(plan.names), len(plan.regions), len(REGIMES)
    st = plan.state.take(plan.posterior_draw[lo:hi])
    lev = sample_levers(plan.levers, plan.names, plan.seed, c, n)
    tab = _tables(plan, c, n, lev)

    # Per-draw constants, regions first so that (R, S, n) arrays broadcast against (R, 1, n).
    base_log = (st.log_intensity - st.ar_deviation).T[:, None, :]
    trend = st.trend.T[:, None, :]
    share_civ = st.civilian_share.T
    population = np.round(st.population_at_risk.T)[:, None, :]
    per_death = (st.displacement_per_death.T / np.round(st.population_at_risk.T))[:, None, :]
    flight = st.flight_hazard.T[:, None, :]
    if tab.region_log_int is not None:
        base_log = base_log + tab.region_log_int
    if tab.region_disp is not None:
        per_death, flight = per_death * tab.region_disp, flight * tab.region_disp
    refugee_share = st.refugee_share.T[:, None, :]
    has_refugees = bool(np.any(refugee_share > 0))  # else every crossing is 0: skip the draws
    persistence, innovation_sd, dispersion = st.persistence, st.innovation_sd, st.dispersion

    # State: (R, S, n) float64 counts (exact integers below 2**53), (S, n) regime and trend sums.
    displaced = np.broadcast_to(
        np.clip(np.round(st.displaced_at_origin.T), 0, np.round(st.population_at_risk.T))[:, None, :],
        (R, S, n)).copy()
    cum_displaced = displaced.copy()
    cum_deaths = np.broadcast_to(st.deaths_to_origin.sum(axis=2).T[:, None, :], (R, S, n)).copy()
    cum_civ = np.broadcast_to(st.deaths_to_origin[:, :, 0].T[:, None, :], (R, S, n)).copy()
    cum_refugees = np.clip(np.round(st.refugees_at_origin.T)[:, None, :], 0, displaced)
    states = (cum_deaths, cum_civ, displaced, cum_displaced, cum_refugees)  # order of TARGETS
    eps = st.ar_deviation.T.copy()
    regime = np.broadcast_to(plan.initial[:, None], (S, n)).copy()
    decay_pow = np.ones((S, n))
    trend_sum = np.zeros((S, n))
    event_log = np.zeros((R, S, n))
    has_events = len(plan.events) > 0
    moves, lowers = plan.moves_to[:, :, None], plan.lowers_to[:, :, None]
    has_moves, has_lowers = bool(np.any(plan.moves_to >= 0)), bool(np.any(plan.lowers_to < A))
    blocks = _blocks(n, R * S)
    # Flat lookups by regime: tables (S, A, n) at (s, regime, j), thresholds rows (S, n, A).
    table_row = np.arange(S)[:, None] * (A * n) + np.arange(n)[None, :]
    draw_row = np.arange(S)[:, None] * n + np.arange(n)[None, :]
    log_intensity_rel = tab.log_intensity_rel.ravel()
    displacement_mult = tab.displacement_mult.ravel()
    return_prob = tab.return_prob.ravel()
    thresholds = tab.thresholds.reshape(S * n * A, A)

    def named(prefix: str, suffix: str = "") -> list[str]:
        return [f"{prefix}/{r}{suffix}" for r in plan.regions]

    for h in range(1, plan.horizon + 1):
        keys = (c, h)
        u_regime = mcrng.stream(plan.seed, "regime", *keys).random(n)
        z = np.stack([mcrng.stream(plan.seed, nm, *keys).standard_normal(n)
                      for nm in named("innovation")])
        mixing = {cat: np.stack([mcrng.stream(plan.seed, nm, *keys).standard_gamma(dispersion)
                                 for nm in named("mixing", f"/{cat}")]) / dispersion
                  for cat in CATEGORIES}
        unif_deaths = {cat: mcrng.DrawUniforms(plan.seed, named("deaths", f"/{cat}"), keys, n)
                       for cat in CATEGORIES}
        unif_new = mcrng.DrawUniforms(plan.seed, named("displacement"), keys, n)
        unif_ret = mcrng.DrawUniforms(plan.seed, named("returns"), keys, n)
        unif_ref = mcrng.DrawUniforms(plan.seed, named("refugees"), keys, n) if has_refugees else None
        eps *= persistence
        eps += innovation_sd * z
        decay_pow *= tab.decay
        trend_sum += decay_pow

        for sl in blocks:
            # Regime: Markov step, then events of the day: up to moves_to, down to lowers_to.
            reg = regime[:, sl]
            thr = thresholds[draw_row[:, sl] * A + reg]  # (S, b, A): move thresholds from reg
            n_below = (u_regime[sl][None, :, None] >= thr).sum(axis=2)
            reg = np.where(n_below < A, n_below, reg)
            if has_events:
                today = tab.event_day[:, :, sl] == h
                if has_moves:
                    reg = np.maximum(reg, np.where(today, moves, -1).max(axis=1))
                if has_lowers:
                    reg = np.minimum(reg, np.where(today, lowers, A).min(axis=1))
                event_log[:, :, sl] += (today * tab.event_log_mult[..., sl]).sum(axis=2)
            regime[:, sl] = reg
            regime_out[h - 1, :S, sl] = reg
            at_regime = table_row[:, sl] + reg * n  # flat index of (s, regime, draw) in tables

            log_rel = log_intensity_rel.take(at_regime)
            log_lambda = (base_log[..., sl] + trend[..., sl] * trend_sum[None, :, sl]
                          + eps[:, None, sl] + (log_rel[None] + event_log[:, :, sl]))
            lam = np.exp(log_lambda)
            civ = mcrng.poisson(lam * (share_civ[:, sl] * mixing["civilian"][:, sl])[:, None],
                                unif_deaths["civilian"].block(sl, S))
            comb = mcrng.poisson(lam * ((1 - share_civ[:, sl]) * mixing["combatant"][:, sl])[:, None],
                                 unif_deaths["combatant"].block(sl, S))
            deaths = civ + comb

            disp_mult = displacement_mult.take(at_regime)[None]
            # own flight fades with the trend's half-life (the front's move, the first days' fear)
            own = flight[..., sl] * decay_pow[None, :, sl]
            p_new = -np.expm1(-(per_death[..., sl] * disp_mult * deaths + own * disp_mult))
            d = displaced[:, :, sl]
            new = mcrng.binomial(population[..., sl] - d, p_new, unif_new.block(sl, S))
            if has_refugees:
                cum_refugees[:, :, sl] += mcrng.binomial(new, refugee_share[..., sl],
                                                         unif_ref.block(sl, S))
            p_ret = return_prob.take(at_regime)
            returns = mcrng.binomial(d, p_ret[None], unif_ret.block(sl, S))
            d += new - returns
            cum_displaced[:, :, sl] += new
            cum_deaths[:, :, sl] += deaths
            cum_civ[:, :, sl] += civ
            for t, x in enumerate(states):
                xs = x[:, :, sl]
                forecast[h - 1, t, :R, :S, sl] = xs
                forecast[h - 1, t, R, :S, sl] = xs.sum(axis=0)

    event_day = tab.event_day.copy()
    for s, a in enumerate(plan.assumptions):
        for e, eid in enumerate(plan.events):
            if eid not in a.events:
                event_day[s, e] = np.nan
    result = {"levers": lev, "event_day": event_day, "mixture_component": None}
    if plan.weights is not None:
        u = mcrng.stream(plan.seed, MIXTURE, c).random(n)
        cum = np.cumsum(plan.weights)
        comp = np.minimum(np.searchsorted(cum / cum[-1], u, side="right"), S - 1)
        j = np.arange(n)
        forecast[:, :, :, S] = forecast[:, :, :, comp, j]
        regime_out[:, S] = regime_out[:, comp, j]
        result["mixture_component"] = comp
    return result


def _levers_and_events(plan: _Plan, res: dict, n: int) -> tuple[dict, np.ndarray]:
    """Lever values (scenario[+mixture], draw) and event days (scenario[+mixture], draw, event)."""
    S = len(plan.names)
    comp, j = res["mixture_component"], np.arange(n)
    levers = {}
    for name, vals in res["levers"].items():
        out = np.full((plan.n_out, n), np.nan, dtype=np.float32)
        out[:S] = vals
        if comp is not None:
            out[S] = vals[comp, j]
        levers[name] = out
    ev = np.full((plan.n_out, n, len(plan.events)), np.nan, dtype=np.float32)
    ev[:S] = res["event_day"].transpose(0, 2, 1)
    if comp is not None:
        ev[S] = ev[comp, j]
    return levers, ev


def _at_origin(plan: _Plan, draw: np.ndarray) -> np.ndarray:
    """(draw, region + all) deaths of all actors to the origin, float32 people."""
    deaths = plan.state.deaths_to_origin[plan.posterior_draw[draw]].sum(axis=2)
    return np.concatenate([deaths, deaths.sum(axis=1, keepdims=True)], axis=1).astype(np.float32)


def _dataset(plan: _Plan, forecast: np.ndarray, regime: np.ndarray, levers: dict,
             event_day: np.ndarray, component: np.ndarray | None, draw: np.ndarray) -> xr.Dataset:
    scen = plan.names + ([MIXTURE] if plan.weights is not None else [])
    coords = {"scenario": scen, "draw": draw, "day": np.arange(1, plan.horizon + 1),
              "target": list(TARGETS), "region": [*plan.regions, ALL], "event": plan.events}
    data = {
        "forecast": (("scenario", "draw", "day", "target", "region"),
                     forecast.transpose(3, 4, 0, 1, 2),
                     {"units": "people", "description": "cumulative deaths, cumulative civilian "
                      "deaths, currently displaced, cumulative displacement movements, cumulative "
                      "border crossings (models.vocabulary.TARGETS)"}),
        "regime": (("scenario", "draw", "day"), regime.transpose(1, 2, 0),
                   {"regimes": list(REGIMES), "description": "index into attrs['regimes']"}),
        "event_day": (("scenario", "draw", "event"), event_day,
                      {"units": "days after origin", "description": "inf: not within the "
                       "horizon; NaN: the scenario has no such event"}),
        "posterior_draw": (("draw",), plan.posterior_draw[draw],
                           {"description": "row of the NowcastState used by this draw"}),
        "cum_deaths_at_origin": (("draw", "region"), _at_origin(plan, draw),
                                 {"units": "people", "description": "deaths of all actors from "
                                  "the episode start to the origin (day 0 of cum_deaths)"}),
    }
    for name, vals in levers.items():
        data[lever_variable(name)] = (("scenario", "draw"), vals, {"lever": name})
    if component is not None:
        data["mixture_component"] = (("draw",), component.astype(np.int8),
                                     {"description": "index into scenario of the component drawn"})
    attrs = {"seed": plan.seed, "horizon_days": plan.horizon, "chunk_draws": CHUNK_DRAWS,
             "draws": plan.n_draws, "regimes": list(REGIMES), "engine": "models.simulation.engine"}
    if plan.weights is not None:
        attrs["scenario_weights"] = json.dumps(dict(zip(plan.names, plan.weights.tolist(),
                                                        strict=True)))
    return xr.Dataset(data, coords=coords, attrs=attrs)


def iter_scenario_chunks(state: NowcastState, scenarios: Mapping[str, Assumptions],
                         horizon_days: int, seed: int, draws: int | None = None,
                         weights: Mapping[str, float] | None = None) -> Iterator[xr.Dataset]:
    """Like :func:`simulate_scenarios`, one chunk of :data:`CHUNK_DRAWS` draws at a time (``draw``
    coordinates are global), for reductions that must not hold every draw in memory."""
    plan = _Plan(state, scenarios, horizon_days, seed, draws, weights)
    R = len(plan.regions)
    for c in range(plan.n_chunks):
        lo, hi = plan.chunk_bounds(c)
        forecast = np.empty((plan.horizon, len(TARGETS), R + 1, plan.n_out, hi - lo), np.float32)
        regime = np.empty((plan.horizon, plan.n_out, hi - lo), np.int8)
        res = _simulate_chunk(plan, c, forecast, regime)
        levers, ev = _levers_and_events(plan, res, hi - lo)
        chunk = _dataset(plan, forecast, regime, levers, ev, res["mixture_component"],
                         np.arange(lo, hi))
        # Hold no reference while the next chunk is built, so a consumer that drops each chunk
        # has one in memory at a time.
        del forecast, regime, res, levers, ev
        yield chunk
        del chunk


def simulate_scenarios(state: NowcastState, scenarios: Mapping[str, Assumptions],
                       horizon_days: int, seed: int, draws: int | None = None,
                       weights: Mapping[str, float] | None = None,
                       on_chunk: Callable[[int], None] | None = None) -> xr.Dataset:
    """Simulate every scenario from the same posterior draws with common random numbers.

    ``scenarios``: scenario id -> its assumptions; ``horizon_days``: days after the origin;
    ``draws``: Monte Carlo draws (default: one per posterior draw; see :func:`posterior_index`);
    ``weights``: scenario id -> weight (need not sum to 1, missing ids weigh 0) for the
    ``mixture`` scenario, in which each draw copies the path of one scenario chosen with
    probability weight / sum(weights) (stream ``mixture``).

    Returns a Dataset with ``forecast`` (scenario, draw, day, target, region) float32 people,
    ``regime`` (scenario, draw, day) int8, ``event_day`` (scenario, draw, event),
    ``lever__<path>`` (scenario, draw), ``posterior_draw`` (draw) and, with weights,
    ``mixture_component`` (draw). Memory: 4 bytes x scenarios x draws x days x 5 targets x
    (regions + 1) for ``forecast``; use :func:`iter_scenario_chunks` to stream instead.
    ``on_chunk(n)`` is called after each chunk of ``n`` draws (progress display).
    """
    plan = _Plan(state, scenarios, horizon_days, seed, draws, weights)
    R, N = len(plan.regions), plan.n_draws
    forecast = np.empty((plan.horizon, len(TARGETS), R + 1, plan.n_out, N), np.float32)
    regime = np.empty((plan.horizon, plan.n_out, N), np.int8)
    levers: dict[str, np.ndarray] = {}
    event_day = np.empty((plan.n_out, N, len(plan.events)), np.float32)
    component = np.empty(N, np.int64) if plan.weights is not None else None
    for c in range(plan.n_chunks):
        lo, hi = plan.chunk_bounds(c)
        res = _simulate_chunk(plan, c, forecast[..., lo:hi], regime[..., lo:hi])
        lev, ev = _levers_and_events(plan, res, hi - lo)
        for name, vals in lev.items():
            levers.setdefault(name, np.empty((plan.n_out, N), np.float32))[:, lo:hi] = vals
        event_day[:, lo:hi] = ev
        if component is not None:
            component[lo:hi] = res["mixture_component"]
        if on_chunk is not None:
            on_chunk(hi - lo)
    return _dataset(plan, forecast, regime, levers, event_day, component, np.arange(N))
