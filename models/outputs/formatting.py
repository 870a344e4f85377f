"""How numbers are written, everywhere: tables, tick labels, the CLI, reports and summaries.

Monte Carlo counts carry about three significant digits, so tables round to them; tick labels
keep the round numbers the locator chose and write millions compactly ("1.25 M") so they fit a
slide-size panel. Scores and ratios are written with a fixed number of decimals.
"""

from __future__ import annotations

import math

__all__ = ["format_count", "format_counts", "format_decimal", "format_interval90",
           "round_sig"]


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


def _decimals(values, most: int = 3) -> int:
    """Fewest decimals (up to ``most``) that write every value exactly."""
    for d in range(most + 1):
        if all(abs(v * 10**d - round(v * 10**d)) < 1e-6 * max(1.0, abs(v * 10**d))
               for v in values):
            return d
    return most


def format_counts(values, *, same_decimals: bool = True) -> list[str]:
    """One format for a set of counts (the tick labels of one axis): all in millions ("0.5 M",
    "1.0 M") when the largest is a million or more, else with thousands separators ("250,000");
    with ``same_decimals`` every label has the same number of decimals (a linear axis), else
    each the fewest it needs (a log axis: "0.03 M", "0.1 M", "1 M"). Zero is "0".

    >>> format_counts([0, 500_000, 1_000_000, 1_500_000])
    ['0', '0.5 M', '1.0 M', '1.5 M']
    >>> format_counts([30_000, 100_000, 1_000_000, 3_000_000], same_decimals=False)
    ['0.03 M', '0.1 M', '1 M', '3 M']
    >>> format_counts([0, 20_000, 40_000])
    ['0', '20,000', '40,000']
    """
    values = [float(v) for v in values]
    finite = [v for v in values if math.isfinite(v)]
    millions = bool(finite) and max(abs(v) for v in finite) >= 1e6
    scale, unit = (1e6, " M") if millions else (1.0, "")
    scaled = [v / scale for v in finite]
    shared = _decimals(scaled)
    out = []
    for v in values:
        if not math.isfinite(v):
            out.append(format_count(v))
            continue
        if v == 0:
            out.append("0")
            continue
        x = v / scale
        d = shared if same_decimals else _decimals([x])
        out.append(f"{x:,.{d}f}{unit}")
    return out


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
