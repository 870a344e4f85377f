"""The backtest's statistics, numpy and pandas only: per-forecast scores, the score table, CRPS
ratios with a moving-block bootstrap over origins, coverage of central intervals and PIT
histograms. Plots (:mod:`models.evaluation.backtest.plots`) draw these, they compute nothing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.evaluation.scoring import (
    SUMMARY_METRICS,
    coverage,
    pit_histogram,
    score_samples,
    summarise_scores,
)
from models.inference.monthly import MODEL_NAME

__all__ = ["BOOTSTRAP_BLOCK", "NOMINAL_LEVELS", "SCORE_COLUMNS", "BacktestStatistics",
           "backtest_statistics", "block_bootstrap_indices", "coverage_curve", "crps_ratios",
           "pit_histograms", "score_forecast", "scores_table"]

SCORE_COLUMNS = ("model", "horizon", "metric", "value")
NOMINAL_LEVELS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
"""Central-interval levels of the coverage-vs-nominal curve."""
BOOTSTRAP_BLOCK = 12
"""Origins per block of the moving-block bootstrap of the CRPS ratios (12 monthly origins)."""


def score_forecast(samples: np.ndarray, observed: pd.Series, *,
                   rng: np.random.Generator) -> pd.DataFrame:
    """Scores of one model's forecast at one origin: ``samples`` ``(draws, H)``, ``observed``
    indexed by horizon (:func:`models.evaluation.backtest.loop.outcomes_after`). One row per
    observed horizon: ``horizon``, the metrics of :func:`models.evaluation.scoring.score_samples`
    and ``covered_<level>`` for :data:`NOMINAL_LEVELS`."""
    per_h = samples[:, observed.index.to_numpy() - 1].T  # (horizons scored, draws)
    y = observed.to_numpy()
    s = score_samples(per_h, y, rng=rng)
    for level in NOMINAL_LEVELS:
        s[f"covered_{level:g}"] = coverage(per_h, y, level)
    s.insert(0, "horizon", observed.index.to_numpy())
    return s


def scores_table(forecast_scores: pd.DataFrame) -> pd.DataFrame:
    """Mean of each metric over origins per model and horizon: columns exactly
    ``model, horizon, metric, value`` (models in the order they appear)."""
    long = summarise_scores(forecast_scores, by=["model", "horizon"])
    order = {m: i for i, m in enumerate(pd.unique(forecast_scores["model"]))}
    metric_order = {m: i for i, m in enumerate(SUMMARY_METRICS)}
    long = long.sort_values(["model", "horizon", "metric"],
                            key=lambda c: c.map(order) if c.name == "model"
                            else c.map(metric_order) if c.name == "metric" else c)
    return long[list(SCORE_COLUMNS)].reset_index(drop=True)


def block_bootstrap_indices(n: int, block: int, n_boot: int, rng: np.random.Generator):
    """Moving-block bootstrap of ``n`` consecutive origins: ``(n_boot, n)`` index arrays built
    from blocks of ``block`` consecutive origins (forecasts from nearby origins overlap, so
    resampling single origins would understate the uncertainty)."""
    block = max(1, min(block, n))
    n_blocks = -(-n // block)
    starts = rng.integers(0, n - block + 1, size=(n_boot, n_blocks))
    idx = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(n_boot, -1)
    return idx[:, :n]


def crps_ratios(forecast_scores: pd.DataFrame, reference: str, *, model: str = MODEL_NAME,
                block: int = BOOTSTRAP_BLOCK, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Mean CRPS of ``model`` / mean CRPS of ``reference`` per horizon over the same origins,
    with a 90% moving-block bootstrap interval over origins (paired: both models' CRPS of a
    resampled origin enter together). Columns ``horizon, ratio, low, high, n``; below 1 means
    ``model`` is better."""
    wide = forecast_scores.pivot_table(index=["origin", "horizon"], columns="model",
                                       values="crps")[[model, reference]].dropna()
    rng = np.random.default_rng(seed)
    out = []
    for h, g in wide.groupby(level="horizon"):
        ours, ref = g[model].to_numpy(), g[reference].to_numpy()
        idx = block_bootstrap_indices(len(g), block, n_boot, rng)
        with np.errstate(divide="ignore", invalid="ignore"):
            boot = ours[idx].sum(1) / ref[idx].sum(1)
            ratio = ours.sum() / ref.sum()
        # With fewer than two blocks of origins the bootstrap has nothing to resample.
        low, high = (np.nanquantile(boot, [0.05, 0.95]) if len(g) >= 2 * block
                     else (np.nan, np.nan))
        out.append({"horizon": int(h), "ratio": ratio, "low": low, "high": high, "n": len(g)})
    return pd.DataFrame(out)


