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
import re
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import (
    FixedLocator,
    Formatter,
    FuncFormatter,
    LogLocator,
    MaxNLocator,
    NullFormatter,
)

from models.outputs.formatting import format_count, format_counts
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
    mixture_baseline_share,
    paired_differences,
    parameter_label,
    population_at_risk,
    prior_posterior_draws,
    regime_occupancy,
    region_fan_statistics,
    reported_figures,
    summarise,
    wide_range,
    without_mixture,
)
from models.vocabulary import ALL, MIXTURE, TARGET_LABELS, TARGET_SHORT, TARGETS

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


def _in_view(axis, locs) -> list[float]:
    """The tick locations inside the axis's view interval (the ones drawn)."""
    locs = [float(v) for v in locs]
    if axis is None:
        return locs
    lo, hi = sorted(axis.get_view_interval())
    tol = 1e-9 * max(abs(lo), abs(hi), 1.0)
    return [v for v in locs if lo - tol <= v <= hi + tol]


class CountFormatter(Formatter):
    """Counts of people with one format per axis (:func:`format_counts` over the ticks drawn):
    all in millions ("0.5 M", "1.0 M") once the largest tick is a million, else with thousands
    separators; the same decimals on a linear axis, the fewest each needs on a log axis."""

    def __init__(self):
        self._labels: dict[float, str] = {}

    def set_locs(self, locs):
        super().set_locs(locs)
        shown = _in_view(self.axis, locs)
        log = self.axis is not None and self.axis.get_scale() != "linear"
        self._labels = dict(zip(shown, format_counts(shown, same_decimals=not log), strict=True))

    def __call__(self, x, pos=None):
        return self._labels.get(float(x)) or _tick_count(x)


def _scientific(v: float) -> str:
    mantissa, exponent = f"{v:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


class ParameterFormatter(Formatter):
    """Parameter values with one format per axis: an axis of values of 1 and up as counts
    ("10", "1,000", "1.5 M"), one reaching below 0.001 all in powers of ten ("1e-7"), else 3
    significant digits."""

    def __init__(self):
        self._labels: dict[float, str] = {}

    def set_locs(self, locs):
        super().set_locs(locs)
        shown = _in_view(self.axis, locs)
        nonzero = [abs(v) for v in shown if v != 0]
        if nonzero and min(nonzero) >= 1:
            labels = format_counts(shown, same_decimals=self.axis.get_scale() == "linear")
        elif nonzero and min(nonzero) < 1e-3:
            labels = [_scientific(v) if v else "0" for v in shown]
        else:
            labels = [f"{v:.3g}" for v in shown]
        self._labels = dict(zip(shown, labels, strict=True))

    def __call__(self, x, pos=None):
        return self._labels.get(float(x)) or f"{x:.3g}"


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
    fig = new_figure(size)
    grid = fig.subplots(nrows, ncols, squeeze=False, sharey=sharey, sharex=sharex)
    flat = list(grid.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def new_figure(size=SLIDE_SIZE) -> Figure:
    """A slide-size Figure with constrained layout on the Agg canvas (so it can be drawn and its
    text measured without pyplot)."""
    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def wrap(text: str, width: int) -> str:
    """``text`` wrapped at spaces, and inside an id too long for a line after its underscores
    (``escalation_with_`` / ``closed_borders``): never in the middle of a word."""
    width = max(width, 8)
    pieces: list[tuple[str, str]] = []  # (piece, what joins it to the one before)
    for k, word in enumerate(text.split(" ")):
        parts = re.findall(r"[^_]*_|[^_]+", word) if len(word) > width else [word]
        pieces += [(part, " " if k and j == 0 else "") for j, part in enumerate(parts or [""])]
    lines, line = [], ""
    for piece, sep in pieces:
        if line and len(line) + len(sep) + len(piece) > width:
            lines.append(line)
            line = piece
        else:
            line += (sep if line else "") + piece
    lines.append(line)
    return "\n".join(lines)


def axis_ylabel(ax, text: str) -> None:
    """y label wrapped to the panel's height (a label longer than the panel would be cut)."""
    height_in = ax.get_position().height * ax.figure.get_figheight()
    ax.set_ylabel(wrap(text, int(height_in * _chars_per_inch(matplotlib.rcParams[
        "axes.labelsize"]))))


def scenario_legend(fig: Figure, axs, *, inside: str = "upper right", **kwargs) -> None:
    """The legend of a figure's scenarios (and whatever else its panels label): in the first
    panel when the labels are short, else below the panels (a long id would cover the data)."""
    handles: dict = {}
    for ax in axs:
        for h, lb in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(lb, h)
    if max((len(lb) for lb in handles), default=0) <= 24 and len(handles) <= 6:
        axs[0].legend(handles.values(), handles.keys(), frameon=False, loc=inside, **kwargs)
    else:
        fig.legend(handles.values(), handles.keys(), frameon=False, loc="outside lower center",
                   ncols=min(len(handles), 3), **kwargs)


def _chars_per_inch(fontsize) -> float:
    """About how many characters of a font size fit in an inch (a character is about 0.55 em)."""
    size = matplotlib.font_manager.FontProperties(size=fontsize).get_size_in_points()
    return 72 / (0.55 * size)


def panel_title(ax, text: str, **kwargs) -> None:
    """Axes title wrapped to the panel's width (a long title would squeeze the panel)."""
    width_in = ax.get_position().width * ax.figure.get_figwidth()
    size = kwargs.get("fontsize", matplotlib.rcParams["axes.titlesize"])
    ax.set_title(wrap(text, max(12, int(width_in * _chars_per_inch(size)))), **kwargs)


def suptitle(fig: Figure, *lines: str | None) -> None:
    """The figure title, each line wrapped to the figure's width (never cut at the edges)."""
    width = int(0.95 * fig.get_figwidth() * _chars_per_inch(matplotlib.rcParams[
        "figure.titlesize"]))
    fig.suptitle("\n".join(wrap(line, width) for line in lines if line))


def _count_axis(ax, which: str = "y", log: bool = False) -> None:
    axis = ax.yaxis if which == "y" else ax.xaxis
    if log:
        (ax.set_yscale if which == "y" else ax.set_xscale)("log")
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 3.0)))
        axis.set_minor_formatter(NullFormatter())
    else:
        axis.set_major_locator(MaxNLocator(nbins=5 if which == "x" else 7,
                                           steps=[1, 2, 2.5, 5, 10], integer=True))
    axis.set_major_formatter(CountFormatter())


