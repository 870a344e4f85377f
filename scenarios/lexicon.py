"""Vague phrases in reports, turned into explicit intervals.

Reports say "dozens", "tens of thousands", "around 4 million", "at least 56". The models need
numbers, so every phrase maps to an interval through ONE documented lexicon; a scenario config can
add or override entries under ``lexicon:``. The choices below are deliberately wide readings of
common usage in conflict reporting (ReliefWeb, OCHA flash updates, wire copy):

========================  =====================  ==================================================
phrase                    interval               reading
========================  =====================  ==================================================
a few                     [2, 9]                 more than one, fewer than ten
several                   [3, 9]
dozens                    [20, 99]               two dozen upward, below "hundreds"
scores                    [40, 199]              "scores of" = multiples of twenty
hundreds                  [200, 999]
thousands                 [2,000, 9,999]
tens of thousands         [10,000, 99,999]       loose usage includes 10-20 thousand
hundreds of thousands     [200,000, 999,999]
millions                  [2,000,000, 9,999,999]
========================  =====================  ==================================================

Numbers with a modifier:

* ``approximately|around|about|roughly|some|an estimated N [thousand|million]``: N plus or minus the
  larger of 10% and half the unit of the last stated digit ("around 4 million" -> [3.5 M, 4.5 M],
  "approximately 25" -> [22.5, 27.5], i.e. counts 23 to 27);
* ``nearly|almost N``: [0.9 N, N];
* ``at least N`` / ``more than|over N``: lower bound N (resp. above N);
* ``up to|at most N`` / ``fewer than|less than|under N``: upper bound.

A bare number is exact. Counts (deaths, displaced people) are integers, so interval ends are
rounded inwards by :meth:`ReportedValue.count_bounds`.
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

_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9}
_APPROX = ("approximately", "around", "about", "roughly", "some", "an estimated", "an estimate of")
_NEARLY = ("nearly", "almost")
_AT_LEAST = ("at least", "no fewer than", "no less than")
_MORE_THAN = ("more than", "over", "above", "upwards of")
_AT_MOST = ("up to", "at most", "no more than")
_FEWER_THAN = ("fewer than", "less than", "under", "below")

_NUMBER = re.compile(
    r"^(?P<mod>[a-z ]*?)\s*(?P<num>\d[\d,]*(?:\.\d+)?)\s*(?P<scale>thousand|million|billion)?"
    r"(?:\s+(?:people|persons|individuals|civilians|deaths|dead))?$"
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


class VaguePhraseError(ValueError):
    pass


def _last_digit_unit(num_text: str, scale: float) -> float:
    """Unit of the last stated digit: '25' -> 1, '4' million -> 1e6, '2.5' million -> 1e5, '4,000' -> 1000."""
    digits = num_text.replace(",", "")
    if "." in digits:
        return scale * 10.0 ** -len(digits.split(".")[1])
    stripped = digits.rstrip("0")
    return scale * 10.0 ** (len(digits) - len(stripped))


def parse_value(value, lexicon: dict[str, tuple[float, float]] | None = None) -> ReportedValue:
    """Turn a config ``value`` (number, [low, high], {at_least: N}, {at_most: N} or phrase) into an
    interval. Raises :class:`VaguePhraseError` with the accepted forms when it cannot."""
    lex = dict(DEFAULT_LEXICON)
    if lexicon:
        lex.update({k.lower().strip(): tuple(v) for k, v in lexicon.items()})
    if isinstance(value, bool):
        raise VaguePhraseError(f"expected a number or phrase, got {value!r}")
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
        raise VaguePhraseError(f"expected a number, range, bound or phrase, got {value!r}")

    text = " ".join(value.lower().replace("-", " ").split())
    if text in lex:
        low, high = lex[text]
        return ReportedValue(float(low), float(high), "interval", value)
    m = _NUMBER.match(text)
    if m is None:
        raise VaguePhraseError(
            f"unknown phrase {value!r}; known phrases: {', '.join(sorted(lex))}; or a number with "
            "'approximately', 'around', 'nearly', 'at least', 'more than', 'up to' (add new phrases "
            "under 'lexicon:' in the config)"
        )
    mod, num_text = m["mod"].strip(), m["num"]
    scale = _SCALES[m["scale"]] if m["scale"] else 1.0
    n = float(num_text.replace(",", "")) * scale
    if mod == "":
        return ReportedValue(n, n, "exact", value)
    if mod in _APPROX:
        tol = max(APPROXIMATE_RELATIVE_TOLERANCE * n, 0.5 * _last_digit_unit(num_text, scale))
        return ReportedValue(max(n - tol, 0.0), n + tol, "interval", value)
    if mod in _NEARLY:
        return ReportedValue(0.9 * n, n, "interval", value)
    if mod in _AT_LEAST:
        return ReportedValue(n, math.inf, "lower_bound", value)
    if mod in _MORE_THAN:
        return ReportedValue(n + 1, math.inf, "lower_bound", value)
    if mod in _AT_MOST:
        return ReportedValue(0.0, n, "upper_bound", value)
    if mod in _FEWER_THAN:
        return ReportedValue(0.0, n - 1, "upper_bound", value)
    raise VaguePhraseError(f"unknown modifier {mod!r} in {value!r}")
