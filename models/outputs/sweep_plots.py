"""The sweep chart: small multiples of each headline outcome against the swept lever.

One panel per target (all regions together) at one horizon; x the first swept lever's values,
the median as a line with its 90% interval as a band; a second swept lever gives one line per
value. Further levers are held at their first value in the chart (the table has every point),
and the title says so. Takes the sweep table (:data:`models.evaluation.sweep.SWEEP_COLUMNS`
after the lever columns); never imports the evaluation layer.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from matplotlib.figure import Figure

from models.outputs.plot_style import (
    _PALETTE,
    _axes_grid,
    _count_axis,
    axis_ylabel,
    declutter,
    panel_title,
    scenario_legend,
    styled,
    suptitle,
    target_label,
)
from models.vocabulary import ALL, TARGETS

__all__ = ["plot_sweep"]


@styled
def plot_sweep(table: pd.DataFrame, levers: Sequence[str], *, horizon: int, scenario: str,
               targets: Sequence[str] | None = None) -> Figure:
    """Median and 90% interval of each target at day ``horizon`` against ``levers[0]``
    (``levers``: the swept lever paths, in grid order)."""
    rows = table[(table["region"] == ALL) & (table["horizon"] == horizon)]
    held = {lever: rows[lever].iloc[0] for lever in levers[2:]}
    for lever, value in held.items():
        rows = rows[rows[lever] == value]
    targets = [t for t in (targets or TARGETS) if t in set(rows["target"])]
    fig, axs = _axes_grid(len(targets), None)
    x = levers[0]
    lines = sorted(rows[levers[1]].unique()) if len(levers) > 1 else [None]
    for ax, target in zip(axs, targets, strict=True):
        t = rows[rows["target"] == target]
        for k, value in enumerate(lines):
            part = t if value is None else t[t[levers[1]] == value]
            part = part.sort_values(x)
            colour = _PALETTE[k % len(_PALETTE)]
            label = None if value is None else (
                f"{'/'.join(levers[1].split('/')[-2:])} = {value:g}")
            ax.fill_between(part[x], part["q05"], part["q95"], color=colour, alpha=0.2, lw=0)
            ax.plot(part[x], part["median"], color=colour, marker="o", label=label,
                    gid=f"sweep:{target}:{value}")
        ax.set_xlabel(x.replace("/", " / "))
        _count_axis(ax, "y")
        panel_title(ax, target_label(target, short=True))
    axis_ylabel(axs[0], f"People by day {horizon} (median, 90% interval)")
    if len(levers) > 1:
        scenario_legend(fig, axs, inside="upper left")
    note = ("; held at " + ", ".join(f"{k} = {v:g}" for k, v in held.items())) if held else ""
    suptitle(fig, f"What if: {scenario} with {x} held at each value", f"all regions, day "
             f"{horizon}; the same random numbers at every point{note}")
    return declutter(fig)
