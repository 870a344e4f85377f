"""Proper scores of sample forecasts, with the ViEWS prediction-challenge conventions.

Every function takes ``samples`` of shape ``(n_obs, n_samples)`` (one row = the forecast draws
for one observation) and ``observed`` of shape ``(n_obs,)``, in the outcome's own units (people
killed or displaced), and returns one value per observation. Lower scores are better, except
coverage (a rate to compare with the nominal level) and PIT values (uniform when calibrated).

Scores and where each definition comes from
-------------------------------------------
* ``crps``: CRPS of the empirical distribution of the samples, ``E|X - y| - E|X - X'|/2``,
  computed by :func:`scoringrules.crps_ensemble` (quantile-decomposition estimator, identical to
  the energy form). The ViEWS 2023/24 challenge scores CRPS the same way (``xskillscore`` /
  ``properscoring.crps_ensemble`` in ``prio-data/prediction_competition_2023``,
  ``evaluation/CompetitionEvaluation.py``). Units: those of the outcome (people).
* ``log_score``: negative log predictive density from a Gaussian kernel density of the samples,
  :func:`scoringrules.logs_ensemble` (nats). Computed on ``log1p`` scale by default, because
  deaths and displacement are zero-inflated and heavy-tailed (a kernel on the raw scale puts
  mass on negative counts); the bandwidth is Silverman's rule as in scoringrules, floored at
  ``min_bandwidth`` (a forecast with all draws equal would otherwise have zero bandwidth and an
  infinite score), and scores are truncated at ``max_log_score`` (10 nats), as the CDC
  forecast hubs truncate log scores at -10, so one surprise cannot make a mean infinite.
* ``binned_log_score``: the ViEWS challenge's "ignorance score" (bits): draws and the outcome
  are put in bins ``[e_k, e_{k+1})``; the probability of the outcome's bin is
  ``(count + 1) / (n_samples + n_bins)``, i.e. one pseudo-draw is added to every bin so an
  empty bin has a small, finite probability; the score is ``-log2`` of it. This follows
  ``ensemble_ignorance_score`` in ``prio-data/prediction_competition_2023``
  (``evaluation/IgnoranceScore.py``: ``np.digitize(..., right=False) - 1`` and "Append one
  observation in each bin-category to the forecasts to prevent 0 probability"), with the bin
  edges of ``evaluation/evaluate_submissions.py``: 0, 0.5, 2.5, 5.5, 10.5, 25.5, 50.5, 100.5,
  250.5, 500.5, 1000.5 and an open top bin (:data:`DEATH_BINS`). Because of the pseudo-draws,
  the score depends on ``n_samples``: compare models only at equal ``n_samples`` (ViEWS
  required 1000), and on the bins: compare scores only on the same bins.
  These edges were made for monthly counts. Episode totals (cumulative deaths and displacement
  since the episode start, and the displaced stock) run into the thousands to millions, where
  every ViEWS bin but the top one is empty and every forecast above 1000 gets the same score;
  those are scored on :data:`CUMULATIVE_BINS` instead (half-decade bins from 1 to 10^8).
* ``mis_90``: interval score of the central 90% interval (Gneiting & Raftery 2007), via
  :func:`scoringrules.interval_score`; its mean over observations is the ViEWS challenge's
  "mean interval score" (``IntervalScore.py`` there, ``prediction_interval_level=0.9`` in
  ``evaluate_submissions.py``). Interval ends are sample quantiles (``np.quantile``, linear
  interpolation, as ViEWS). ``interval_score_50`` is the same at 50%. Units: people.
* ``coverage_50``, ``coverage_90``: 1 if the outcome lies in the central 50% / 90% interval
  (ends included), else 0.
* ``pit``: randomized probability integral transform for counts (Czado, Gneiting & Held 2009,
  Biometrics 65:1254): ``F(y-) + V (F(y) - F(y-))`` with ``V ~ U(0, 1)`` and ``F`` the empirical
  CDF of the samples; uniform on (0, 1) when the forecast is calibrated. ``pit_lower = F(y-)``
  and ``pit_upper = F(y)`` give the non-randomized PIT histogram (:func:`pit_histogram`).

Censored outcomes (only a set ``[low, high]`` is known: a reported range, "at least low" with
``high = inf``, "at most high" with ``low = 0``) have no point value, so the scores above, which
need one, are not defined for them. For these:

* ``prob_in_set``: the forecast probability of the set, the share of draws in it (ends
  included), e.g. ``P(X >= 900)``.
* ``censored_log_score``: ``-log2`` of that probability with one pseudo-draw inside the set and
  one outside, ``(k + 1) / (n + 2)`` (bits). This is the log score of the censored observation
  (its likelihood is the probability of the set), proper for it as long as which set gets
  reported does not depend on the forecast (censoring at random). A lower bound cannot penalise
  a forecast that is too high, only one that is too low; an upper bound the reverse.
* ``consistent_with_interval``: 1 if the set meets the central interval (the outcome may lie in
  it), 0 if it lies wholly outside (a certain miss). Equal to ``coverage`` for an exact outcome;
  for censored ones its mean is an upper bound on coverage.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "CUMULATIVE_BINS",
    "DEATH_BINS",
    "DISPLACEMENT_BINS",
    "METRICS",
    "binned_log_score",
    "censored_log_score",
    "consistent_with_interval",
    "coverage",
    "crps",
    "interval_bounds",
    "interval_score",
    "log_score",
    "pit",
    "pit_bounds",
    "pit_histogram",
    "prob_in_set",
    "score_samples",
    "summarise_scores",
]

DEATH_BINS = (0.0, 0.5, 2.5, 5.5, 10.5, 25.5, 50.5, 100.5, 250.5, 500.5, 1000.5, np.inf)
"""ViEWS 2023/24 challenge bin edges for monthly deaths (11 bins: {0}, 1-2, 3-5, 6-10, 11-25,
26-50, 51-100, 101-250, 251-500, 501-1000, >1000)."""

DISPLACEMENT_BINS = (
    *DEATH_BINS[:-1],
    2500.5, 5000.5, 10000.5, 25000.5, 50000.5, 100000.5, 250000.5, 500000.5, 1_000_000.5,
    np.inf,
)
"""Our upward extension of :data:`DEATH_BINS` for displacement (people): the ViEWS edges
continue in the same 1-2.5-5 steps per decade up to one million, then an open top bin (20 bins).
Not a ViEWS convention (ViEWS scores deaths only); chosen so that displacement counts of a
city-scale offensive (10^4-10^6 people) fall in distinct bins rather than all in the top one."""

CUMULATIVE_BINS = (0.0, 0.5, *(10.0 ** (k / 2) for k in range(1, 17)), np.inf)
"""Bin edges for episode totals (cumulative counts since the episode start, and the displaced
stock): a zero bin ``[0, 0.5)``, ``[0.5, 10^0.5)``, then one bin per half decade
``[10^(k/2), 10^((k+1)/2))`` up to ``10^8``, and an open top bin ``>= 10^8`` (18 bins). For
whole numbers: {0}, 1-3, 4-9, 10-31, 32-99, 100-316, 317-999, 1000-3162, 3163-9999, ...

