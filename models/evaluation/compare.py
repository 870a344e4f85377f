"""Compare finished runs: the library behind ``python -m models.compare`` (the command line is
:mod:`models.cli.compare`).

Every scenario of every run becomes one series (``<run scenario>/<scenario>``; a scenario that
two runs computed identically, same config hash, seed and posterior, is kept once). The reference
is the series ``reference`` names (:func:`resolve_reference`: a series label, a scenario id
that names one series, or a run id), by default the first series (the first run's primary
scenario). For each series, target and headline horizon (all regions) the table gives the
median and 90% interval and the difference to the reference (series minus reference):

* draw by draw when the draws are paired: the same run, or runs with the same seed, the same
  posterior draws (fingerprint in run.json) and the same number of draws, so that draw i is
  the same nowcast draw and the same random numbers in both (then ``p_higher`` is the share of
  draws in which the series is above the reference);
* otherwise only as a difference of medians, and the table says ``paired: no``.

A run's ``mixture`` series is the mixture the run stored (:data:`models.vocabulary.MIXTURE`:
each draw is the same draw of one scenario, picked with probability equal to its weight); it is
compared like any other series, never rebuilt here.

Runs made at different forecast origins, episode starts or with different targets are not
comparable: :class:`NotComparable` says why in one line. :func:`compare_runs` (paths in, a
written comparison out) is the one call a script or notebook needs; :func:`write_comparison`
writes ``comparison.csv``, ``comparison.md``, ``comparison.html`` and ``plots/`` atomically.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from models.outputs.atomic import atomic_directory
from models.outputs.blocks import Heading, Image, Para, Table, to_html, to_markdown
from models.outputs.formatting import format_count
from models.storage import refuse_overwrite
from models.vocabulary import ALL, TARGET_LABELS
from scenarios.yaml_source import ConfigError, load_yaml_text, read_text_file

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr
    from matplotlib.figure import Figure

# numpy, pandas, xarray and ArviZ are imported where needed (matplotlib only through
# models.outputs.plots), so that refusing runs that cannot be compared (from their run.json
# alone) is quick.

__all__ = ["LoadedRun", "NotComparable", "Series", "check_comparable", "check_headers",
           "compare_runs", "comparison_blocks", "comparison_table", "load_runs", "make_series",
           "overlay_statistics", "paired", "plot_overlay", "read_headers", "resolve_reference",
           "table_text", "write_comparison"]

OVERLAY_LEVELS = (0.05, 0.5, 0.95)
"""Quantiles drawn in the overlay plot (median and 90% band)."""


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


# --- loading and checking ---------------------------------------------------------------------


def read_headers(paths: list[Path]) -> list[dict]:
    """Each run's run.json (cheap: no arrays), for the comparability checks."""
    headers = []
    for p in paths:
        p = Path(p)
        if not p.is_dir():
            raise NotComparable(f"{p}: not a directory")
        run_file = p / "run.json"
        if not run_file.exists():
            raise NotComparable(f"{run_file}: not found; is {p} a run directory?")
        try:
            record = json.loads(read_text_file(run_file, what="run.json"))
        except ConfigError as e:
            raise NotComparable(str(e)) from None
        except json.JSONDecodeError as e:
            raise NotComparable(f"{run_file}: not valid JSON ({e})") from None
        if not isinstance(record, dict):
            raise NotComparable(f"{run_file}: not a run record (expected a JSON object, got "
                                f"{type(record).__name__})")
        headers.append(record | {"_path": p})
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
                "compare runs made on the same day, or track a forecast across origins with "
                "python -m models.timeline RUN_DIR RUN_DIR ...")
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
    """Load runs (integrity-checked by :func:`models.outputs.store.load_run`; the stored
    configs read with the limits of a config, so a damaged run is refused quickly)."""
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
        _check_forecast(p / "forecast.nc", idata.scenario_forecast)
        try:
            config = load_yaml_text(read_text_file(p / "config.resolved.yaml",
                                                   what="a stored config"),
                                    str(p / "config.resolved.yaml"))
        except ConfigError as e:
            raise NotComparable(str(e)) from None
        output = config.get("output") if isinstance(config, dict) else None
        horizons = (output or {}).get("headline_horizons", [7, 30, 90]) \
            if isinstance(output, dict) or output is None else None
        if not isinstance(horizons, list) or not all(
                isinstance(h, int) and not isinstance(h, bool) for h in horizons):
            raise NotComparable(f"{p / 'config.resolved.yaml'}: output -> headline_horizons is "
                                "not a list of days")
        runs.append(LoadedRun(p, run, idata.scenario_forecast, list(horizons)))
    return runs


