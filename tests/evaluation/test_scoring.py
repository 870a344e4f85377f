"""Scores: equal to scoringrules and to hand-computed cases, the ViEWS binned log score and MIS,
the bins for episode totals, the scores of censored outcomes, coverage and PIT under a known
distribution; and scoring a stored run (:mod:`models.evaluation.score_run`, CLI
:mod:`models.cli.score`) on a synthetic run, with exact values, ranges and bounds."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scoringrules as sr
import yaml
from scipy import stats
from support import ROOT

from models.cli import score as score_cli
from models.evaluation import score_run as score_lib
from models.evaluation.scoring import (
    CUMULATIVE_BINS,
    DEATH_BINS,
    DISPLACEMENT_BINS,
    METRICS,
    binned_log_score,
    censored_log_score,
    consistent_with_interval,
    coverage,
    crps,
    interval_score,
    log_score,
    pit,
    pit_histogram,
    prob_in_set,
    score_samples,
    summarise_scores,
)
from models.vocabulary import MIXTURE
from scenarios.loader import config_hash

# --- CRPS -------------------------------------------------------------------------------------


def test_crps_equals_scoringrules():
    rng = np.random.default_rng(1)
    x = rng.negative_binomial(2, 0.05, (200, 500)).astype(float)
    y = rng.negative_binomial(2, 0.05, 200).astype(float)
    np.testing.assert_allclose(crps(x, y), sr.crps_ensemble(y, x), rtol=1e-12)
    # the energy form E|X-y| - E|X-X'|/2 of the empirical distribution, as ViEWS scores it
    np.testing.assert_allclose(crps(x, y), sr.crps_ensemble(y, x, estimator="nrg"), rtol=1e-10)


def test_crps_hand_cases():
    # samples [1,2,3], y=2: E|X-y| = 2/3, E|X-X'| = 8/9 over the 9 ordered pairs -> 2/3 - 4/9
    assert crps([[1.0, 2.0, 3.0]], [2.0])[0] == pytest.approx(2 / 9)
    # samples [0,0,0,10], y=0: E|X-y| = 2.5; 6 of 16 pairs differ by 10 -> E|X-X'| = 3.75
    assert crps([[0.0, 0.0, 0.0, 10.0]], [0.0])[0] == pytest.approx(2.5 - 3.75 / 2)
    # a point forecast: CRPS = absolute error
    assert crps([[7.0, 7.0]], [3.0])[0] == pytest.approx(4.0)


# --- intervals and coverage -------------------------------------------------------------------

UNIFORM_0_100 = np.arange(101.0)[None, :]
"""Sample quantiles of 0, 1, ..., 100 at level q are exactly 100 q (linear interpolation)."""


@pytest.mark.parametrize(("y", "is90", "is50"), [
    (50.0, 90.0, 50.0),                         # inside both: the width
    (0.0, 90 + 20 * 5, 50 + 4 * 25),           # below: width + (2/alpha)(lower - y)
    (100.0, 90 + 20 * 5, 50 + 4 * 25),         # above: width + (2/alpha)(y - upper)
    (200.0, 90 + 20 * 105, 50 + 4 * 125),
])
def test_interval_score_hand_cases(y, is90, is50):
    assert interval_score(UNIFORM_0_100, [y], 0.9)[0] == pytest.approx(is90)
    assert interval_score(UNIFORM_0_100, [y], 0.5)[0] == pytest.approx(is50)


def test_coverage_ends_included():
    assert coverage(UNIFORM_0_100, [5.0], 0.9)[0] == 1.0
    assert coverage(UNIFORM_0_100, [95.0], 0.9)[0] == 1.0
    assert coverage(UNIFORM_0_100, [4.9], 0.9)[0] == 0.0
    assert coverage(UNIFORM_0_100, [75.5], 0.5)[0] == 0.0


def test_coverage_of_calibrated_and_overconfident_forecasts():
    """4000 outcomes from N(mu_i, 1), forecasts of 1000 draws from the same distribution.
    Empirical coverage is binomial around the nominal level (finite-sample quantiles shift it by
    < 0.002); we accept |coverage - level| < 3.29 sd + 0.002: false-alarm rate 0.1% per check.
    Forecasts with half the spread cover about 59% at 90% and must fail the same check."""
    rng = np.random.default_rng(20241201)
    n, m = 4000, 1000
    mu = rng.normal(50, 10, n)
    y = rng.normal(mu, 1.0)
    good = rng.normal(mu[:, None], 1.0, (n, m))
    narrow = rng.normal(mu[:, None], 0.5, (n, m))
    for level in (0.5, 0.9):
        tol = 3.29 * np.sqrt(level * (1 - level) / n) + 0.002
        assert abs(coverage(good, y, level).mean() - level) < tol
        assert abs(coverage(narrow, y, level).mean() - level) > tol


# --- ViEWS binned log score -------------------------------------------------------------------

TEN_DRAWS = np.array([[0, 0, 0, 0, 1, 2, 3, 7, 20, 2000]], dtype=float)


@pytest.mark.parametrize(("y", "count"), [
    (0.0, 4),      # bin {0}: four draws
    (1.0, 2),      # bin 1-2: draws 1 and 2
    (4.0, 1),      # bin 3-5: draw 3
    (60.0, 0),     # bin 51-100: empty, only the pseudo-draw
    (5000.0, 1),   # open top bin >1000: draw 2000
])
def test_binned_log_score_hand_cases(y, count):
    # ViEWS: one pseudo-draw per bin, 11 bins, 10 draws -> p = (count + 1) / 21, score in bits
    expected = -np.log2((count + 1) / 21)
    assert binned_log_score(TEN_DRAWS, [y])[0] == pytest.approx(expected)


def _views_ignorance_reference(observed, forecasts, bins):
    """Transcription of the ViEWS 2023/24 challenge algorithm (prio-data/
    prediction_competition_2023, evaluation/IgnoranceScore.py): digitize, append one of every
    bin category to the draws, -log2 of the outcome category's share. Loops, no vectorisation."""
    edges = list(bins)
    out = []
    for y, draws in zip(observed, forecasts, strict=True):
        cats = list(np.digitize(draws, edges, right=False) - 1) + list(range(len(edges)))
        c = Counter(cats)
        out.append(-np.log2(c[np.digitize(y, edges, right=False) - 1] / len(cats)))
    return np.array(out)