Why these: equal widths on the log scale score an error by a given factor alike at every size
(a forecast of 300 for an outcome of 3000 as one of 30,000 for 300,000), which the ViEWS edges
(made for monthly counts, open above 1000) cannot do for totals in the thousands. A half decade
(a factor of 3.16) is our choice of width: reported totals of one episode often differ by a
factor of two or so, so finer bins would mostly score reporting noise, and it leaves a forecast
of 1000 draws many draws in each bin it occupies; a decade per bin would put forecasts a factor
of three apart in one bin. 10^8 is above any population concerned. Not a ViEWS convention."""

METRICS = ("crps", "log_score", "binned_log_score", "mis_90", "interval_score_50",
           "coverage_50", "coverage_90", "pit")
"""Per-observation metrics of :func:`score_samples` (it also returns ``pit_lower``/``pit_upper``)."""

MAX_LOG_SCORE = 10.0
"""Truncation of the kernel log score (nats), see the module docstring."""


def _sr():
    """scoringrules, imported on first use: it compiles its numba kernels at import (~3 s of
    CPU), which a command that stops at bad input should not pay."""
    import scoringrules

    return scoringrules


def _check(samples, observed) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(samples, dtype=float)
    y = np.asarray(observed, dtype=float)
    if x.ndim == 1:
        x = x[None, :]
    if y.ndim == 0:
        y = y[None]
    if x.ndim != 2 or y.ndim != 1 or x.shape[0] != y.shape[0]:
        raise ValueError(f"samples must be (n_obs, n_samples) and observed (n_obs,); got "
                         f"{np.shape(samples)} and {np.shape(observed)}")
    if x.shape[1] < 2:
        raise ValueError(f"need at least 2 samples per observation, got {x.shape[1]}")
    if not np.all(np.isfinite(x)):
        raise ValueError("samples contain NaN or infinite values")
    if not np.all(np.isfinite(y)):
        raise ValueError("observed contains NaN or infinite values")
    return x, y


def _alpha(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError(f"interval level must be in (0, 1), got {level}")
    return 1.0 - level


# --- CRPS and log scores ----------------------------------------------------------------------


def crps(samples, observed) -> np.ndarray:
    """CRPS of the samples' empirical distribution at each outcome (units of the outcome)."""
    x, y = _check(samples, observed)
    return np.asarray(_sr().crps_ensemble(y, np.sort(x, axis=1), estimator="qd",
                                       sorted_ensemble=True), dtype=float)


