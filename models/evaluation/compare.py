"""Compare finished runs: ``python -m models.compare RUN_DIR RUN_DIR ... [--out DIR]``.

Every scenario of every run becomes one series (``<run scenario>/<scenario>``; a scenario that
two runs computed identically, same config hash, seed and posterior, is kept once). The first
series is the reference. For each series, target and headline horizon (all regions) the table
gives the median and 90% interval and the difference to the reference:

* draw by draw when the draws are paired: the same run, or runs with the same seed, the same
  posterior draws (fingerprint in run.json) and the same number of draws, so that draw i is
  the same nowcast draw and the same random numbers in both (then ``p_higher`` is the share of
  draws in which the series is above the reference);
* otherwise only as a difference of medians, and the table says ``paired: no``.

Runs made at different forecast origins, or with different targets, are not comparable: the
command refuses them with a one-line message and exit status 2. Writes ``comparison.csv``,
``comparison.md`` and ``plots/`` into ``--out`` (default ``results/comparisons/<time>``),
atomically, and prints the table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import xarray as xr

# numpy, pandas, xarray, matplotlib and ArviZ are imported where needed, so that refusing
# runs that cannot be compared (from their run.json alone) is quick.

EXIT_REFUSED = 2
ALL = "all"
"""Location id of the sum over regions (as models.state.ALL; not imported, to start fast)."""


class NotComparable(Exception):
    """The runs cannot be compared; ``str(err)`` is the one-line reason."""


@dataclass
class LoadedRun:
    path: Path
    run: dict
    forecast: xr.Dataset
    headline_horizons: list[int]

    @property
    def label(self) -> str:
        return self.run["scenario_id"]


@dataclass
class Series:
    label: str
    run: LoadedRun
    scenario: str

    def values(self, target: str):
        """(draw, day) draws of ``target`` for all regions, people."""
        return self.run.forecast["forecast"].sel(scenario=self.scenario, target=target,
                                                 region=ALL).transpose("draw", "day")


def read_headers(paths: list[Path]) -> list[dict]:
    """Each run's run.json (cheap: no arrays), for the comparability checks."""
    headers = []
    for p in paths:
        p = Path(p)
        if not p.is_dir():
            raise NotComparable(f"{p}: not a directory")
        run_file = p / "run.json"
        try:
            headers.append(json.loads(run_file.read_text("utf-8")) | {"_path": p})
        except FileNotFoundError:
            raise NotComparable(f"{run_file}: not found; is {p} a run directory?") from None
        except json.JSONDecodeError as e:
            raise NotComparable(f"{run_file}: not valid JSON ({e})") from None
    return headers


def check_headers(headers: list[dict]) -> None:
    """Raise :class:`NotComparable` unless all runs share their origin, episode start and targets."""
    first = headers[0]
    for other in headers[1:]:
        for key in ("origin", "targets"):
            if key not in other or key not in first:
                raise NotComparable(f"{other['_path'] / 'run.json'}: no '{key}' recorded")
        if other["origin"] != first["origin"]:
            raise NotComparable(
                f"runs have different forecast origins: {first['_path'].name} is as of "
                f"{first['origin']}, {other['_path'].name} as of {other['origin']}; "
                "compare runs made on the same day")
        start, other_start = first.get("episode_start"), other.get("episode_start")
        if start and other_start and start != other_start:
            # Cumulative targets count from the episode start: the same name, different totals.
            raise NotComparable(
                f"runs have different episode starts: {first['_path'].name} counts from "
                f"{start}, {other['_path'].name} from {other_start}; cumulative targets "
                "would not mean the same thing")
        if set(other["targets"]) != set(first["targets"]):
            raise NotComparable(
                f"runs have different targets: {first['_path'].name} has "
                f"{', '.join(first['targets'])}; {other['_path'].name} has "
                f"{', '.join(other['targets'])}")


def load_runs(paths: list[Path]) -> list[LoadedRun]:
    """Load runs (integrity-checked by :func:`models.outputs.results.load_run`)."""
    import yaml

    from models.outputs.store import RunIntegrityError, load_run

    runs = []
    for p in paths:
        p = Path(p)
        if not p.is_dir():
            raise NotComparable(f"{p}: not a directory")
        try:
            idata, run = load_run(p)
        except (FileNotFoundError, RunIntegrityError) as e:
            raise NotComparable(str(e)) from None
        if "scenario_forecast" not in idata.groups():
            raise NotComparable(f"{p / 'forecast.nc'}: has no scenario_forecast group")
        config = yaml.safe_load((p / "config.resolved.yaml").read_text("utf-8"))
        horizons = config.get("output", {}).get("headline_horizons", [7, 30, 90])
        runs.append(LoadedRun(p, run, idata.scenario_forecast, list(horizons)))
    return runs


