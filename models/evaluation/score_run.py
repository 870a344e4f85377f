"""Score a saved scenario forecast against outcomes that became known after its origin: the
library behind ``python -m models.score RUN_DIR OUTCOMES.csv [--out FILE]``
(:mod:`models.cli.score`).

``RUN_DIR`` is a run's results directory: ``samples.parquet`` (hubverse sample format: columns
``origin_date, scenario_id, location, target, horizon, output_type, output_type_id, value``;
``horizon`` in days after the origin, ``output_type_id`` the draw index, one draw index = one
trajectory), ``run.json`` (with ``config_hash`` and ``origin``) and ``config.resolved.yaml``.
The run is scored only if ``config_hash`` equals the hash of ``config.resolved.yaml``
(:func:`scenarios.loader.config_hash`), so a forecast is scored as it was made.

``OUTCOMES.csv`` is long format, one outcome per line: ``date, target, location`` and the
outcome in ``value`` or in ``low, high`` (a file needs at least one of these three columns). Dates are
the day the outcome refers to; ``horizon = date - origin`` in days. Lines dated on or before the
origin, or beyond the forecast's horizons, are skipped (and counted): they cannot score this
forecast. ``target`` is one of the run's targets; ``location`` a location of the run, or a region
id that run.json's ``hubverse_locations`` maps to one (so a region may be named by its id or its
ISO 3166-2 code). Each line is one of four kinds (column ``kind``):

* ``exact``: ``value`` is a count, e.g. ``900``.
* ``range``: ``low`` and ``high`` both given, e.g. ``60, 80``: the outcome is in ``[60, 80]``.
* ``at_least``: ``value`` ``at least 900``, ``>= 900``, ``≥ 900`` or ``900+``; or ``low`` given
  with ``high`` empty. The outcome is in ``[900, inf)``.
* ``at_most``: ``value`` ``at most 50``, ``<= 50`` or ``≤ 50``; or ``high`` given with ``low``
  empty. The outcome is in ``[0, 50]``.

Ends are included. Strict wording ("more than 900") is not read: write the bound the report
supports ("at least 900"). Example (illustrative figures)::

    date,target,location,value,low,high
    2025-02-05,cum_deaths,all,2900,,
    2025-02-05,displaced,CD-NK,,400000,700000
    2025-02-10,cum_deaths,all,at least 3000,,
    2025-02-10,cum_refugees,all,,12000,
    2025-02-10,cum_civilian_deaths,CD-SK,<= 400,,

Scores by kind (per outcome; a score a kind does not get is empty):

* ``exact``: the point scores of :func:`models.evaluation.scoring.score_samples` (``crps,
  log_score, binned_log_score, mis_90, interval_score_50, coverage_50, coverage_90, pit``) and
  ``consistent_50/90``, here equal to ``coverage_50/90``.
* ``range``: the point scores at the range's midpoint, and the set scores below. Midpoint
  scoring is a choice: it treats the reported range as symmetric uncertainty around its centre,
  and a range wide compared with the forecast spread is scored as if it were exact; the set
  scores do not depend on that choice.
* ``at_least``, ``at_most``: the set scores only. A bound has no point value and no midpoint,
  and CRPS, the kernel and binned log scores, the interval scores, coverage and PIT are all
  functions of the value; scoring the bound as if it were the value would score the forecast
  against an outcome known to be other than that (for "at least 900", higher whenever the toll
  passed 900), rewarding forecasts that are too low.

Set scores and check (:mod:`models.evaluation.scoring`; the two scores are proper for a
censored observation: they use only what is known, that the outcome lies in the set):

* ``prob_in_range``: the forecast probability of the set, the share of draws in it, e.g.
  ``P(X >= 900)``;
* ``censored_log_score``: ``-log2((k + 1) / (n + 2))``, ``k`` of ``n`` draws in the set (bits),
  the log score of the censored observation; lower is better. A lower bound cannot penalise a
  forecast that is too high, only one too low (an upper bound the reverse);
* ``consistent_50``, ``consistent_90``: 1 if the set meets the central 50% / 90% interval (the
  outcome may lie inside), 0 if it lies wholly outside (a certain miss: "at least 3000" against
  a 90% interval that ends at 2500). Every kind gets it; its mean is an upper bound on the
  coverage the exact outcomes would show.

The binned log score uses :data:`models.evaluation.scoring.CUMULATIVE_BINS` (a zero bin, then
one bin per half decade up to 10^8, an open top bin) for every target: a run's targets are all
episode totals (cumulative counts since the episode start, and the displaced stock), which run
into the thousands to millions, where the ViEWS bins for monthly counts (open above 1000) would
put every draw and outcome above 1000 in one bin and could not tell 2,000 from 200,000. Its values are therefore not
comparable with binned scores on the ViEWS bins (the backtest's monthly deaths).

Every scenario in ``samples.parquet`` is scored, the mixture included. The mixture is the one
the run drew and stored (rows with ``scenario_id`` :data:`models.vocabulary.MIXTURE`: each
mixture draw is the same draw of one scenario, picked with probability equal to its weight), so
the scores are those of the forecast as it was issued. A run without stored mixture rows has no
mixture scored, even when its config names ``forecast.scenario_weights``: a mixture rebuilt here
from the weights would be a different random pick of components, i.e. a forecast the run never
made (:func:`unscored_mixture` says so, and the CLI prints it).

:func:`score_run` gives per-outcome scores; per target and scenario the count of outcomes
``n``, of those with point scores ``n_point`` (exact and ranges) and with set scores ``n_set``
(ranges and bounds), and the mean of each score over the outcomes that have it
(:data:`SUMMARY_COLUMNS`); and names the closest scenario (:func:`closest_scenario`): the lowest
CRPS relative to the mean CRPS over scenarios of each target, averaged over the targets with
point outcomes (with one target: the lowest mean CRPS); if no outcome has a point value (only
bounds), the lowest mean censored log score averaged over targets. The mixture is reported but
not a candidate.

Bad input raises :class:`ScoreInputError` with one line naming the file, line and column.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from models.evaluation.scoring import (
    CUMULATIVE_BINS,
    censored_log_score,
    consistent_with_interval,
    prob_in_set,
    score_samples,
)
from models.vocabulary import MIXTURE
from scenarios.limits import MAX_CONFIG_BYTES
from scenarios.loader import config_hash
from scenarios.yaml_source import ConfigError, load_yaml_text, read_text_file

__all__ = ["AT_LEAST", "AT_MOST", "EXACT", "OUTCOME_KINDS", "RANGE", "SUMMARY_COLUMNS", "Run", "ScoreInputError", "closest_scenario",
           "load_outcomes", "load_run", "score_run", "unscored_mixture"]

SAMPLE_COLUMNS = ("origin_date", "scenario_id", "location", "target", "horizon", "output_type",
                  "output_type_id", "value")
EXACT, RANGE, AT_LEAST, AT_MOST = "exact", "range", "at_least", "at_most"
OUTCOME_KINDS = (EXACT, RANGE, AT_LEAST, AT_MOST)
"""The ``kind`` of an outcome (column of :func:`load_outcomes`), see the module docstring."""
_BOUND = re.compile(r"^(?:(?:at\s+least|>=|\u2265)\s*(?P<at_least>\S+)|(?P<plus>[^\s+]+)\s*\+"
                    r"|(?:at\s+most|<=|\u2264)\s*(?P<at_most>\S+))$", re.IGNORECASE)
"""A bound in a ``value`` cell: "at least 900", ">= 900", "≥ 900", "900+"; "at most 50", "<= 50",
"≤ 50"."""
MAX_OUTCOMES_BYTES = 50_000_000
"""Largest outcomes file read: a line per date, target and location is a few MB for any run
(5 targets x 20 locations x 730 days = 73,000 lines)."""
SUMMARY_COLUMNS = ("crps", "log_score", "binned_log_score", "mis_90", "coverage_50",
                   "coverage_90", "prob_in_range", "censored_log_score", "consistent_90")


class ScoreInputError(Exception):
    """Bad input; ``str(err)`` is the one-line message for the user."""


@dataclass(frozen=True)
class Run:
    directory: Path
    origin: dt.date
    config_hash: str
    samples: pd.DataFrame
    """Rows with ``output_type == "sample"``: scenario_id, location, target, horizon, draw, value."""
    scenario_weights: dict[str, float] | None
    """The config's ``forecast.scenario_weights``; used only to say that a weighted run stored
    no mixture (:func:`unscored_mixture`), never to build one."""
    location_aliases: dict[str, str] = field(default_factory=dict)
    """Region id -> hubverse location (run.json ``hubverse_locations``): an outcomes file may
    name a region by either."""


# --- reading the run --------------------------------------------------------------------------


def load_run(run_dir: str | Path) -> Run:
    """Read and check a run directory (see module docstring); raises :class:`ScoreInputError`."""
    d = Path(run_dir)
    if not d.is_dir():
        raise ScoreInputError(f"{d}: not a directory (expected a run's results directory)")
    paths = {name: d / name for name in ("run.json", "config.resolved.yaml", "samples.parquet")}
    for p in paths.values():
        if not p.exists():
            raise ScoreInputError(f"{p}: file not found (a run directory holds run.json, "
                                  "config.resolved.yaml and samples.parquet)")
    try:
        meta = json.loads(_bounded_text(paths["run.json"], "run.json"))
    except json.JSONDecodeError as e:
        raise ScoreInputError(f"{paths['run.json']}:{e.lineno}: invalid JSON ({e.msg})") from None
    if not isinstance(meta, dict):
        raise ScoreInputError(f"{paths['run.json']}: not a run record (expected a JSON object, "
                              f"got {type(meta).__name__})")
    for key in ("config_hash", "origin"):
        if key not in meta:
            raise ScoreInputError(f"{paths['run.json']}: missing key '{key}'")
    try:
        origin = dt.date.fromisoformat(str(meta["origin"])[:10])
    except ValueError:
        raise ScoreInputError(f"{paths['run.json']}: key 'origin': {meta['origin']!r} is not a "
                              "date (expected YYYY-MM-DD)") from None
    try:  # the reader of configs, with its limits: a damaged run cannot make scoring slow
        resolved = load_yaml_text(_bounded_text(paths["config.resolved.yaml"], "a stored config"),
                                  str(paths["config.resolved.yaml"]))
    except ConfigError as e:
        raise ScoreInputError(str(e)) from None
    if not isinstance(resolved, dict):
        raise ScoreInputError(f"{paths['config.resolved.yaml']}: expected a mapping")
    actual = config_hash(resolved)
    if actual != meta["config_hash"]:
        raise ScoreInputError(
            f"{paths['run.json']}: config_hash {str(meta['config_hash'])[:12]}... does not match "
            f"config.resolved.yaml (hash {actual[:12]}...): the config was changed after the run, "
            "so this is not the forecast as it was made"
        )
    weights = (resolved.get("forecast") or {}).get("scenario_weights")
    samples = _read_samples(paths["samples.parquet"], origin)
    aliases = meta.get("hubverse_locations")
    aliases = {str(k): str(v) for k, v in aliases.items()} if isinstance(aliases, dict) else {}
    return Run(d, origin, str(meta["config_hash"]), samples, weights, aliases)


def _bounded_text(path: Path, what: str, limit: int = MAX_CONFIG_BYTES,
                  limit_name: str = "scenarios.limits.MAX_CONFIG_BYTES") -> str:
    """A regular file's text, at most ``limit`` bytes (never a FIFO or a device), or
    :class:`ScoreInputError` naming the file."""
    try:
        return read_text_file(path, limit=limit, what=what, limit_name=limit_name)
    except ConfigError as e:
        raise ScoreInputError(str(e)) from None


def _read_samples(path: Path, origin: dt.date) -> pd.DataFrame:
    import stat

    try:  # a named pipe or a device would block or never end: a regular file or nothing
        mode = os.stat(path).st_mode
    except OSError as e:
        raise ScoreInputError(f"{path}: cannot read ({e.strerror})") from None
    if not stat.S_ISREG(mode):
        kind = ("a named pipe" if stat.S_ISFIFO(mode) else "a directory" if stat.S_ISDIR(mode)
                else "not a regular file")
        raise ScoreInputError(f"{path}: is {kind}, expected the run's samples (parquet)")
    try:
        df = pd.read_parquet(path)
    except (OSError, ValueError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ScoreInputError(f"{path}: cannot read as parquet ({first})") from None
    missing = [c for c in SAMPLE_COLUMNS if c not in df.columns]
    if missing:
        raise ScoreInputError(f"{path}: missing column(s) {', '.join(missing)}; hubverse sample "
                              f"format needs {', '.join(SAMPLE_COLUMNS)}")
    df = df.loc[df["output_type"].astype(str) == "sample"]
    if df.empty:
        raise ScoreInputError(f"{path}: no rows with output_type 'sample'")
    origins = pd.to_datetime(df["origin_date"], errors="coerce")
    if origins.isna().any() or (origins.dt.date != origin).any():
        shown = sorted(set(df["origin_date"].astype(str)))[:3]
        raise ScoreInputError(f"{path}: column origin_date: {', '.join(shown)} differs from "
                              f"run.json origin {origin}")
    # hubverse allows any draw identifier: numeric ids sort as numbers, others as strings
    draw = pd.to_numeric(df["output_type_id"], errors="coerce")
    out = pd.DataFrame({
        "scenario_id": df["scenario_id"].astype(str).to_numpy(),
        "location": df["location"].astype(str).to_numpy(),
        "target": df["target"].astype(str).to_numpy(),
        "horizon": pd.to_numeric(df["horizon"], errors="coerce").to_numpy(),
        "draw": (draw.astype(np.int64) if draw.notna().all() and (draw == draw.round()).all()
                 else df["output_type_id"].astype(str)).to_numpy(),
        "value": pd.to_numeric(df["value"], errors="coerce").to_numpy(),
    })
    for col in ("horizon", "value"):
        bad = ~np.isfinite(out[col].to_numpy(dtype=float))
        if bad.any():
            raise ScoreInputError(f"{path}: column {col}: {int(bad.sum())} value(s) are not "
                                  "finite numbers")
    if (out["value"] < 0).any():
        raise ScoreInputError(f"{path}: column value: {int((out['value'] < 0).sum())} negative "
                              "value(s); forecast targets are counts of people (>= 0)")
    out["horizon"] = out["horizon"].astype(np.int64)
    return out


# --- reading the outcomes ---------------------------------------------------------------------


def load_outcomes(path: str | Path, run: Run) -> tuple[pd.DataFrame, dict[str, int]]:
    """Validated outcomes within the run's window, and counts of skipped lines by reason.

    Returns columns ``line, date, target, location, horizon, kind, observed, low, high``
    (``kind`` one of :data:`OUTCOME_KINDS`; ``observed`` = the value, the midpoint of a range,
    empty for a bound; ``low`` empty for "at most", ``high`` empty for "at least"). Raises
    :class:`ScoreInputError` also when no outcome falls within the forecast (nothing to score)."""
    p = Path(path)
    if not p.exists():
        raise ScoreInputError(f"{p}: file not found")
    text = _bounded_text(p, "an outcomes file", MAX_OUTCOMES_BYTES,  # never a FIFO, a device
                         "models.evaluation.score_run.MAX_OUTCOMES_BYTES")
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                          skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ScoreInputError(f"{p}: cannot read as CSV ({first})") from None
    raw.columns = [c.strip() for c in raw.columns]
    required = ("date", "target", "location")
    missing = [c for c in required if c not in raw.columns]
    has_value = "value" in raw.columns
    has_range = "low" in raw.columns or "high" in raw.columns
    if missing or not (has_value or has_range):
        need = [*missing] + ([] if has_value or has_range else ["value (or low, high)"])
        raise ScoreInputError(f"{p}: missing column(s) {', '.join(need)}; expected date, target, "
                              f"location and value or low, high (found: {', '.join(raw.columns)})")
    if raw.empty:
        raise ScoreInputError(f"{p}: no outcome lines")
    targets = sorted(run.samples["target"].unique())
    locations = sorted(run.samples["location"].unique())
    horizons = set(run.samples["horizon"].unique().tolist())
    max_h = max(horizons)
    rows, skipped = [], {"on or before the origin": 0, "beyond the forecast horizon": 0,
                         "at a horizon without draws": 0}

    def number(i, col, text):
        try:
            v = float(text)
        except ValueError:
            raise ScoreInputError(f"{p}:{i + 2}: column {col}: {text!r} is not a number") from None
        if not np.isfinite(v) or v < 0:
            raise ScoreInputError(f"{p}:{i + 2}: column {col}: {text} must be a finite count >= 0")
        return v

    def value_cell(i, text):
        """(kind, observed, low, high) of a ``value`` cell: a count or a bound."""
        m = _BOUND.match(text)
        if m is None:
            try:
                float(text)
            except ValueError:
                raise ScoreInputError(
                    f"{p}:{i + 2}: column value: {text!r} is not a number or a bound (write a "
                    "count, 'at least N', '>= N', 'N+', 'at most N' or '<= N')") from None
            return EXACT, number(i, "value", text), np.nan, np.nan
        if m["at_least"] is not None:
            return AT_LEAST, np.nan, number(i, "value", m["at_least"]), np.nan
        if m["plus"] is not None:
            return AT_LEAST, np.nan, number(i, "value", m["plus"]), np.nan
        return AT_MOST, np.nan, np.nan, number(i, "value", m["at_most"])

    for i, r in enumerate(raw.itertuples(index=False)):
        line = i + 2
        rec = r._asdict()
        try:
            date = dt.date.fromisoformat(rec["date"].strip())
        except ValueError:
            raise ScoreInputError(f"{p}:{line}: column date: {rec['date']!r} is not a date "
                                  "(expected YYYY-MM-DD)") from None
        target, location = rec["target"].strip(), rec["location"].strip()
        location = run.location_aliases.get(location, location)
        if target not in targets:
            raise ScoreInputError(f"{p}:{line}: column target: unknown target {target!r}; this "
                                  f"run forecasts {', '.join(targets)}")
        if location not in locations:
            raise ScoreInputError(f"{p}:{line}: column location: unknown location {location!r}; "
                                  f"this run forecasts {', '.join(locations)}")
        value = rec.get("value", "").strip() if has_value else ""
        low = rec.get("low", "").strip()
        high = rec.get("high", "").strip()
        if value and (low or high):
            raise ScoreInputError(f"{p}:{line}: give either value or low and high, not both")
        if value:
            kind, observed, lo, hi = value_cell(i, value)
        elif low and high:
            kind, lo, hi = RANGE, number(i, "low", low), number(i, "high", high)
            if lo > hi:
                raise ScoreInputError(f"{p}:{line}: column low: {low} is above high {high}")
            observed = (lo + hi) / 2
        elif low:
            kind, observed, lo, hi = AT_LEAST, np.nan, number(i, "low", low), np.nan
        elif high:
            kind, observed, lo, hi = AT_MOST, np.nan, np.nan, number(i, "high", high)
        else:
            raise ScoreInputError(f"{p}:{line}: no outcome: give value, or low and/or high")
        horizon = (date - run.origin).days
        if horizon <= 0:
            skipped["on or before the origin"] += 1
            continue
        if horizon > max_h:
            skipped["beyond the forecast horizon"] += 1
            continue
        if horizon not in horizons:
            skipped["at a horizon without draws"] += 1
            continue
        rows.append((line, date, target, location, horizon, kind, observed, lo, hi))
    out = pd.DataFrame(rows, columns=["line", "date", "target", "location", "horizon", "kind",
                                      "observed", "low", "high"])
    dup = out.duplicated(["date", "target", "location"])
    if dup.any():
        line = int(out.loc[dup, "line"].iloc[0])
        raise ScoreInputError(f"{p}:{line}: a second outcome for the same date, target and "
                              "location")
    if out.empty:
        raise ScoreInputError(f"{p}: no outcome falls within the forecast (origin {run.origin}, "
                              f"horizons 1-{max_h} days)")
    return out, skipped


# --- scoring ----------------------------------------------------------------------------------


def _draw_matrices(run: Run, keys: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per scenario, an (n_outcomes, n_draws) array of draws at each outcome's key."""
    s = run.samples.merge(keys[["target", "location", "horizon"]].drop_duplicates(),
                          on=["target", "location", "horizon"])
    out = {}
    for sid, g in s.groupby("scenario_id", sort=True):
        wide = g.pivot_table(index=["target", "location", "horizon"], columns="draw",
                             values="value", aggfunc="first")
        wide = wide.reindex(pd.MultiIndex.from_frame(keys[["target", "location", "horizon"]]))
        if wide.isna().any().any():
            bad = wide.index[wide.isna().any(axis=1)][0]
            raise ScoreInputError(
                f"{run.directory / 'samples.parquet'}: scenario {sid} has missing draws at target "
                f"{bad[0]}, location {bad[1]}, horizon {bad[2]} (every draw index must appear at "
                "every horizon)")
        if wide.shape[1] < 2:
            raise ScoreInputError(f"{run.directory / 'samples.parquet'}: scenario {sid} has "
                                  f"{wide.shape[1]} draw; scoring needs at least 2")
        out[sid] = wide.to_numpy(dtype=float)
    return out


