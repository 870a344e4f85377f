"""Forecasts tracked across origins: the library behind ``python -m models.timeline`` (the
command line is :mod:`models.cli.timeline`).

Runs of one episode made at different origins (yesterday's frozen run, today's with the new
reports) each forecast the same calendar date. For every target, the headline forecast of that
date (median and 90% interval over draws, all regions) is read from each run at its own horizon
(the date minus the run's origin), with the reported figures as they arrived (each run's resolved
config evidence, first seen in the run whose origin it preceded), and the change of the median
from one origin to the next.

The headline series of a run is its ``mixture`` when it has one (with ``--since`` its weights
learnt from the reports), else its primary scenario; ``scenario=`` picks one scenario for every
run. A date on or before a run's origin, or beyond its horizon, is not forecast by that run: its
row says so and has no numbers.

Runs of different episodes (episode name, country or start differ, or no region in common) are
refused with :class:`NotSameEpisode` (one line). Reported figures that count from the episode
start (running totals) are drawn on the target they count; figures over other windows are
listed in ``reported.csv`` only (they are not on the scale of a cumulative target).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from models.outputs.atomic import atomic_directory
from models.outputs.blocks import Bullets, Heading, Image, Para, Table, to_html, to_markdown
from models.outputs.formatting import format_count
from models.vocabulary import ALL, MIXTURE, TARGET_LABELS

__all__ = ["DEFAULT_DAYS_AFTER", "QUANTITY_TARGET", "NotSameEpisode", "TimelineRun",
           "check_same_episode", "read_runs", "reported_figures", "timeline_table",
           "write_timeline"]

DEFAULT_DAYS_AFTER = 30
"""The default date: this many days after the first (earliest) origin."""
QUANTITY_TARGET = {"deaths": "cum_deaths", "civilian_deaths": "cum_civilian_deaths",
                   "displaced": "cum_displaced", "refugees": "cum_refugees"}
"""The cumulative target a running total of a reported quantity is compared with."""
LEVELS = (0.05, 0.5, 0.95)


class NotSameEpisode(ValueError):
    """The runs cannot be tracked together; ``str(err)`` is the one-line reason."""


@dataclass
class TimelineRun:
    path: Path
    run: dict
    config: dict
    """The primary scenario's resolved config (a mapping)."""
    forecast: object

    @property
    def origin(self) -> dt.date:
        return dt.date.fromisoformat(str(self.run["origin"]))

    @property
    def episode(self) -> dict:
        return self.config["episode"]

    def series(self, scenario: str | None = None) -> str:
        names = [str(s) for s in self.forecast["scenario"].values]
        if scenario is not None:
            if scenario not in names:
                raise NotSameEpisode(f"{self.path}: has no scenario '{scenario}' (it has "
                                     f"{', '.join(names)})")
            return scenario
        return MIXTURE if MIXTURE in names else self.run["scenario_id"]


def read_runs(paths) -> list[TimelineRun]:
    """Load the runs (integrity-checked by :func:`models.outputs.store.load_run`), sorted by
    origin; :class:`NotSameEpisode` for a missing or damaged run."""
    import yaml

    from models.outputs.store import RunIntegrityError, load_run

    runs = []
    for p in paths:
        p = Path(p)
        if not p.is_dir():
            raise NotSameEpisode(f"{p}: not a directory")
        try:
            idata, run = load_run(p)
        except (FileNotFoundError, RunIntegrityError) as e:
            raise NotSameEpisode(str(e)) from None
        if "scenario_forecast" not in idata.groups():
            raise NotSameEpisode(f"{p / 'forecast.nc'}: has no scenario_forecast group")
        runs.append(TimelineRun(p, run, yaml.safe_load(idata.attrs["config_yaml"]),
                                idata.scenario_forecast))
    return sorted(runs, key=lambda r: (r.origin, r.run.get("run_id", "")))


