"""What drives the answer, in the run directory and the report: ``sensitivity.csv`` (always),
``influence.csv`` (with ``--evidence-influence``), their figures under ``plots/`` and the report's
blocks.

Two calls, for the writer and the report:

* :func:`write_drivers` ``(result, run_dir, formats, dpi=...)`` computes the assumption
  sensitivity of the run's own draws (:mod:`models.outputs.sensitivity`), writes
  ``sensitivity.csv`` and, when the run holds an evidence-influence table
  (``result.extra["evidence_influence"]``, made by
  :func:`models.evaluation.influence.attach_influence`), ``influence.csv``; with "plots" or
  "report" in ``formats`` also ``plots/sensitivity_<target>.png`` and
  ``plots/influence_<target>.png``. Returns name -> figure path.
* :func:`driver_blocks` ``(result, run_dir)`` reads those files back and returns the report's
  blocks (:mod:`models.outputs.blocks`): the sensitivity table per scenario with the tornado
  charts and, if present, the evidence-influence table and chart. Nothing written, no blocks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from models.outputs.blocks import Heading, Image, Para, Table
from models.outputs.formatting import format_count
from models.outputs.run_result import RunResult
from models.outputs.sensitivity import ESTIMATOR, sensitivity_table
from models.outputs.statistics import headline_horizons
from models.vocabulary import MIXTURE, TARGET_SHORT, TARGETS

__all__ = ["INFLUENCE_COLUMNS", "INFLUENCE_FILE", "INFLUENCE_TARGETS", "SENSITIVITY_FILE",
           "driver_blocks", "write_drivers"]

SENSITIVITY_FILE = "sensitivity.csv"
INFLUENCE_FILE = "influence.csv"
INFLUENCE_COLUMNS = ["scenario", "target", "region", "horizon", "evidence", "quantity",
                     "median_all", "median_without", "median_change", "q05_change",
                     "q95_change", "divergences", "target_accept", "separated_with"]
"""Columns of the evidence-influence table: per left-out report, the median with all evidence
and without it, the relative changes of the median and of the 5% and 95% quantiles, the refit's
divergent transitions and the NUTS target acceptance it ended with (a divergent refit is retried
once with smaller steps), and the reports separated against this one (their windows stay as
separated)."""
INFLUENCE_TARGETS = ("cum_deaths", "displaced")
"""Targets drawn in the influence chart (the table has all)."""
TOP = 8


def write_drivers(result: RunResult, run_dir: Path, formats=("csv", "plots", "report"), *,
                  dpi: int = 120, writer=None) -> dict[str, Path]:
    """Write ``sensitivity.csv`` (and ``influence.csv``) and, with plots or a report, their
    figures; return figure name -> path (see the module docstring). ``writer``: a
    :class:`models.outputs.rendering.FigureWriter` to send the figures to (then the return is
    empty: the writer's :meth:`~models.outputs.rendering.FigureWriter.files` has them)."""
    run_dir = Path(run_dir)
    horizons = headline_horizons(result)
    table = sensitivity_table(result.forecast, result.idata, horizons, seed=result.seed)
    table.to_csv(run_dir / SENSITIVITY_FILE, index=False, float_format="%.4f")
    influence = influence_frame(result)
    if influence is not None:
        influence.to_csv(run_dir / INFLUENCE_FILE, index=False, float_format="%.4f")
    if not {"plots", "report"} & set(formats):
        return {}
    from models.outputs.rendering import FigureWriter
    from models.outputs.sensitivity_plots import plot_influence, plot_tornado

    own = writer is None
    writer = writer or FigureWriter(run_dir / "plots", dpi)
    names = []
    for t in dict.fromkeys(table["target"]):
        writer.submit(f"sensitivity_{t}", plot_tornado, table, t, top=TOP)
        names.append(f"sensitivity_{t}")
    if influence is not None and len(influence):
        last = int(influence["horizon"].max())
        for t in INFLUENCE_TARGETS:
            if t in set(influence["target"]):
                writer.submit(f"influence_{t}", plot_influence, influence, t, last)
                names.append(f"influence_{t}")
    if not own:
        return {}
    files = writer.files()
    return {name: files[name] for name in names}


def influence_frame(result: RunResult) -> pd.DataFrame | None:
    """The run's evidence-influence table (None if the run was made without it)."""
    rows = result.extra.get("evidence_influence")
    return None if rows is None else pd.DataFrame(rows, columns=INFLUENCE_COLUMNS)


def _share(s1: float, conf: float) -> str:
    if not np.isfinite(s1):
        return "n/a"
    share = max(s1, 0.0) + 0.0  # no "-0%"
    return f"{share:.0%} ± {conf:.0%}" if np.isfinite(conf) else f"{share:.0%}"


def _change(x: float) -> str:
    """A relative change to whole percent, "±0%" when it rounds to nothing."""
    return "±0%" if abs(x) < 0.005 else f"{x:+.0%}"


def sensitivity_blocks(table: pd.DataFrame, run_dir: Path, top: int = TOP) -> list:
    """Per scenario, the inputs with the largest shares at the longest headline horizon (rows)
    against the targets (columns), then the tornado charts."""
    if table.empty:
        return []
    last = int(table["horizon"].max())
    at = table[table["horizon"] == last]
    targets = list(dict.fromkeys(at["target"]))
    scale = str(at["scale"].iloc[0])
    blocks = [Heading(2, "What drives the answer: assumption sensitivity"), Para(
        f"The share of each outcome's variance at day {last} that each input explains on its own "
        f"(the {ESTIMATOR}), estimated from this run's own draws: every lever and nowcast "
        "parameter is drawn per draw, so no extra runs are needed. "
        + ("Shares are of the variance of log(1 + outcome), i.e. of relative differences. "
           if scale == "log" else "")
        + "A lever's share is its own main effect; nowcast parameters move together in the "
        "posterior, so theirs overlap. What the shares leave is interactions (an event's "
        "multiplier matters only when the event happens) and the simulation's chance (the "
        f"regime path, event days, daily counts). All horizons: {SENSITIVITY_FILE}.")]
    for scen in dict.fromkeys(at["scenario"]):
        here = at[at["scenario"] == scen]
        order = (here.groupby("input")["S1"].max().sort_values(ascending=False).head(top).index)
        cell = here.set_index(["input", "target"])
        kinds = here.groupby("input")["kind"].first()
        rows = [[name, kinds[name]] + [_share(float(cell["S1"].get((name, t), np.nan)),
                                              float(cell["S1_conf"].get((name, t), np.nan)))
                                       for t in targets] for name in order]
        total = here.assign(S1=here["S1"].clip(lower=0)).groupby("target")["S1"].sum()
        rows.append(["all inputs (first-order shares added)", ""]
                    + [f"{total.get(t, np.nan):.0%}" for t in targets])
        blocks += [Heading(3, scen + (" (the scenario drawn is an input)" if scen == MIXTURE
                                      else "")),
                   Table(["input", "kind", *[f"{TARGET_SHORT.get(t, t)}, day {last}"
                                             for t in targets]], rows)]
    blocks += _images(run_dir, "sensitivity_", "what the uncertainty of {} comes from, per "
                      "scenario and headline horizon (share of variance, 95% bootstrap whiskers)")
    return blocks


def influence_blocks(table: pd.DataFrame, run_dir: Path) -> list:
    """The evidence-influence table (reports against scenarios, for the headline targets at
    the longest horizon) and chart."""
    if table is None or table.empty:
        return []
    last = int(table["horizon"].max())
    at = table[(table["horizon"] == last) & table["target"].isin(INFLUENCE_TARGETS)]
    cols = [(s, t) for t in INFLUENCE_TARGETS for s in dict.fromkeys(at["scenario"])
            if ((at["scenario"] == s) & (at["target"] == t)).any()]
    cell = at.set_index(["evidence", "scenario", "target"])
    rows = []
    for ev in dict.fromkeys(at["evidence"]):
        r = [ev]
        for s, t in cols:
            med = float(cell["median_without"].get((ev, s, t), np.nan))
            change = float(cell["median_change"].get((ev, s, t), np.nan))
            r.append(f"{format_count(med)} ({_change(change)})" if np.isfinite(change) else "n/a")
        sep = at.loc[at["evidence"] == ev, "separated_with"].iloc[0]
        r.append(sep if isinstance(sep, str) and sep else "")
        rows.append(r)
    with_all = ["with every report"] + [format_count(float(
        at.loc[(at["scenario"] == s) & (at["target"] == t), "median_all"].iloc[0]))
        for s, t in cols] + [""]
    blocks = [Heading(2, "Which report moved it: evidence influence"), Para(
        "The nowcast refitted without each report in turn (its claim replaced by 'at least 0', "
        "which carries no information, on the same compiled model) and every scenario "
        f"re-simulated with the same seed: the median at day {last} without the report, and its "
        "change against the run with every report. A report another was separated against "
        "(a day's toll inside a running total) leaves that one's window as separated. All "
        f"targets and horizons, and the 5%/95% quantiles: {INFLUENCE_FILE}."),
        Table(["report left out", *[f"{s}: {TARGET_SHORT.get(t, t)}" for s, t in cols],
               "separated with"], [with_all, *rows])]
    if "divergences" in table:
        divergent = table.drop_duplicates("evidence")
        divergent = divergent[divergent["divergences"] > 0]
        if len(divergent):
            blocks.append(Para(
                "Caution: the refit without " + ", ".join(
                    f"{r.evidence} ({int(r.divergences)} divergent transitions)"
                    for r in divergent.itertuples())
                + " still diverged after a retry with smaller steps; read its row as "
                "approximate."))
    return blocks + _images(run_dir, "influence_", "how each report moves {}: relative change "
                            "without it (bar: median; markers: 5% and 95% quantiles)")


def _images(run_dir: Path, prefix: str, caption: str) -> list:
    out = []
    rank = {t: i for i, t in enumerate(TARGETS)}
    paths = sorted((Path(run_dir) / "plots").glob(f"{prefix}*.png"),
                   key=lambda p: (rank.get(p.stem[len(prefix):], len(rank)), p.stem))
    for path in paths:
        target = path.stem[len(prefix):]
        out.append(Image(path, path.relative_to(run_dir).as_posix(),
                         caption.format(TARGET_SHORT.get(target, target).lower()).capitalize()))
    return out


def driver_blocks(result: RunResult, run_dir: Path) -> list:
    """The report's blocks for what drives the answer, from the files :func:`write_drivers`
    wrote into ``run_dir`` (none written: no blocks)."""
    run_dir = Path(run_dir)
    blocks = []
    if (run_dir / SENSITIVITY_FILE).is_file():
        blocks += sensitivity_blocks(pd.read_csv(run_dir / SENSITIVITY_FILE), run_dir)
    if (run_dir / INFLUENCE_FILE).is_file():
        blocks += influence_blocks(pd.read_csv(run_dir / INFLUENCE_FILE), run_dir)
    return blocks
