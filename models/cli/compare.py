"""``python -m models.compare RUN_DIR RUN_DIR ... [--reference ID] [--out DIR] [--no-plots]
[--quiet]``.

Parse, call :func:`models.evaluation.compare.compare_runs`, print the table, exit: 0 written;
2 refused (runs that are not comparable, a missing or damaged run, an unknown ``--reference``,
an existing ``--out``, an ``--out`` inside a finished run or an input run, a full disk), one
line on stderr and nothing written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from models.cli import HelpFormatter
from models.evaluation.compare import NotComparable, compare_runs, table_text
from models.storage import OutputError

EXIT_REFUSED = 2
EXAMPLE = ("example: python -m models.compare results/escalation/<run-id> "
           "results/deescalation/<run-id> --reference baseline")


def default_out(now: dt.datetime | None = None) -> Path:
    """``results/comparisons/<UTC time>``."""
    now = now or dt.datetime.now(dt.UTC)
    return Path("results") / "comparisons" / now.strftime("%Y%m%dT%H%M%SZ")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m models.compare",
        description="Compare finished runs (same forecast origin, episode start and targets): "
                    "each scenario of each run is a series, and each series is set against the "
                    "reference, draw by draw where their draws are paired (same seed, "
                    "posterior and draws), else by medians.",
        epilog="exit codes: 0 written; 2 refused (runs not comparable, a missing or damaged "
               "run, an unknown --reference, an existing --out, an --out inside a finished "
               "run, a full disk), one line on stderr and nothing written. " + EXAMPLE,
        formatter_class=HelpFormatter)
    p.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR",
                   help="two or more run directories (results/<scenario>/<run-id>)")
    p.add_argument("--reference", metavar="ID", default=None,
                   help="the series differences are taken against (series minus reference): "
                        "a series label as the table prints it (RUN/SCENARIO), a scenario id "
                        "that names one series, or a run id (its primary scenario); default: "
                        "the first run's primary scenario")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="output directory (default: results/comparisons/<UTC time>)")
    p.add_argument("--quiet", action="store_true", help="do not print the table")
    p.add_argument("--no-plots", action="store_true", help="write the table only")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        out, table = compare_runs(args.runs, args.out or default_out(),
                                  plots=not args.no_plots, reference=args.reference)
    except (NotComparable, FileExistsError, OutputError) as e:
        print(f"compare: {e}", file=sys.stderr)
        return EXIT_REFUSED
    if not args.quiet:
        print(table_text(table))
    print(f"comparison written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