def _check_forecast(path: Path, forecast) -> None:
    """The stored forecast has the shape every comparison reads (a file that opens but was
    damaged, or written by something else, is refused here, not with a KeyError later)."""
    dims = ("scenario", "draw", "day", "target", "region")
    var = forecast.get("forecast") if hasattr(forecast, "get") else None
    if var is None or set(var.dims) != set(dims):
        raise NotComparable(f"{path}: scenario_forecast has no 'forecast' variable with dims "
                            f"{', '.join(dims)}")
    if ALL not in [str(r) for r in forecast["region"].values] or forecast.sizes["day"] < 1:
        raise NotComparable(f"{path}: scenario_forecast has no '{ALL}' region or no days")


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


# --- series and the table ---------------------------------------------------------------------


def make_series(runs: list[LoadedRun]) -> list[Series]:
    """One series per scenario of each run, labelled ``<run>/<scenario>`` (``<run>@<run id>``
    when two runs share a primary scenario); identical inputs are kept once."""
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


def resolve_reference(series: list[Series], ident: str | None = None) -> Series:
    """The series differences are taken against: ``ident`` is a series label as the table
    prints it (``escalation/baseline``), a scenario id that names exactly one series
    (``baseline``), or a run id or run directory name (that run's primary scenario; a prefix of
    8 characters or more will do); None is the first series. Raises :class:`NotComparable`
    naming the series when ``ident`` names none or several."""
    if ident is None:
        return series[0]
    labels = ", ".join(s.label for s in series)
    for pick in (lambda s: s.label == ident, lambda s: s.scenario == ident):
        found = [s for s in series if pick(s)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise NotComparable(f"--reference {ident}: names several series "
                                f"({', '.join(s.label for s in found)}); give one of them")
    runs = list(dict.fromkeys(id(s.run) for s in series if s.run.path.name == ident or (
        len(ident) >= 8 and str(s.run.run.get("run_id", "")).startswith(ident))))
    if len(runs) == 1:
        of_run = [s for s in series if id(s.run) == runs[0]]
        return next((s for s in of_run if s.scenario == s.run.label), of_run[0])
    if len(runs) > 1:
        raise NotComparable(f"--reference {ident}: names several runs; give more of the run id")
    raise NotComparable(f"--reference {ident}: no such series, scenario or run; the series "
                        f"are {labels}")


def comparison_table(series: list[Series], targets: list[str], horizons: list[int],
                     reference: Series | None = None):
    """One row per series, target and horizon (a DataFrame): quantiles, and differences to the
    reference (default the first series; series minus reference) draw by draw where paired."""
    import numpy as np
    import pandas as pd

    ref = reference or series[0]
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


TABLE_HEADERS = ["series", "target", "day", "median (90%)", "diff to ref: median (90%)",
                 "P(higher)", "paired"]


def _count(x: float) -> str:
    """A count of people as the table shows it: every digit, thousands separators; blank if
    missing."""
    return "" if math.isnan(x) else format_count(x, digits=None)


def table_rows(table: pd.DataFrame) -> list[list[str]]:
    """The comparison table as rows of text (columns :data:`TABLE_HEADERS`)."""
    rows = []
    for r in table.itertuples(index=False):
        if r.reference:
            diff = "(reference)"
        elif r.paired:
            diff = f"{_count(r.diff_median)} ({_count(r.diff_q05)} to {_count(r.diff_q95)})"
        else:
            diff = f"{_count(r.diff_median)} (medians only)"
        rows.append([r.series, r.target, str(r.horizon),
                     f"{_count(r.median)} ({_count(r.q05)} to {_count(r.q95)})", diff,
                     "" if math.isnan(r.p_higher) else f"{r.p_higher:.0%}",
                     "yes" if r.paired else "no"])
    return rows


def table_text(table: pd.DataFrame, markdown: bool = False) -> str:
    """The comparison table as aligned text (or Markdown)."""
    rows = table_rows(table)
    if markdown:
        return to_markdown([Table(TABLE_HEADERS, rows)]).rstrip("\n")
    widths = [max(len(h), *(len(row[k]) for row in rows)) for k, h in enumerate(TABLE_HEADERS)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*TABLE_HEADERS), *(fmt.format(*row) for row in rows)])


# --- plots ------------------------------------------------------------------------------------


def overlay_statistics(series: list[Series], target: str):
    """(series, quantile, day): the median and 90% band of each series (all regions)."""
    import numpy as np
    import xarray as xr

    values = [s.values(target) for s in series]
    q = np.stack([np.quantile(v.values, list(OVERLAY_LEVELS), axis=0) for v in values])
    return xr.DataArray(q, dims=("series", "quantile", "day"),
                        coords={"series": [s.label for s in series],
                                "quantile": list(OVERLAY_LEVELS),
                                "day": values[0]["day"].values})