# ---------------------------------------------------------------------------------------------
# Tick labels that never overlap


def drawn_tick_labels(axis) -> list:
    """The major tick labels an axis draws: visible, not empty, inside the view interval."""
    labels = []
    inside = set(_in_view(axis, axis.get_majorticklocs()))
    for tick in axis.get_major_ticks():
        for label in (tick.label1, tick.label2):
            if (label.get_visible() and label.get_text() and tick.get_visible()
                    and float(tick.get_loc()) in inside):
                labels.append(label)
    return labels


def overlapping_labels(labels, pad: float = 2.0) -> list[tuple[str, str]]:
    """Pairs of labels whose bounding boxes (in pixels, widened by ``pad``) overlap."""
    boxes = [(lb.get_text(), lb.get_window_extent().expanded(1.0, 1.0).padded(pad))
             for lb in labels]
    return [(a, b) for i, (a, box_a) in enumerate(boxes) for b, box_b in boxes[i + 1:]
            if box_a.overlaps(box_b)]


def _fewer_ticks(axis) -> None:
    """Replace the axis's major locator by one with fewer ticks (round numbers kept)."""
    shown = sorted(_in_view(axis, axis.get_majorticklocs()))
    scale = axis.get_scale()
    if len(shown) <= 2:
        axis.set_tick_params(labelsize=max(6.0, axis.get_ticklabels()[0].get_fontsize() - 1.5)
                             if axis.get_ticklabels() else 8)
        return
    if scale == "log":
        powers = [v for v in shown if v > 0 and abs(np.log10(v) - round(np.log10(v))) < 1e-9]
        keep = powers if 2 <= len(powers) < len(shown) else shown[::2]
        # of every other power of ten, keep the set holding the largest one (the top of the axis)
        if keep is shown[::2] and powers and shown[-1] in powers and shown[-1] not in keep:
            keep = shown[1::2]
        axis.set_major_locator(FixedLocator(keep))
    elif scale == "linear":
        axis.set_major_locator(MaxNLocator(nbins=max(1, len(shown) - 2),
                                           steps=[1, 2, 2.5, 5, 10]))
    else:
        axis.set_major_locator(FixedLocator(shown[::2]))


