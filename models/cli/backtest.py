"""``python -m models.backtest CONFIG --out DIR [--quick] [--quiet]``: the rolling-origin
backtest of a backtest config.

Parse the command line, call :func:`models.evaluation.backtest.backtest_from_config` and
:func:`models.evaluation.backtest.write_outputs`, print the summary and where the outputs are.

Exit codes: 0 done; 2 bad input (config, data, an output directory that is not an earlier
backtest output), one line per problem on stderr (file, line, key), no traceback; 130
interrupted. Bad input never leaves results behind and never touches earlier outputs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from models.data import DataError
from scenarios.backtest_config import load_backtest_config
from scenarios.yaml_source import ConfigError


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m models.backtest",
        description="Rolling-origin backtest of the monthly casualty model against the ViEWS "
                    "benchmarks.",
        epilog="exit codes: 0 done, 2 bad input, 130 interrupted. example: python -m "
               "models.backtest configs/backtest-syria.yaml --out results/backtest --quick")
    p.add_argument("config", help="backtest config YAML (e.g. configs/backtest-syria.yaml)")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")
    p.add_argument("--quick", action="store_true",
                   help="few origins and small draws (config section 'quick'), for CI")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    started = time.perf_counter()
    say = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    try:
        from models.evaluation.backtest import (
            backtest_from_config,
            is_backtest_output,
            load_backtest_data,
            write_outputs,
        )

        loaded = load_backtest_config(args.config)
        deaths = load_backtest_data(loaded, quick=args.quick)
        if not is_backtest_output(Path(args.out)):
            raise ConfigError([f"--out {args.out}: exists and is not a backtest output "
                               "directory; not overwriting it"])
    except (ConfigError, DataError) as e:
        for line in str(e).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 2
    try:
        run = backtest_from_config(loaded, quick=args.quick, deaths=deaths, progress=say,
                                   started=started)
        out = write_outputs(run.result, Path(args.out), run.meta)
    except KeyboardInterrupt:
        print("interrupted; no results written", file=sys.stderr)
        return 130
    except OSError as e:  # e.g. the output directory cannot be written
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not args.quiet:
        print((out / "summary.md").read_text(encoding="utf-8"))
        print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
