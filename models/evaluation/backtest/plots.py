"""The backtest's figures, drawn from precomputed statistics
(:class:`models.evaluation.backtest.scores.BacktestStatistics`); nothing is computed here.
Each function returns a matplotlib ``Figure`` (not attached to pyplot, so no display is needed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from models.inference.monthly import MODEL_NAME

if TYPE_CHECKING:
    import pandas as pd

    from models.evaluation.backtest.scores import BacktestStatistics

__all__ = ["MODEL_COLOURS", "plot_calibration", "plot_crps_by_horizon", "plot_statistics"]

MODEL_COLOURS = {MODEL_NAME: "#1b4f9c", "conflictology": "#d95f02", "last": "#7570b3",
                 "bootstrap": "#66a61e", "zero": "#999999"}


def plot_crps_by_horizon(scores: pd.DataFrame, ratios: pd.DataFrame, *,
                         reference: str = "conflictology"):
    """Left: mean CRPS per horizon for every model (log scale). Right: CRPS ratio of our model
    to ``reference`` per horizon with its 90% block-bootstrap interval. Returns the figure."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax, ax_r = fig.subplots(1, 2)
    crps = scores[scores["metric"] == "crps"]
    for name, g in crps.groupby("model", sort=False):
        ax.plot(g["horizon"], g["value"], marker="o", ms=3.5,
                lw=2.4 if name == MODEL_NAME else 1.3, color=MODEL_COLOURS.get(name),
                label=name + (" (ours)" if name == MODEL_NAME else ""))
    ax.set_yscale("log")
    ax.set_xlabel("horizon (months after the origin)")
    ax.set_ylabel("mean CRPS (deaths per month)")
    ax.set_title("CRPS by horizon (lower is better)", loc="left", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    ax_r.axhline(1.0, color="#555555", lw=1, ls="--")
    ax_r.fill_between(ratios["horizon"], ratios["low"], ratios["high"],
                      color=MODEL_COLOURS[MODEL_NAME], alpha=0.18, lw=0,
                      label="90% block-bootstrap interval")
    ax_r.plot(ratios["horizon"], ratios["ratio"], marker="o", ms=3.5, lw=2.2,
              color=MODEL_COLOURS[MODEL_NAME], label=f"{MODEL_NAME} / {reference}")
    ax_r.set_xlabel("horizon (months after the origin)")
    ax_r.set_ylabel(f"CRPS ratio to {reference}")
    ax_r.set_title(f"Below 1: better than {reference}", loc="left", fontsize=10)
    ax_r.legend(fontsize=8, frameon=False)
    for a in (ax, ax_r):
        a.set_xticks(sorted(crps["horizon"].unique()))
        a.grid(alpha=0.3, lw=0.5)
    return fig


def plot_calibration(pit_all: dict[str, np.ndarray], pit_positive: dict[str, np.ndarray],
                     curve: pd.DataFrame, *, n_positive: int, n_all: int):
    """PIT histograms (all outcomes; outcomes > 0) for the models in ``pit_all`` and coverage
    of central intervals vs their nominal level for every model in ``curve``."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 4.2), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, hists, title in ((axes[0], pit_all, f"PIT, all outcomes (n = {n_all})"),
                             (axes[1], pit_positive, f"PIT, outcomes > 0 (n = {n_positive})")):
        k = len(hists)
        for j, (name, hist) in enumerate(hists.items()):
            n_bins = hist.size
            centres = (np.arange(n_bins) + 0.5) / n_bins
            width = 1.0 / n_bins / (k + 0.5)
            ax.bar(centres + (j - (k - 1) / 2) * width, hist * n_bins, width=width,
                   color=MODEL_COLOURS.get(name), label=name, alpha=0.9)
        ax.axhline(1.0, color="#555555", lw=1, ls="--")
        ax.set_xlim(0, 1)
        ax.set_xlabel("PIT (non-randomised, Czado et al. 2009)")
        ax.set_ylabel("density (1 = calibrated)")
        ax.set_title(title, loc="left", fontsize=10)
        ax.legend(fontsize=8, frameon=False)
    ax = axes[2]
    ax.plot([0, 1], [0, 1], color="#555555", lw=1, ls="--")
    for name, g in curve.groupby("model", sort=False):
        ax.plot(g["nominal"], g["coverage"], marker="o", ms=3.5,
                lw=2.4 if name == MODEL_NAME else 1.2, color=MODEL_COLOURS.get(name), label=name)
    ax.set_xlabel("nominal level of the central interval")
    ax.set_ylabel("share of outcomes inside")
    ax.set_title("Coverage vs nominal (all horizons)", loc="left", fontsize=10)
    ax.set_xlim(0, 1), ax.set_ylim(0, 1)
    ax.legend(fontsize=8, frameon=False)
    for a in axes:
        a.grid(alpha=0.3, lw=0.5)
    return fig


def plot_statistics(stats: BacktestStatistics) -> dict:
    """The backtest's two figures: ``{"crps_by_horizon": ..., "calibration": ...}``."""
    return {
        "crps_by_horizon": plot_crps_by_horizon(stats.scores, stats.ratios[stats.reference],
                                                reference=stats.reference),
        "calibration": plot_calibration(stats.pit_all, stats.pit_positive, stats.coverage,
                                        n_positive=stats.n_positive, n_all=stats.n_all),
    }