def check_same_episode(runs: list[TimelineRun]) -> None:
    """Raise :class:`NotSameEpisode` unless every run is of the first run's episode: the same
    name, country and start, and regions in common."""
    if len(runs) < 2:
        raise NotSameEpisode("give at least two run directories")
    first = runs[0]
    e0 = first.episode
    for other in runs[1:]:
        e = other.episode
        for key, what in (("name", "episode"), ("country", "country"), ("start", "start")):
            if str(e.get(key)) != str(e0.get(key)):
                raise NotSameEpisode(
                    f"runs of different episodes: {first.path} is {what} {e0.get(key)!s}, "
                    f"{other.path} is {what} {e.get(key)!s}; a timeline tracks one episode")
        if not set(e.get("regions", {})) & set(e0.get("regions", {})):
            raise NotSameEpisode(f"runs of different episodes: {first.path} and {other.path} "
                                 "have no region in common")


def default_date(runs: list[TimelineRun]) -> dt.date:
    return min(r.origin for r in runs) + dt.timedelta(days=DEFAULT_DAYS_AFTER)


def timeline_table(runs: list[TimelineRun], date: dt.date, *, scenario: str | None = None,
                   location: str = ALL):
    """One row per target and run (by origin): the series, the horizon (days from the origin to
    ``date``), q05, median, q95 of the forecast of ``date``, the change of the median since the
    previous run that forecast it, and a note where the run does not forecast the date."""
    import numpy as np
    import pandas as pd

    rows = []
    for target in [str(t) for t in runs[0].forecast["target"].values]:
        previous = None
        for r in runs:
            series = r.series(scenario)
            h = (date - r.origin).days
            horizon = int(r.forecast["day"].max())
            row = {"target": target, "date": date.isoformat(), "origin": r.origin.isoformat(),
                   "run_id": r.run.get("run_id"), "scenario": series, "horizon": h,
                   "q05": np.nan, "median": np.nan, "q95": np.nan, "change": np.nan, "note": ""}
            if h < 1:
                row["note"] = "the date is not after this origin"
            elif h > horizon:
                row["note"] = f"beyond this run's {horizon}-day horizon"
            elif target not in r.forecast["target"].values:
                row["note"] = "target not in this run"
            else:
                x = r.forecast["forecast"].sel(scenario=series, target=target, region=location,
                                               day=h).values
                row["q05"], row["median"], row["q95"] = (float(v) for v in np.quantile(x, LEVELS))
                if previous is not None:
                    row["change"] = row["median"] - previous
                previous = row["median"]
            rows.append(row)
    return pd.DataFrame(rows)


def reported_figures(runs: list[TimelineRun]):
    """Every reported figure of the runs' configs, once (as first seen, by origin): evidence,
    quantity, the target its running total compares with (empty when none), regions, window,
    reported_on, low and high, whether it counts from the episode start, the origin of the
    first run that had it."""
    import pandas as pd

    from scenarios.lexicon import parse_value
    from scenarios.schema import Config

    rows, seen = [], set()
    for r in runs:
        try:
            cfg = Config.model_validate(r.config)
        except ValueError as e:
            raise NotSameEpisode(f"{r.path}: its stored config no longer validates ({e})") from None
        for eid, e in cfg.evidence.items():
            if eid in seen:
                continue
            seen.add(eid)
            first, last = e.period.bounds
            low, high = parse_value(e.value, cfg.lexicon).count_bounds()
            covered = e.region_ids(list(cfg.episode.regions))
            all_regions = set(covered) == set(cfg.episode.regions)
            rows.append({"evidence": eid, "quantity": e.quantity,
                         "target": QUANTITY_TARGET.get(e.quantity, ""),
                         "regions": "all" if all_regions else "+".join(covered),
                         "subset": e.subset or "", "first_date": first.isoformat(),
                         "last_date": last.isoformat(), "reported_on": e.reported_on.isoformat(),
                         "value": str(e.value), "low": float(low), "high": float(high),
                         "since_start": first <= cfg.episode.start,
                         "first_run_origin": r.origin.isoformat()})
    return pd.DataFrame(rows, columns=["evidence", "quantity", "target", "regions", "subset",
                                       "first_date", "last_date", "reported_on", "value", "low",
                                       "high", "since_start", "first_run_origin"])


