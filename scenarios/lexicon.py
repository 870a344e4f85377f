"""Vague phrases in reports, turned into explicit intervals.

Reports say "dozens", "tens of thousands", "around 4 million", "at least 56". The models need
numbers, so every phrase maps to an interval through ONE documented lexicon; a scenario config can
add or override entries under ``lexicon:``. The choices below are deliberately wide readings of
common usage in conflict reporting (ReliefWeb, OCHA flash updates, wire copy).

Vague quantities:

=============================  =======================  ===========================================
phrase                         interval                 reading
=============================  =======================  ===========================================
a few                          [2, 9]                   more than one, fewer than ten
several                        [3, 9]
dozens                         [20, 99]                 two dozen upward, below "hundreds"
scores                         [40, 199]                "scores of" = multiples of twenty
hundreds                       [200, 999]
thousands                      [2,000, 9,999]
tens of thousands              [10,000, 99,999]         loose usage includes 10-20 thousand
hundreds of thousands          [200,000, 999,999]
millions                       [2,000,000, 9,999,999]
a few / several hundred(s)     [200, 999] / [300, 999]  "a few" or "several" times the unit, up to
a few / several thousand(s)    [2,000, 9,999] / ...     the next unit: [low x unit, (high+1) x
a few / several million(s)     ...                      unit - 1]
=============================  =======================  ===========================================

Numbers: digits with comma, space or thin-space thousands ("2,000", "2 000"), decimals with a
scale word ("1.2 million"), or words ("seven hundred", "a dozen" = 12, "half a dozen" = 6, "two
dozen" = 24, "a million", "half a million", "one and a half million", "twenty-five"). A bare
number is exact. Ranges: "between 2,000 and 3,000", "2,000-3,000", "2,000 to 3,000", "2-3
million" (a scale word on the upper end applies to the lower one when the lower is smaller
than the scale) -> [low, high].

Numbers with a modifier (N as read above):

=======================================================  ======================================
modifier                                                 interval
=======================================================  ======================================
approximately, around, about, roughly, some, close to,   N plus or minus 10% of N, and at least
an estimated                                             plus or minus 1 (see below)
nearly, almost                                           [0.9 N, N]
at least, no fewer than, no less than                    [N, inf)
more than, over, above, upwards of, just over            [N + 1, inf)
up to, at most, no more than, as many as                 [0, N]
fewer than, less than, under, below, just under          [0, N - 1]
a total of                                               N (exact)
=======================================================  ======================================

The same bound modifiers apply to a vague phrase ("at least dozens" -> [20, inf), "up to
hundreds" -> [0, 999]); "about dozens" is the phrase's own interval.

**How "approximately N" treats the stated precision.** One rule: N plus or minus 10% of N (at
least plus or minus one, so that "about 5" still allows 4 to 6), however N is written: "about 1
million", "about 1,000,000" and "around 1.0 million" all read [0.9 M, 1.1 M], and "around 4
million" reads [3.6 M, 4.4 M]. The modifier, not the digits, says how approximate the figure is:
trailing zeros and a scale word do not tell how precisely the reporter knew it (a reporter writes
"1 million" for 0.96 million and for 1.04 million alike), so reading "1 million" as rounded to
its single digit (0.5-1.5 million) would make a figure's width depend on its leading digit (50%
for 1, 12.5% for 4, 5.6% for 9). Digits finer than 10% ("about 1.25 million") are within the 10%
either way. The rule this one replaced took the larger of 10% and half the unit of the last
stated digit; the shipped phrases whose reading changed: "around 4 million" 3.5-4.5 M -> 3.6-4.4 M, "around 2 million"
1.5-2.5 M -> 1.8-2.2 M, "around 10" 5-15 -> 9-11 ("approximately 25" stays 22.5-27.5).

Trailing nouns and verbs are allowed and ignored: "at least 700 people killed", "hundreds of
people", "dozens of its soldiers", "2,800 people injured". Counts (deaths, displaced people) are
integers, so interval ends are rounded inwards by :meth:`ReportedValue.count_bounds`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["exact", "interval", "lower_bound", "upper_bound"]

DEFAULT_LEXICON: dict[str, tuple[float, float]] = {
    "a few": (2, 9),
    "several": (3, 9),
    "dozens": (20, 99),
    "scores": (40, 199),
    "hundreds": (200, 999),
    "thousands": (2_000, 9_999),
    "tens of thousands": (10_000, 99_999),
    "hundreds of thousands": (200_000, 999_999),
    "millions": (2_000_000, 9_999_999),
}

APPROXIMATE_RELATIVE_TOLERANCE = 0.10
APPROXIMATE_MIN_TOLERANCE = 1.0
""""approximately N" = N plus or minus max(10% of N, 1)."""

SCALES = {"hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9}
APPROX = ("approximately", "around", "about", "roughly", "some", "close to", "an estimated",
          "an estimate of", "estimated")
NEARLY = ("nearly", "almost")
AT_LEAST = ("at least", "no fewer than", "no less than")
MORE_THAN = ("more than", "over", "above", "upwards of", "just over", "well over")
AT_MOST = ("up to", "at most", "no more than", "as many as")
FEWER_THAN = ("fewer than", "less than", "under", "below", "just under")
EXACT = ("a total of",)
MODIFIERS = APPROX + NEARLY + AT_LEAST + MORE_THAN + AT_MOST + FEWER_THAN + EXACT
"""Every modifier the lexicon reads, for scanners of running text."""

UNIT_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen".split())}
TENS_WORDS = {w: 10 * (i + 2) for i, w in enumerate(
    "twenty thirty forty fifty sixty seventy eighty ninety".split())}
NUMBER_WORDS = (*UNIT_WORDS, *TENS_WORDS, *SCALES, "dozen")
"""Words of a number ("seven hundred", "a dozen"), for scanners of running text."""

TAIL_WORDS = frozenset(
    "of its their the whom them other others more people persons person individuals civilians "
    "children women men residents inhabitants soldiers troops fighters militants combatants "
    "rebels deaths dead killed injured wounded displaced internally idps refugees casualties "
    "fatalities bodies have has had been were was are lost lives fled fleeing".split())
"""Words a value may end with ("at least 700 people killed"); they do not change the value."""

_THOUSANDS_SPACE = re.compile(r"(?<![\d.,])(\d{1,3})((?:[ \u00a0\u2009\u202f]\d{3})+)(?![\d,])")
_DASH_RANGE = re.compile(r"(\d)\s*[-–—]\s*(\d)")
_DIGITS = re.compile(r"^(\d[\d,]*(?:\.\d+)?)(?: (thousand|million|billion))?$")
_MULTIPLE = re.compile(r"^(a few|several) (hundred|thousand|million)s?(?: of thousands)?$")
_RANGE = re.compile(r"^(?:between )?(.+?) (?:and|to) (.+)$")
_ACCEPTED = (
    "a number (56, '2,000', '2 000', '1.2 million', 'seven hundred', 'a dozen', 'half a "
    "million'), a range ([low, high], 'between 2,000 and 3,000', '2,000-3,000'), a bound "
    "({at_least: N}, {at_most: N}, 'at least N', 'more than N', 'up to N', 'fewer than N'), "
    "an approximate number ('approximately N', 'around N', 'about N', 'nearly N'), or a phrase"
)


@dataclass(frozen=True)
class ReportedValue:
    """A reported figure as an interval. ``low``/``high`` in the quantity's units; ``high`` is
    ``inf`` for a lower bound and ``low`` is 0 for an upper bound."""

    low: float
    high: float
    kind: Kind
    text: str

    def count_bounds(self) -> tuple[int, float]:
        """Integer bounds for a count: smallest and largest count consistent with the report."""
        low = math.ceil(self.low - 1e-9)
        high = self.high if math.isinf(self.high) else math.floor(self.high + 1e-9)
        return low, high

    @property
    def midpoint(self) -> float:
        """A representative value (for plots and tables): geometric middle of a finite interval."""
        if math.isinf(self.high):
            return self.low
        if self.low <= 0:
            return self.high / 2
        return math.sqrt(self.low * self.high)

    def describe(self) -> str:
        """The interval in words, as the draft configs' comments give it.

        >>> parse_value("approximately 25").describe()
        '22.5-27.5 (counts 23 to 27)'
        >>> parse_value("more than 1,000").describe()
        'at least 1,001'
        """
        low, high = self.count_bounds()
        if self.kind == "exact":
            return f"exactly {_fmt(self.low)}"
        if self.kind == "lower_bound":
            return f"at least {_fmt(low)}"
        if self.kind == "upper_bound":
            return f"0 to {_fmt(high)}"
        if self.high >= 1e6 and self.low % 1e4 == 0 and self.high % 1e4 == 0:
            return f"{self.low / 1e6:g}-{self.high / 1e6:g} million"
        span = f"{_fmt(self.low)}-{_fmt(self.high)}"
        if (low, high) != (self.low, self.high):
            span += f" (counts {_fmt(low)} to {_fmt(high)})"
        return span


def _fmt(x: float) -> str:
    if x >= 1e6 and x % 1e4 == 0:
        return f"{x / 1e6:g} million"
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


class VaguePhraseError(ValueError):
    pass


def normalise(text: str) -> str:
    """Lower case, thousands spaces dropped ('2 000' -> '2000'), dash ranges as 'to', other
    hyphens as spaces, single spaces."""
    text = _THOUSANDS_SPACE.sub(lambda m: m[1] + re.sub(r"\D", "", m[2]), text.lower())
    text = _DASH_RANGE.sub(r"\1 to \2", text)
    return " ".join(re.sub(r"[-‑–—]", " ", text).split())


def words_to_number(text: str) -> float | None:
    """A number written in words, or None.

    >>> [words_to_number(t) for t in ("seven hundred", "a dozen", "half a million",
    ...                               "two hundred and fifty", "one and a half million", "a")]
    [700.0, 12.0, 500000.0, 250.0, 1500000.0, None]
    """
    words = text.split()
    if not words or not any(w in NUMBER_WORDS for w in words):
        return None
    total, current, half = 0.0, 0.0, False
    if words[:2] in (["half", "a"], ["half", "an"]):
        half, words = True, words[2:]
    i = 0
    while i < len(words):
        w, nxt = words[i], (words[i + 1] if i + 1 < len(words) else None)
        if w == "and" and words[i + 1:i + 3] == ["a", "half"] and current:
            current += 0.5  # "one and a half million"
            i += 3
            continue
        if w in ("a", "an"):
            if nxt not in (*SCALES, "dozen") or current:
                return None
            current = 1.0
        elif w in UNIT_WORDS:
            current += UNIT_WORDS[w]
        elif w in TENS_WORDS:
            current += TENS_WORDS[w]
        elif w == "and":
            if nxt is None or not (total or current):
                return None
        elif w == "dozen":
            current = (current or 1.0) * 12
        elif w == "hundred":
            current = (current or 1.0) * 100
        elif w in SCALES:
            total += (current or 1.0) * SCALES[w]
            current = 0.0
        else:
            return None
        i += 1
    value = total + current
    return value / 2 if half else value


def _number(text: str) -> float | None:
    m = _DIGITS.match(text)
    if m:
        return float(m[1].replace(",", "")) * (SCALES[m[2]] if m[2] else 1.0)
    return words_to_number(text)


def _scale_of(text: str) -> float | None:
    last = text.split()[-1] if text.split() else ""
    return SCALES.get(last) if last != "hundred" else None


def _quantity(text: str, lex: dict) -> tuple[float, float, Kind] | None:
    """The bare quantity of a phrase (no modifier): (low, high, kind) or None."""
    if text in lex:
        low, high = lex[text]
        return float(low), float(high), "interval"
    m = _MULTIPLE.match(text)
    if m:
        low, high = lex[m[1]]
        unit = SCALES[m[2]] * (1e3 if text.endswith("of thousands") else 1)
        return low * unit, (high + 1) * unit - 1, "interval"
    n = _number(text)
    if n is not None:
        return n, n, "exact"
    m = _RANGE.match(text)
    if m:
        low, high = _number(m[1]), _number(m[2])
        if low is None or high is None:
            return None
        scale = _scale_of(m[2])
        if scale and _scale_of(m[1]) is None and low * scale <= high:
            low *= scale  # "2-3 million"
        if not low <= high:
            raise VaguePhraseError(f"a range needs low <= high, got {text!r}")
        return low, high, "interval"
    return None


def _split_modifier(text: str) -> tuple[str, str]:
    for mod in sorted(MODIFIERS, key=len, reverse=True):
        if text.startswith(mod + " "):
            return mod, text[len(mod) + 1:]
    return "", text


def _read_phrase(text: str, lex: dict) -> tuple[str, tuple[float, float, Kind]] | None:
    """(modifier, quantity) of the longest reading whose leftover words are all tail words."""
    mod, rest = _split_modifier(text)
    words = rest.split()
    for end in range(len(words), 0, -1):
        if all(w in TAIL_WORDS for w in words[end:]):
            q = _quantity(" ".join(words[:end]), lex)
            if q is not None:
                return mod, q
    return None


def _apply(mod: str, q: tuple[float, float, Kind], value: str) -> ReportedValue:
    low, high, kind = q
    if mod in ("", *EXACT):
        return ReportedValue(low, high, kind, value)
    if kind == "interval" and low != high:  # a vague phrase or a range
        if mod in (*APPROX, *NEARLY):
            return ReportedValue(low, high, "interval", value)
        if mod in (*AT_LEAST, *MORE_THAN):
            return ReportedValue(low, math.inf, "lower_bound", value)
        return ReportedValue(0.0, high, "upper_bound", value)
    n = low
    if mod in APPROX:
        tol = max(APPROXIMATE_RELATIVE_TOLERANCE * n, APPROXIMATE_MIN_TOLERANCE)
        return ReportedValue(max(n - tol, 0.0), n + tol, "interval", value)
    if mod in NEARLY:
        return ReportedValue(0.9 * n, n, "interval", value)
    if mod in AT_LEAST:
        return ReportedValue(n, math.inf, "lower_bound", value)
    if mod in MORE_THAN:
        return ReportedValue(n + 1, math.inf, "lower_bound", value)
    if mod in AT_MOST:
        return ReportedValue(0.0, n, "upper_bound", value)
    return ReportedValue(0.0, max(n - 1, 0.0), "upper_bound", value)  # FEWER_THAN


def parse_value(value, lexicon: dict[str, tuple[float, float]] | None = None) -> ReportedValue:
    """Turn a config ``value`` (number, [low, high], {at_least: N}, {at_most: N} or phrase) into an
    interval. Raises :class:`VaguePhraseError` with the accepted forms when it cannot.

    >>> [(v.low, v.high) for v in map(parse_value, ("about 1 million", "around 1.0 million"))]
    [(900000.0, 1100000.0), (900000.0, 1100000.0)]
    >>> parse_value("between 2,000 and 3,000").count_bounds()
    (2000, 3000)
    """
    lex = dict(DEFAULT_LEXICON)
    if lexicon:
        lex.update({k.lower().strip(): tuple(v) for k, v in lexicon.items()})
    if isinstance(value, bool):
        raise VaguePhraseError(f"expected a number or phrase, got {value!r}; accepted: {_ACCEPTED}")
    if isinstance(value, int | float):
        if value < 0:
            raise VaguePhraseError(f"a reported figure cannot be negative ({value})")
        return ReportedValue(float(value), float(value), "exact", str(value))
    if isinstance(value, list | tuple):
        if len(value) != 2 or not all(isinstance(v, int | float) for v in value):
            raise VaguePhraseError(f"a range must be [low, high] with two numbers, got {value!r}")
        low, high = float(value[0]), float(value[1])
        if not 0 <= low <= high:
            raise VaguePhraseError(f"a range needs 0 <= low <= high, got {value!r}")
        return ReportedValue(low, high, "interval", f"{value[0]}–{value[1]}")
    if isinstance(value, dict):
        if set(value) == {"at_least"}:
            return ReportedValue(float(value["at_least"]), math.inf, "lower_bound", f"at least {value['at_least']}")
        if set(value) == {"at_most"}:
            return ReportedValue(0.0, float(value["at_most"]), "upper_bound", f"at most {value['at_most']}")
        raise VaguePhraseError(f"a bound must be {{at_least: N}} or {{at_most: N}}, got {value!r}")
    if not isinstance(value, str):
        raise VaguePhraseError(f"expected a number, range, bound or phrase, got {value!r}; "
                               f"accepted: {_ACCEPTED}")
    read = _read_phrase(normalise(value), lex)
    if read is None:
        raise VaguePhraseError(
            f"cannot read {value!r}; accepted: {_ACCEPTED}; known phrases: "
            f"{', '.join(sorted(lex))} (add new phrases under 'lexicon:' in the config)")
    return _apply(*read, value)
