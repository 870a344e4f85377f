"""Tests of the Monte Carlo engine (models/simulate.py) and its random streams (models/rng.py).

Statistical tests run at fixed seeds, so each either always passes or always fails; the false-alarm
rate stated with each is the probability, over seeds, that a correct engine would fail it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from scipy import stats
from support import example_state
from support.naive_reference import simulate_naive

import models.simulation.engine as sim
from models.simulation import rng as mcrng
from models.simulation.quantiles import daily_quantiles
from models.vocabulary import ALL, TARGETS
from scenarios.distributions import Beta, LogNormal, Normal, Uniform
from scenarios.levers import REGIMES
from scenarios.loader import load_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
SHIPPED = ("baseline", "deescalation", "displacement", "escalation")


def _assumptions(name):
    return load_config(CONFIGS / f"{name}.yaml").config.assumptions


@pytest.fixture(scope="module")
def shipped():
    return {name: _assumptions(name) for name in SHIPPED}


@pytest.fixture(scope="module")
def state():
    return example_state(200, seed=3)


@pytest.fixture(scope="module")
def run(state, shipped):
    """All shipped scenarios and a mixture, 300 draws (posterior rows reused), 60 days."""
    return sim.simulate_scenarios(state, shipped, horizon_days=60, seed=11, draws=300,
                                  weights={"baseline": 0.5, "escalation": 0.3, "deescalation": 0.2})


def _chi2_pvalue(observed, expected_prob):
    """Chi-square goodness of fit, cells with expected count < 5 pooled into their neighbour."""
    expected = expected_prob * observed.sum()
    obs, exp, acc_o, acc_e = [], [], 0.0, 0.0
    for o, e in zip(observed, expected, strict=True):
        acc_o, acc_e = acc_o + o, acc_e + e
        if acc_e >= 5:
            obs.append(acc_o)
            exp.append(acc_e)
            acc_o = acc_e = 0.0
    obs[-1] += acc_o
    exp[-1] += acc_e
    obs, exp = np.array(obs), np.array(exp)
    return stats.chi2.sf(((obs - exp) ** 2 / exp).sum(), len(obs) - 1)


# --------------------------------------------------------------------------- random streams


def test_streams_are_named_keyed_and_stable():
    a = mcrng.stream(1, "regime", 0, 5).random(4)
    assert np.array_equal(a, mcrng.stream(1, "regime", 0, 5).random(4))
    for other in (mcrng.stream(2, "regime", 0, 5), mcrng.stream(1, "regimes", 0, 5),
                  mcrng.stream(1, "regime", 0, 6), mcrng.stream(1, "regime", 0, 5, 0)):
        assert not np.array_equal(a, other.random(4))
    # A fixed number (blake2b-64 of the name): Python's salted hash() would differ between
    # processes, and any change of hash would silently change every stored result.
    assert mcrng.stable_hash("regime") == 0x384BFB993EE0D5BE


def test_counter_uniforms_open_interval_and_independent_of_batch():
    counters = np.arange(100_000, dtype=np.uint64)
    u = mcrng.counter_uniforms(np.uint64(12345), counters)
    assert u.min() > 0 and u.max() < 1
    # Each value depends only on its own counter.
    assert np.array_equal(u[[7, 99_999]], mcrng.counter_uniforms(np.uint64(12345), counters[[7, 99_999]]))
    # Uniform: KS at 1e-4 false-alarm rate.
    assert stats.kstest(u, "uniform").pvalue > 1e-4


# Each case: chi-square against the exact pmf at false-alarm rate 1e-4 (20 cases: < 0.2% in
# all). Means 10-30 matter most: there the rejection samplers' hat functions are tightest.
POISSON_MEANS = [0.0, 0.7, 4.0, 9.99, 10.0, 14.0, 21.0, 37.5, 2_500.0]
BINOMIAL_CASES = [(0, 0.3), (12, 0.3), (200, 0.02), (40, 0.5), (100, 0.12), (60, 0.35),
                  (3_000, 0.2), (2_000_000, 0.004), (400, 0.93), (30, 1.0), (25, 0.0)]


@pytest.mark.parametrize("mean", POISSON_MEANS)
def test_poisson_matches_exact_distribution(mean):
    block = mcrng.DrawUniforms(5, ["a", "b"], (int(mean * 100),), 50_000).block()
    x = mcrng.poisson(np.full(block.shape, mean), block).ravel()
    if mean == 0:
        assert np.all(x == 0)
        return
    ks = np.arange(x.max() + 2)
    observed = np.bincount(x.astype(int), minlength=ks.size)
    assert _chi2_pvalue(observed, stats.poisson.pmf(ks, mean)) > 1e-4


@pytest.mark.parametrize(("count", "prob"), BINOMIAL_CASES)
def test_binomial_matches_exact_distribution(count, prob):
    block = mcrng.DrawUniforms(6, ["a", "b"], (count,), 50_000).block()
    x = mcrng.binomial(np.full(block.shape, float(count)), np.full(block.shape, prob), block).ravel()
    assert x.min() >= 0 and x.max() <= count and np.all(x == np.round(x))
    if prob in (0.0, 1.0) or count == 0:
        assert np.all(x == count * prob)
        return
    lo = int(x.min())
    observed = np.bincount((x - lo).astype(int))
    ks = lo + np.arange(observed.size)
    pmf = stats.binom.pmf(ks, count, prob)
    pmf[0] += stats.binom.cdf(lo - 1, count, prob)
    pmf[-1] += stats.binom.sf(ks[-1], count, prob)
    assert _chi2_pvalue(observed, pmf) > 1e-4


def test_samplers_have_no_bias_where_rejection_is_used():
    """1.6M variates over a spread of parameters in the rejection samplers' range (Poisson means
    10-30, binomial n p 10-100): standardised residuals (x - mean) / sd must have mean 0 and
    variance 1. z-tests at |z| < 4.5 (false-alarm rate 7e-6 each, 4 tests) detect a bias of
    0.005 sd, far below what chi-square tests at one parameter value can see."""
    n = 200_000
    rng = np.random.default_rng(1)
    mean = rng.uniform(10, 30, (4, 2, n))
    block = mcrng.DrawUniforms(31, ["a", "b", "c", "d"], (0,), n).block(slice(None), 2)
    z_p = ((mcrng.poisson(mean, block) - mean) / np.sqrt(mean)).ravel()
    count = np.round(rng.uniform(200, 1000, (4, 2, n)))
    prob = rng.uniform(10, 100, (4, 2, n)) / count
    prob = np.where(rng.random(prob.shape) < 0.3, 1 - prob, prob)  # also the p > 0.5 branch
    sd = np.sqrt(count * prob * (1 - prob))
    z_b = ((mcrng.binomial(count, prob, block) - count * prob) / sd).ravel()
    for z in (z_p, z_b):
        assert abs(z.mean() * np.sqrt(z.size)) < 4.5
        # var of z**2 is about 2 for near-normal z: z-test on the mean of z**2.
        assert abs((np.mean(z**2) - 1) / np.sqrt(2 / z.size)) < 4.5


def test_samplers_are_paired_per_draw():
    """A draw's variate depends on its own parameters only: changing every other draw's
    parameters (which changes how many uniforms their rejection loops use) leaves it unchanged."""
    n = 4000
    rng = np.random.default_rng(0)
    mean = rng.lognormal(np.log(12), 1.0, (2, 3, n))
    count = np.round(rng.lognormal(np.log(5000), 2.0, (2, 3, n)))
    prob = rng.beta(0.5, 5, (2, 3, n))
    uniforms = mcrng.DrawUniforms(9, ["r1", "r2"], (0, 1), n)
    base_p = mcrng.poisson(mean, uniforms.block(slice(None), 3))
    base_b = mcrng.binomial(count, prob, uniforms.block(slice(None), 3))
    keep = rng.random((2, 3, n)) < 0.5
    mean2 = np.where(keep, mean, mean * rng.lognormal(0, 1, mean.shape))
    prob2 = np.where(keep, prob, rng.beta(0.5, 5, prob.shape))
    assert np.array_equal(mcrng.poisson(mean2, uniforms.block(slice(None), 3))[keep], base_p[keep])
    assert np.array_equal(mcrng.binomial(count, prob2, uniforms.block(slice(None), 3))[keep],
                          base_b[keep])
    # Scenarios (middle axis) share numbers: equal parameters give equal variates.
    same = mcrng.poisson(np.broadcast_to(mean[:, :1], mean.shape), uniforms.block(slice(None), 3))
    assert np.array_equal(same[:, 0], same[:, 2])
    # A block of draws gives the same values as the whole.
    part = mcrng.poisson(mean[..., 100:300], uniforms.block(slice(100, 300), 3))
    assert np.array_equal(part, base_p[..., 100:300])


# --------------------------------------------------------------------------- engine output


def test_dataset_layout(run, state, shipped):
    f = run["forecast"]
    assert f.dims == ("scenario", "draw", "day", "target", "region")
    assert f.dtype == np.float32
    assert list(run["scenario"].values) == [*SHIPPED, "mixture"]
    assert list(run["region"].values) == [*state.regions, ALL]
    assert list(run["target"].values) == list(TARGETS)
    assert list(run["day"].values) == list(range(1, 61))
    assert run["regime"].dtype == np.int8 and run["regime"].attrs["regimes"] == list(REGIMES)
    assert run["event_day"].dims == ("scenario", "draw", "event")
    assert "lever__regimes__escalated__intensity_multiplier" in run
    assert "lever__events__iran_hezbollah_reinforcement__daily_hazard" in run
    assert "lever__events__negotiated_pause__intensity_multiplier" in run
    assert run["mixture_component"].dims == ("draw",)
    assert run.attrs["seed"] == 11 and run.attrs["chunk_draws"] == sim.CHUNK_DRAWS
    # Baseline has no events: NaN; escalation has them: a day or inf (not within the horizon).
    ev = run["event_day"]
    assert ev.sel(scenario="baseline").isnull().all()
    assert ev.sel(scenario="escalation", event="negotiated_pause").isnull().all()
    esc = ev.sel(scenario="escalation", event=list(shipped["escalation"].events)).values
    assert np.all(np.isinf(esc) | ((esc >= 1) & (esc <= 60) & (esc == np.round(esc))))


def test_invariants(run, state):
    f = run["forecast"].values.astype(np.float64)  # (S, n, H, T, R+1)
    t = {name: i for i, name in enumerate(TARGETS)}
    assert np.all(np.isfinite(f)) and np.all(f >= 0)
    for target in ("cum_deaths", "cum_civilian_deaths", "cum_displaced", "cum_refugees"):
        assert np.all(np.diff(f[:, :, :, t[target]], axis=2) >= 0), target
    assert np.all(f[..., t["cum_civilian_deaths"], :] <= f[..., t["cum_deaths"], :])
    assert np.all(f[..., t["displaced"], :] <= f[..., t["cum_displaced"], :])
    # A refugee is displaced: crossings are a part of the movements, and they do happen.
    assert np.all(f[..., t["cum_refugees"], :] <= f[..., t["cum_displaced"], :])
    refugees = f[..., t["cum_refugees"], -1]
    assert np.all(refugees[:, :, -1] > refugees[:, :, 0])
    rows = run["posterior_draw"].values
    population = np.round(state.population_at_risk[rows])  # (n, R)
    assert np.all(f[..., t["displaced"], :-1] <= population[None, :, None, :])
    np.testing.assert_allclose(f[..., -1], f[..., :-1].sum(axis=-1), rtol=1e-6)
    # Day 1 starts from the nowcast's state at the origin.
    origin_deaths = state.deaths_to_origin[rows].sum(axis=2)
    assert np.all(f[:, :, 0, t["cum_deaths"], :-1] >= origin_deaths[None].astype(np.float32))
    assert run["regime"].min() >= 0 and run["regime"].max() < len(REGIMES)


def test_same_seed_same_draws_different_seed_different(state, shipped):
    subset = {k: shipped[k] for k in ("baseline", "escalation")}
    a = sim.simulate_scenarios(state, subset, 20, seed=5, draws=150)
    b = sim.simulate_scenarios(state, subset, 20, seed=5, draws=150)
    c = sim.simulate_scenarios(state, subset, 20, seed=6, draws=150)
    assert a.identical(b)
    assert not np.array_equal(a["forecast"].values, c["forecast"].values)
    assert not np.array_equal(a["lever__daily_return_rate"].values,
                              c["lever__daily_return_rate"].values)


def test_results_do_not_depend_on_other_scenarios_block_size_or_more_draws(state, shipped,
                                                                           monkeypatch):
    both = sim.simulate_scenarios(state, {k: shipped[k] for k in ("baseline", "escalation")},
                                  25, seed=2, draws=260)
    alone = sim.simulate_scenarios(state, {"escalation": shipped["escalation"]}, 25, seed=2,
                                   draws=260)
    assert np.array_equal(both["forecast"].sel(scenario="escalation").values,
                          alone["forecast"].sel(scenario="escalation").values)
    monkeypatch.setattr(sim, "BLOCK_ELEMENTS", 300)  # many small blocks
    small_blocks = sim.simulate_scenarios(state, {"escalation": shipped["escalation"]}, 25, seed=2,
                                          draws=260)
    assert small_blocks["forecast"].equals(alone["forecast"])
    more = sim.simulate_scenarios(state, {"escalation": shipped["escalation"]}, 25, seed=2,
                                  draws=400)  # > posterior draws: rows cycle, first 260 unchanged
    assert np.array_equal(more["forecast"].values[:, :260], alone["forecast"].values)


def test_streaming_chunks_equal_the_whole(state, shipped, monkeypatch):
    monkeypatch.setattr(sim, "CHUNK_DRAWS", 70)
    subset = {k: shipped[k] for k in ("baseline", "displacement")}
    weights = {"baseline": 1, "displacement": 3}
    whole = sim.simulate_scenarios(state, subset, 15, seed=8, draws=200, weights=weights)
    chunks = list(sim.iter_scenario_chunks(state, subset, 15, seed=8, draws=200, weights=weights))
    assert [c.sizes["draw"] for c in chunks] == [70, 70, 60]
    joined = xr.concat(chunks, dim="draw")
    for var in whole.data_vars:
        if "draw" in whole[var].dims:
            assert np.array_equal(whole[var].values, joined[var].values, equal_nan=True), var
    q = [0.05, 0.5, 0.95]
    from_chunks = daily_quantiles(
        sim.iter_scenario_chunks(state, subset, 15, seed=8, draws=200, weights=weights), q)
    from_whole = daily_quantiles(whole, q)
    expected = whole["forecast"].quantile(q, dim="draw")
    np.testing.assert_allclose(from_whole.values, expected.transpose(*from_whole.dims).values)
    np.testing.assert_array_equal(from_chunks.values, from_whole.values)
    some_days = daily_quantiles(
        sim.iter_scenario_chunks(state, subset, 15, seed=8, draws=200, weights=weights), q,
        days=[3, 15])
    np.testing.assert_array_equal(some_days.values, from_whole.sel(day=[3, 15]).values)


# --------------------------------------------------------------------------- pairing


def test_return_rate_changes_nothing_but_displacement(state, shipped):
    base = shipped["baseline"]
    slower = base.model_copy(update={"daily_return_rate": Beta(dist="beta", low=0.0005, high=0.004)})
    ds = sim.simulate_scenarios(state, {"base": base, "slow": slower}, 40, seed=4, draws=300)
    f = ds["forecast"]
    for target in ("cum_deaths", "cum_civilian_deaths"):
        assert np.array_equal(f.sel(scenario="base", target=target).values,
                              f.sel(scenario="slow", target=target).values)
    assert np.array_equal(ds["regime"].sel(scenario="base").values,
                          ds["regime"].sel(scenario="slow").values)
    # Fewer returns: never fewer people displaced, draw by draw, and strictly more somewhere.
    d_base = f.sel(scenario="base", target="displaced").values
    d_slow = f.sel(scenario="slow", target="displaced").values
    assert not np.array_equal(d_base, d_slow)
    lev = ds["lever__daily_return_rate"]
    assert np.all(lev.sel(scenario="slow") < lev.sel(scenario="base"))  # comonotone: same uniforms


def test_event_multiplier_changes_nothing_before_the_event(state, shipped):
    esc = shipped["escalation"]
    eid = "iraqi_militia_surge"
    stronger = esc.events[eid].model_copy(
        update={"intensity_multiplier": LogNormal(dist="lognormal", low=2.0, high=4.0)})
    esc2 = esc.model_copy(update={"events": {**esc.events, eid: stronger}})
    ds = sim.simulate_scenarios(state, {"a": esc, "b": esc2}, 50, seed=9, draws=300)
    day = ds["event_day"].sel(scenario="a", event=eid).values
    assert np.array_equal(day, ds["event_day"].sel(scenario="b", event=eid).values)
    fa = ds["forecast"].sel(scenario="a").values  # (n, H, T, R+1)
    fb = ds["forecast"].sel(scenario="b").values
    days = ds["day"].values
    before = days[None, :] < day[:, None]  # (n, H): strictly before the event's first day
    assert before.any() and (~before).any()
    assert np.array_equal(fa[before], fb[before])
    deaths = TARGETS.index("cum_deaths")
    # On and after the event day the stronger multiplier raises deaths in most draws.
    last = fb[:, -1, deaths, -1] - fa[:, -1, deaths, -1]
    happened = np.isfinite(day)
    assert np.mean(last[happened] > 0) > 0.9


# --------------------------------------------------------------------------- mixture


def test_mixture_copies_components_with_the_weights(state, shipped):
    """Component counts vs weights: chi-square at false-alarm rate 1e-4."""
    weights = {"baseline": 0.6, "deescalation": 0.1, "escalation": 0.3}
    subset = {k: shipped[k] for k in ("baseline", "deescalation", "escalation")}
    n = 20_000
    ds = sim.simulate_scenarios(state, subset, 2, seed=21, draws=n, weights=weights)
    comp = ds["mixture_component"].values
    counts = np.bincount(comp, minlength=3)
    assert _chi2_pvalue(counts, np.array([0.6, 0.1, 0.3])) > 1e-4
    f, r = ds["forecast"].values, ds["regime"].values
    j = np.arange(n)
    assert np.array_equal(f[3], f[comp, j])
    assert np.array_equal(r[3], r[comp, j])
    lev = ds["lever__events__new_regional_front__daily_hazard"].values
    assert np.array_equal(lev[3], lev[comp, j], equal_nan=True)


def test_mixture_weights_are_checked(state, shipped):
    with pytest.raises(ValueError, match="unknown scenarios"):
        sim.simulate_scenarios(state, {"baseline": shipped["baseline"]}, 5, seed=1,
                               weights={"baselin": 1.0})
    with pytest.raises(ValueError, match="not all 0"):
        sim.simulate_scenarios(state, {"baseline": shipped["baseline"]}, 5, seed=1,
                               weights={"baseline": 0.0})
    with pytest.raises(ValueError, match="reserved"):
        sim.simulate_scenarios(state, {"mixture": shipped["baseline"]}, 5, seed=1)


def test_impossible_states_are_refused(state, shipped):
    from dataclasses import replace

    bad = replace(state, dispersion=np.where(np.arange(state.n_draws) == 3, -1.0, state.dispersion))
    with pytest.raises(ValueError, match="dispersion > 0"):
        sim.simulate_scenarios(bad, {"baseline": shipped["baseline"]}, 5, seed=1)


def test_invalid_lever_values_are_reported(state, shipped):
    base = shipped["baseline"]
    reg = base.regimes["escalated"].model_copy(
        update={"intensity_multiplier": Normal(dist="normal", mean=1.0, sd=1.0)})
    bad = base.model_copy(update={"regimes": {**base.regimes, "escalated": reg}})
    with pytest.raises(ValueError, match="lever 'regimes/escalated/intensity_multiplier'"):
        sim.simulate_scenarios(state, {"bad": bad}, 5, seed=1)


# --------------------------------------------------------------------------- process pieces


def _fixed(x):
    """A lever fixed (to 1e-6 relative) at x."""
    return Uniform(dist="uniform", low=x * (1 - 1e-6), high=x * (1 + 1e-6))


def test_regime_leaves_at_the_stated_hazards(state, shipped):
    """First move out of 'prolonged' with fixed hazards 0.02 (to contained) and 0.05 (to
    escalated): the day is geometric with p = 1 - exp(-0.07), the destination 2:5. Chi-square
    tests at false-alarm rate 1e-4 each."""
    base = shipped["baseline"]
    trans = {"prolonged": {
        "contained": base.transitions["prolonged"]["contained"].model_copy(
            update={"daily_hazard": _fixed(0.02)}),
        "escalated": base.transitions["prolonged"]["escalated"].model_copy(
            update={"daily_hazard": _fixed(0.05)})}}
    a = base.model_copy(update={"transitions": trans})
    n, horizon = 12_000, 30
    reg = sim.simulate_scenarios(state, {"a": a}, horizon, seed=3, draws=n)["regime"].values[0]
    prolonged = REGIMES.index("prolonged")
    moved = reg != prolonged
    first = np.where(moved.any(axis=1), moved.argmax(axis=1) + 1, horizon + 1)
    p = 1 - np.exp(-0.07)
    pmf = np.append(p * (1 - p) ** np.arange(horizon), (1 - p) ** horizon)
    assert _chi2_pvalue(np.bincount(first - 1, minlength=horizon + 1), pmf) > 1e-4
    dest = reg[moved.any(axis=1), first[moved.any(axis=1)] - 1]
    to_contained = np.sum(dest == REGIMES.index("contained"))
    assert stats.binomtest(to_contained, dest.size, 2 / 7).pvalue > 1e-4


def test_event_day_is_geometric(state, shipped):
    """Event with fixed daily hazard 0.05: its day is geometric (chi-square, false alarm 1e-4),
    and a 'moves_to: regional_war' event lifts the regime to regional_war on that day."""
    esc = shipped["escalation"]
    ev = esc.events["new_regional_front"].model_copy(update={"daily_hazard": _fixed(0.05)})
    a = esc.model_copy(update={"events": {"new_regional_front": ev}})
    n, horizon = 12_000, 25
    ds = sim.simulate_scenarios(state, {"a": a}, horizon, seed=12, draws=n)
    day = ds["event_day"].values[0, :, 0]
    t = np.where(np.isinf(day), horizon + 1, day).astype(int)
    pmf = np.append(0.05 * 0.95 ** np.arange(horizon), 0.95**horizon)
    assert _chi2_pvalue(np.bincount(t - 1, minlength=horizon + 1), pmf) > 1e-4
    happened = np.flatnonzero(t <= horizon)
    reg = ds["regime"].values[0]
    assert np.all(reg[happened, t[happened] - 1] == REGIMES.index("regional_war"))


# --------------------------------------------------------------------------- issue 15: displacement's own driver, refugees, de-escalation, regions

# Sums over draws, days and regions of each old target (cum_deaths, cum_civilian_deaths,
# displaced, cum_displaced) per scenario, and of the regime indices, written by the engine as it
# was before flight_hazard, refugees, lowers_to and region scopes existed (commit 0dbb9a6), for
# the run in the test below. Integers: exact whatever the summation order.
OLD_ENGINE_SUMS = {"baseline": [23650874, 9940224, 7673660561, 8787850458],
                   "escalation": [46378701, 19162784, 15878404474, 16868553605],
                   "mixture": [32966024, 13798306, 11145551407, 12200786934]}
OLD_ENGINE_REGIME_SUM = 46509


def _zero_flight(state):
    from dataclasses import replace

    return replace(state, flight_hazard=np.zeros_like(state.flight_hazard))


def test_zero_flight_hazard_gives_exactly_the_old_numbers(state, shipped):
    """New variates have new streams: with flight_hazard = 0 every old target is the old
    engine's, draw for draw (refugees are drawn, from their own stream, and change nothing)."""
    ds = sim.simulate_scenarios(_zero_flight(state),
                                {k: shipped[k] for k in ("baseline", "escalation")}, 40, seed=5,
                                draws=300, weights={"baseline": 0.5, "escalation": 0.5})
    f = ds["forecast"].values.astype(np.float64)[..., :4, :-1]
    sums = f.sum(axis=(1, 2, 4))
    assert {str(s): [int(x) for x in row] for s, row in zip(ds["scenario"].values, sums,
                                                            strict=True)} == OLD_ENGINE_SUMS
    assert int(ds["regime"].values.astype(np.int64).sum()) == OLD_ENGINE_REGIME_SUM
    assert ds["forecast"].sel(target="cum_refugees").max() > 0