def coverage_curve(forecast_scores: pd.DataFrame) -> pd.DataFrame:
    """Empirical coverage of central intervals at :data:`NOMINAL_LEVELS`, per model
    (all horizons pooled): columns ``model, nominal, coverage``."""
    cols = [f"covered_{lv:g}" for lv in NOMINAL_LEVELS]
    means = forecast_scores.groupby("model", sort=False)[cols].mean()
    long = means.reset_index().melt(id_vars="model", var_name="nominal", value_name="coverage")
    long["nominal"] = long["nominal"].str.removeprefix("covered_").astype(float)
    return long


def pit_histograms(forecast_scores: pd.DataFrame, models, *, positive_only: bool = False,
                   n_bins: int = 10) -> dict[str, np.ndarray]:
    """Non-randomised PIT histogram (bin shares) per model, of all outcomes or of the outcomes
    above zero (``positive_only``)."""
    out = {}
    for name in models:
        g = forecast_scores[forecast_scores["model"] == name]
        if positive_only:
            g = g[g["observed"] > 0]
        out[name] = pit_histogram(g["pit_lower"].to_numpy(), g["pit_upper"].to_numpy(), n_bins)
    return out


@dataclass
class BacktestStatistics:
    """Everything the plots and the summary show, computed once from a backtest result."""

    scores: pd.DataFrame
    """:func:`scores_table`."""
    ratios: dict[str, pd.DataFrame]
    """Benchmark -> :func:`crps_ratios` of our model to it."""
    coverage: pd.DataFrame
    """:func:`coverage_curve`."""
    pit_all: dict[str, np.ndarray]
    pit_positive: dict[str, np.ndarray]
    """PIT histograms of our model and conflictology (all outcomes; outcomes > 0)."""
    n_all: int
    n_positive: int
    """Our model's outcomes scored, all and above zero."""
    reference: str
    """The benchmark the CRPS plot compares with (conflictology if run)."""


def backtest_statistics(result) -> BacktestStatistics:
    """The statistics of a backtest, ``result`` a
    :class:`models.evaluation.backtest.loop.BacktestResult` (not imported: the loop imports
    this module). Bootstrap seeded with the run seed, blocks of :data:`BOOTSTRAP_BLOCK`."""
    fs = result.forecast_scores
    benchmarks = list(result.settings.benchmarks)
    ratios = {b: crps_ratios(fs, b, block=BOOTSTRAP_BLOCK, seed=result.settings.seed)
              for b in benchmarks}
    pit_models = [MODEL_NAME] + [b for b in ("conflictology",) if b in benchmarks]
    ours = fs[fs["model"] == MODEL_NAME]
    return BacktestStatistics(
        scores=scores_table(fs), ratios=ratios, coverage=coverage_curve(fs),
        pit_all=pit_histograms(fs, pit_models),
        pit_positive=pit_histograms(fs, pit_models, positive_only=True),
        n_all=len(ours), n_positive=int((ours["observed"] > 0).sum()),
        reference="conflictology" if "conflictology" in ratios else benchmarks[0])
