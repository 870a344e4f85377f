"""Figures of what drives the answer: the sensitivity tornado and the evidence influence chart.

Each ``plot_*`` takes a table already computed (:func:`models.outputs.sensitivity.sensitivity_table`,
:func:`models.evaluation.influence.evidence_influence`'s table) and returns a matplotlib
:class:`~matplotlib.figure.Figure` drawn by the Agg canvas (no pyplot, no global state). Bars
carry a ``gid`` (``"s1:<scenario>:<input>:<horizon>"``, ``"influence:<scenario>:<evidence>"``) so
tests check the numbers behind a figure rather than its pixels.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from models.vocabulary import TARGET_LABELS

__all__ = ["plot_influence", "plot_tornado", "top_inputs"]

SLIDE_SIZE = (13.33, 7.5)
_STYLE = {"font.size": 12, "axes.titlesize": 14, "axes.labelsize": 12, "xtick.labelsize": 11,
          "ytick.labelsize": 10, "legend.fontsize": 11, "figure.titlesize": 16,
          "axes.spines.top": False, "axes.spines.right": False}
HORIZON_COLOURS = ("#c6dbef", "#6baed6", "#2171b5", "#08306b")
KIND_PREFIX = {"lever": "", "nowcast": "nowcast: ", "mixture": ""}


def top_inputs(table: pd.DataFrame, scenario: str, target: str, n: int = 8) -> list[str]:
    """The ``n`` inputs with the largest share at the scenario's longest horizon, largest first."""
    rows = table[(table["scenario"] == scenario) & (table["target"] == target)]
    if rows.empty:
        return []
    last = rows[rows["horizon"] == rows["horizon"].max()]
    return list(last.sort_values("S1", ascending=False, na_position="last")["input"].head(n))


def _panels(n: int, size=SLIDE_SIZE):
    ncols = n if n <= 3 else -(-n // 2)
    fig = Figure(figsize=size, layout="constrained")
    grid = fig.subplots(-(-n // ncols), ncols, squeeze=False)
    flat = list(grid.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _wrap(text: str, width: int = 34) -> str:
    lines = textwrap.wrap(text.replace("/", "/ ").replace("_", "_ "), width,
                          break_long_words=False)
    return "\n".join(lines).replace("/ ", "/").replace("_ ", "_")


def plot_tornado(table: pd.DataFrame, target: str, *, scenarios: Sequence[str] | None = None,
                 top: int = 8) -> Figure:
    """Per scenario, the inputs with the largest share of the target's variance (first-order
    Sobol index, bars per headline horizon, whiskers the 95% bootstrap half-width), largest at
    the top."""
    with matplotlib.rc_context(_STYLE):
        rows = table[table["target"] == target]
        scenarios = list(scenarios or dict.fromkeys(rows["scenario"]))
        fig, axes = _panels(max(len(scenarios), 1))
        horizons = sorted(rows["horizon"].unique())
        height = 0.8 / max(len(horizons), 1)
        scale = str(rows["scale"].iloc[0]) if "scale" in rows and len(rows) else "log"
        for ax, scen in zip(axes, scenarios, strict=False):
            names = top_inputs(rows, scen, target, top)
            here = rows[rows["scenario"] == scen].set_index(["input", "horizon"])
            y = np.arange(len(names))[::-1]
            for k, h in enumerate(horizons):
                s1 = [float(here["S1"].get((n, h), np.nan)) for n in names]
                conf = [float(here["S1_conf"].get((n, h), np.nan)) for n in names]
                bars = ax.barh(y + (len(horizons) - 1 - 2 * k) * height / 2,
                               np.clip(np.nan_to_num(s1), 0, None), height=height,
                               xerr=np.nan_to_num(conf), error_kw={"lw": 0.8, "alpha": 0.6},
                               color=HORIZON_COLOURS[min(k, len(HORIZON_COLOURS) - 1)],
                               label=f"day {h}")
                for bar, n in zip(bars, names, strict=True):
                    bar.set_gid(f"s1:{scen}:{n}:{h}")
            kinds = here["kind"].groupby(level=0).first() if len(here) else pd.Series(dtype=str)
            ax.set_yticks(y, [_wrap(KIND_PREFIX.get(kinds.get(n, ""), "") + n) for n in names])
            ax.set_xlim(0, max(0.05, min(1.0, 1.1 * float(np.nanmax(
                rows[rows["scenario"] == scen]["S1"].to_numpy(dtype=float), initial=0.05)))))
            ax.set_xlabel("share of variance" + (" of log(1 + count)" if scale == "log" else ""))
            ax.set_title(scen)
            ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        if scenarios and horizons:
            axes[0].legend(loc="lower right", frameon=False)
        fig.suptitle(f"{TARGET_LABELS.get(target, target)}: what its uncertainty comes from "
                     "(first-order share of variance)")
        return fig


def plot_influence(table: pd.DataFrame, target: str, horizon: int, *,
                   scenarios: Sequence[str] | None = None) -> Figure:
    """Per scenario, how the target's median at ``horizon`` moves when each report is left out
    (bar: relative change of the median; whiskers: relative change of the 5% and 95%
    quantiles)."""
    with matplotlib.rc_context(_STYLE):
        rows = table[(table["target"] == target) & (table["horizon"] == horizon)]
        scenarios = list(scenarios or dict.fromkeys(rows["scenario"]))
        fig, axes = _panels(max(len(scenarios), 1))
        for ax, scen in zip(axes, scenarios, strict=False):
            here = rows[rows["scenario"] == scen].reset_index(drop=True)
            y = np.arange(len(here))[::-1]
            change = here["median_change"].to_numpy(dtype=float)
            bars = ax.barh(y, change, color=np.where(change >= 0, "#d62728", "#1f77b4"),
                           height=0.6)
            for bar, ev in zip(bars, here["evidence"], strict=True):
                bar.set_gid(f"influence:{scen}:{ev}")
            for col, marker, label in (("q05_change", "<", "5% quantile"),
                                       ("q95_change", ">", "95% quantile")):
                if col in here:
                    ax.plot(here[col], y, linestyle="none", marker=marker, color="#444",
                            markersize=6, label=label)
            ax.axvline(0, color="#333", lw=0.8)
            reach = np.nanmax(np.abs(here[["median_change", "q05_change", "q95_change"]]
                                     .to_numpy(dtype=float)), initial=0.05)
            ax.set_xlim(-1.15 * reach, 1.15 * reach)
            ax.set_yticks(y, [_wrap(str(e)) for e in here["evidence"]])
            ax.set_xlabel(f"change without it, day {horizon}")
            ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            ax.set_title(scen)
        if scenarios and len(rows):
            handles, labels = axes[0].get_legend_handles_labels()
            fig.legend(handles, labels, loc="outside lower center", ncols=2, frameon=False)
        fig.suptitle(f"{TARGET_LABELS.get(target, target)}: how each report moves it (refit "
                     "without the report)")
        return fig
