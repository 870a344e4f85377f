"""``python -m models.priors ISO3 ORIGIN [--data DIR] [--previous]``: print the priors the
nowcast would use for a country at a forecast origin, with their sources and bases.

Exit codes: 0 printed; 2 bad input (unknown country, bad date, data directory missing).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from models.cli import HelpFormatter


def main(argv: list[str] | None = None) -> int:
    cli = argparse.ArgumentParser(
        prog="python -m models.priors", description="Print the derived priors of a country.",
        epilog="exit codes: 0 printed, 2 bad input. example: python -m models.priors SDN "
               "2024-12-01 --previous", formatter_class=HelpFormatter)
    cli.add_argument("iso3", help="ISO 3166-1 alpha-3 code, or 'pool'")
    cli.add_argument("origin", help="forecast origin, YYYY-MM-DD")
    cli.add_argument("--data", type=Path, help="data directory (default: stored, else shared)")
    cli.add_argument("--previous", action="store_true", help="show the hand-set priors before")
    a = cli.parse_args(argv)
    from models.inference.priors import POOL, PREVIOUS_PRIORS, derive_priors, describe

    if a.data is not None and not a.data.is_dir():
        print(f"error: --data: {a.data}: not a directory", file=sys.stderr)
        return 2
    try:
        d = derive_priors(None if a.iso3.lower() == POOL else a.iso3, a.origin, a.data)
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        print(describe(d, PREVIOUS_PRIORS if a.previous else None))
        sys.stdout.flush()
    except BrokenPipeError:  # the reader (e.g. head) stopped reading: not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
