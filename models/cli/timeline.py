"""``python -m models.timeline RUN_DIR RUN_DIR ... [--out DIR] [--date YYYY-MM-DD]``.

Runs of one episode made at different origins: the forecast of one calendar date (default the
30th day after the first origin) at each origin, per target, with the reported figures as they
arrived. Parse, call :func:`models.evaluation.timeline.write_timeline`, print the table, exit:
0 written; 2 refused (runs of different episodes, a missing or damaged run, a bad date, an
existing ``--out``), one line on stderr and nothing written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from models.cli import HelpFormatter

EXIT_REFUSED = 2
EXAMPLE = ("example: python -m models.timeline results/escalation/<run 1 Dec> "
           "results/escalation/<run 8 Dec> --date 2024-12-31")


def default_out(now: dt.datetime | None = None) -> Path:
    """``results/timelines/<UTC time>``."""
    now = now or dt.datetime.now(dt.UTC)
    return Path("results") / "timelines" / now.strftime("%Y%m%dT%H%M%SZ")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m models.timeline",
        description="Track the forecast of one date across runs of one episode made at "
                    "different origins (median and 90% interval at each origin, the reported "
                    "figures as they arrived).",
        epilog="exit codes: 0 written, 2 refused. " + EXAMPLE, formatter_class=HelpFormatter)
    p.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR")
    p.add_argument("--out", type=Path, default=None,
                   help="output directory (default results/timelines/<time>)")
    p.add_argument("--date", type=_date, default=None, help="the date forecast (default: the "
                   "30th day after the first origin)")
    p.add_argument("--scenario", default=None, help="the series of every run (default: its "
                   "mixture where it has one, else its primary scenario)")
    p.add_argument("--no-plots", action="store_true", help="write the tables only")
    p.add_argument("--quiet", action="store_true", help="do not print the table")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from models.evaluation.timeline import NotSameEpisode, table_text, write_timeline

    try:
        out, table = write_timeline(args.runs, args.out or default_out(), date=args.date,
                                    scenario=args.scenario, plots=not args.no_plots)
    except (NotSameEpisode, FileExistsError) as e:
        print(f"timeline: {e}", file=sys.stderr)
        return EXIT_REFUSED
    if not args.quiet:
        print(table_text(table))
    print(f"timeline written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