def _cell(v) -> str:
    import math

    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else format_count(v)


def table_rows(table) -> list[list[str]]:
    rows = []
    for r in table.itertuples(index=False):
        change = "" if r.note or r.change != r.change else (
            ("+" if r.change >= 0 else "-") + format_count(abs(r.change)))
        cells = (f"{_cell(r.median)} ({_cell(r.q05)} to {_cell(r.q95)})" if not r.note
                 else r.note)
        rows.append([TARGET_LABELS.get(r.target, r.target), r.origin, str(r.horizon),
                     r.scenario, cells, change])
    return rows


def table_text(table) -> str:
    rows = table_rows(table)
    headers = ["target", "origin", "days", "series", "median (5% to 95%)", "change"]
    widths = [max(len(h), *(len(row[k]) for row in rows)) for k, h in enumerate(headers)]
    line = lambda cells: "  ".join(f"{c:<{w}}" for c, w in zip(cells, widths, strict=True))  # noqa: E731
    return "\n".join([line(headers), *(line(r) for r in rows)])


def write_timeline(paths, out: Path, *, date: dt.date | None = None,
                   scenario: str | None = None, plots: bool = True, dpi: int = 110):
    """Check, load and track the runs at ``paths``; write ``timeline.csv``, ``reported.csv``,
    ``timeline.md``, ``timeline.html`` and ``plots/timeline_<target>.png`` into ``out``
    atomically. Returns ``(out, table)``. Raises :class:`NotSameEpisode`, or FileExistsError if
    ``out`` exists."""
    runs = read_runs(paths)
    check_same_episode(runs)
    date = date or default_date(runs)
    table = timeline_table(runs, date, scenario=scenario)
    reported = reported_figures(runs)
    regions = {frozenset(r.episode.get("regions", {})) for r in runs}
    notes = ["The runs cover different regions: 'all regions' sums different sets."] \
        if len(regions) > 1 else []
    with atomic_directory(Path(out)) as tmp:
        table.to_csv(tmp / "timeline.csv", index=False, float_format="%.2f")
        reported.to_csv(tmp / "reported.csv", index=False)
        images = []
        if plots:
            from models.outputs.timeline_plots import plot_timeline

            (tmp / "plots").mkdir()
            for target in table["target"].unique():
                fig = plot_timeline(table[table["target"] == target],
                                    reported[reported["target"] == target], target, date)
                path = tmp / "plots" / f"timeline_{target}.png"
                fig.savefig(path, dpi=dpi)
                images.append(Image(path, f"plots/{path.name}", f"{TARGET_LABELS.get(target)}: "
                                    f"the forecast for {date} at each origin, with the reported "
                                    "running totals as they arrived."))
        blocks = [Heading(1, f"Forecasts of {date} across origins"),
                  Para(f"{runs[0].episode.get('name')}. {len(runs)} runs, origins "
                       f"{', '.join(r.origin.isoformat() for r in runs)}. Each run's forecast of "
                       f"{date} (all regions; its mixture where it has one), median and 90% "
                       "interval, and the change of the median since the previous origin."),
                  Table(["Target", "Origin", "Days ahead", "Series", "Median (5% to 95%)",
                         "Change"], table_rows(table))]
        if notes:
            blocks.append(Bullets(notes))
        blocks += images
        (tmp / "timeline.md").write_text(to_markdown(blocks), "utf-8")
        (tmp / "timeline.html").write_text(to_html(blocks, f"Forecasts of {date}"), "utf-8")
    return Path(out), table
