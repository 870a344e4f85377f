"""How the run's figures look: slide size, colours, number formats on axes, tick thinning so
labels never overlap, titles wrapped at word boundaries. Drawing helpers only: the figures
themselves are in :mod:`models.outputs.plots`."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
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
from models.vocabulary import MIXTURE, TARGET_LABELS, TARGET_SHORT

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
    fig._laid_out_by_declutter = True  # the last draw's layout is final (see freeze_layout)
    return fig


def freeze_layout(fig: Figure) -> Figure:
    """Keep the layout :func:`declutter` computed in its last draw, for a figure it was the last
    step of: the run writer saves each figure and nothing changes it after the plot function
    returns, so constrained layout need not run again in ``savefig`` (a third of the plots'
    time, measured). Constrained layout works in figure fractions, so the layout holds at any
    dpi. Figures not decluttered keep their layout engine."""
    if getattr(fig, "_laid_out_by_declutter", False) and fig.get_layout_engine() is not None:
        fig.set_layout_engine("none")
    return fig


def day_label(origin) -> str:
    """x label of time axes: days after the forecast origin (the origin's date, when known)."""
    return f"Days after {origin:%-d %b %Y}" if origin else "Days after the forecast origin"