def declutter(fig: Figure, rounds: int = 8) -> Figure:
    """Draw the figure and thin the ticks of every axis whose labels overlap, until none do
    (e.g. "100,000" and "300,000" running together on a narrow log axis)."""
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    for _ in range(rounds):
        fig.draw_without_rendering()  # layout and ticks, no pixels
        crowded, seen = [], set()
        for ax in fig.axes:
            if not ax.get_visible():
                continue
            for axis in (ax.xaxis, ax.yaxis):
                if id(axis.major) not in seen and overlapping_labels(drawn_tick_labels(axis)):
                    seen.add(id(axis.major))  # shared axes share their ticker: thin it once
                    crowded.append(axis)
        if not crowded:
            break
        for axis in crowded:
            _fewer_ticks(axis)
    return fig


def day_label(origin) -> str:
    """x label of time axes: days after the forecast origin (the origin's date, when known)."""
    return f"Days after {origin:%-d %b %Y}" if origin else "Days after the forecast origin"


# ---------------------------------------------------------------------------------------------
# Fan charts


REPORTED_COLOUR = "#e6550d"


def _draw_reported(ax, reported: pd.DataFrame | None, legend: bool) -> None:
    """Reported figures (counted from the episode start) at the day they were reported: a bar
    over the interval the text allows, a triangle for a lower bound or a figure that counts only
    part of what the chart shows."""
    if reported is None or reported.empty:
        return
    shown = {"full": False, "part": False}
    for row in reported.itertuples(index=False):
        lower = row.part or not np.isfinite(row.high)
        key = "part" if lower else "full"
        label = None
        if legend and not shown[key]:
            label = ("reported, a part of it (at least this)" if lower
                     else "reported figure (since the episode start)")
            shown[key] = True
        if lower:
            ax.plot([row.day], [row.low], "^", ms=10, mfc="white", mec=REPORTED_COLOUR, mew=2,
                    label=label, gid=f"reported:{row.evidence}", zorder=5, clip_on=False)
        elif row.high > row.low:
            ax.plot([row.day, row.day], [row.low, row.high], color=REPORTED_COLOUR, lw=4,
                    solid_capstyle="butt", label=label, gid=f"reported:{row.evidence}", zorder=5,
                    clip_on=False)
        else:
            ax.plot([row.day], [row.low], "D", ms=8, color=REPORTED_COLOUR, label=label,
                    gid=f"reported:{row.evidence}", zorder=5, clip_on=False)
    ax.axvline(0, color="0.35", lw=1, ls=":", zorder=1)


CEILING_TARGETS = {
    "displaced": "population at risk (the ceiling)",
    "cum_displaced": "population at risk (movements can pass it: twice displaced counts twice)",
}
"""Targets whose charts show the population at risk, and what it is there."""
CEILING_REACH = 2.5
"""The ceiling is drawn when it lies within this factor of the chart's top; above, a note says
where it is (drawing it would flatten the fan)."""


def _draw_ceiling(ax, target: str, ceiling, top: float, legend: bool) -> str | None:
    """The population at risk as a band (its stated range) on a displacement chart; returns a
    note instead when it lies far above the chart's top."""
    if ceiling is None or target not in CEILING_TARGETS:
        return None
    low, high = ceiling
    if low > CEILING_REACH * max(top, 1.0):
        return (f"population at risk {format_counts([low, high], same_decimals=False)[0]} to "
                f"{format_counts([low, high], same_decimals=False)[1]}, above this scale")
    ax.axhspan(low, max(high, low * 1.001), color="0.3", alpha=0.12, lw=0, gid="ceiling",
               label=CEILING_TARGETS[target] if legend else None)
    ax.axhline(low, color="0.3", lw=1.2, ls="--")
    return None