def test_flight_hazard_displaces_without_deaths(state, shipped):
    """No deaths (intensity e**-40), fixed displacement multiplier 1.3, flight hazard 1e-3 fading
    with a trend half-life of 4 days: day 1's new displacement is Binomial(P - D, 1 - exp(-1.3e-3
    x 0.5**(1/4))); the sum over 4,000 draws is within 4.5 sd of its expectation (false-alarm
    rate 7e-6)."""
    from dataclasses import replace

    n = 4000
    st = example_state(n, seed=8)
    st = replace(st, log_intensity=np.full_like(st.log_intensity, -40.0),
                 ar_deviation=np.zeros_like(st.ar_deviation), trend=np.zeros_like(st.trend),
                 flight_hazard=np.full_like(st.flight_hazard, 1e-3))
    base = shipped["baseline"]
    reg = base.regimes["prolonged"].model_copy(update={"displacement_multiplier": _fixed(1.3)})
    half_life = LogNormal(dist="lognormal", low=4 * (1 - 1e-6), high=4 * (1 + 1e-6))
    a = base.model_copy(update={"regimes": {**base.regimes, "prolonged": reg}, "transitions": {},
                                "trend_half_life_days": half_life})
    f = sim.simulate_scenarios(st, {"a": a}, 3, seed=2)["forecast"]
    assert np.array_equal(f.sel(target="cum_deaths", day=3), f.sel(target="cum_deaths", day=1))
    d0 = np.clip(np.round(st.displaced_at_origin), 0, np.round(st.population_at_risk))
    at_risk = np.round(st.population_at_risk) - d0
    new = f.sel(target="cum_displaced", day=1).values[0, :, :-1] - d0
    p = -np.expm1(-1.3e-3 * 0.5 ** (1 / 4))
    z = (new.sum() - (at_risk * p).sum()) / np.sqrt((at_risk * p * (1 - p)).sum())
    assert abs(z) < 4.5