def check_comparable(runs: list[LoadedRun]) -> None:
    """Raise :class:`NotComparable` unless all runs share their origin and targets (as
    stored in the forecasts themselves, not only in run.json)."""
    check_headers([r.run | {"_path": r.path,
                            "targets": [str(t) for t in r.forecast["target"].values]}
                   for r in runs])


def paired(a: LoadedRun, b: LoadedRun) -> bool:
    """Draw i means the same thing in both runs (same run, or same seed, posterior and draws)."""
    if a is b:
        return True
    keys = ("seed", "posterior_fingerprint", "draws")
    return all(a.run.get(k) is not None and a.run.get(k) == b.run.get(k) for k in keys)


def make_series(runs: list[LoadedRun]) -> list[Series]:
    labels = [r.label for r in runs]
    out, seen = [], set()
    for r in runs:
        tag = r.label if labels.count(r.label) == 1 else f"{r.label}@{r.run['run_id'][:15]}"
        for s in [str(x) for x in r.forecast["scenario"].values]:
            # Identical inputs give identical draws: keep such a scenario once.
            key = (s, r.run.get("config_hashes", {}).get(s), r.run.get("seed"),
                   r.run.get("posterior_fingerprint"), r.run.get("draws"))
            if key[1] is not None and key in seen:
                continue
            seen.add(key)
            out.append(Series(f"{tag}/{s}", r, s))
    return out


def comparison_table(series: list[Series], targets: list[str], horizons: list[int]):
    """One row per series, target and horizon (a DataFrame): quantiles, and differences to the
    reference (the first series) draw by draw where paired."""
    import numpy as np
    import pandas as pd

    ref = series[0]
    rows = []
    for s in series:
        is_paired = paired(s.run, ref.run)
        for t in targets:
            v = s.values(t).sel(day=horizons).values  # (draw, horizon)
            r = ref.values(t).sel(day=horizons).values
            q = np.quantile(v, [0.05, 0.5, 0.95], axis=0)
            if s is ref:
                d = np.full((3, len(horizons)), np.nan)
                p_higher = np.full(len(horizons), np.nan)
            elif is_paired:
                d = np.quantile(v - r, [0.05, 0.5, 0.95], axis=0)
                p_higher = (v > r).mean(axis=0)
            else:
                d = np.full((3, len(horizons)), np.nan)
                d[1] = q[1] - np.quantile(r, 0.5, axis=0)
                p_higher = np.full(len(horizons), np.nan)
            for k, h in enumerate(horizons):
                rows.append({"series": s.label, "run_id": s.run.run["run_id"],
                             "scenario": s.scenario, "target": t, "horizon": h,
                             "q05": q[0, k], "median": q[1, k], "q95": q[2, k],
                             "diff_q05": d[0, k], "diff_median": d[1, k], "diff_q95": d[2, k],
                             "p_higher": p_higher[k], "paired": is_paired,
                             "reference": s is ref})
    return pd.DataFrame(rows)


def plot_overlay(series: list[Series], target: str, *, origin=None, ax=None):
    """Median and 90% band of each series on one axes."""
    from models.outputs.plots import styled

    return styled(_plot_overlay)(series, target, origin=origin, ax=ax)


def _plot_overlay(series: list[Series], target: str, *, origin=None, ax=None):
    import numpy as np
    from matplotlib.figure import Figure

    from models.outputs.plots import (
        TARGET_LABELS,
        THOUSANDS,
        day_label,
        scenario_colours,
        target_label,
    )

    if ax is None:
        fig = Figure(figsize=(13.33, 7.5), layout="constrained")
        ax = fig.subplots()
    else:
        fig = ax.figure
    colours = scenario_colours([s.label for s in series])
    for s in series:
        v = s.values(target)
        q = np.quantile(v.values, [0.05, 0.5, 0.95], axis=0)
        days = v["day"].values
        c = colours[s.label] if not s.label.endswith("/mixture") else "black"
        ax.fill_between(days, q[0], q[2], color=c, alpha=0.12, lw=0, gid=f"band90:{s.label}")
        ax.plot(days, q[1], color=c, lw=2.2, label=s.label, gid=f"median:{s.label}")
    ax.yaxis.set_major_formatter(THOUSANDS)
    ax.set_xlabel(day_label(origin))
    ax.set_ylabel(target_label(target))
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, loc="upper left")
    ax.set_title(f"{TARGET_LABELS.get(target, target)}: median and 90% interval per run and "
                 "scenario (all regions)")
    return fig


