"""``python -m models.score RUN_DIR OUTCOMES.csv [--out FILE]``: score a saved run.

Parse, call :mod:`models.evaluation.score_run` (load the run, load the outcomes: values, ranges,
lower and upper bounds; score every stored scenario and the run's own mixture), print the
summary, exit: 0 scored; 2 bad input, one line on stderr naming the file, line and column
(also an ``--out`` inside a finished run, or that is an input: the run's files, the hubverse
hard link to quantiles.csv, the outcomes file; written atomically, a full disk leaves nothing).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from models.cli import HelpFormatter
from models.evaluation.score_run import (
    AT_LEAST,
    AT_MOST,
    EXACT,
    OUTCOME_KINDS,
    ScoreInputError,
    closest_scenario,
    load_outcomes,
    load_run,
    score_run,
    unscored_mixture,
)
from models.outputs.formatting import format_decimal
from models.storage import OutputError, atomic_file, refuse_overwrite

EXIT_BAD_INPUT = 2
EXAMPLE = ("example: python -m models.score results/escalation/<run-id> outcomes.csv "
           "--out scores.csv  (outcomes.csv: date,target,location,value / "
           "2024-12-31,cum_deaths,all,at least 900)")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m models.score",
        description="Score a saved scenario forecast against outcomes known after its origin: "
                    "every stored scenario and the run's mixture, per outcome and summarised "
                    "(CRPS, log score, interval score, coverage, PIT; bounds by the set scores).",
        epilog="exit codes: 0 scored; 2 bad input (a missing or damaged run, an outcomes file "
               "that cannot be read, no outcome within the forecast), one line on stderr "
               "naming the file, line and column. " + EXAMPLE,
        formatter_class=HelpFormatter)
    p.add_argument("run_dir", help="run results directory (samples.parquet, run.json, "
                   "config.resolved.yaml)")
    p.add_argument("outcomes", help="CSV: date, target, location, value (a count, or a bound "
                   "such as 'at least 900') or low, high (a range; one end alone is a bound)")
    p.add_argument("--out", metavar="FILE", default=None,
                   help="write per-outcome scores to this CSV file (default: print the summary "
                        "only)")
    return p


def _check_out(out: Path, inputs: list[Path]) -> None:
    """``--out`` is a new or existing regular file outside every finished run, and none of the
    inputs (by path or by device and inode: the hubverse export is a hard link to quantiles.csv)."""
    refuse_overwrite(out, inputs)
    if out.is_dir():
        raise OutputError(f"--out {out}: is a directory; give a file name")
    if out.exists() and not out.is_file():
        raise OutputError(f"--out {out}: is not a regular file")
    if not out.parent.is_dir():
        raise OutputError(f"--out {out}: the directory {out.parent} does not exist")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.out:  # before any work: never into a finished run, never over an input
            _check_out(Path(args.out), [Path(args.run_dir), Path(args.outcomes)])
        run = load_run(args.run_dir)
        outcomes, skipped = load_outcomes(args.outcomes, run)
        per_outcome, summary, closest = score_run(run, outcomes)
        if args.out:
            with atomic_file(Path(args.out), need=2 * len(per_outcome) * 400 + 1e5) as tmp:
                per_outcome.to_csv(tmp, index=False)
    except (ScoreInputError, OutputError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"run {run.directory} (origin {run.origin}, config {run.config_hash[:12]})")
    print(f"scored {len(outcomes)} outcome(s)"
          + "".join(f"; skipped {n} {why}" for why, n in skipped.items() if n))
    kinds = outcomes["kind"].value_counts()
    if (outcomes["kind"] != EXACT).any():
        bounds = (outcomes["kind"].isin([AT_LEAST, AT_MOST])).any()
        print("outcomes: " + ", ".join(f"{int(kinds[k])} {k.replace('_', ' ')}"
                                       for k in OUTCOME_KINDS if k in kinds)
              + (" (bounds have no CRPS, log score, interval score, coverage or PIT: they are "
                 "scored by prob_in_range, censored_log_score and consistent_50/90)"
                 if bounds else ""))
    note = unscored_mixture(run)
    if note:
        print(note)
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(summary.to_string(index=False, float_format=format_decimal))
    if closest is not None:
        print(f"closest scenario (lowest {closest_scenario(summary)[1]}): {closest}")
    if args.out:
        print(f"per-outcome scores written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
