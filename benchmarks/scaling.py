"""How the Monte Carlo engine's cost grows: time and peak memory for draws 1,000 -> 100,000 (at
a 90-day horizon) and horizons 30 -> 365 days (at 10,000 draws), 4 scenarios plus the mixture,
each point in a fresh process (:func:`benchmarks.mc.measure_memory`, reduced to daily 5/50/95%
quantiles), median over repetitions.

Growth is summarised by the slope of log(cost) on log(size) (least squares over the points of
one axis): 1 is linear, below 1 means fixed costs still weigh at the small sizes, above 1 is
worse than linear. Memory includes the interpreter and its imports (the smallest run's peak is
reported as ``baseline_mb``); its slope is fitted on the peak above that baseline, so that it says
how the engine's own memory grows, and is None ("flat") when no point rises more than 150 MB
above it.
"""

from __future__ import annotations

import statistics

import numpy as np

DRAWS = (1_000, 3_000, 10_000, 30_000, 100_000)
HORIZONS = (30, 90, 180, 365)
DRAWS_AT_HORIZON = 90
HORIZON_AT_DRAWS = 10_000
FLAT_MB = 150


def loglog_slope(sizes, costs) -> float:
    """Least-squares slope of log(cost) on log(size); nan with fewer than two usable points."""
    x, y = np.log(np.asarray(sizes, float)), np.asarray(costs, float)
    ok = y > 0
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(x[ok], np.log(y[ok]), 1)[0])


def _point(draws: int, horizon: int, mode: str, repeats: int) -> dict:
    from benchmarks.mc import measure_memory

    reps = [measure_memory(draws=draws, horizon=horizon, mode=mode) for _ in range(repeats)]
    # seconds from the integer rate: measure_memory rounds seconds to 0.1 s
    secs = [r["draws"] * r["horizon_days"] * r["scenarios"] / r["path_days_per_s"] for r in reps]
    seconds = statistics.median(secs)
    return {"draws": draws, "horizon_days": horizon, "mode": mode,
            "seconds": round(seconds, 3), "peak_mb": round(statistics.median(r["peak_rss_mb"] for r in reps)),
            "ns_per_path_day": round(1e9 * seconds / (draws * horizon * reps[0]["scenarios"]), 1)}


def _axis(points: list[dict], key: str, baseline_mb: float) -> dict:
    """Slopes along one axis. The memory slope is None (flat) when no point rises more than
    ``FLAT_MB`` above the baseline: a slope of a few MB of noise would say nothing."""
    sizes = [p[key] for p in points]
    above = [p["peak_mb"] - baseline_mb for p in points]
    memory_slope = round(loglog_slope(sizes, above), 2) if max(above) > FLAT_MB else None
    return {"time_slope": round(loglog_slope(sizes, [p["seconds"] for p in points]), 2),
            "memory_slope": memory_slope, "points": points}


def measure(draws=DRAWS, horizons=HORIZONS, repeats: int = 3, corner: bool = True,
            in_memory_max_draws: int = 100_000, draws_at_horizon: int = DRAWS_AT_HORIZON,
            horizon_at_draws: int = HORIZON_AT_DRAWS, say=print) -> dict:
    """Scaling along draws and horizon in streaming mode (bounded memory), along draws also as
    ``models.run`` does it (every draw kept in memory, up to ``in_memory_max_draws``), and
    optionally the corner (largest draws x longest horizon, streaming)."""
    out: dict = {"repeats": repeats, "scenarios": 4, "draws_at_horizon": draws_at_horizon,
                 "horizon_at_draws": horizon_at_draws}

    def point(d, h, mode):
        p = _point(d, h, mode, repeats)
        say(f"  scaling {mode:<9} draws {d:>7,} x {h:>3} days: {p['seconds']:7.2f} s, "
            f"{p['peak_mb']:6,} MB, {p['ns_per_path_day']:6.1f} ns/path-day")
        return p

    along_draws = [point(d, draws_at_horizon, "streaming") for d in draws]
    along_horizon = [point(horizon_at_draws, h, "streaming") for h in horizons]
    in_memory = [point(d, draws_at_horizon, "in_memory") for d in draws if d <= in_memory_max_draws]
    baseline = min(p["peak_mb"] for p in along_draws + along_horizon + in_memory) - 1
    out["baseline_mb"] = baseline
    out["streaming_draws"] = _axis(along_draws, "draws", baseline)
    out["streaming_horizon"] = _axis(along_horizon, "horizon_days", baseline)
    out["in_memory_draws"] = _axis(in_memory, "draws", baseline)
    if corner:
        out["corner"] = point(max(draws), max(horizons), "streaming")
    return out