def _silverman_bandwidth(x: np.ndarray) -> np.ndarray:
    """Silverman's rule of thumb, exactly as :func:`scoringrules.logs_ensemble` computes it."""
    q75, q25 = np.quantile(x, [0.75, 0.25], axis=1)
    # scoringrules' numpy backend uses the sample sd (ddof=1)
    sd = x.std(axis=1, ddof=1)
    return 1.06 * np.minimum(sd, (q75 - q25) / 1.34) * x.shape[1] ** (-1 / 5)


def log_score(samples, observed, *, scale: str = "log1p", min_bandwidth: float = 0.05,
              max_score: float = MAX_LOG_SCORE) -> np.ndarray:
    """Kernel-density log score (nats), via :func:`scoringrules.logs_ensemble`.

    ``scale="log1p"`` (default) scores ``log(1 + y)`` against ``log(1 + samples)``;
    ``"identity"`` scores the raw values. ``min_bandwidth`` (in units of that scale: 0.05 on
    ``log1p`` is a 5% relative width) floors Silverman's bandwidth; scores above ``max_score``
    (including density underflow, an infinite score) are set to ``max_score``.
    """
    x, y = _check(samples, observed)
    if scale == "log1p":
        if np.any(x < 0) or np.any(y < 0):
            raise ValueError("log1p scale needs non-negative samples and outcomes")
        x, y = np.log1p(x), np.log1p(y)
    elif scale != "identity":
        raise ValueError(f"scale must be 'log1p' or 'identity', got {scale!r}")
    bw = np.maximum(_silverman_bandwidth(x), min_bandwidth)
    # Far outside the draws the kernel density underflows to 0 (score inf): truncated below.
    with np.errstate(divide="ignore", under="ignore"):
        s = np.asarray(_sr().logs_ensemble(y, x, bw=bw, backend="numpy"), dtype=float)
    return np.minimum(s, max_score)