def plot_overlay(series: list[Series], target: str, *, origin=None, ax=None) -> Figure:
    """Median and 90% band of each series on one axes (drawn by
    :func:`models.outputs.plots.plot_overlay`)."""
    from models.outputs import plots

    return plots.plot_overlay(overlay_statistics(series, target), target, origin=origin, ax=ax)


def _write_plots(series: list[Series], targets: list[str], horizon: int, origin, plots_dir: Path,
                 dpi: int, reference: Series | None = None) -> list[Image]:
    import xarray as xr

    from models.outputs.plots import difference_statistics, plot_difference

    plots_dir.mkdir()
    ref = reference or series[0]
    images = []
    for t in targets:
        name = TARGET_LABELS.get(t, t)
        path = plots_dir / f"overlay_{t}.png"
        plot_overlay(series, t, origin=origin).savefig(path, dpi=dpi)
        images.append(Image(path, f"plots/{path.name}",
                            f"{name}: median and 90% interval of each series"))
        pairs = [s for s in series if s is not ref and paired(s.run, ref.run)]
        if pairs:
            days = ref.values(t)["day"].values
            days = days[days <= horizon]
            diffs = xr.concat([
                (s.values(t).sel(day=days) - ref.values(t).sel(day=days))
                .expand_dims(scenario=[s.label]) for s in pairs], dim="scenario")
            path = plots_dir / f"difference_{t}.png"
            plot_difference(difference_statistics(diffs), t, ref.label, origin=origin).savefig(
                path, dpi=dpi)
            images.append(Image(path, f"plots/{path.name}",
                                f"{name}: each paired series minus {ref.label}, draw by draw"))
    return images


# --- writing ----------------------------------------------------------------------------------


def comparison_blocks(runs: list[LoadedRun], series: list[Series], table: pd.DataFrame,
                      images: list[Image] = (), reference: Series | None = None) -> list:
    """The comparison as report blocks (:mod:`models.outputs.blocks`)."""
    ref = reference or series[0]
    blocks = [
        Heading(1, "Comparison of runs"),
        Para(f"Forecast origin {runs[0].run['origin']}. Reference series: {ref.label}. "
             f"Differences are each series minus {ref.label}, draw by draw where the draws are "
             "paired, else differences of medians. People, all regions."),
        Table(["run", "path", "seed", "draws"],
              [[r.run["run_id"], str(r.path), str(r.run.get("seed")), str(r.run.get("draws"))]
               for r in runs]),
        Table(TABLE_HEADERS, table_rows(table)),
    ]
    if images:
        blocks.append(Heading(2, "Plots"))
        blocks.extend(images)
    return blocks


def write_comparison(runs: list[LoadedRun], out: Path, *, dpi: int = 110, plots: bool = True,
                     reference: str | None = None):
    """Compare runs (see module docstring); write into ``out`` atomically; return it and the
    table (a DataFrame). ``plots=False`` writes the table only; ``reference`` picks the
    reference series (:func:`resolve_reference`). Raises :class:`NotComparable`, or
    FileExistsError if ``out`` exists."""
    check_comparable(runs)
    series = make_series(runs)
    ref = resolve_reference(series, reference)
    targets = [str(t) for t in runs[0].forecast["target"].values]
    horizon = min(int(r.forecast["day"].max()) for r in runs)
    horizons = [h for h in runs[0].headline_horizons if 1 <= h <= horizon] or [horizon]
    table = comparison_table(series, targets, horizons, ref)
    origin = dt.date.fromisoformat(runs[0].run["origin"])
    with atomic_directory(Path(out)) as tmp:
        table.to_csv(tmp / "comparison.csv", index=False, float_format="%.2f")
        images = _write_plots(series, targets, horizon, origin, tmp / "plots", dpi, ref) \
            if plots else []
        blocks = comparison_blocks(runs, series, table, images, ref)
        (tmp / "comparison.md").write_text(to_markdown(blocks), "utf-8")
        (tmp / "comparison.html").write_text(to_html(blocks, "Comparison of runs"), "utf-8")
    return Path(out), table


def compare_runs(paths: list[Path], out: Path, *, dpi: int = 110, plots: bool = True,
                 reference: str | None = None):
    """Check (from run.json first, quickly), load and compare the runs at ``paths``; write the
    comparison into ``out`` (differences to ``reference``, see :func:`resolve_reference`).
    Returns ``(out, table)``; raises :class:`NotComparable` with a one-line reason, or
    FileExistsError if ``out`` exists."""
    if len(paths) < 2:
        raise NotComparable("give at least two run directories")
    refuse_overwrite(Path(out), paths)  # never into a finished run or an input
    check_headers(read_headers(paths))
    return write_comparison(load_runs(paths), out, dpi=dpi, plots=plots, reference=reference)
