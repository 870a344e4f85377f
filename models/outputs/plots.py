"""Briefing plots of a run: statistics first, then figures drawn from them.

Each ``plot_*`` function takes precomputed statistics (computed by the function next to it from a
forecast Dataset or InferenceData) and optional axes, and returns the matplotlib Figure. Nothing
here uses pyplot: figures are plain :class:`matplotlib.figure.Figure` objects rendered by the Agg
canvas, so no global figure state, no display, nothing to close.

Artists that carry data have a ``gid`` (e.g. ``"band90:escalation"``, ``"median:baseline"``) so
tests can check the numbers behind a figure rather than its pixels.

Every count is people. Scenario colours are fixed by position, the mixture is black.
"""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from models.outputs.formatting import format_count
from models.outputs.run_result import RunResult
from models.outputs.statistics import (
    ForecastSummary,
    baseline_scenario,
    difference_statistics,
    distribution_bins,
    evidence_fit,
    exceedance_curve,
    fan_statistics,
    headline_horizons,
    histogram_edges,
    horizon_draws,
    paired_differences,
    prior_posterior_draws,
    regime_occupancy,
    summarise,
    wide_range,
)
from models.vocabulary import MIXTURE, TARGET_LABELS, TARGET_SHORT, TARGETS

if TYPE_CHECKING:
    pass

SLIDE_SIZE = (13.33, 7.5)
"""Inches: a 16:9 slide."""
REGIME_COLOURS = {"contained": "#4daf4a", "prolonged": "#ff9f1c", "escalated": "#e41a1c",
                  "regional_war": "#67000d"}
_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")
_STYLE = {"font.size": 13, "axes.titlesize": 15, "axes.labelsize": 13, "xtick.labelsize": 12,
          "ytick.labelsize": 12, "legend.fontsize": 12, "figure.titlesize": 17,
          "axes.spines.top": False, "axes.spines.right": False}


def _tick_count(value: float) -> str:
    return format_count(value, digits=None, compact=True)


THOUSANDS = FuncFormatter(lambda v, _: _tick_count(v))
"""Tick labels with thousands separators (see :func:`format_count`)."""
PARAMETER = FuncFormatter(lambda v, _: _tick_count(v) if abs(v) >= 1000 else f"{v:.3g}")
"""Parameter values: counts with separators, small values with 3 significant digits."""
PERCENT = FuncFormatter(lambda v, _: f"{100 * v:.3g}%" if v >= 0 else "")


def scenario_colours(scenarios: Sequence[str]) -> dict[str, str]:
    out, k = {}, 0
    for s in scenarios:
        if s == MIXTURE:
            out[s] = "black"
        else:
            out[s] = _PALETTE[k % len(_PALETTE)]
            k += 1
    return out


def target_label(target: str, short: bool = False) -> str:
    labels = TARGET_SHORT if short else TARGET_LABELS
    return f"{labels.get(target, target)} (people)"