def test_refugees_are_a_share_of_new_displacement(state, shipped):
    """Crossings ~ Binomial(new, refugee_share): over all draws and days of the baseline, crossings
    / new displacement matches the share (z-test, 4.5 sd); share 0: no crossing after the origin;
    B at the origin is refugees_at_origin, at most the displaced at the origin."""
    from dataclasses import replace

    st = replace(state, refugee_share=np.full_like(state.refugee_share, 0.15))
    f = sim.simulate_scenarios(st, {"b": shipped["baseline"]}, 30, seed=3)["forecast"].values[0]
    k = {t: TARGETS.index(t) for t in TARGETS}
    new = np.diff(f[:, :, k["cum_displaced"], :-1], axis=1).astype(np.float64)
    cross = np.diff(f[:, :, k["cum_refugees"], :-1], axis=1).astype(np.float64)
    assert np.all(cross <= new)
    z = (cross.sum() - 0.15 * new.sum()) / np.sqrt(0.15 * 0.85 * new.sum())
    assert abs(z) < 4.5
    none = replace(st, refugee_share=np.zeros_like(st.refugee_share))
    g = sim.simulate_scenarios(none, {"b": shipped["baseline"]}, 30, seed=3)["forecast"].values[0]
    origin = np.minimum(np.round(state.refugees_at_origin),
                        np.clip(np.round(state.displaced_at_origin), 0,
                                np.round(state.population_at_risk)))
    assert np.array_equal(g[:, :, k["cum_refugees"], :-1],
                          np.broadcast_to(origin[:, None, :], g.shape[:2] + origin.shape[1:]))
    # The share moves crossings only: everything else is the same, draw for draw.
    others = [k[t] for t in TARGETS if t != "cum_refugees"]
    assert np.array_equal(f[:, :, others], g[:, :, others])


