"""The ViEWS benchmark models follow their definitions (prio-data/prediction_competition_2023,
benchmark.py): exactly zero; Poisson around the last month; the unit's last 12 months;
resampling of past months."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

from models.data import load_views_country_month, month_id, series_as_of
from models.evaluation.reference_forecasts import (
    REFERENCE_MODELS,
    all_reference_samples,
    reference_samples,
)

SHARED_DATA = Path(__file__).parents[2].parent / "shared" / "data"
HISTORY = np.arange(100.0, 140.0)  # 40 months, all values distinct: membership is checkable


def _rng(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("name", REFERENCE_MODELS)
def test_shape_and_non_negative(name):
    x = reference_samples(name, HISTORY, 12, 500, _rng())
    assert x.shape == (500, 12) and x.dtype == float
    assert np.all(x >= 0) and np.all(np.isfinite(x))


def test_zero_is_exactly_zero():
    assert not reference_samples("zero", HISTORY, 12, 1000, _rng()).any()


def test_last_is_poisson_around_the_last_month():
    """12,000 draws of Poisson(139): the mean is within 3.29 standard errors of 139 and the
    variance/mean ratio within 0.05 of 1 (its sd is ~0.013 here): false-alarm rate < 0.2%."""
    x = reference_samples("last", HISTORY, 12, 1000, _rng())
    lam = HISTORY[-1]
    assert abs(x.mean() - lam) < 3.29 * np.sqrt(lam / x.size)
    assert abs(x.var() / x.mean() - 1) < 0.05
    assert np.all(x == np.round(x))  # counts
    # only the last month matters
    other = np.concatenate([np.zeros(39), [lam]])
    np.testing.assert_array_equal(reference_samples("last", other, 12, 1000, _rng()), x)


def test_conflictology_uses_only_the_last_12_months_with_equal_weight():
    x = reference_samples("conflictology", HISTORY, 12, 1200, _rng())
    last12 = HISTORY[-12:]
    assert set(np.unique(x)) == set(last12)  # never a value older than 12 months
    for h in range(12):  # every month exactly 1200/12 = 100 times at every horizon
        values, counts = np.unique(x[:, h], return_counts=True)
        np.testing.assert_array_equal(values, last12)
        assert (counts == 100).all()
    y = reference_samples("conflictology", HISTORY, 3, 1000, _rng())
    counts = np.unique(y[:, 0], return_counts=True)[1]
    assert set(counts) == {83, 84}  # 1000 = 12 * 83 + 4: as equal as possible


def test_conflictology_needs_12_months_and_takes_a_window():
    with pytest.raises(ValueError, match="needs 12 months of history, got 5"):
        reference_samples("conflictology", HISTORY[:5], 12, 100, _rng())
    x = reference_samples("conflictology", HISTORY, 4, 600, _rng(), window=6)
    assert set(np.unique(x)) == set(HISTORY[-6:])


def test_bootstrap_resamples_the_whole_history_or_a_pool():
    x = reference_samples("bootstrap", HISTORY, 12, 4000, _rng())
    for h in range(12):
        values, counts = np.unique(x[:, h], return_counts=True)
        np.testing.assert_array_equal(values, HISTORY)  # all 40 months, 100 times each
        assert (counts == 100).all()
    pool = np.array([0.0, 0.0, 7.0, 1000.0])
    y = reference_samples("bootstrap", HISTORY, 12, 1000, _rng(), pool=pool)
    assert set(np.unique(y)) == {0.0, 7.0, 1000.0}
    assert (y == 0).mean() == pytest.approx(0.5)
    z = reference_samples("bootstrap", HISTORY, 2, 100, _rng(), window=10)
    assert set(np.unique(z)) == set(HISTORY[-10:])


def test_resampled_horizons_are_independent():
    """Correlation of draws between horizons 1 and 2: |r| < 3.29/sqrt(n) (false-alarm 0.1%)."""
    for name in ("conflictology", "bootstrap", "last"):
        x = reference_samples(name, HISTORY, 2, 5000, _rng(3))
        r = np.corrcoef(x[:, 0], x[:, 1])[0, 1]
        assert abs(r) < 3.29 / np.sqrt(5000), (name, r)


def test_all_reference_samples_seeded_per_model():
    a = all_reference_samples(HISTORY, 12, 300, seed=7)
    b = all_reference_samples(HISTORY, 12, 300, seed=7)
    c = all_reference_samples(HISTORY, 12, 300, seed=8)
    assert list(a) == list(REFERENCE_MODELS)
    for name in REFERENCE_MODELS:
        np.testing.assert_array_equal(a[name], b[name])
    assert not np.array_equal(a["bootstrap"], c["bootstrap"])
    # each model's stream comes from (seed, stable hash of its name), whatever the other models
    own = np.random.default_rng([7, zlib.crc32(b"bootstrap")])
    np.testing.assert_array_equal(a["bootstrap"],
                                  reference_samples("bootstrap", HISTORY, 12, 300, own))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"name": "persistence"}, "unknown reference model 'persistence'; choose from zero, last, "
                              "conflictology, bootstrap"),
    ({"name": "last", "pool": [1.0]}, "pool applies to 'bootstrap' only"),
    ({"name": "last", "history": [1.0, -2.0]}, "history must be finite and >= 0"),
    ({"name": "last", "history": []}, "non-empty 1-d array"),
])
def test_bad_arguments(kwargs, message):
    args = {"name": "zero", "history": HISTORY, "horizons": 3, "n_samples": 10, "rng": _rng()}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        reference_samples(**args)


@pytest.mark.skipif(not (SHARED_DATA / "views_syria_monthly_ged_1990_2024.csv").is_file(),
                    reason=f"real data not found at {SHARED_DATA}")
def test_conflictology_on_syria_at_an_origin():
    syria = load_views_country_month(SHARED_DATA / "views_syria_monthly_ged_1990_2024.csv")
    origin = month_id("2023-12-01")
    history = series_as_of(syria, origin)["deaths"].to_numpy()
    x = reference_samples("conflictology", history, 12, 1200, _rng())
    last_year = syria.loc[syria["month_id"].between(origin - 11, origin), "deaths"].to_numpy()
    # exactly Jan-Dec 2023, 100 times each; nothing from Jan-Apr 2024, which the file holds
    np.testing.assert_array_equal(np.sort(x[:, 0]), np.sort(np.repeat(last_year, 100)))
