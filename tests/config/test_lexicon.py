"""Vague phrases -> intervals."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scenarios.lexicon import VaguePhraseError, parse_value


@pytest.mark.parametrize("value, low, high, kind", [
    (56, 56, 56, "exact"),
    ("approximately 25", 22.5, 27.5, "interval"),
    ("around 4 million", 3.5e6, 4.5e6, "interval"),
    ("about 2.5 million", 2.25e6, 2.75e6, "interval"),
    ("dozens", 20, 99, "interval"),
    ("tens of thousands", 10_000, 99_999, "interval"),
    ("Tens-of-thousands", 10_000, 99_999, "interval"),
    ("at least 56", 56, math.inf, "lower_bound"),
    ("more than 1,000", 1001, math.inf, "lower_bound"),
    ({"at_least": 10}, 10, math.inf, "lower_bound"),
    ("up to 300", 0, 300, "upper_bound"),
    ("nearly 100", 90, 100, "interval"),
    ([10, 20], 10, 20, "interval"),
])
def test_parse(value, low, high, kind):
    v = parse_value(value)
    assert (v.low, v.high, v.kind) == (pytest.approx(low), high, kind)


def test_count_bounds_round_inwards():
    assert parse_value("approximately 25").count_bounds() == (23, 27)


def test_config_lexicon_extends_and_overrides():
    assert parse_value("a handful", {"a handful": (3, 6)}).count_bounds() == (3, 6)
    assert parse_value("dozens", {"dozens": (24, 144)}).low == 24


@pytest.mark.parametrize("bad", ["a great many", -5, [3], [5, 2], {"at_least": 1, "at_most": 2}, True])
def test_unparseable(bad):
    with pytest.raises(VaguePhraseError):
        parse_value(bad)


@given(st.integers(min_value=1, max_value=10**9))
def test_approximate_contains_the_number(n):
    v = parse_value(f"around {n:,}")
    assert v.low < n < v.high
    assert v.high - v.low >= 0.2 * n - 1e-6