def _with_event(a, eid, **fields):
    from scenarios.levers import InterventionEvent

    ev = InterventionEvent(description=eid, encodes=a.encodes, **fields)
    return a.model_copy(update={"events": {**a.events, eid: ev}})


def test_lowers_to_caps_the_regime_from_the_event_day(state, shipped):
    """A pause (hazard 0.08, lowers_to contained, deaths x 0.5) in the escalated regime: on its day
    the regime is contained, even when a 'moves_to: regional_war' event falls on the same day (the
    cap wins); before it the run is the run without the pause; afterwards the chain moves on."""
    base = shipped["baseline"].model_copy(update={"initial_regime": "escalated"})
    up = _with_event(base, "front", daily_hazard=_fixed(0.05), intensity_multiplier=_fixed(1.5),
                     moves_to="regional_war")
    both = _with_event(up, "pause", daily_hazard=_fixed(0.08), intensity_multiplier=_fixed(0.5),
                       lowers_to="contained")
    n, horizon = 3000, 40
    ds = sim.simulate_scenarios(state, {"up": up, "both": both}, horizon, seed=6, draws=n)
    day = ds["event_day"].sel(scenario="both", event="pause").values
    front = ds["event_day"].sel(scenario="both", event="front").values
    reg = ds["regime"].sel(scenario="both").values
    happened = np.flatnonzero(np.isfinite(day))
    assert happened.size > 0.8 * n
    assert np.all(reg[happened, day[happened].astype(int) - 1] == REGIMES.index("contained"))
    same_day = np.flatnonzero(day == front)
    assert same_day.size > 10
    before = np.arange(1, horizon + 1)[None, :] < np.where(np.isfinite(day), day, np.inf)[:, None]
    assert np.array_equal(ds["regime"].sel(scenario="up").values[before], reg[before])
    fa, fb = ds["forecast"].sel(scenario="up").values, ds["forecast"].sel(scenario="both").values
    assert np.array_equal(fa[before], fb[before])
    # Later transitions move it again (contained -> prolonged in the baseline levers).
    after = np.arange(1, horizon + 1)[None, :] > np.where(np.isfinite(day), day, np.inf)[:, None]
    assert np.any(reg[after] > REGIMES.index("contained"))
    deaths = TARGETS.index("cum_deaths")
    assert np.mean(fb[happened, -1, deaths, -1] < fa[happened, -1, deaths, -1]) > 0.9