def test_binned_log_score_matches_views_algorithm():
    rng = np.random.default_rng(3)
    x = rng.negative_binomial(0.3, 0.003, (300, 200)).astype(float)
    y = rng.negative_binomial(0.3, 0.003, 300).astype(float)
    views_edges = DEATH_BINS[:-1]  # ViEWS lists the finite edges; the last category is open
    np.testing.assert_allclose(binned_log_score(x, y, DEATH_BINS),
                               _views_ignorance_reference(y, x, views_edges))


def test_displacement_bins_extend_death_bins():
    assert DISPLACEMENT_BINS[:11] == DEATH_BINS[:11]
    assert np.all(np.diff(DISPLACEMENT_BINS) > 0) and DISPLACEMENT_BINS[-1] == np.inf
    # 30,000 and 300,000 displaced fall in different bins (both in the top bin of DEATH_BINS)
    x = np.full((2, 10), 30_000.0)
    s = binned_log_score(x, [30_000.0, 300_000.0], DISPLACEMENT_BINS)
    assert s[0] == pytest.approx(-np.log2(11 / 30)) and s[1] == pytest.approx(-np.log2(1 / 30))


def test_cumulative_bins_are_half_decades():
    edges = np.asarray(CUMULATIVE_BINS)
    assert edges[0] == 0.0 and edges[1] == 0.5 and edges[-1] == np.inf and len(edges) == 19
    np.testing.assert_allclose(np.diff(np.log10(edges[2:-1])), 0.5)  # 10^0.5 ... 10^8
    assert edges[-2] == 1e8 and {10.0, 100.0, 1000.0, 1e4, 1e5, 1e6} <= set(edges)
    # whole numbers: {0}, 1-3, 4-9, 10-31, 32-99, 100-316, 317-999, 1000-3162, 3163-9999
    k = np.searchsorted(edges, [0, 1, 3, 4, 9, 10, 31, 32, 99, 100, 316, 317, 999, 1000, 3162,
                                3163, 9999, 10_000], side="right") - 1
    np.testing.assert_array_equal(k, [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9])


def test_cumulative_bins_discriminate_forecasts_in_the_thousands():
    """Cumulative deaths of 2,500: a forecast centred on it and one a decade higher. On the
    ViEWS bins both put (nearly) every draw in the open top bin (>1000) and score alike; on the
    cumulative bins both scores are finite and the centred one is better by several bits."""
    rng = np.random.default_rng(8)
    n = 1000
    centred = rng.lognormal(np.log(2500), 0.3, n)
    decade_off = rng.lognormal(np.log(25_000), 0.3, n)
    x = np.stack([centred, decade_off])
    y = [2500.0, 2500.0]
    views = binned_log_score(x, y, DEATH_BINS)
    assert views[1] == pytest.approx(-np.log2((n + 1) / (n + 11)))  # every draw > 1000
    assert abs(views[0] - views[1]) < 0.01  # the centred forecast: no better on these bins
    s = binned_log_score(x, y, CUMULATIVE_BINS)
    assert np.all(np.isfinite(s))
    # by hand: the outcome's bin [1000, 3162.3) holds the centred draws below 3162.3
    in_bin = np.sum((centred >= 1000) & (centred < 10 ** 3.5))
    assert s[0] == pytest.approx(-np.log2((in_bin + 1) / (n + 18)))
    assert in_bin > 700  # P(lognormal(log 2500, 0.3) in [1000, 3162)) = 0.78
    assert s[1] == pytest.approx(-np.log2(1 / (n + 18)))  # no draw within a decade below
    assert s[1] - s[0] > 8
    # the displaced stock in the hundreds of thousands: 300,000 against 3 million
    stock = rng.lognormal(np.log(300_000), 0.3, (2, n)) * np.array([[1.0], [10.0]])
    s = binned_log_score(stock, [300_000.0, 300_000.0], CUMULATIVE_BINS)
    assert np.all(np.isfinite(s)) and s[1] - s[0] > 8


def test_binned_log_score_rejects_values_outside_bins():
    with pytest.raises(ValueError, match="outside the bins"):
        binned_log_score([[1.0, 2.0]], [-1.0])


# --- censored outcomes ------------------------------------------------------------------------

HUNDREDS = np.arange(100.0, 2001.0, 100.0)[None, :]
"""20 draws 100, 200, ..., 2000: central 90% interval [195, 1905] (positions 0.95 and 18.05)."""


@pytest.mark.parametrize(("low", "high", "k"), [
    (900.0, np.inf, 12),    # at least 900: 900, 1000, ..., 2000
    (2000.0, np.inf, 1),    # at least 2000: the top draw (ends included)
    (2001.0, np.inf, 0),    # above every draw
    (0.0, 150.0, 1),        # at most 150: the draw 100
    (-np.inf, 150.0, 1),    # the same with an open lower end
    (250.0, 550.0, 3),      # a range: 300, 400, 500
    (0.0, np.inf, 20),      # "at least 0" tells nothing: every draw
])
def test_censored_probability_and_log_score_by_hand(low, high, k):
    assert prob_in_set(HUNDREDS, [low], [high])[0] == pytest.approx(k / 20)
    # one pseudo-draw inside the set and one outside: p = (k + 1) / (20 + 2), in bits
    assert censored_log_score(HUNDREDS, [low], [high])[0] == pytest.approx(-np.log2((k + 1) / 22))


def test_at_least_900_by_hand():
    """P(X >= 900) = 12/20 = 0.6; the censored log score -log2(13/22) = 0.759 bits."""
    assert prob_in_set(HUNDREDS, 900.0, np.inf)[0] == 0.6
    assert censored_log_score(HUNDREDS, 900.0, np.inf)[0] == pytest.approx(0.758991900496205)


