"""``python -m models.backtest CONFIG --out DIR [--quick] [--quiet] [--countries A,B]``: the
rolling-origin backtest of a backtest config.

Parse the command line, call :func:`models.evaluation.backtest.backtest_from_config` and
:func:`models.evaluation.backtest.write_outputs` (one country), or
:func:`models.evaluation.backtest.backtest_countries` and
:func:`models.evaluation.backtest.write_country_outputs` (a config with ``data.countries``;
``--countries`` runs a subset; ``--scheduler ADDRESS`` or ``--workers N``: on a Dask cluster,
:func:`models.evaluation.distributed.backtest_distributed`), print the summary (the
per-country table) and where the outputs are.

Exit codes: 0 done; 2 bad input (config, data, an output directory that is not an earlier
backtest output), one line per problem on stderr (file, line, key), no traceback; 130
interrupted. Bad input never leaves results behind and never touches earlier outputs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from models.cli import positive_int
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
    p.add_argument("--countries", metavar="A,B", type=lambda t: [c.strip().upper() for c in
                                                                t.split(",") if c.strip()],
                   help="with a config listing countries: run only these (ISO alpha-3 codes)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on this Dask cluster "
                   "(e.g. tcp://10.0.0.5:8786); the same results as without")
    p.add_argument("--workers", type=positive_int, metavar="N", help="run on a local Dask cluster "
                   "of N worker processes; the same results as without")
    p.add_argument("--per", choices=("country", "origin"), default="country",
                   help="with --scheduler or --workers: one task per country or per origin")
    return p


def _on_cluster(args, loaded, say, started):
    """The backtest on a Dask cluster (``--scheduler``/``--workers``), else None."""
    if not (args.scheduler or args.workers):
        return None
    from models.evaluation.distributed import backtest_distributed

    run = backtest_distributed(loaded, quick=args.quick, only=args.countries, per=args.per,
                               scheduler=args.scheduler, workers=args.workers, progress=say,
                               started=started)
    for failure in run.meta["distributed"]["failed"]:
        print(f"warning: {failure}; the other tasks are kept", file=sys.stderr)
    return run


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    started = time.perf_counter()
    say = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    try:
        from models.evaluation.backtest import (
            backtest_countries,
            backtest_from_config,
            is_backtest_output,
            load_backtest_data,
            units,
            write_country_outputs,
            write_outputs,
        )

        loaded = load_backtest_config(args.config)
        several = loaded.config.data.countries is not None
        if args.countries and not several:
            raise ConfigError([f"--countries: {args.config} names one country "
                               "(data.country); --countries needs data.countries"])
        labels = [u.label for u in units(loaded)]
        unknown = [c for c in args.countries or [] if c not in labels]
        if unknown:
            raise ConfigError([f"--countries: not in {args.config}: {', '.join(unknown)} "
                               f"(the config lists {', '.join(labels)})"])
        if several:
            for u in units(loaded):
                if args.countries is None or u.label in args.countries:
                    load_backtest_data(loaded, quick=args.quick, unit=u)  # errors up front
        else:
            deaths = load_backtest_data(loaded, quick=args.quick)
        if not is_backtest_output(Path(args.out)):
            raise ConfigError([f"--out {args.out}: exists and is not a backtest output "
                               "directory; not overwriting it"])
    except (ConfigError, DataError) as e:
        for line in str(e).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 2
    try:
        run = _on_cluster(args, loaded, say, started)
        if several:
            from scenarios.geography import countries

            run = run or backtest_countries(loaded, quick=args.quick, only=args.countries,
                                            progress=say, started=started)
            names = {c.iso3: c.name for c in countries().values()}
            out = write_country_outputs(run.runs, Path(args.out), run.meta, names)
            report = out / "countries.md"
        else:
            run = run or backtest_from_config(loaded, quick=args.quick, deaths=deaths,
                                              progress=say, started=started)
            out = write_outputs(run.result, Path(args.out), run.meta)
            report = out / "summary.md"
    except KeyboardInterrupt:
        print("interrupted; no results written", file=sys.stderr)
        return 130
    except OSError as e:  # e.g. the output directory cannot be written
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(report.read_text(encoding="utf-8"))
        print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