def unscored_mixture(run: Run) -> str | None:
    """Why no mixture is scored although the config weights the scenarios (no ``mixture`` rows
    stored: see the module docstring), or None."""
    if not run.scenario_weights or (run.samples["scenario_id"] == MIXTURE).any():
        return None
    return (f"no {MIXTURE} scored: config.resolved.yaml has forecast.scenario_weights but "
            f"samples.parquet has no '{MIXTURE}' rows (only a mixture the run drew is scored)")


POINT_SCORES = ("crps", "log_score", "binned_log_score", "mis_90", "interval_score_50",
                "coverage_50", "coverage_90", "pit")
"""Scores that need the outcome's value: empty for lower and upper bounds."""
SET_SCORES = ("prob_in_range", "censored_log_score")
"""Scores of the reported set: ranges and bounds only."""


def _set_ends(o: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each outcome's set ``[low, high]``: an exact value is ``[v, v]``, "at least" has
    ``high = inf``, "at most" has ``low = 0`` (counts are not negative)."""
    exact = (o["kind"] == EXACT).to_numpy()
    low = np.where(exact, o["observed"], o["low"].fillna(0.0))
    high = np.where(exact, o["observed"], o["high"].fillna(np.inf))
    return low.astype(float), high.astype(float)


def _score_target(x: np.ndarray, o: pd.DataFrame) -> pd.DataFrame:
    """Scores of one scenario's draws ``x`` (n_outcomes, n_draws) at outcomes ``o`` of one
    target: each kind gets the scores the module docstring lists, the others are NaN."""
    sc = pd.DataFrame(np.nan, index=o.index, columns=[*POINT_SCORES, *SET_SCORES,
                                                      "consistent_50", "consistent_90"])
    point = o["observed"].notna().to_numpy()  # exact values and ranges (at the midpoint)
    if point.any():
        ps = score_samples(x[point], o.loc[point, "observed"].to_numpy(), bins=CUMULATIVE_BINS,
                           rng=0)
        sc.loc[point, list(POINT_SCORES)] = ps[list(POINT_SCORES)].to_numpy()
    low, high = _set_ends(o)
    for level in (50, 90):
        sc[f"consistent_{level}"] = consistent_with_interval(x, low, high, level / 100)
    censored = (o["kind"] != EXACT).to_numpy()
    if censored.any():
        sc.loc[censored, "prob_in_range"] = prob_in_set(x[censored], low[censored],
                                                        high[censored])
        sc.loc[censored, "censored_log_score"] = censored_log_score(x[censored], low[censored],
                                                                    high[censored])
    return sc


def score_run(run: Run, outcomes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, str | None]:
    """Per-outcome scores (one row per scenario and outcome), the summary per target and
    scenario, and the closest scenario (None if the run has no scenario besides the mixture;
    :func:`closest_scenario` also says on which score). Scenarios, the mixture included, are
    exactly those stored in ``samples.parquet``."""
    draws = _draw_matrices(run, outcomes)  # the stored mixture's draws, if the run has one
    parts = []
    for sid, x in draws.items():
        for target in outcomes["target"].unique():
            m = (outcomes["target"] == target).to_numpy()
            o = outcomes.loc[m].reset_index(drop=True)
            parts.append(pd.concat([o.assign(scenario_id=sid), _score_target(x[m], o)], axis=1))
    per_outcome = pd.concat(parts, ignore_index=True)
    cols = ["scenario_id", "line", "date", "target", "location", "horizon", "kind", "observed",
            "low", "high", *POINT_SCORES, *SET_SCORES, "consistent_50", "consistent_90"]
    per_outcome = per_outcome[cols].sort_values(["scenario_id", "line"], ignore_index=True)
    grouped = per_outcome.groupby(["target", "scenario_id"], sort=True)
    summary = grouped[list(SUMMARY_COLUMNS)].mean()  # each over the outcomes it is defined for
    summary.insert(0, "n_set", grouped["prob_in_range"].count())
    summary.insert(0, "n_point", grouped["crps"].count())
    summary.insert(0, "n", grouped.size())
    summary = summary.reset_index()
    return per_outcome, summary, closest_scenario(summary)[0]


def closest_scenario(summary: pd.DataFrame) -> tuple[str | None, str]:
    """The scenario closest to the outcomes, and the score that says so (see the module
    docstring): ``(None, "")`` when the run has no scenario besides the mixture."""
    candidates = summary.loc[summary["scenario_id"] != MIXTURE].copy()
    if candidates.empty:
        return None, ""
    if candidates["crps"].notna().any():
        mean_crps = candidates.groupby("target")["crps"].transform("mean")
        candidates["relative_crps"] = candidates["crps"] / mean_crps
        overall = candidates.groupby("scenario_id")["relative_crps"].mean()
        basis = "CRPS"
    else:  # only bounds: the censored log score, in bits, is comparable across targets
        overall = candidates.groupby("scenario_id")["censored_log_score"].mean()
        basis = "censored log score"
    return str(overall.sort_values(kind="stable").index[0]), basis