@pytest.mark.parametrize(("low", "high", "consistent"), [
    (900.0, np.inf, 1.0),     # at least 900: may lie in [195, 1905]
    (1905.0, np.inf, 1.0),    # at the upper end: ends included
    (1906.0, np.inf, 0.0),    # above the interval: a certain miss
    (0.0, 195.0, 1.0),        # at most 195: may lie at the lower end
    (0.0, 150.0, 0.0),        # at most 150: below the interval
    (2000.0, 3000.0, 0.0),    # a range above the interval
    (100.0, 3000.0, 1.0),     # a range around it
])
def test_consistent_with_interval_by_hand(low, high, consistent):
    assert consistent_with_interval(HUNDREDS, [low], [high], 0.9)[0] == consistent


def test_consistent_with_interval_of_an_exact_outcome_is_coverage():
    rng = np.random.default_rng(12)
    x = rng.poisson(30, (200, 100)).astype(float)
    y = rng.poisson(30, 200).astype(float)
    for level in (0.5, 0.9):
        np.testing.assert_array_equal(consistent_with_interval(x, y, y, level),
                                      coverage(x, y, level))


def test_censored_log_score_is_proper_for_a_lower_bound():
    """The expected censored log score of the event X >= 900 is lowest for the forecast that
    gives it its true probability: outcomes from lognormal(log 1000, 0.5), P(X >= 900) = 0.58;
    forecasts with the right distribution, and centred a factor 3 lower or higher."""
    rng = np.random.default_rng(13)
    n, m = 4000, 400
    y = rng.lognormal(np.log(1000), 0.5, n)
    seen = y >= 900  # what the reports tell: whether the toll reached 900
    expected = {}
    for factor in (1 / 3, 1.0, 3.0):
        x = rng.lognormal(np.log(1000 * factor), 0.5, (n, m))
        inside = censored_log_score(x, np.full(n, 900.0), np.full(n, np.inf))
        outside = censored_log_score(x, np.zeros(n), np.full(n, np.nextafter(900.0, 0)))
        expected[factor] = np.where(seen, inside, outside).mean()
    assert expected[1.0] < expected[1 / 3] and expected[1.0] < expected[3.0]


@pytest.mark.parametrize(("low", "high", "message"), [
    ([5.0], [1.0], "low is above high"),
    ([np.nan], [1.0], "must be numbers"),
    ([np.inf], [np.inf], "must be numbers"),
    ([1.0, 2.0], [3.0], "same shape"),
])
def test_censored_scores_reject_bad_sets(low, high, message):
    with pytest.raises(ValueError, match=message):
        censored_log_score(HUNDREDS, low, high)


# --- kernel log score -------------------------------------------------------------------------


def test_log_score_equals_scoringrules_where_no_floor_or_cap_acts():
    rng = np.random.default_rng(5)
    x = rng.normal(0, 3, (50, 400))
    y = rng.normal(0, 3, 50)
    ours = log_score(x, y, scale="identity")
    np.testing.assert_allclose(ours, sr.logs_ensemble(y, x, backend="numpy"), rtol=1e-12)
    counts = rng.poisson(5, (50, 400)).astype(float)  # Silverman bandwidth ~0.1 > floor 0.05
    obs = rng.poisson(5, 50).astype(float)
    np.testing.assert_allclose(log_score(counts, obs),
                               sr.logs_ensemble(np.log1p(obs), np.log1p(counts), backend="numpy"),
                               rtol=1e-12)


def test_log_score_floor_and_truncation():
    zeros = np.zeros((2, 100))
    s = log_score(zeros, [0.0, 100.0])
    # all draws at 0: bandwidth floored at 0.05, density 1/(0.05 sqrt(2 pi)) at the outcome 0
    assert s[0] == pytest.approx(np.log(0.05 * np.sqrt(2 * np.pi)))
    assert s[1] == 10.0  # the density underflows: truncated at 10 nats, not inf


# --- PIT --------------------------------------------------------------------------------------


def test_pit_histogram_hand_cases():
    np.testing.assert_allclose(pit_histogram([0.2], [0.4], 5), [0, 1, 0, 0, 0])
    np.testing.assert_allclose(pit_histogram([0.1], [0.3], 5), [0.5, 0.5, 0, 0, 0])
    np.testing.assert_allclose(pit_histogram([0.0, 1.0], [0.0, 1.0], 5), [0.5, 0, 0, 0, 0.5])
    np.testing.assert_allclose(pit_histogram([0.0], [1.0], 4), [0.25] * 4)


def test_pit_uniform_for_calibrated_counts_and_not_for_overconfident():
    """Outcomes and 1000 draws from the same negative binomial (many zeros and ties): the
    randomized PIT passes a KS test for uniformity at level 0.001 (false-alarm rate 0.1%), and
    every bin of the non-randomized histogram is within 0.03 of 0.1 (4.5 binomial sd at n=2000;
    false-alarm rate < 1e-4). Poisson draws with the right mean (too narrow) must fail both."""
    rng = np.random.default_rng(7)
    n, m = 2000, 1000
    mean = rng.lognormal(2, 1, n)
    p = 2 / (2 + mean)
    y = rng.negative_binomial(2, p).astype(float)
    good = rng.negative_binomial(2, p[:, None], (n, m)).astype(float)
    narrow = rng.poisson(mean[:, None], (n, m)).astype(float)
    for draws, calibrated in ((good, True), (narrow, False)):
        u = pit(draws, y, rng=np.random.default_rng(11))
        ks_p = stats.kstest(u, "uniform").pvalue
        df = score_samples(draws, y)
        hist = pit_histogram(df["pit_lower"], df["pit_upper"], 10)
        assert hist.sum() == pytest.approx(1.0)
        if calibrated:
            assert ks_p > 0.001
            assert np.all(np.abs(hist - 0.1) < 0.03), hist
        else:
            assert ks_p < 0.001
            assert hist[0] > 0.2 and hist[-1] > 0.2  # U-shaped: outcomes in both tails


