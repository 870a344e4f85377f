"""Figures of the regimes and of the nowcast: regime occupancy, prior against posterior, each
reported figure against what the fitted model implies (drawing only; statistics in
:mod:`models.outputs.statistics`)."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.ticker import (
    LogLocator,
    MaxNLocator,
    NullFormatter,
)

from models.outputs.statistics import (
    histogram_edges,
    parameter_label,
)

if TYPE_CHECKING:
    pass
from models.outputs.plot_style import (  # noqa: F401  (some are part of this module's API)
    _PALETTE,
    _STYLE,
    PERCENT,
    REGIME_COLOURS,
    SLIDE_SIZE,
    CountFormatter,
    ParameterFormatter,
    _axes_grid,
    _chars_per_inch,
    _count_axis,
    _fewer_ticks,
    _in_view,
    _scientific,
    _tick_count,
    axis_ylabel,
    day_label,
    declutter,
    drawn_tick_labels,
    new_figure,
    overlapping_labels,
    panel_title,
    scenario_colours,
    scenario_legend,
    styled,
    suptitle,
    target_label,
    wrap,
)

# ---------------------------------------------------------------------------------------------
# Regimes


@styled
def plot_regime_occupancy(occupancy: xr.DataArray, *, origin=None, axes=None) -> Figure:
    """Stacked shares of draws in each regime over forecast days, one panel per scenario."""
    scenarios = [str(s) for s in occupancy["scenario"].values]
    fig, axs = _axes_grid(len(scenarios), axes, sharey=True)
    days = occupancy["day"].values
    names = [str(r) for r in occupancy["regime"].values]
    for ax, s in zip(axs, scenarios, strict=True):
        layers = occupancy.sel(scenario=s).values
        polys = ax.stackplot(days, layers, labels=[n.replace("_", " ") for n in names],
                             colors=[REGIME_COLOURS.get(n, "0.5") for n in names], alpha=0.85)
        for poly, name in zip(polys, names, strict=True):
            poly.set_gid(f"regime:{s}:{name}")
        panel_title(ax, s)
        ax.set_xlim(days[0], days[-1])
        ax.set_ylim(0, 1)
        ax.set_xlabel(day_label(origin))
        ax.yaxis.set_major_formatter(PERCENT)
    axs[0].set_ylabel("Share of draws in each regime")
    axs[-1].legend(loc="lower right", frameon=True, framealpha=0.9)
    suptitle(fig, "Conflict regime over time: share of simulated futures in each regime")
    return declutter(fig)


# ---------------------------------------------------------------------------------------------
# Nowcast: prior vs posterior, evidence vs what the model implies


@styled
def plot_prior_posterior(pairs: list[tuple[str, np.ndarray, np.ndarray]], *, axes=None) -> Figure:
    """Histograms (density) of prior and posterior draws for each key parameter."""
    n = max(len(pairs), 1)
    ncols = min(4, n)
    nrows = -(-n // ncols)
    fig, axs = _axes_grid(n, axes, ncols=ncols,
                          size=(SLIDE_SIZE[0], max(SLIDE_SIZE[1], 2.6 * nrows)))
    if not pairs:
        axs[0].text(0.5, 0.5, "No key parameters recorded in this run", ha="center",
                    va="center", transform=axs[0].transAxes, gid="empty")
        axs[0].set_xlabel("parameter value")
        axs[0].set_ylabel("density")
        return fig
    for ax, (label, prior, post) in zip(axs, pairs, strict=False):
        edges, log = histogram_edges(prior, post)
        for kind, draws, colour in (("prior", prior, "0.55"), ("posterior", post, "#1f77b4")):
            dens, _ = np.histogram(draws, edges, density=True)
            ax.stairs(dens, edges, color=colour, lw=1.8, fill=kind == "prior",
                      alpha=0.35 if kind == "prior" else 1.0, label=kind, gid=f"{kind}:{label}")
        if log:
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(base=10))
            ax.xaxis.set_minor_formatter(NullFormatter())
        else:
            ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
        ax.xaxis.set_major_formatter(ParameterFormatter())
        title, unit = parameter_label(label)
        panel_title(ax, title, fontsize=12)
        ax.set_yticks([])
        ax.tick_params(axis="x", labelsize=10)
        ax.set_xlabel(unit + (", log scale" if log else ""), fontsize=10)
        ax.set_ylabel("density", fontsize=10)
    axs[0].legend(frameon=False, fontsize=10)
    suptitle(fig, "Nowcast parameters: prior (grey) against posterior (blue)")
    return declutter(fig)


@styled
def plot_evidence_fit(table: pd.DataFrame, *, ax=None) -> Figure:
    """Each reported figure (grey bar: the interval the text allows; arrow: a lower bound)
    against the model's implied report: posterior predictive median and 90% interval (blue),
    prior predictive 90% interval (thin grey)."""
    if ax is None:
        fig = new_figure((SLIDE_SIZE[0], max(4.0, 1.0 + 0.9 * len(table))))
        ax = fig.subplots()
    else:
        fig = ax.figure
    y = np.arange(len(table))[::-1].astype(float)
    finite_high = np.where(np.isfinite(table["high"]), table["high"], np.nan)
    right = np.nanmax(np.concatenate([
        finite_high, table["low"].values * 3,
        table["post_q95"].values if "post_q95" in table else [],
        table["prior_q95"].values if "prior_q95" in table else []]))
    for yi, row in zip(y, table.itertuples(index=False), strict=True):
        high = row.high if np.isfinite(row.high) else right * 1.5
        ax.plot([row.low, max(high, row.low)], [yi + 0.15] * 2, color="0.45", lw=9,
                solid_capstyle="butt", alpha=0.6, gid=f"reported:{row.evidence}",
                label="reported (interval the text allows)" if yi == y[0] else None)
        if not np.isfinite(row.high):
            ax.plot([high], [yi + 0.15], ">", color="0.45", ms=10, gid=f"lower_bound:{row.evidence}")
        if hasattr(row, "prior_q05"):
            ax.plot([row.prior_q05, row.prior_q95], [yi - 0.2] * 2, color="0.6", lw=1.5,
                    gid=f"prior:{row.evidence}",
                    label="prior predictive 90%" if yi == y[0] else None)
        if hasattr(row, "post_q05"):
            ax.plot([row.post_q05, row.post_q95], [yi - 0.05] * 2, color="#1f77b4", lw=3,
                    gid=f"posterior:{row.evidence}",
                    label="model-implied report, 90%" if yi == y[0] else None)
            ax.plot([row.post_q50], [yi - 0.05], "o", color="#1f77b4", ms=8,
                    gid=f"posterior_median:{row.evidence}",
                    label="model-implied report, median" if yi == y[0] else None)
    ax.set_xscale("symlog", linthresh=1.0)
    ax.xaxis.set_major_formatter(CountFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    labels = []
    for row in table.itertuples(index=False):
        text = getattr(row, "text", "")
        label = row.evidence.replace("_", " ")
        labels.append(wrap(label, 34) + (f"\n\u201c{textwrap.shorten(text, 40)}\u201d"
                                         if text else ""))
    ax.set_yticks(y, labels, fontsize=11)
    ax.set_ylim(-0.8, len(table) - 0.2)
    ax.set_xlabel("Reported count (people, symmetric log scale)")
    ax.set_ylabel("Reported figure (evidence id)")
    ax.grid(alpha=0.3, axis="x")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=4, frameon=False,
              fontsize=11)  # below the axes: never over a row of data
    ax.set_title("Each reported figure against what the fitted model implies it would say")
    return declutter(fig)