@styled
def plot_fan_chart(stats: xr.DataArray, target: str, *, origin=None, axes=None,
                   reported: pd.DataFrame | None = None, ceiling=None,
                   where: str = "all regions") -> Figure:
    """Median, 50% and 90% bands over forecast days, one panel per scenario (shared y axis).

    ``reported``: figures as :func:`~models.outputs.statistics.reported_figures` gives them,
    drawn at the day they were reported (0 or less: before the forecast starts; the dotted line
    is the origin). ``ceiling``: the population at risk (low, high), drawn on displacement
    charts (:data:`CEILING_TARGETS`)."""
    scenarios = [str(s) for s in stats["scenario"].values]
    fig, axs = _axes_grid(len(scenarios), axes, sharey=True)
    colours = scenario_colours(scenarios)
    days = stats["day"].values
    first = days[0]
    if reported is not None and len(reported):
        first = min(first, int(reported["day"].min()) - max(1, len(days) // 30))
    top = float(stats.sel(quantile=0.95).max())
    note = None
    for k, (ax, s) in enumerate(zip(axs, scenarios, strict=True)):
        q = stats.sel(scenario=s)
        c = colours[s]
        ax.fill_between(days, q.sel(quantile=0.05), q.sel(quantile=0.95), color=c, alpha=0.18,
                        lw=0, label="90% interval", gid=f"band90:{s}")
        ax.fill_between(days, q.sel(quantile=0.25), q.sel(quantile=0.75), color=c, alpha=0.38,
                        lw=0, label="50% interval", gid=f"band50:{s}")
        ax.plot(days, q.sel(quantile=0.5), color=c, lw=2.2, label="median", gid=f"median:{s}")
        _draw_reported(ax, reported, legend=k == 0)
        note = _draw_ceiling(ax, target, ceiling, top, legend=k == 0) or note
        panel_title(ax, s)
        ax.set_xlabel(day_label(origin))
        _count_axis(ax, "y")
        ax.grid(alpha=0.3)
        ax.set_xlim(first, days[-1])
        ax.set_ylim(bottom=0)
    axis_ylabel(axs[0], target_label(target))
    axs[0].legend(loc="upper left", frameon=False)
    suptitle(fig, f"{TARGET_LABELS.get(target, target)}: scenarios side by side ({where})",
             note)
    return declutter(fig)


@styled
def plot_region_fans(stats: xr.DataArray, target: str, *, origin=None, axes=None,
                     reported: dict[str, pd.DataFrame] | None = None,
                     ceilings: dict | None = None, names: dict[str, str] | None = None) -> Figure:
    """One panel per region (each on its own scale): every scenario's median and 90% band (the
    mixture's median only, dashed), the figures reported for that region and, on displacement charts, its population at risk.
    ``stats``: (scenario, quantile, day, region) as
    :func:`~models.outputs.statistics.region_fan_statistics` gives it."""
    regions = [str(r) for r in stats["region"].values]
    scenarios = [str(s) for s in stats["scenario"].values]
    fig, axs = _axes_grid(len(regions), axes, sharex=True)
    colours = scenario_colours(scenarios)
    days = stats["day"].values
    reported = reported or {}
    first = min([days[0], *(int(df["day"].min()) - max(1, len(days) // 30)
                            for df in reported.values() if df is not None and len(df))])
    notes = []
    for ax, r in zip(axs, regions, strict=True):
        q = stats.sel(region=r)
        for s in scenarios:
            qs = q.sel(scenario=s)
            if s != MIXTURE:  # the mixture's band covers the others': its median only
                ax.fill_between(days, qs.sel(quantile=0.05), qs.sel(quantile=0.95),
                                color=colours[s], alpha=0.13, lw=0, gid=f"band90:{s}:{r}")
            ax.plot(days, qs.sel(quantile=0.5), color=colours[s], lw=2, label=s,
                    ls="--" if s == MIXTURE else "-", gid=f"median:{s}:{r}")
        _draw_reported(ax, reported.get(r), legend=True)
        note = _draw_ceiling(ax, target, (ceilings or {}).get(r),
                             float(q.sel(quantile=0.95).max()), legend=True)
        name = (names or {}).get(r, r)
        if note:
            notes.append(f"{name}: {note}")
        panel_title(ax, name)
        ax.set_xlabel(day_label(origin))
        _count_axis(ax, "y")
        ax.grid(alpha=0.3)
        ax.set_xlim(first, days[-1])
        ax.set_ylim(bottom=0)
    scenario_legend(fig, axs, inside="upper left", fontsize=10)
    axis_ylabel(axs[0], target_label(target))
    suptitle(fig, f"{TARGET_LABELS.get(target, target)}: by region (each on its own scale)",
             *notes[:2])
    return declutter(fig)


# ---------------------------------------------------------------------------------------------
# Outcome distributions and exceedance at chosen horizons


@styled
def plot_distribution(draws: xr.DataArray, target: str, *, axes=None) -> Figure:
    """Per horizon: share of draws per bin for each scenario, with the median (dot) and the 90%
    interval (bar) of each scenario marked under the histograms."""
    scenarios = [str(s) for s in draws["scenario"].values]
    days = [int(d) for d in draws["day"].values]
    fig, axs = _axes_grid(len(days), axes, sharex=True, sharey=True)
    colours = scenario_colours(scenarios)
    # One scale for every horizon panel: bins over all days' draws pooled.
    edges, log = distribution_bins(draws.values.ravel())
    top = max(float((np.histogram(v, edges)[0] / v.size).max())
              for v in draws.transpose("day", "scenario", "draw").values.reshape(
                  -1, draws.sizes["draw"]))
    for ax, day in zip(axs, days, strict=True):
        values = draws.sel(day=day).values  # (scenario, draw)
        for s, v in zip(scenarios, values, strict=True):
            counts, _ = np.histogram(v, edges)
            share = counts / v.size
            ax.stairs(share, edges, color=colours[s], lw=1.8, label=s, gid=f"hist:{s}:{day}")
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
    axis_ylabel(axs[0], "Share of draws (bars below: median and 90% interval)")
    scenario_legend(fig, axs)
    suptitle(fig, f"{TARGET_LABELS.get(target, target)}: outcome distribution (all regions; "
             "one scale for every panel)")
    return declutter(fig)


@styled
def plot_exceedance(draws: xr.DataArray, target: str, *, axes=None) -> Figure:
    """Per horizon: P(target > x) against x for each scenario."""
    scenarios = [str(s) for s in draws["scenario"].values]
    days = [int(d) for d in draws["day"].values]
    fig, axs = _axes_grid(len(days), axes, sharex=True, sharey=True)
    colours = scenario_colours(scenarios)
    log = wide_range(draws.values.ravel())  # one scale for every horizon panel
    for ax, day in zip(axs, days, strict=True):
        values = draws.sel(day=day).values
        for s, v in zip(scenarios, values, strict=True):
            x, p = exceedance_curve(v)
            ax.step(x, p, where="post", color=colours[s], lw=2, label=s, gid=f"exceed:{s}:{day}")
        _count_axis(ax, "x", log=log)
        ax.set_xlabel(target_label(target, short=True))
        ax.set_title(f"{day} days after the origin")
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PERCENT)
        ax.grid(alpha=0.3)
    axis_ylabel(axs[0], "Probability of exceeding x, P(target > x)")
    scenario_legend(fig, axs)
    suptitle(fig, f"{TARGET_LABELS.get(target, target)}: chance of exceeding each level "
             "(all regions; one scale for every panel)")
    return declutter(fig)


# ---------------------------------------------------------------------------------------------
# Draw-wise differences to the baseline


@styled
def plot_difference(stats: xr.Dataset, target: str, baseline: str, *, origin=None,
                    axes=None, note: str | None = None) -> Figure:
    """Fan chart of scenario minus baseline, paired draw by draw; one panel per scenario. With
    no other scenario, a single panel that says so. ``note``: a line under the title (e.g. why
    the mixture is not shown)."""
    scenarios = [str(s) for s in stats["scenario"].values]
    fig, axs = _axes_grid(max(len(scenarios), 1), axes, sharey=True)
    if not scenarios:
        ax = axs[0]
        ax.text(0.5, 0.5, f"No other scenario than {baseline} to compare with:\n"
                "no difference to show.", ha="center", va="center", transform=ax.transAxes,
                fontsize=16, gid="empty")
        ax.set_xlabel(day_label(origin))
        ax.set_ylabel(f"Difference to {baseline} (people)")
        ax.set_xticks([])
        ax.set_yticks([])
        suptitle(fig, f"{TARGET_LABELS.get(target, target)}: difference to {baseline}", note)
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
    suptitle(fig, f"{TARGET_LABELS.get(target, target)}: scenario minus {baseline}, "
             "draw by draw (all regions)", note)
    return declutter(fig)


@styled
def plot_overlay(stats: xr.DataArray, target: str, *, origin=None, ax=None) -> Figure:
    """Median and 90% band of several series on one axes (comparison of runs). ``stats``:
    (series, quantile, day) with quantiles 0.05, 0.5 and 0.95; a series labelled ``mixture``
    or ``<run>/mixture`` is drawn in black."""
    if ax is None:
        fig = new_figure()
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
    _count_axis(ax, "y")
    ax.set_xlabel(day_label(origin))
    ax.set_ylabel(target_label(target))
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, loc="upper left")
    ax.set_title(wrap(f"{TARGET_LABELS.get(target, target)}: median and 90% interval per run "
                      "and scenario (all regions)", 90))
    return declutter(fig)


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


# ---------------------------------------------------------------------------------------------
# All plots of a run


def plot_names(targets: Sequence[str] = TARGETS, regions: Sequence[str] = ()) -> list[str]:
    """File stems (without .png) that :func:`write_plots` writes for a run with these targets
    and regions (the per-region fan charts only when there are two regions or more)."""
    by_region = [f"fan_{t}_by_region" for t in targets] if len(regions) > 1 else []
    per_target = ("distribution", "exceedance", "difference")
    return ([f"fan_{t}" for t in targets] + by_region
            + [f"{kind}_{t}" for kind in per_target for t in targets]
            + ["regime_occupancy", "prior_posterior", "evidence_fit"])


def _regions(forecast: xr.Dataset) -> list[str]:
    return [str(r) for r in forecast["region"].values if str(r) != ALL]


def _ceiling(config, target: str, location: str, regions: list[str]):
    """The population at risk of ``location`` from the config, when the chart shows one
    (:data:`CEILING_TARGETS`) and the config knows the region(s)."""
    known = set(config.episode.regions)
    if target not in CEILING_TARGETS or not (set(regions) <= known if location == ALL
                                             else location in known):
        return None
    if location == ALL and set(regions) != known:
        return None
    return population_at_risk(config, location)


def _reported(config, target: str, location: str) -> pd.DataFrame | None:
    if location != ALL and location not in config.episode.regions:
        return None
    return reported_figures(config, target, location)


def mixture_note(weights: dict | None, baseline: str) -> str | None:
    """Why the difference charts leave the mixture out (None when the run has no mixture)."""
    share = mixture_baseline_share(weights, baseline)
    if share is None:
        return None
    return (f"The mixture is not shown: {share:.0%} of its draws are {baseline}'s own, where its "
            "difference is 0 by construction.")


def make_figures(result: RunResult, summary: ForecastSummary | None = None):
    """Yield (name, Figure) for every plot of a run (see :func:`plot_names`)."""
    summary = summary or summarise(result.forecast)
    fc = result.forecast
    cfg = result.primary.config
    origin = result.origin
    targets = [str(t) for t in fc["target"].values]
    regions = _regions(fc)
    names = {r: cfg.episode.regions[r].name for r in regions if r in cfg.episode.regions}
    horizons = headline_horizons(result)
    baseline = baseline_scenario(result.scenario_ids)
    for t in targets:
        yield f"fan_{t}", plot_fan_chart(fan_statistics(summary, t), t, origin=origin,
                                         reported=_reported(cfg, t, ALL),
                                         ceiling=_ceiling(cfg, t, ALL, regions))
    if len(regions) > 1:
        for t in targets:
            yield f"fan_{t}_by_region", plot_region_fans(
                region_fan_statistics(summary, t), t, origin=origin, names=names,
                reported={r: _reported(cfg, t, r) for r in regions},
                ceilings={r: _ceiling(cfg, t, r, regions) for r in regions})
    for t in targets:
        yield f"distribution_{t}", plot_distribution(horizon_draws(fc, t, horizons), t)
    for t in targets:
        yield f"exceedance_{t}", plot_exceedance(horizon_draws(fc, t, horizons), t)
    note = mixture_note(result.weights, baseline) if MIXTURE in result.scenario_ids else None
    for t in targets:
        stats = difference_statistics(without_mixture(paired_differences(fc, t, baseline)))
        yield f"difference_{t}", plot_difference(stats, t, baseline, origin=origin, note=note)
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