def test_region_scoped_event_and_multipliers_leave_other_regions_unchanged(state, shipped):
    """Calm returns in Aleppo (an event of Aleppo only, deaths x 0.3), or Aleppo's own multipliers:
    Idlib's numbers and the regime are the baseline's, draw for draw (common random numbers);
    Aleppo's differ from the event's day on."""
    from scenarios.levers import RegionMultipliers

    base = shipped["baseline"]
    calm = _with_event(base, "aleppo_truce", daily_hazard=_fixed(0.05),
                       intensity_multiplier=_fixed(0.3), regions=["aleppo"])
    local = base.model_copy(update={"region_multipliers": {"aleppo": RegionMultipliers(
        intensity_multiplier=_fixed(0.5), displacement_multiplier=_fixed(2.0))}})
    ds = sim.simulate_scenarios(state, {"base": base, "calm": calm, "local": local}, 40, seed=7,
                                draws=400)
    f = ds["forecast"]
    for name in ("calm", "local"):
        assert np.array_equal(f.sel(scenario=name, region="idlib"),
                              f.sel(scenario="base", region="idlib"))
        assert np.array_equal(ds["regime"].sel(scenario=name), ds["regime"].sel(scenario="base"))
    day = ds["event_day"].sel(scenario="calm", event="aleppo_truce").values
    days = ds["day"].values
    a_base = f.sel(scenario="base", region="aleppo").values
    a_calm = f.sel(scenario="calm", region="aleppo").values
    before = days[None, :] < day[:, None]
    assert np.array_equal(a_base[before], a_calm[before])
    deaths = TARGETS.index("cum_deaths")
    happened = np.flatnonzero(day <= 30)
    assert np.mean(a_calm[happened, -1, deaths] < a_base[happened, -1, deaths]) > 0.9
    assert "lever__region_multipliers__aleppo__displacement_multiplier" in ds