def test_pit_restricted_to_positive_outcomes():
    rng = np.random.default_rng(2)
    y = np.array([0.0, 0.0, 5.0, 50.0])
    df = score_samples(rng.poisson(5, (4, 500)).astype(float), y)
    positive = df["observed"] > 0
    hist = pit_histogram(df.loc[positive, "pit_lower"], df.loc[positive, "pit_upper"], 10)
    assert hist.sum() == pytest.approx(1.0)
    assert hist[-1] >= 0.5  # the outcome 50 lies above every draw: PIT 1


# --- score_samples ----------------------------------------------------------------------------


def test_score_samples_columns_and_consistency():
    rng = np.random.default_rng(4)
    x = rng.poisson(12, (30, 300)).astype(float)
    y = rng.poisson(12, 30).astype(float)
    df = score_samples(x, y, rng=1)
    assert list(df.columns) == ["observed", *METRICS, "pit_lower", "pit_upper"]
    np.testing.assert_allclose(df["crps"], crps(x, y))
    np.testing.assert_allclose(df["mis_90"], interval_score(x, y, 0.9))
    np.testing.assert_allclose(df["binned_log_score"], binned_log_score(x, y))
    assert df["pit"].between(df["pit_lower"], df["pit_upper"]).all()
    assert score_samples(x, y, rng=1).equals(df)  # reproducible from the seed


@pytest.mark.parametrize(("x", "y", "message"), [
    (np.ones((3, 10)), np.ones(2), "samples must be"),
    (np.ones((3, 1)), np.ones(3), "at least 2 samples"),
    (np.full((2, 10), np.nan), np.ones(2), "samples contain NaN"),
    (np.ones((2, 10)), [1.0, np.nan], "observed contains NaN"),
])
def test_score_samples_rejects_bad_input(x, y, message):
    with pytest.raises(ValueError, match=message):
        score_samples(x, y)


def test_summarise_scores_long_format():
    df = pd.DataFrame({"model": ["a", "a", "b"], "crps": [1.0, 3.0, 5.0],
                       "coverage_90": [1.0, 0.0, 1.0]})
    long = summarise_scores(df, by=["model"])
    assert list(long.columns) == ["model", "metric", "value", "n"]
    got = long.set_index(["model", "metric"])["value"]
    assert got[("a", "crps")] == 2.0 and got[("a", "coverage_90")] == 0.5
    assert got[("b", "crps")] == 5.0
    assert long.set_index(["model", "metric"])["n"][("a", "crps")] == 2


# --- the scoring CLI --------------------------------------------------------------------------

ORIGIN = "2024-12-01"
N_DRAWS = 200


def _make_run(tmp_path: Path, weights=None, mixture=None, extra_targets=(),
              aliases=None, region="aleppo") -> Path:
    """A run directory as models.outputs.write writes it: two scenarios, 10 daily horizons,
    cumulative deaths ~ 10/day ('low') or 40/day ('high') at locations all and aleppo.

    ``mixture``: None (no mixture rows), "drawn" (as the engine draws it: each draw is the same
    draw of one scenario, picked with probability = weight; the picks are saved beside the run
    as mixture_component.npy) or "constant" (every mixture value 1e6, to tell it apart).
    ``extra_targets``: more (target, scale) pairs, drawn after the others; ``aliases``: run.json's
    ``hubverse_locations``; ``region``: the hubverse location of the region (beside ``all``)."""
    run = tmp_path / "run"
    run.mkdir()
    config = {"schema_version": 1, "episode": {"origin": ORIGIN},
              "forecast": {"horizon_days": 10, "draws": N_DRAWS, "seed": 1}}
    if weights:
        config["forecast"]["scenario_weights"] = weights
    (run / "config.resolved.yaml").write_text(yaml.safe_dump(config))
    meta = {"config_hash": config_hash(config), "origin": ORIGIN, "seed": 1}
    if aliases:
        meta["hubverse_locations"] = aliases
    (run / "run.json").write_text(json.dumps(meta))
    rng = np.random.default_rng(0)
    frames, paths = [], {}
    scenarios = {"low": 10.0, "high": 40.0}
    for sid, rate in scenarios.items():
        for loc in ("all", region):
            for target, scale in (("cum_deaths", 1.0), ("cum_displaced", 500.0)):
                paths[sid, loc, target] = np.cumsum(rng.poisson(rate * scale, (N_DRAWS, 10)),
                                                    axis=1)
                frames.append(_long(sid, loc, target, paths[sid, loc, target]))
    for sid, rate in scenarios.items():
        for loc in ("all", region):
            for target, scale in extra_targets:
                paths[sid, loc, target] = np.cumsum(rng.poisson(rate * scale, (N_DRAWS, 10)),
                                                    axis=1)
                frames.append(_long(sid, loc, target, paths[sid, loc, target]))
    if mixture == "drawn":
        ids = sorted(weights)
        w = np.array([weights[k] for k in ids], dtype=float)
        component = np.random.default_rng(99).choice(len(ids), N_DRAWS, p=w / w.sum())
        np.save(tmp_path / "mixture_component.npy", component)
        for loc in ("all", region):
            for target in ("cum_deaths", "cum_displaced"):
                picked = np.stack([paths[ids[c], loc, target][i] for i, c in enumerate(component)])
                frames.append(_long(MIXTURE, loc, target, picked))
    elif mixture == "constant":
        frames.append(_long("mixture", "all", "cum_deaths", np.full((N_DRAWS, 10), 1e6)))
        frames.append(_long("mixture", region, "cum_deaths", np.full((N_DRAWS, 10), 1e6)))
        frames.append(_long("mixture", "all", "cum_displaced", np.full((N_DRAWS, 10), 1e6)))
        frames.append(_long("mixture", region, "cum_displaced", np.full((N_DRAWS, 10), 1e6)))
    pd.concat(frames, ignore_index=True).to_parquet(run / "samples.parquet")
    return run