def write_comparison(runs: list[LoadedRun], out: Path, *, dpi: int = 110, plots: bool = True):
    """Compare runs (see module docstring); write into ``out`` atomically; return it and the
    table (a DataFrame). ``plots=False`` writes the table only."""
    import xarray as xr

    from models.outputs.atomic import atomic_directory
    from models.outputs.plots import difference_statistics, plot_difference

    check_comparable(runs)
    series = make_series(runs)
    targets = [str(t) for t in runs[0].forecast["target"].values]
    horizon = min(int(r.forecast["day"].max()) for r in runs)
    horizons = [h for h in runs[0].headline_horizons if 1 <= h <= horizon] or [horizon]
    table = comparison_table(series, targets, horizons)
    origin = dt.date.fromisoformat(runs[0].run["origin"])
    ref = series[0]
    with atomic_directory(Path(out)) as tmp:
        table.to_csv(tmp / "comparison.csv", index=False, float_format="%.2f")
        if plots:
            (tmp / "plots").mkdir()
        for t in targets if plots else []:
            plot_overlay(series, t, origin=origin).savefig(tmp / "plots" / f"overlay_{t}.png",
                                                           dpi=dpi)
            pairs = [s for s in series[1:] if paired(s.run, ref.run)]
            if pairs:
                days = ref.values(t)["day"].values
                days = days[days <= horizon]
                diffs = xr.concat([
                    (s.values(t).sel(day=days) - ref.values(t).sel(day=days))
                    .expand_dims(scenario=[s.label]) for s in pairs], dim="scenario")
                stats = difference_statistics(diffs)
                plot_difference(stats, t, ref.label, origin=origin).savefig(
                    tmp / "plots" / f"difference_{t}.png", dpi=dpi)
        (tmp / "comparison.md").write_text(_markdown(runs, series, table), "utf-8")
    return Path(out), table


def _markdown(runs, series, table) -> str:
    lines = ["# Comparison of runs", "",
             f"Forecast origin {runs[0].run['origin']}. Reference series: {series[0].label}. "
             "Differences are draw by draw where the draws are paired, else differences of "
             "medians. People, all regions.", ""]
    lines += ["| run | path | seed | draws |", "|---|---|---|---|"]
    lines += [f"| {r.run['run_id']} | {r.path} | {r.run.get('seed')} | {r.run.get('draws')} |"
              for r in runs]
    lines += ["", table_text(table, markdown=True), ""]
    return "\n".join(lines)


def table_text(table, markdown: bool = False) -> str:
    """The comparison table as aligned text (or Markdown)."""
    import pandas as pd

    def c(x):
        return "" if pd.isna(x) else f"{x:,.0f}"

    header = ["series", "target", "day", "median (90%)", "diff to ref: median (90%)",
              "P(higher)", "paired"]
    rows = []
    for r in table.itertuples(index=False):
        if r.reference:
            diff = "(reference)"
        elif r.paired:
            diff = f"{c(r.diff_median)} ({c(r.diff_q05)} to {c(r.diff_q95)})"
        else:
            diff = f"{c(r.diff_median)} (medians only)"
        rows.append([r.series, r.target, str(r.horizon),
                     f"{c(r.median)} ({c(r.q05)} to {c(r.q95)})", diff,
                     "" if pd.isna(r.p_higher) else f"{r.p_higher:.0%}",
                     "yes" if r.paired else "no"])
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(out)
    widths = [max(len(h), *(len(row[k]) for row in rows)) for k, h in enumerate(header)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*header), *(fmt.format(*row) for row in rows)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m models.compare",
        description="Compare finished runs (same forecast origin and targets), draw by draw "
                    "where their draws are paired.")
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR")
    parser.add_argument("--out", type=Path, default=None,
                        help="output directory (default results/comparisons/<time>)")
    parser.add_argument("--quiet", action="store_true", help="do not print the table")
    parser.add_argument("--no-plots", action="store_true", help="write the table only")
    args = parser.parse_args(argv)
    if len(args.runs) < 2:
        print("compare: give at least two run directories", file=sys.stderr)
        return EXIT_REFUSED
    out = args.out or Path("results") / "comparisons" / dt.datetime.now(dt.UTC).strftime(
        "%Y%m%dT%H%M%SZ")
    try:
        check_headers(read_headers(args.runs))
        runs = load_runs(args.runs)
        out, table = write_comparison(runs, out, plots=not args.no_plots)
    except (NotComparable, FileExistsError) as e:
        print(f"compare: {e}", file=sys.stderr)
        return EXIT_REFUSED
    if not args.quiet:
        print(table_text(table))
    print(f"comparison written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