def _bin_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin k holds edges[k] <= v < edges[k+1] (``np.digitize(v, edges, right=False) - 1``)."""
    return np.searchsorted(edges, values, side="right") - 1


def binned_log_score(samples, observed, bins: Sequence[float] = DEATH_BINS) -> np.ndarray:
    """ViEWS ignorance score (bits): ``-log2((count in outcome's bin + 1) / (n + n_bins))``.

    ``bins`` are increasing edges; the last may be ``inf`` (open top bin). Values below the
    first edge or at/above a finite last edge are an error, since ViEWS's bins cover all counts.
    """
    x, y = _check(samples, observed)
    edges = np.asarray(bins, dtype=float)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError("bins must be at least two strictly increasing edges")
    n_bins = edges.size - 1
    top = edges[-1]
    if np.any(x < edges[0]) or np.any(y < edges[0]) or np.any(x >= top) or np.any(y >= top):
        raise ValueError(f"values outside the bins [{edges[0]:g}, {top:g})")
    k = _bin_index(y, edges)
    lo, hi = edges[k][:, None], edges[k + 1][:, None]
    in_bin = ((x >= lo) & (x < hi)).sum(axis=1)
    return -np.log2((in_bin + 1.0) / (x.shape[1] + n_bins))


# --- intervals --------------------------------------------------------------------------------


def interval_bounds(samples, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Ends of the central ``level`` interval: sample quantiles (1-level)/2 and (1+level)/2."""
    x = np.asarray(samples, dtype=float)
    a = _alpha(level)
    lower, upper = np.quantile(x, [a / 2, 1 - a / 2], axis=-1)
    return lower, upper


def interval_score(samples, observed, level: float = 0.9) -> np.ndarray:
    """Interval score of the central ``level`` interval (people), via scoringrules:
    ``(u - l) + (2/alpha)(l - y)[y < l] + (2/alpha)(y - u)[y > u]``, ``alpha = 1 - level``."""
    x, y = _check(samples, observed)
    lower, upper = interval_bounds(x, level)
    s = _sr().interval_score(y, lower, upper, _alpha(level), backend="numpy")
    return np.asarray(s, dtype=float).reshape(y.shape)  # scoringrules squeezes a single outcome


def coverage(samples, observed, level: float = 0.9) -> np.ndarray:
    """1.0 where the outcome lies in the central ``level`` interval (ends included), else 0.0."""
    x, y = _check(samples, observed)
    lower, upper = interval_bounds(x, level)
    return ((y >= lower) & (y <= upper)).astype(float)


# --- PIT --------------------------------------------------------------------------------------


def pit_bounds(samples, observed) -> tuple[np.ndarray, np.ndarray]:
    """``(F(y-), F(y))``: share of draws below, and at or below, each outcome."""
    x, y = _check(samples, observed)
    below = (x < y[:, None]).mean(axis=1)
    at_or_below = (x <= y[:, None]).mean(axis=1)
    return below, at_or_below


def pit(samples, observed, rng: np.random.Generator | int = 0) -> np.ndarray:
    """Randomized PIT ``F(y-) + V (F(y) - F(y-))``, ``V ~ U(0,1)`` drawn from ``rng`` (or a
    seed). Uniform on (0, 1) under calibration, also for counts with ties at the outcome."""
    lo, hi = pit_bounds(samples, observed)
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    return lo + gen.uniform(size=lo.shape) * (hi - lo)


def pit_histogram(pit_lower, pit_upper, n_bins: int = 10) -> np.ndarray:
    """Non-randomized PIT histogram (Czado, Gneiting & Held 2009): the share of PIT mass in
    each of ``n_bins`` equal bins of (0, 1) (edges ``np.linspace(0, 1, n_bins + 1)``).

    Each outcome spreads its PIT uniformly over ``[F(y-), F(y)]`` (a point mass when the two are
    equal), so the histogram is deterministic; a calibrated forecast gives ``1 / n_bins`` in
    every bin. Pass the bounds of a subset (e.g. ``observed > 0``) for a conditional histogram.
    """
    lo = np.asarray(pit_lower, dtype=float)[:, None]
    hi = np.asarray(pit_upper, dtype=float)[:, None]
    if lo.size == 0:
        return np.full(n_bins, np.nan)
    u = np.linspace(0.0, 1.0, n_bins + 1)[None, :]
    width = hi - lo
    with np.errstate(divide="ignore", invalid="ignore"):
        ramp = np.clip((u - lo) / width, 0.0, 1.0)
    cdf = np.where(width > 0, ramp, (u >= hi).astype(float))
    # A point mass at exactly 0 (or 1) belongs to the first (last) bin: pin the CDF's ends.
    cdf[:, 0], cdf[:, -1] = 0.0, 1.0
    return np.diff(cdf.mean(axis=0))


# --- censored outcomes ------------------------------------------------------------------------


def _check_set(samples, low, high) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Samples ``(n_obs, n_samples)`` and the ends of each outcome's set ``[low, high]``, each
    ``(n_obs,)``: ``high = inf`` for "at least low", ``low = 0`` (or ``-inf``) for "at most
    high", ``low == high`` for an exact outcome."""
    lo = np.atleast_1d(np.asarray(low, dtype=float))
    hi = np.atleast_1d(np.asarray(high, dtype=float))
    if hi.shape != lo.shape:
        raise ValueError(f"low and high must have the same shape, got {lo.shape} and {hi.shape}")
    x, _ = _check(samples, np.zeros(lo.shape))
    if np.any(np.isnan(lo) | np.isnan(hi) | (lo == np.inf) | (hi == -np.inf)):
        raise ValueError("low and high must be numbers (low may be -inf, high +inf)")
    if np.any(lo > hi):
        raise ValueError("low is above high")
    return x, lo, hi


def prob_in_set(samples, low, high) -> np.ndarray:
    """The forecast probability of the reported set ``[low, high]`` (ends included): the share
    of draws in it. ``high = inf`` gives ``P(X >= low)``, ``low = 0`` gives ``P(X <= high)``."""
    x, lo, hi = _check_set(samples, low, high)
    return ((x >= lo[:, None]) & (x <= hi[:, None])).mean(axis=1)


def censored_log_score(samples, low, high) -> np.ndarray:
    """Log score of a censored outcome (bits): ``-log2((k + 1) / (n + 2))``, ``k`` of the ``n``
    draws in ``[low, high]``.

    The negative log of the forecast probability of the set the outcome is known to lie in,
    i.e. the log score of the interval-censored observation (the censored likelihood). The
    probability is estimated from the draws with one pseudo-draw inside the set and one outside
    (the two-category form of the ViEWS one-pseudo-draw-per-bin rule), so a set without draws
    scores ``log2(n + 2)``, finite, and a set holding every draw a little above 0.
    """
    x, lo, hi = _check_set(samples, low, high)
    k = ((x >= lo[:, None]) & (x <= hi[:, None])).sum(axis=1)
    return -np.log2((k + 1.0) / (x.shape[1] + 2.0))


def consistent_with_interval(samples, low, high, level: float = 0.9) -> np.ndarray:
    """1.0 where the set ``[low, high]`` meets the central ``level`` interval ``[l, u]`` (the
    outcome may lie inside it), 0.0 where it lies wholly outside (a certain miss: ``low > u`` or
    ``high < l``). For an exact outcome (``low == high``) this is :func:`coverage`; averaged over
    censored outcomes it is an upper bound on the coverage the exact outcomes would show."""
    x, lo, hi = _check_set(samples, low, high)
    lower, upper = interval_bounds(x, level)
    return ((lo <= upper) & (hi >= lower)).astype(float)


# --- all at once ------------------------------------------------------------------------------


def score_samples(samples, observed, *, bins: Sequence[float] = DEATH_BINS,
                  rng: np.random.Generator | int = 0, log_scale: str = "log1p") -> pd.DataFrame:
    """All per-observation scores of sample forecasts, one row per observation.

    Columns: ``observed`` and :data:`METRICS` (``crps, log_score, binned_log_score, mis_90,
    interval_score_50, coverage_50, coverage_90, pit``) plus ``pit_lower, pit_upper``.
    ``bins``: :data:`DEATH_BINS` for monthly deaths, :data:`DISPLACEMENT_BINS` for monthly
    displacement, :data:`CUMULATIVE_BINS` for episode totals (cumulative counts, the stock).
    ``rng`` (generator or seed) draws the PIT randomization. Averages over rows give the usual
    summaries (mean CRPS, MIS, empirical coverage); see :func:`summarise_scores`.
    """
    x, y = _check(samples, observed)
    lo, hi = pit_bounds(x, y)
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    return pd.DataFrame({
        "observed": y,
        "crps": crps(x, y),
        "log_score": log_score(x, y, scale=log_scale),
        "binned_log_score": binned_log_score(x, y, bins),
        "mis_90": interval_score(x, y, 0.9),
        "interval_score_50": interval_score(x, y, 0.5),
        "coverage_50": coverage(x, y, 0.5),
        "coverage_90": coverage(x, y, 0.9),
        "pit": lo + gen.uniform(size=lo.shape) * (hi - lo),
        "pit_lower": lo,
        "pit_upper": hi,
    })


SUMMARY_METRICS = ("crps", "log_score", "binned_log_score", "mis_90", "interval_score_50",
                   "coverage_50", "coverage_90")


def summarise_scores(scores: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """Mean of each summary metric per group, long format: ``*by, metric, value`` (plus ``n``,
    the number of observations averaged). ``mis_90``'s mean is the ViEWS MIS; coverage means are
    empirical coverage rates. PIT values are not averaged (use :func:`pit_histogram`)."""
    by = list(by)
    metrics = [m for m in SUMMARY_METRICS if m in scores.columns]
    if by:
        grouped = scores.groupby(by, sort=True)
        means = grouped[metrics].mean()
        means["n"] = grouped.size()
        long = means.reset_index().melt(id_vars=[*by, "n"], value_vars=metrics,
                                        var_name="metric", value_name="value")
        return long[[*by, "metric", "value", "n"]].sort_values([*by, "metric"],
                                                                ignore_index=True)
    return pd.DataFrame({"metric": metrics, "value": [scores[m].mean() for m in metrics],
                         "n": len(scores)})
