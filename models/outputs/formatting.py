"""How numbers are written, everywhere: tables, tick labels, the CLI, reports and summaries.

Monte Carlo counts carry about three significant digits, so tables round to them; tick labels
keep the round numbers the locator chose and write millions compactly ("1.25 M") so they fit a
slide-size panel. Scores and ratios are written with a fixed number of decimals.
"""

from __future__ import annotations

import math

__all__ = ["format_count", "format_decimal", "format_interval90", "round_sig"]


def round_sig(x: float, digits: int = 3) -> float:
    """``x`` rounded to ``digits`` significant digits (Monte Carlo numbers carry no more)."""
    if not math.isfinite(x) or x == 0:
        return x
    return round(x, digits - 1 - math.floor(math.log10(abs(x))))


def format_count(x: float, *, digits: int | None = 3, compact: bool = False) -> str:
    """A count of people: ``digits`` significant digits (None: as given), thousands separators
    ("25,000"); with ``compact``, millions with up to two decimals ("1.25 M", for tick labels).
    An infinite upper value reads "no upper bound", a missing one "n/a".

    >>> format_count(12345.6)
    '12,300'
    >>> format_count(1_250_000, digits=None, compact=True)
    '1.25 M'
    """
    if not math.isfinite(x):
        return "no upper bound" if x > 0 else "n/a"
    x = round_sig(float(x), digits) if digits else float(x)
    if compact and abs(x) >= 1e6:
        return f"{x / 1e6:,.2f}".rstrip("0").rstrip(".") + " M"
    return f"{x:,.0f}"


def format_decimal(x: float, digits: int = 3) -> str:
    """A score, ratio or share with ``digits`` decimals ("n/a" when not finite).

    >>> format_decimal(0.61234, 2)
    '0.61'
    """
    return "n/a" if not math.isfinite(x) else f"{x:.{digits}f}"


def format_interval90(spec) -> str:
    """A config distribution as its central 90% interval, e.g. ``0.6 to 1.6 (90%)``."""
    lo, hi = spec.interval90()
    return f"{lo:.3g} to {hi:.3g} (90%)"