def styled(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(_STYLE):
            return fn(*args, **kwargs)
    return wrapper


def _axes_grid(n: int, axes, *, ncols: int | None = None, sharey: bool = False,
               sharex: bool = False, size=SLIDE_SIZE):
    """``axes`` if given (a sequence of n Axes), else a new slide-sized Figure with n panels."""
    if axes is not None:
        axes = list(np.ravel(axes))
        if len(axes) < n:
            raise ValueError(f"need {n} axes, got {len(axes)}")
        return axes[0].figure, axes[:n]
    ncols = ncols or (n if n <= 3 else -(-n // 2))  # at most 3 wide, else two rows
    nrows = -(-n // ncols)
    fig = Figure(figsize=size, layout="constrained")
    grid = fig.subplots(nrows, ncols, squeeze=False, sharey=sharey, sharex=sharex)
    flat = list(grid.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def panel_title(ax, text: str) -> None:
    """Axes title wrapped to the panel's width (a long title would squeeze the panel)."""
    width_in = ax.get_position().width * ax.figure.get_figwidth()
    ax.set_title(textwrap.fill(text, max(12, int(width_in * 8))))


def _count_axis(ax, which: str = "y", log: bool = False) -> None:
    axis = ax.yaxis if which == "y" else ax.xaxis
    if log:
        (ax.set_yscale if which == "y" else ax.set_xscale)("log")
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 3.0)))
        axis.set_minor_formatter(NullFormatter())
    else:
        axis.set_major_locator(MaxNLocator(nbins=5 if which == "x" else 7))
    axis.set_major_formatter(THOUSANDS)


def day_label(origin) -> str:
    """x label of time axes: days after the forecast origin (the origin's date, when known)."""
    return f"Days after {origin:%-d %b %Y}" if origin else "Days after the forecast origin"


# ---------------------------------------------------------------------------------------------
# Fan charts


@styled
def plot_fan_chart(stats: xr.DataArray, target: str, *, origin=None, axes=None) -> Figure:
    """Median, 50% and 90% bands over forecast days, one panel per scenario (shared y axis)."""
    scenarios = [str(s) for s in stats["scenario"].values]
    fig, axs = _axes_grid(len(scenarios), axes, sharey=True)
    colours = scenario_colours(scenarios)
    days = stats["day"].values
    for ax, s in zip(axs, scenarios, strict=True):
        q = stats.sel(scenario=s)
        c = colours[s]
        ax.fill_between(days, q.sel(quantile=0.05), q.sel(quantile=0.95), color=c, alpha=0.18,
                        lw=0, label="90% interval", gid=f"band90:{s}")
        ax.fill_between(days, q.sel(quantile=0.25), q.sel(quantile=0.75), color=c, alpha=0.38,
                        lw=0, label="50% interval", gid=f"band50:{s}")
        ax.plot(days, q.sel(quantile=0.5), color=c, lw=2.2, label="median", gid=f"median:{s}")
        panel_title(ax, s)
        ax.set_xlabel(day_label(origin))
        _count_axis(ax, "y")
        ax.grid(alpha=0.3)
        ax.set_xlim(days[0], days[-1])
    axs[0].set_ylabel(target_label(target))
    axs[0].legend(loc="upper left", frameon=False)
    fig.suptitle(f"{TARGET_LABELS.get(target, target)}: scenarios side by side (all regions)")
    return fig


# ---------------------------------------------------------------------------------------------
# Outcome distributions and exceedance at chosen horizons


@styled
def plot_distribution(draws: xr.DataArray, target: str, *, axes=None) -> Figure:
    """Per horizon: share of draws per bin for each scenario, with the median (dot) and the 90%
    interval (bar) of each scenario marked under the histograms."""
    scenarios = [str(s) for s in draws["scenario"].values]
    days = [int(d) for d in draws["day"].values]
    fig, axs = _axes_grid(len(days), axes)
    colours = scenario_colours(scenarios)
    for ax, day in zip(axs, days, strict=True):
        values = draws.sel(day=day).values  # (scenario, draw)
        edges, log = distribution_bins(values.ravel())
        top = 0.0
        for s, v in zip(scenarios, values, strict=True):
            counts, _ = np.histogram(v, edges)
            share = counts / v.size
            ax.stairs(share, edges, color=colours[s], lw=1.8, label=s, gid=f"hist:{s}:{day}")
            top = max(top, share.max())
        for k, (s, v) in enumerate(zip(scenarios, values, strict=True)):
            q05, q50, q95 = np.quantile(v, [0.05, 0.5, 0.95])
            y = -top * (0.08 + 0.07 * k)
            ax.plot([q05, q95], [y, y], color=colours[s], lw=3, solid_capstyle="butt",
                    gid=f"interval90:{s}:{day}")
            ax.plot([q50], [y], "o", color=colours[s], ms=7, gid=f"median:{s}:{day}")
        ax.axhline(0, color="0.6", lw=0.8)
        _count_axis(ax, "x", log=log)
        ax.set_xlabel(target_label(target, short=True))
        ax.set_title(f"{day} days after the origin")
        ax.yaxis.set_major_formatter(PERCENT)
        ax.grid(alpha=0.3, axis="x")
    axs[0].set_ylabel("Share of draws (bars below: median and 90% interval)")
    axs[0].legend(frameon=False, loc="upper right")
    fig.suptitle(f"{TARGET_LABELS.get(target, target)}: outcome distribution (all regions)")
    return fig


@styled
def plot_exceedance(draws: xr.DataArray, target: str, *, axes=None) -> Figure:
    """Per horizon: P(target > x) against x for each scenario."""
    scenarios = [str(s) for s in draws["scenario"].values]
    days = [int(d) for d in draws["day"].values]
    fig, axs = _axes_grid(len(days), axes, sharey=True)
    colours = scenario_colours(scenarios)
    for ax, day in zip(axs, days, strict=True):
        values = draws.sel(day=day).values
        for s, v in zip(scenarios, values, strict=True):
            x, p = exceedance_curve(v)
            ax.step(x, p, where="post", color=colours[s], lw=2, label=s, gid=f"exceed:{s}:{day}")
        _count_axis(ax, "x", log=wide_range(values.ravel()))
        ax.set_xlabel(target_label(target, short=True))
        ax.set_title(f"{day} days after the origin")
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PERCENT)
        ax.grid(alpha=0.3)
    axs[0].set_ylabel("Probability of exceeding x, P(target > x)")
    axs[0].legend(frameon=False, loc="upper right")
    fig.suptitle(f"{TARGET_LABELS.get(target, target)}: chance of exceeding each level "
                 "(all regions)")
    return fig


# ---------------------------------------------------------------------------------------------
# Draw-wise differences to the baseline


@styled
def plot_difference(stats: xr.Dataset, target: str, baseline: str, *, origin=None,
                    axes=None) -> Figure:
    """Fan chart of scenario minus baseline, paired draw by draw; one panel per scenario. With
    no other scenario, a single panel that says so."""
    scenarios = [str(s) for s in stats["scenario"].values]
    fig, axs = _axes_grid(max(len(scenarios), 1), axes, sharey=True)
    if not scenarios:
        ax = axs[0]
        ax.text(0.5, 0.5, f"This run has a single scenario ({baseline}):\nno difference to show.",
                ha="center", va="center", transform=ax.transAxes, fontsize=16, gid="empty")
        ax.set_xlabel(day_label(origin))
        ax.set_ylabel(f"Difference to {baseline} (people)")
        ax.set_xticks([])
        ax.set_yticks([])
        fig.suptitle(f"{TARGET_LABELS.get(target, target)}: difference to {baseline}")
        return fig
    colours = scenario_colours(scenarios)
    days = stats["day"].values
    for ax, s in zip(axs, scenarios, strict=True):
        q = stats["quantiles"].sel(scenario=s)
        c = colours[s]
        ax.fill_between(days, q.sel(quantile=0.05), q.sel(quantile=0.95), color=c, alpha=0.18,
                        lw=0, label="90% interval", gid=f"band90:{s}")
        ax.fill_between(days, q.sel(quantile=0.25), q.sel(quantile=0.75), color=c, alpha=0.38,
                        lw=0, label="50% interval", gid=f"band50:{s}")
        ax.plot(days, q.sel(quantile=0.5), color=c, lw=2.2, label="median", gid=f"median:{s}")
        ax.axhline(0, color="0.3", lw=1)
        p_last = float(stats["p_above"].sel(scenario=s).values[-1])
        panel_title(ax, f"{s} minus {baseline}")
        ax.text(0.02, 0.96, f"P(higher than {baseline}) at day {days[-1]}: {p_last:.0%}",
                transform=ax.transAxes, va="top", fontsize=12)
        ax.set_xlabel(day_label(origin))
        _count_axis(ax, "y")
        ax.grid(alpha=0.3)
        ax.set_xlim(days[0], days[-1])
    axs[0].set_ylabel(f"Difference to {baseline}, same draw (people)")
    axs[0].legend(loc="upper left", bbox_to_anchor=(0.0, 0.92), frameon=False)
    fig.suptitle(f"{TARGET_LABELS.get(target, target)}: scenario minus {baseline}, "
                 "draw by draw (all regions)")
    return fig


@styled
def plot_overlay(stats: xr.DataArray, target: str, *, origin=None, ax=None) -> Figure:
    """Median and 90% band of several series on one axes (comparison of runs). ``stats``:
    (series, quantile, day) with quantiles 0.05, 0.5 and 0.95; a series labelled ``mixture``
    or ``<run>/mixture`` is drawn in black."""
    if ax is None:
        fig = Figure(figsize=SLIDE_SIZE, layout="constrained")
        ax = fig.subplots()
    else:
        fig = ax.figure
    labels = [str(s) for s in stats["series"].values]
    colours = scenario_colours(labels)
    days = stats["day"].values
    for s in labels:
        q = stats.sel(series=s)
        c = "black" if s == MIXTURE or s.endswith(f"/{MIXTURE}") else colours[s]
        ax.fill_between(days, q.sel(quantile=0.05), q.sel(quantile=0.95), color=c, alpha=0.12,
                        lw=0, gid=f"band90:{s}")
        ax.plot(days, q.sel(quantile=0.5), color=c, lw=2.2, label=s, gid=f"median:{s}")
    ax.yaxis.set_major_formatter(THOUSANDS)
    ax.set_xlabel(day_label(origin))
    ax.set_ylabel(target_label(target))
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, loc="upper left")
    ax.set_title(f"{TARGET_LABELS.get(target, target)}: median and 90% interval per run and "
                 "scenario (all regions)")
    return fig


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
    fig.suptitle("Conflict regime over time: share of simulated futures in each regime")
    return fig


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
            ax.xaxis.set_minor_formatter(NullFormatter())
        else:
            ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
        ax.xaxis.set_major_formatter(PARAMETER)
        ax.set_title(textwrap.fill(label, 32), fontsize=12)
        ax.set_yticks([])
        ax.tick_params(axis="x", labelsize=10)
        ax.set_xlabel("value (parameter units)", fontsize=10)
        ax.set_ylabel("density", fontsize=10)
    axs[0].legend(frameon=False, fontsize=10)
    fig.suptitle("Nowcast parameters: prior (grey) against posterior (blue)")
    return fig