def test_event_and_region_checks():
    from pydantic import ValidationError

    from scenarios.levers import InterventionEvent

    common = {"description": "x", "daily_hazard": _fixed(0.01), "intensity_multiplier": _fixed(0.5),
              "encodes": "p"}
    with pytest.raises(ValidationError, match="not both"):
        InterventionEvent(moves_to="escalated", lowers_to="contained", **common)
    with pytest.raises(ValidationError, match="regime is shared by all regions"):
        InterventionEvent(lowers_to="contained", regions=["aleppo"], **common)
    InterventionEvent(regions=["aleppo"], **common)  # a local change: fine


def test_unknown_regions_are_refused(state, shipped):
    from scenarios.levers import RegionMultipliers

    bad = _with_event(shipped["baseline"], "truce", daily_hazard=_fixed(0.01),
                      intensity_multiplier=_fixed(0.5), regions=["alepo"])
    with pytest.raises(ValueError, match="event 'truce': unknown region 'alepo'"):
        sim.simulate_scenarios(state, {"bad": bad}, 5, seed=1)
    bad = shipped["baseline"].model_copy(update={"region_multipliers": {
        "homs": RegionMultipliers(intensity_multiplier=_fixed(2.0))}})
    with pytest.raises(ValueError, match="region_multipliers: unknown region 'homs'"):
        sim.simulate_scenarios(state, {"bad": bad}, 5, seed=1)


