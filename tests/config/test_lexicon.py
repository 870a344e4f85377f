"""Vague phrases -> intervals."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scenarios.lexicon import VaguePhraseError, parse_value


@pytest.mark.parametrize("value, low, high, kind", [
    (56, 56, 56, "exact"),
    ("approximately 25", 22.5, 27.5, "interval"),
    # plus or minus 10% however the number is written (was 3.5-4.5 M: half the unit of its digit)
    ("around 4 million", 3.6e6, 4.4e6, "interval"),
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


@pytest.mark.parametrize("bad", ["a great many", -5, [3], [5, 2], {"at_least": 1, "at_most": 2}, True,
                                 "a", "and", "700 bananas", "2,000 families", "between 3 and 2",
                                 "half", "one and"])
def test_unparseable(bad):
    with pytest.raises(VaguePhraseError):
        parse_value(bad)


@given(st.integers(min_value=1, max_value=10**9))
def test_approximate_contains_the_number(n):
    v = parse_value(f"around {n:,}")
    assert v.low < n < v.high
    assert v.high - v.low >= 0.2 * n - 1e-6


# --- what wire copy says -------------------------------------------------------------------

@pytest.mark.parametrize("value, low, high, kind", [
    # number words
    ("a million", 1e6, 1e6, "exact"),
    ("one million", 1e6, 1e6, "exact"),
    ("half a million", 5e5, 5e5, "exact"),
    ("one and a half million", 1.5e6, 1.5e6, "exact"),
    ("a dozen", 12, 12, "exact"),
    ("half a dozen", 6, 6, "exact"),
    ("two dozen", 24, 24, "exact"),
    ("seven hundred", 700, 700, "exact"),
    ("two hundred and fifty", 250, 250, "exact"),
    ("twenty-five", 25, 25, "exact"),
    ("a hundred thousand", 1e5, 1e5, "exact"),
    # vague phrases with a trailing noun, and multiples of a unit
    ("hundreds of people", 200, 999, "interval"),
    ("hundreds of thousands of people", 200_000, 999_999, "interval"),
    ("dozens of its soldiers", 20, 99, "interval"),
    ("several hundred", 300, 999, "interval"),
    ("several hundreds", 300, 999, "interval"),
    ("a few thousand", 2_000, 9_999, "interval"),
    ("several hundreds of thousands", 300_000, 999_999, "interval"),
    # ranges
    ("between 2,000 and 3,000", 2_000, 3_000, "interval"),
    ("2,000-3,000", 2_000, 3_000, "interval"),
    ("2,000–3,000", 2_000, 3_000, "interval"),
    ("2,000 to 3,000", 2_000, 3_000, "interval"),
    ("2-3 million", 2e6, 3e6, "interval"),
    ("between two and three thousand", 2_000, 3_000, "interval"),
    ("500,000 to 1 million", 5e5, 1e6, "interval"),
    ("between 2,000 and 3,000 people", 2_000, 3_000, "interval"),
    # trailing nouns and verbs
    ("at least 700 people killed", 700, math.inf, "lower_bound"),
    ("700 people have been killed", 700, 700, "exact"),
    ("2,800 people injured", 2_800, 2_800, "exact"),
    ("at least 12 people lost their lives", 12, math.inf, "lower_bound"),
    # thousands separators: comma, space, thin space, no-break spaces
    ("2 000", 2_000, 2_000, "exact"),
    ("2\u2009000", 2_000, 2_000, "exact"),
    ("2\u202f000", 2_000, 2_000, "exact"),
    ("12\u00a0000 people", 12_000, 12_000, "exact"),
    ("1 200 000", 1_200_000, 1_200_000, "exact"),
    ("1.2 million", 1.2e6, 1.2e6, "exact"),
    # modifiers
    ("more than 1,000", 1_001, math.inf, "lower_bound"),
    ("over one million", 1_000_001, math.inf, "lower_bound"),
    ("nearly 500", 450, 500, "interval"),
    ("almost half a million", 450_000, 500_000, "interval"),
    ("up to 300", 0, 300, "upper_bound"),
    ("as many as 300", 0, 300, "upper_bound"),
    ("fewer than 50", 0, 49, "upper_bound"),
    ("some 1,200 people", 1_080, 1_320, "interval"),
    ("a total of 56", 56, 56, "exact"),
    ("more than a dozen", 13, math.inf, "lower_bound"),
    ("at least dozens", 20, math.inf, "lower_bound"),
    ("up to hundreds", 0, 999, "upper_bound"),
    ("about dozens", 20, 99, "interval"),
])
def test_wire_copy_forms(value, low, high, kind):
    v = parse_value(value)
    assert (v.low, v.high, v.kind) == (pytest.approx(low), pytest.approx(high), kind)


@pytest.mark.parametrize("same", ["about 1 million", "around 1.0 million", "about 1,000,000",
                                  "roughly 1 000 000", "approximately a million",
                                  "around one million"])
def test_approximately_is_ten_percent_however_written(same):
    v = parse_value(same)
    assert (v.low, v.high) == pytest.approx((0.9e6, 1.1e6))


@pytest.mark.parametrize("value, bounds", [
    ("around 10", (9, 11)), ("about 5", (4, 6)), ("about 3", (2, 4)),  # at least plus or minus 1
    ("approximately 25", (23, 27)), ("around 2 million", (1_800_000, 2_200_000)),
])
def test_approximately_small_and_shipped(value, bounds):
    assert parse_value(value).count_bounds() == bounds


def test_errors_list_the_accepted_forms():
    with pytest.raises(VaguePhraseError) as e:
        parse_value("a great many")
    for form in ("[low, high]", "{at_least: N}", "between 2,000 and 3,000", "dozens"):
        assert form in str(e.value)


def test_describe_says_the_interval():
    assert parse_value("around 4 million").describe() == "3.6-4.4 million"
    assert parse_value("dozens").describe() == "20-99"
    assert parse_value("at least 700").describe() == "at least 700"
    assert parse_value(56).describe() == "exactly 56"


@given(st.integers(min_value=1, max_value=10**7), st.sampled_from(["", "at least ", "up to ",
                                                                    "about ", "nearly "]))
def test_space_and_comma_thousands_read_alike(n, mod):
    a, b = parse_value(f"{mod}{n:,}"), parse_value(f"{mod}{n:,}".replace(",", "\u2009"))
    assert (a.low, a.high, a.kind) == (b.low, b.high, b.kind)