@styled
def plot_evidence_fit(table: pd.DataFrame, *, ax=None) -> Figure:
    """Each reported figure (grey bar: the interval the text allows; arrow: a lower bound)
    against the model's implied report: posterior predictive median and 90% interval (blue),
    prior predictive 90% interval (thin grey)."""
    if ax is None:
        fig = Figure(figsize=(SLIDE_SIZE[0], max(4.0, 1.0 + 0.9 * len(table))),
                     layout="constrained")
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
    ax.xaxis.set_major_formatter(THOUSANDS)
    ax.xaxis.set_minor_formatter(NullFormatter())
    labels = []
    for row in table.itertuples(index=False):
        text = getattr(row, "text", "")
        label = row.evidence.replace("_", " ")
        labels.append(textwrap.fill(label, 34) + (f"\n\u201c{textwrap.shorten(text, 40)}\u201d"
                                                  if text else ""))
    ax.set_yticks(y, labels, fontsize=11)
    ax.set_ylim(-0.8, len(table) - 0.2)
    ax.set_xlabel("Reported count (people, symmetric log scale)")
    ax.set_ylabel("Reported figure (evidence id)")
    ax.grid(alpha=0.3, axis="x")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=4, frameon=False,
              fontsize=11)  # below the axes: never over a row of data
    ax.set_title("Each reported figure against what the fitted model implies it would say")
    return fig