def _long(sid, loc, target, paths):
    draw, h = np.meshgrid(np.arange(paths.shape[0]), np.arange(1, paths.shape[1] + 1),
                          indexing="ij")
    return pd.DataFrame({"origin_date": ORIGIN, "scenario_id": sid, "location": loc,
                         "target": target, "horizon": h.ravel(), "output_type": "sample",
                         "output_type_id": draw.ravel(), "value": paths.ravel().astype(float)})


def _outcomes(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "outcomes.csv"
    p.write_text(text)
    return p


OUTCOMES = ("date,target,location,value,low,high\n"
            "2024-11-30,cum_deaths,all,5,,\n"          # before the origin: skipped
            "2024-12-04,cum_deaths,all,31,,\n"         # horizon 3
            "2024-12-08,cum_deaths,aleppo,,60,80\n"    # horizon 7, a reported range
            "2024-12-06,cum_displaced,all,26000,,\n"   # horizon 5
            "2025-01-15,cum_deaths,all,900,,\n")       # beyond the 10-day horizon: skipped


def test_cli_scores_scenarios_and_mixture(tmp_path, capsys):
    run = _make_run(tmp_path, weights={"low": 0.75, "high": 0.25}, mixture="drawn")
    out = tmp_path / "scores.csv"
    code = score_cli.main([str(run), str(_outcomes(tmp_path, OUTCOMES)), "--out", str(out)])
    stdout = capsys.readouterr().out
    assert code == 0
    assert "scored 3 outcome(s); skipped 1 on or before the origin; skipped 1 beyond the " \
           "forecast horizon" in stdout
    assert "outcomes: 2 exact, 1 range\n" in stdout  # no bounds, no note about them
    assert "closest scenario (lowest CRPS): low" in stdout
    per = pd.read_csv(out)
    assert sorted(per["scenario_id"].unique()) == ["high", "low", "mixture"]
    assert len(per) == 9
    # the mixture scored is the one the run stored: draw i is draw i of the scenario the run
    # picked for it (models.vocabulary.MIXTURE), not a mixture rebuilt from the weights
    samples = pd.read_parquet(run / "samples.parquet")

    def draws(sid, target="cum_deaths", location="all", horizon=3):
        s = samples[(samples.scenario_id == sid) & (samples.target == target)
                    & (samples.location == location) & (samples.horizon == horizon)]
        return s.sort_values("output_type_id")["value"].to_numpy()

    component = np.load(tmp_path / "mixture_component.npy")
    picked = np.choose(component, [draws("high"), draws("low")])  # ids in sorted order
    np.testing.assert_array_equal(draws("mixture"), picked)
    mix = per[per.scenario_id == "mixture"].set_index("line")
    for line, target, location, horizon in ((3, "cum_deaths", "all", 3),
                                            (4, "cum_deaths", "aleppo", 7),
                                            (5, "cum_displaced", "all", 5)):
        stored = draws("mixture", target, location, horizon)
        assert mix.loc[line, "crps"] == pytest.approx(
            crps(stored[None, :], [mix.loc[line, "observed"]])[0])
    # a range is scored at its midpoint, with the forecast probability of the range beside it
    low_range = per[(per.scenario_id == "low") & (per.horizon == 7)].iloc[0]
    aleppo = samples[(samples.scenario_id == "low") & (samples.target == "cum_deaths")
                     & (samples.location == "aleppo") & (samples.horizon == 7)]["value"].to_numpy()
    assert low_range["observed"] == 70
    assert low_range["crps"] == pytest.approx(crps(aleppo[None, :], [70.0])[0])
    assert low_range["prob_in_range"] == pytest.approx(np.mean((aleppo >= 60) & (aleppo <= 80)))


def test_cli_uses_the_runs_own_mixture(tmp_path, capsys):
    run = _make_run(tmp_path, weights={"low": 0.5, "high": 0.5}, mixture="constant")
    assert score_cli.main([str(run), str(_outcomes(tmp_path, OUTCOMES))]) == 0
    assert "no mixture scored" not in capsys.readouterr().out
    loaded = score_lib.load_run(run)
    outcomes, _ = score_lib.load_outcomes(tmp_path / "outcomes.csv", loaded)
    per, _, closest = score_lib.score_run(loaded, outcomes)
    # the stored mixture (all draws at 1e6) is used, not one rebuilt from the weights
    assert (per.loc[per.scenario_id == "mixture", "crps"] > 1e5).all()
    assert closest == "low"
    assert score_lib.unscored_mixture(loaded) is None


def test_weights_without_a_stored_mixture_score_no_mixture(tmp_path, capsys):
    """A run that stored no mixture rows has no mixture scored, even with weights in its config:
    a mixture rebuilt from the weights would be a forecast the run never made."""
    run = _make_run(tmp_path, weights={"low": 0.75, "high": 0.25})
    out = tmp_path / "scores.csv"
    assert score_cli.main([str(run), str(_outcomes(tmp_path, OUTCOMES)), "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "no mixture scored: config.resolved.yaml has forecast.scenario_weights but " \
           "samples.parquet has no 'mixture' rows" in stdout
    assert "closest scenario (lowest CRPS): low" in stdout
    per = pd.read_csv(out)
    assert sorted(per["scenario_id"].unique()) == ["high", "low"] and len(per) == 6
    # the scenarios score as they do in a run without weights
    (tmp_path / "unweighted").mkdir()
    unweighted = _make_run(tmp_path / "unweighted", weights=None)
    loaded = score_lib.load_run(unweighted)
    assert score_lib.unscored_mixture(loaded) is None
    expected = score_lib.score_run(loaded, score_lib.load_outcomes(tmp_path / "outcomes.csv",
                                                                   loaded)[0])[0]
    np.testing.assert_allclose(per["crps"], expected["crps"])


def _cell_draws(run: Path, sid, target, location, horizon) -> np.ndarray:
    s = pd.read_parquet(run / "samples.parquet")
    s = s[(s.scenario_id == sid) & (s.target == target) & (s.location == location)
          & (s.horizon == horizon)]
    return s.sort_values("output_type_id")["value"].to_numpy()


BOUNDS = ("date,target,location,value,low,high\n"
          "2024-12-02,cum_deaths,all,at least 900,,\n"
          "2024-12-03,cum_deaths,all,>= 900,,\n"
          "2024-12-04,cum_deaths,all,\u2265900,,\n"
          "2024-12-05,cum_deaths,all,900+,,\n"
          "2024-12-06,cum_deaths,all,,900,\n"
          "2024-12-02,cum_deaths,aleppo,At most 50,,\n"
          "2024-12-03,cum_deaths,aleppo,<=50,,\n"
          "2024-12-04,cum_deaths,aleppo,\u2264 50,,\n"
          "2024-12-05,cum_deaths,aleppo,,,50\n"
          "2024-12-06,cum_deaths,aleppo,,60,80\n"
          "2024-12-07,cum_deaths,aleppo,31,,\n")


def test_outcomes_file_reads_lower_and_upper_bounds(tmp_path):
    run = score_lib.load_run(_make_run(tmp_path))
    o, _ = score_lib.load_outcomes(_outcomes(tmp_path, BOUNDS), run)
    assert list(o.columns) == ["line", "date", "target", "location", "horizon", "kind",
                               "observed", "low", "high"]
    assert list(o["kind"]) == ["at_least"] * 5 + ["at_most"] * 4 + ["range", "exact"]
    at_least, at_most = o.iloc[:5], o.iloc[5:9]
    assert (at_least["low"] == 900).all() and at_least["high"].isna().all()
    assert (at_most["high"] == 50).all() and at_most["low"].isna().all()
    assert o.iloc[:9]["observed"].isna().all()  # a bound has no point value
    assert o.iloc[9][["observed", "low", "high"]].tolist() == [70, 60, 80]
    assert o.iloc[10]["observed"] == 31 and np.isnan(o.iloc[10]["low"])
    # a file with only a low column: every line a lower bound
    only_low = _outcomes(tmp_path, "date,target,location,low\n2024-12-04,cum_deaths,all,40\n")
    o, _ = score_lib.load_outcomes(only_low, run)
    assert o["kind"].tolist() == ["at_least"] and o["low"].tolist() == [40.0]


def test_the_documented_example_outcomes_file_reads(tmp_path):
    """The example in models.evaluation.score_run's docstring, against a run of the Goma
    episode's shape (regions stored as CD-NK and CD-SK, five targets, origin 31 January)."""
    doc = score_lib.__doc__
    example = doc.split("Example (illustrative figures)::\n\n")[1].split("\n\n")[0]
    text = "\n".join(line.strip() for line in example.splitlines()) + "\n"
    rng = np.random.default_rng(0)
    rows = [(sid, loc, target, h, d, float(v))
            for sid in ("baseline", "escalation")
            for loc in ("all", "CD-NK", "CD-SK")
            for target in ("cum_deaths", "cum_civilian_deaths", "displaced", "cum_displaced",
                           "cum_refugees")
            for h in range(1, 15)
            for d, v in enumerate(rng.poisson(1000 * h, 50))]
    samples = pd.DataFrame(rows, columns=["scenario_id", "location", "target", "horizon", "draw",
                                          "value"])
    run = score_lib.Run(tmp_path, dt.date(2025, 1, 31), "x", samples, None,
                        {"north_kivu": "CD-NK", "south_kivu": "CD-SK"})
    o, skipped = score_lib.load_outcomes(_outcomes(tmp_path, text), run)
    assert o["kind"].tolist() == ["exact", "range", "at_least", "at_least", "at_most"]
    assert o["horizon"].tolist() == [5, 5, 10, 10, 10] and not any(skipped.values())
    per, _, closest = score_lib.score_run(run, o)
    assert len(per) == 10 and closest in ("baseline", "escalation")


def test_bounds_get_the_set_scores_only(tmp_path):
    """'At least 60' deaths by day 3 (the 'low' scenario makes ~30, 'high' ~120): no point
    scores; P(X >= 60), the censored log score and the 90% check by hand from the draws."""
    run = _make_run(tmp_path)
    text = "date,target,location,value\n2024-12-04,cum_deaths,all,at least 60\n"
    loaded = score_lib.load_run(run)
    per, summary, closest = score_lib.score_run(
        loaded, score_lib.load_outcomes(_outcomes(tmp_path, text), loaded)[0])
    for sid in ("low", "high"):
        row = per[per.scenario_id == sid].iloc[0]
        assert row["kind"] == "at_least" and np.isnan(row["observed"])
        assert row[list(score_lib.POINT_SCORES)].isna().all()  # CRPS, log scores, MIS, PIT...
        x = _cell_draws(run, sid, "cum_deaths", "all", 3)
        k = int(np.sum(x >= 60))
        assert row["prob_in_range"] == pytest.approx(k / N_DRAWS)
        assert row["censored_log_score"] == pytest.approx(-np.log2((k + 1) / (N_DRAWS + 2)))
        upper90 = np.quantile(x, 0.95)
        assert row["consistent_90"] == float(60 <= upper90)
    low, high = (per.set_index("scenario_id").loc[s] for s in ("low", "high"))
    assert low["prob_in_range"] < 0.01 and high["prob_in_range"] > 0.99
    assert low["consistent_90"] == 0.0 and high["consistent_90"] == 1.0  # 'low': a certain miss
    assert closest == "high"
    assert score_lib.closest_scenario(summary) == ("high", "censored log score")
    sm = summary.set_index("scenario_id")
    assert sm.loc["high", ["n", "n_point", "n_set"]].tolist() == [1, 0, 1]
    assert np.isnan(sm.loc["high", "crps"])


def test_a_bound_leaves_the_other_outcomes_scores_unchanged(tmp_path, capsys):
    run = _make_run(tmp_path)
    loaded = score_lib.load_run(run)
    plain = score_lib.score_run(loaded, score_lib.load_outcomes(
        _outcomes(tmp_path, OUTCOMES), loaded)[0])[0]
    with_bounds = OUTCOMES + ("2024-12-09,cum_deaths,all,at least 60,,\n"
                              "2024-12-10,cum_displaced,aleppo,,,1000000\n")
    p = _outcomes(tmp_path, with_bounds)
    per, summary, closest = score_lib.score_run(loaded, score_lib.load_outcomes(p, loaded)[0])
    same = per[per["kind"].isin(["exact", "range"])].reset_index(drop=True)
    cols = ["crps", "log_score", "binned_log_score", "mis_90", "coverage_90", "pit",
            "prob_in_range"]
    pd.testing.assert_frame_equal(same[cols], plain[cols])
    assert closest == "low"  # by CRPS on the point outcomes, as without the bounds
    assert score_lib.closest_scenario(summary)[1] == "CRPS"
    deaths = summary[(summary.target == "cum_deaths") & (summary.scenario_id == "low")].iloc[0]
    assert deaths[["n", "n_point", "n_set"]].tolist() == [3, 2, 2]
    # the range gets the set scores too, and its consistency check uses the whole range
    rng_row = per[(per.scenario_id == "low") & (per.kind == "range")].iloc[0]
    x = _cell_draws(run, "low", "cum_deaths", "aleppo", 7)
    k = int(np.sum((x >= 60) & (x <= 80)))
    assert rng_row["censored_log_score"] == pytest.approx(-np.log2((k + 1) / (N_DRAWS + 2)))
    assert score_cli.main([str(run), str(p)]) == 0
    out = capsys.readouterr().out
    assert "outcomes: 2 exact, 1 range, 1 at least, 1 at most (bounds have no CRPS" in out
    assert "closest scenario (lowest CRPS): low" in out


def test_binned_log_score_of_a_run_uses_cumulative_bins(tmp_path):
    """26,000 displacement movements by day 5: 'low' (~25,000) and 'high' (~100,000) fall in
    different half-decade bins, so they score differently (on the ViEWS bins, both > 1000)."""
    run = _make_run(tmp_path)
    loaded = score_lib.load_run(run)
    text = "date,target,location,value\n2024-12-06,cum_displaced,all,26000\n"
    per = score_lib.score_run(loaded, score_lib.load_outcomes(_outcomes(tmp_path, text),
                                                              loaded)[0])[0]
    got = per.set_index("scenario_id")["binned_log_score"]
    for sid in ("low", "high"):
        x = _cell_draws(run, sid, "cum_displaced", "all", 5)
        assert got[sid] == pytest.approx(binned_log_score(x[None, :], [26000.0],
                                                          CUMULATIVE_BINS)[0])
        assert binned_log_score(x[None, :], [26000.0], DEATH_BINS)[0] < 0.1  # all in the top bin
    assert np.isfinite(got).all() and got["high"] - got["low"] > 5


def test_fifth_target_and_iso_codes_in_outcomes(tmp_path, capsys):
    """A run with cum_refugees (~3,000 a day in 'low') whose region is stored under its ISO
    3166-2 code SY-HL (run.json: aleppo -> SY-HL): the outcomes file may name it either way;
    bounds on the fifth target."""
    run = _make_run(tmp_path, extra_targets=(("cum_refugees", 300.0),),
                    aliases={"aleppo": "SY-HL"}, region="SY-HL")
    text = ("date,target,location,value,low,high\n"
            "2024-12-11,cum_refugees,SY-HL,,,35000\n"
            "2024-12-11,cum_refugees,all,at least 25000,,\n"
            "2024-12-11,cum_deaths,aleppo,95,,\n")
    loaded = score_lib.load_run(run)
    o, _ = score_lib.load_outcomes(_outcomes(tmp_path, text), loaded)
    assert o["location"].tolist() == ["SY-HL", "all", "SY-HL"]
    per = score_lib.score_run(loaded, o)[0].set_index(["scenario_id", "line"])
    x = _cell_draws(run, "low", "cum_refugees", "SY-HL", 10)
    assert per.loc[("low", 2), "prob_in_range"] == pytest.approx(np.mean(x <= 35000))
    assert per.loc[("low", 2), "prob_in_range"] > 0.99
    assert per.loc[("high", 2), "prob_in_range"] < 0.01
    assert per.loc[("high", 3), "prob_in_range"] == 1.0  # a lower bound cannot tell 'high' off
    assert score_cli.main([str(run), str(tmp_path / "outcomes.csv")]) == 0
    assert "closest scenario (lowest CRPS): low" in capsys.readouterr().out


@pytest.mark.parametrize(("text", "message"), [
    ("date,target,location,value\n2024-12-04,cum_deaths,all,31\n2024-13-01,cum_deaths,all,3\n",
     r"outcomes.csv:3: column date: '2024-13-01' is not a date \(expected YYYY-MM-DD\)"),
    ("date,target,location,value\n2024-12-04,cum_death,all,31\n",
     r"outcomes.csv:2: column target: unknown target 'cum_death'; this run forecasts "
     r"cum_deaths, cum_displaced"),
    ("date,target,location,value\n2024-12-04,cum_deaths,idlib,31\n",
     r"outcomes.csv:2: column location: unknown location 'idlib'; this run forecasts aleppo, all"),
    ("date,target,location,value\n2024-12-04,cum_deaths,all,many\n",
     r"outcomes.csv:2: column value: 'many' is not a number"),
    ("date,target,location,low,high\n2024-12-04,cum_deaths,all,50,20\n",
     r"outcomes.csv:2: column low: 50 is above high 20"),
    ("date,target,location,value,low,high\n2024-12-04,cum_deaths,all,5,1,9\n",
     r"outcomes.csv:2: give either value or low and high, not both"),
    ("date,target,place,value\n2024-12-04,cum_deaths,all,5\n",
     r"outcomes.csv: missing column\(s\) location"),
    ("date,target,location,value\n2024-12-04,cum_deaths,all,more than 900\n",
     r"outcomes.csv:2: column value: 'more than 900' is not a number or a bound \(write a count, "
     r"'at least N', '>= N', 'N\+', 'at most N' or '<= N'\)"),
    ("date,target,location,value\n2024-12-04,cum_deaths,all,at least many\n",
     r"outcomes.csv:2: column value: 'many' is not a number"),
    ("date,target,location,value\n2024-12-04,cum_deaths,all,>= -5\n",
     r"outcomes.csv:2: column value: -5 must be a finite count >= 0"),
    ("date,target,location,low,high\n2024-12-04,cum_deaths,all,,\n",
     r"outcomes.csv:2: no outcome: give value, or low and/or high"),
    ("date,target,location,value\n2024-11-04,cum_deaths,all,5\n",
     r"outcomes.csv: no outcome falls within the forecast \(origin 2024-12-01, horizons 1-10"),
])
def test_cli_bad_outcomes_one_line_exit_2(tmp_path, capsys, text, message):
    run = _make_run(tmp_path)
    code = score_cli.main([str(run), str(_outcomes(tmp_path, text))])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert re.search(message, err), err


def test_cli_refuses_a_changed_config(tmp_path, capsys):
    run = _make_run(tmp_path)
    cfg = yaml.safe_load((run / "config.resolved.yaml").read_text())
    cfg["forecast"]["draws"] = 999  # edited after the run
    (run / "config.resolved.yaml").write_text(yaml.safe_dump(cfg))
    assert score_cli.main([str(run), str(_outcomes(tmp_path, OUTCOMES))]) == 2
    err = capsys.readouterr().err
    assert "run.json: config_hash" in err and "does not match config.resolved.yaml" in err


def test_cli_bad_run_directory(tmp_path, capsys):
    run = _make_run(tmp_path)
    (run / "samples.parquet").unlink()
    assert score_cli.main([str(run), str(_outcomes(tmp_path, OUTCOMES))]) == 2
    assert "samples.parquet: file not found" in capsys.readouterr().err
    run2 = tmp_path / "run2"
    run2.mkdir()
    for f in ("run.json", "config.resolved.yaml"):
        (run2 / f).write_text((run / f).read_text())
    pd.DataFrame({"value": [1.0]}).to_parquet(run2 / "samples.parquet")
    assert score_cli.main([str(run2), str(_outcomes(tmp_path, OUTCOMES))]) == 2
    assert "samples.parquet: missing column(s) origin_date" in capsys.readouterr().err


def test_cli_subprocess_exit_code_and_no_traceback(tmp_path):
    run = _make_run(tmp_path)
    bad = _outcomes(tmp_path, "date,target,location,value\nyesterday,cum_deaths,all,3\n")
    proc = subprocess.run([sys.executable, "-m", "models.score", str(run), str(bad)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().endswith("column date: 'yesterday' is not a date "
                                        "(expected YYYY-MM-DD)")


def test_cli_accepts_string_draw_ids_and_refuses_negative_draws(tmp_path, capsys):
    run = _make_run(tmp_path)
    samples = pd.read_parquet(run / "samples.parquet")
    expected = score_lib.score_run(score_lib.load_run(run),
                                   score_lib.load_outcomes(_outcomes(tmp_path, OUTCOMES),
                                                           score_lib.load_run(run))[0])[0]
    samples["output_type_id"] = "d" + samples["output_type_id"].astype(str).str.zfill(3)
    samples.to_parquet(run / "samples.parquet")
    loaded = score_lib.load_run(run)
    got = score_lib.score_run(loaded, score_lib.load_outcomes(tmp_path / "outcomes.csv",
                                                              loaded)[0])[0]
    np.testing.assert_allclose(got["crps"], expected["crps"])
    samples.loc[5, "value"] = -1.0
    samples.to_parquet(run / "samples.parquet")
    assert score_cli.main([str(run), str(tmp_path / "outcomes.csv")]) == 2
    assert "column value: 1 negative value(s)" in capsys.readouterr().err


def test_scored_mixture_is_the_engine_mixture_of_a_written_run(tmp_path):
    """On a run written by models.outputs.write, the mixture scored is draw by draw the pick the
    forecast made (``mixture_component``), i.e. the stored mixture's draws."""
    from support.results import synthetic_run

    from models.outputs.write import write_run

    result = synthetic_run("escalation", draws=120, horizon=12, with_nowcast=False)
    run_dir = write_run(result, tmp_path / "results", ("parquet",))
    origin = result.origin
    outcomes = _outcomes(tmp_path, "date,target,location,value\n"
                         f"{origin + dt.timedelta(days=10)},cum_deaths,all,400\n"
                         f"{origin + dt.timedelta(days=4)},displaced,aleppo,30000\n")
    loaded = score_lib.load_run(run_dir)
    per = score_lib.score_run(loaded, score_lib.load_outcomes(outcomes, loaded)[0])[0]
    assert MIXTURE in set(per["scenario_id"]) and score_lib.unscored_mixture(loaded) is None
    fc = result.forecast["forecast"]
    component = result.forecast["mixture_component"].values
    scenarios = [s for s in fc["scenario"].values if s != MIXTURE]
    for (target, location, day), observed in ((("cum_deaths", "all", 10), 400.0),
                                              (("displaced", "aleppo", 4), 30000.0)):
        cell = fc.sel(target=target, region=location, day=day)
        picked = np.array([cell.sel(scenario=scenarios[c]).values[i]
                           for i, c in enumerate(component)], dtype=float)
        np.testing.assert_array_equal(picked, cell.sel(scenario=MIXTURE).values)
        row = per[(per.scenario_id == MIXTURE) & (per.target == target)].iloc[0]
        assert row["crps"] == pytest.approx(crps(picked[None, :], [observed])[0])
