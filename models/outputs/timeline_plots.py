"""The timeline chart (``python -m models.timeline``): one target's forecast of a fixed date at
each origin, with the reported running totals as they arrived. Statistics come ready-made from
:mod:`models.evaluation.timeline`; this module only draws.

Artists that carry data have a ``gid``: ``median:forecast`` (the line through the medians, x =
origins), ``band90:<origin>`` (each origin's 90% interval), ``reported:<evidence>`` (a reported
figure at its date: a point, an interval or a lower bound), ``target_date``.
"""

from __future__ import annotations

import datetime as dt
import math

import matplotlib.dates as mdates
from matplotlib.ticker import MaxNLocator

from models.outputs.plot_style import (
    CountFormatter,
    axis_ylabel,
    new_figure,
    panel_title,
    styled,
    target_label,
)

__all__ = ["plot_timeline"]

FORECAST_COLOUR = "#1f77b4"
REPORT_COLOUR = "#d62728"


def _day(text: str):
    return mdates.date2num(dt.date.fromisoformat(text))


@styled
def plot_timeline(rows, reported, target: str, date: dt.date):
    """``rows``: the timeline table's rows of ``target`` (origin, q05, median, q95, scenario,
    note); ``reported``: the reported figures of that target (reported_on, low, high, regions,
    subset, since_start). Returns the Figure."""
    fig = new_figure((11, 6.2))
    ax = fig.subplots()
    made = rows[rows["note"] == ""]
    x = [_day(o) for o in made["origin"]]
    for xi, r in zip(x, made.itertuples(index=False), strict=True):
        ax.vlines(xi, r.q05, r.q95, color=FORECAST_COLOUR, lw=6, alpha=0.35,
                  gid=f"band90:{r.origin}", label="90% interval")
    ax.plot(x, made["median"], "o-", color=FORECAST_COLOUR, lw=2, ms=8,
            gid="median:forecast", label=f"median forecast of {date:%-d %b %Y}")
    for xi, r in zip(x, made.itertuples(index=False), strict=True):
        ax.annotate(r.scenario, (xi, r.median), textcoords="offset points", xytext=(8, -4),
                    fontsize=10, color="0.35")
    drawn = reported[reported["since_start"]] if len(reported) else reported
    for r in drawn.itertuples(index=False):
        xr = _day(r.reported_on)
        where = "" if r.regions == "all" else f", {r.regions} only"
        label = "reported running total" + (where and " (part of the regions)")
        if math.isinf(r.high):
            ax.plot([xr], [r.low], "^", color=REPORT_COLOUR, ms=9, gid=f"reported:{r.evidence}",
                    label="reported: at least")
        elif r.low == r.high:
            ax.plot([xr], [r.low], "D", color=REPORT_COLOUR, ms=7, gid=f"reported:{r.evidence}",
                    label=label)
        else:
            ax.vlines(xr, r.low, r.high, color=REPORT_COLOUR, lw=2.5, gid=f"reported:{r.evidence}",
                      label=label)
        ax.annotate(r.evidence + where + (f", {r.subset}" if r.subset else ""),
                    (xr, r.low), textcoords="offset points", xytext=(6, 6), fontsize=9,
                    color=REPORT_COLOUR)
    ax.axvline(mdates.date2num(date), color="0.4", ls="--", lw=1.2, gid="target_date",
               label=f"the date forecast: {date:%-d %b %Y}")
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=8))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%-d %b"))
    ax.set_xlabel("date of the information (forecast origin; report date)")
    ax.yaxis.set_major_locator(MaxNLocator(nbins=7, steps=[1, 2, 2.5, 5, 10], integer=True))
    ax.yaxis.set_major_formatter(CountFormatter())
    ax.set_ylim(bottom=0)
    axis_ylabel(ax, target_label(target))
    panel_title(ax, f"{target_label(target)}: the forecast for {date:%-d %b %Y} as the origins "
                "moved (all regions), and reported running totals (a share of the truth)")
    handles = {}
    for h, lb in zip(*ax.get_legend_handles_labels(), strict=True):
        handles.setdefault(lb, h)
    ax.legend(handles.values(), handles.keys(), frameon=False, loc="upper left", fontsize=10)
    return fig
