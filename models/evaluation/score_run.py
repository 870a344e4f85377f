"""Score a saved scenario forecast against outcomes that became known after its origin: the
library behind ``python -m models.score RUN_DIR OUTCOMES.csv [--out FILE]``
(:mod:`models.cli.score`).

``RUN_DIR`` is a run's results directory: ``samples.parquet`` (hubverse sample format: columns
``origin_date, scenario_id, location, target, horizon, output_type, output_type_id, value``;
``horizon`` in days after the origin, ``output_type_id`` the draw index, one draw index = one
trajectory), ``run.json`` (with ``config_hash`` and ``origin``) and ``config.resolved.yaml``.
The run is scored only if ``config_hash`` equals the hash of ``config.resolved.yaml``
(:func:`scenarios.loader.config_hash`), so a forecast is scored as it was made.

``OUTCOMES.csv`` is long format, one outcome per line: ``date, target, location`` and either
``value`` or ``low, high`` (a reported range). Dates are the day the outcome refers to;
``horizon = date - origin`` in days. Lines dated on or before the origin, or beyond the
forecast's horizons, are skipped (and counted): they cannot score this forecast.

Reported ranges (interval-censored outcomes): the point scores (CRPS, log scores, interval
scores, coverage, PIT) use the range's midpoint, and ``prob_in_range`` gives the forecast's
probability that the outcome lies in ``[low, high]`` (the share of draws inside it), the
quantity an interval-censored likelihood would score. Midpoint scoring is a choice: it treats
the reported range as symmetric uncertainty around its centre, and a range wide compared with
the forecast spread is scored as if it were exact.

Every scenario in ``samples.parquet`` is scored, the mixture included. The mixture is the one
the run drew and stored (rows with ``scenario_id`` :data:`models.vocabulary.MIXTURE`: each
mixture draw is the same draw of one scenario, picked with probability equal to its weight), so
the scores are those of the forecast as it was issued. A run without stored mixture rows has no
mixture scored, even when its config names ``forecast.scenario_weights``: a mixture rebuilt here
from the weights would be a different random pick of components, i.e. a forecast the run never
made (:func:`unscored_mixture` says so, and the CLI prints it).

:func:`score_run` gives per-outcome scores, the mean CRPS, log score, binned log score, MIS and
coverage per target and scenario, and names the closest scenario: the lowest CRPS relative to
the mean CRPS over scenarios of each target, averaged over targets (with one target: the lowest
mean CRPS). The mixture is reported but not a candidate.

Bad input raises :class:`ScoreInputError` with one line naming the file, line and column.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from models.evaluation.scoring import DEATH_BINS, DISPLACEMENT_BINS, score_samples
from models.vocabulary import MIXTURE
from scenarios.loader import config_hash

__all__ = ["SUMMARY_COLUMNS", "Run", "ScoreInputError", "load_outcomes", "load_run",
           "score_run", "unscored_mixture"]

SAMPLE_COLUMNS = ("origin_date", "scenario_id", "location", "target", "horizon", "output_type",
                  "output_type_id", "value")
SUMMARY_COLUMNS = ("crps", "log_score", "binned_log_score", "mis_90", "coverage_50",
                   "coverage_90", "prob_in_range")


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


def _bins_for(target: str):
    return DISPLACEMENT_BINS if "displace" in target else DEATH_BINS


# --- reading the run --------------------------------------------------------------------------


def load_run(run_dir: str | Path) -> Run:
    """Read and check a run directory (see module docstring); raises :class:`ScoreInputError`."""
    d = Path(run_dir)
    if not d.is_dir():
        raise ScoreInputError(f"{d}: not a directory (expected a run's results directory)")
    paths = {name: d / name for name in ("run.json", "config.resolved.yaml", "samples.parquet")}
    for p in paths.values():
        if not p.is_file():
            raise ScoreInputError(f"{p}: file not found (a run directory holds run.json, "
                                  "config.resolved.yaml and samples.parquet)")
    try:
        meta = json.loads(paths["run.json"].read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ScoreInputError(f"{paths['run.json']}:{e.lineno}: invalid JSON ({e.msg})") from None
    if not isinstance(meta, dict):
        raise ScoreInputError(f"{paths['run.json']}: expected a JSON object")
    for key in ("config_hash", "origin"):
        if key not in meta:
            raise ScoreInputError(f"{paths['run.json']}: missing key '{key}'")
    try:
        origin = dt.date.fromisoformat(str(meta["origin"])[:10])
    except ValueError:
        raise ScoreInputError(f"{paths['run.json']}: key 'origin': {meta['origin']!r} is not a "
                              "date (expected YYYY-MM-DD)") from None
    try:
        resolved = yaml.safe_load(paths["config.resolved.yaml"].read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise ScoreInputError(f"{paths['config.resolved.yaml']}{where}: invalid YAML") from None
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


def _read_samples(path: Path, origin: dt.date) -> pd.DataFrame:
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

    Returns columns ``line, date, target, location, horizon, observed, low, high``
    (``observed`` = value, or the midpoint of ``low, high``). Raises :class:`ScoreInputError`
    also when no outcome falls within the forecast (nothing to score).
    """
    p = Path(path)
    if not p.is_file():
        raise ScoreInputError(f"{p}: file not found")
    try:
        raw = pd.read_csv(p, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ScoreInputError(f"{p}: cannot read as CSV ({first})") from None
    raw.columns = [c.strip() for c in raw.columns]
    required = ("date", "target", "location")
    missing = [c for c in required if c not in raw.columns]
    has_value, has_range = "value" in raw.columns, {"low", "high"} <= set(raw.columns)
    if missing or not (has_value or has_range):
        need = [*missing] + ([] if has_value or has_range else ["value (or low and high)"])
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
        low = rec.get("low", "").strip() if has_range else ""
        high = rec.get("high", "").strip() if has_range else ""
        if value and (low or high):
            raise ScoreInputError(f"{p}:{line}: give either value or low and high, not both")
        if value:
            observed, lo, hi = number(i, "value", value), np.nan, np.nan
        elif low and high:
            lo, hi = number(i, "low", low), number(i, "high", high)
            if lo > hi:
                raise ScoreInputError(f"{p}:{line}: column low: {low} is above high {high}")
            observed = (lo + hi) / 2
        else:
            raise ScoreInputError(f"{p}:{line}: no outcome: give value, or both low and high")
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
        rows.append((line, date, target, location, horizon, observed, lo, hi))
    out = pd.DataFrame(rows, columns=["line", "date", "target", "location", "horizon",
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


def score_run(run: Run, outcomes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, str | None]:
    """Per-outcome scores (one row per scenario and outcome), the summary per target and
    scenario, and the closest scenario (None if the run has no scenario besides the mixture).
    Scenarios, the mixture included, are exactly those stored in ``samples.parquet``."""
    draws = _draw_matrices(run, outcomes)  # the stored mixture's draws, if the run has one
    parts = []
    for sid, x in draws.items():
        for target in outcomes["target"].unique():
            m = (outcomes["target"] == target).to_numpy()
            o = outcomes.loc[m].reset_index(drop=True)
            sc = score_samples(x[m], o["observed"].to_numpy(), bins=_bins_for(target), rng=0)
            inside = (x[m] >= o["low"].to_numpy()[:, None]) & (x[m] <= o["high"].to_numpy()[:, None])
            sc["prob_in_range"] = np.where(o["low"].notna(), inside.mean(axis=1), np.nan)
            parts.append(pd.concat([o.assign(scenario_id=sid), sc.drop(columns="observed")], axis=1))
    per_outcome = pd.concat(parts, ignore_index=True)
    cols = ["scenario_id", "line", "date", "target", "location", "horizon", "observed", "low",
            "high", "crps", "log_score", "binned_log_score", "mis_90", "interval_score_50",
            "coverage_50", "coverage_90", "pit", "prob_in_range"]
    per_outcome = per_outcome[cols].sort_values(["scenario_id", "line"], ignore_index=True)
    grouped = per_outcome.groupby(["target", "scenario_id"], sort=True)
    summary = grouped[list(SUMMARY_COLUMNS)].mean()
    summary.insert(0, "n", grouped.size())
    summary = summary.reset_index()
    candidates = summary.loc[summary["scenario_id"] != MIXTURE].copy()
    if candidates.empty:
        return per_outcome, summary, None
    candidates["relative_crps"] = candidates["crps"] / candidates.groupby("target")["crps"].transform("mean")
    overall = candidates.groupby("scenario_id")["relative_crps"].mean().sort_values(kind="stable")
    return per_outcome, summary, str(overall.index[0])