# ---------------------------------------------------------------------------------------------
# All plots of a run


def plot_names(targets: Sequence[str] = TARGETS) -> list[str]:
    """File stems (without .png) that :func:`write_plots` writes for a run with these targets."""
    per_target = ("fan", "distribution", "exceedance", "difference")
    return ([f"{kind}_{t}" for kind in per_target for t in targets]
            + ["regime_occupancy", "prior_posterior", "evidence_fit"])


def make_figures(result: RunResult, summary: ForecastSummary | None = None):
    """Yield (name, Figure) for every plot of a run (see :func:`plot_names`)."""
    summary = summary or summarise(result.forecast)
    fc = result.forecast
    origin = result.origin
    targets = [str(t) for t in fc["target"].values]
    horizons = headline_horizons(result)
    baseline = baseline_scenario(result.scenario_ids)
    for t in targets:
        yield f"fan_{t}", plot_fan_chart(fan_statistics(summary, t), t, origin=origin)
    for t in targets:
        yield f"distribution_{t}", plot_distribution(horizon_draws(fc, t, horizons), t)
    for t in targets:
        yield f"exceedance_{t}", plot_exceedance(horizon_draws(fc, t, horizons), t)
    for t in targets:
        stats = difference_statistics(paired_differences(fc, t, baseline))
        yield f"difference_{t}", plot_difference(stats, t, baseline, origin=origin)
    yield "regime_occupancy", plot_regime_occupancy(regime_occupancy(fc), origin=origin)
    yield "prior_posterior", plot_prior_posterior(prior_posterior_draws(result.idata))
    if "constant_data" in result.idata.groups():
        yield "evidence_fit", plot_evidence_fit(evidence_fit(result.idata))


def write_plots(result: RunResult, plots_dir: Path, *, summary: ForecastSummary | None = None,
                dpi: int = 120) -> dict[str, Path]:
    """Write every plot of a run as ``plots_dir/<name>.png``; return name -> path."""
    plots_dir = Path(plots_dir)
    plots_dir.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, fig in make_figures(result, summary):
        path = plots_dir / f"{name}.png"
        fig.savefig(path, dpi=dpi)
        out[name] = path
    return out