# --------------------------------------------------------------------------- against the naive loop


def _local(shipped):
    """The de-escalation scenario (a pause with lowers_to: contained, deaths x < 1) with a truce in
    Aleppo only and Idlib's own multipliers: every new piece of the process at once."""
    from scenarios.levers import RegionMultipliers

    a = _with_event(shipped["deescalation"], "aleppo_truce",
                    daily_hazard=LogNormal(dist="lognormal", low=0.02, high=0.1),
                    intensity_multiplier=LogNormal(dist="lognormal", low=0.2, high=0.6),
                    regions=["aleppo"])
    pause = a.events["negotiated_pause"].model_copy(
        update={"daily_hazard": LogNormal(dist="lognormal", low=0.02, high=0.08)})
    return a.model_copy(update={"events": {**a.events, "negotiated_pause": pause},
                                "region_multipliers": {"idlib": RegionMultipliers(
                                    intensity_multiplier=LogNormal(dist="lognormal", low=0.8, high=2.0),
                                    displacement_multiplier=LogNormal(dist="lognormal", low=0.5,
                                                                      high=3.0))}})


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["baseline", "escalation", "deescalation", "local"])
def test_engine_agrees_with_naive_reference(scenario, shipped):
    """Two-sample KS tests of the engine against tests/support/naive_reference.py, on independent
    posterior samples (example_state at two seeds: non-zero flight hazard and refugee share).
    Compared, in both regions: cum_deaths, cum_civilian_deaths, displaced and cum_refugees on days
    7 and 30, and the day's deaths, new displacement and border crossings on days 2 and 30 (daily
    counts show the negative-binomial spread that cumulative sums hide): 28 comparisons,
    Bonferroni so that a correct engine fails with probability <= 1e-3 per scenario. ``local``:
    :func:`_local` (de-escalation event, a region-scoped event, region multipliers)."""
    horizon, n_naive, n_engine = 30, 1500, 6000
    a = _local(shipped) if scenario == "local" else shipped[scenario]
    naive = simulate_naive(example_state(n_naive, seed=101), a, horizon,
                           np.random.default_rng(202))["forecast"]
    engine = sim.simulate_scenarios(example_state(n_engine, seed=303), {scenario: a},
                                    horizon, seed=404)["forecast"].values[0, ..., :-1]

    def values(f, what, day, region):
        if what.startswith("daily_"):  # the day's count: difference of a cumulative target
            k = TARGETS.index(what.replace("daily_", "cum_"))
            return f[:, day - 1, k, region] - f[:, day - 2, k, region]
        return f[:, day - 1, TARGETS.index(what), region]

    comparisons = [(t, d, r) for t in ("cum_deaths", "cum_civilian_deaths", "displaced",
                                       "cum_refugees")
                   for d in (7, 30) for r in (0, 1)]
    comparisons += [(t, d, r) for t in ("daily_deaths", "daily_displaced", "daily_refugees")
                    for d in (2, 30) for r in (0, 1)]
    alpha = 1e-3 / len(comparisons)
    for what, day, region in comparisons:
        p = stats.ks_2samp(values(naive, what, day, region), values(engine, what, day, region)).pvalue
        assert p > alpha, (scenario, what, day, region, p)



def test_progress_callback_sees_every_draw_once(state, shipped, monkeypatch):
    monkeypatch.setattr(sim, "CHUNK_DRAWS", 100)
    seen = []
    sim.simulate_scenarios(state, {"baseline": shipped["baseline"]}, 10, seed=1, draws=250,
                           on_chunk=seen.append)
    assert seen == [100, 100, 50]
