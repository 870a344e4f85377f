"""``python -m models.sweep CONFIG --grid LEVER=V1,V2,... [--grid ...]``: the config's scenario
with levers held at each point of a grid, one task per point on a Dask cluster.

Parse, fit (or load from the fit cache) the config's nowcast, call
:func:`models.evaluation.sweep.write_sweep`, print the table at the last headline horizon. By
default the points run on a local ``dask.distributed`` cluster of one worker per CPU;
``--scheduler ADDRESS`` uses an existing cluster, ``--serial`` this process (the same numbers).

Exit codes: 0 written (every point); 1 written, some points failed (listed); 2 bad input
(config, grid, an existing ``--out``), nothing written; 130 interrupted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from models.cli import HelpFormatter, positive_int
from scenarios.yaml_source import ConfigError

EXAMPLE = ("example: python -m models.sweep configs/escalation.yaml --grid "
           "regimes/escalated/intensity_multiplier=1.5,2,3 --grid daily_return_rate=0,0.002")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m models.sweep",
        description="What if a lever were held at each of several values: the config's "
                    "scenario at every point of a grid, the same random numbers at each point.",
        epilog="exit codes: 0 written, 1 some points failed, 2 bad input, 130 interrupted. "
               + EXAMPLE, formatter_class=HelpFormatter)
    p.add_argument("config", help="scenario config YAML")
    p.add_argument("--grid", action="append", default=[], metavar="LEVER=V1,V2,...",
                   help="a lever path and its values (repeat for a grid of several levers)")
    p.add_argument("--draws", type=positive_int, default=None, help="Monte Carlo draws per point "
                   "(default: the config's forecast.draws)")
    p.add_argument("--seed", type=int, default=None, help="random seed of every point "
                   "(default: the config's forecast.seed)")
    p.add_argument("--out", type=Path, default=None,
                   help="output directory (default: results/sweeps/<scenario>-<time>)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on this Dask cluster")
    p.add_argument("--workers", type=positive_int, metavar="N",
                   help="local Dask cluster of N worker processes (default: one per CPU)")
    p.add_argument("--serial", action="store_true", help="run the points in this process")
    p.add_argument("--no-plots", action="store_true", help="write the tables only")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    say = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    try:
        from models.evaluation.sweep import parse_grid
        from scenarios.loader import load_config

        loaded = load_config(args.config)
        cfg = loaded.config
        grid = parse_grid(args.grid, cfg.assumptions)
        if args.serial and (args.scheduler or args.workers):
            raise ValueError("--serial runs in this process: drop --scheduler/--workers")
        out = args.out or Path("results") / "sweeps" / (
            f"{cfg.scenario.id}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}")
        if out.exists():
            raise FileExistsError(f"{out}: already exists; not overwriting it")
    except (ConfigError, ValueError, FileExistsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        return _run(args, loaded, grid, out, say)
    except KeyboardInterrupt:
        print("interrupted; nothing written", file=sys.stderr)
        return 130
    except (ValueError, FileExistsError) as e:  # an output location refused, a full disk
        print(f"error: {e}", file=sys.stderr)
        return 2


def _run(args, loaded, grid, out: Path, say) -> int:
    from contextlib import nullcontext

    from models.evaluation.distributed import cluster
    from models.evaluation.sweep import all_regions, write_sweep
    from models.inference.fit_cache import fit_or_load
    from models.storage import fit_cache_directory

    cfg = loaded.config
    seed = cfg.forecast.seed if args.seed is None else args.seed
    draws = args.draws or cfg.forecast.draws
    horizons = [h for h in cfg.output.headline_horizons if h <= cfg.forecast.horizon_days] \
        or [cfg.forecast.horizon_days]
    say(f"fitting the nowcast of {cfg.scenario.id} (or reading it from the fit cache)...")
    fit, cached = fit_or_load(loaded, seed, cfg.sampler.backend, fit_cache_directory(), say=say)
    if not fit.diagnostics.get("passed", True):
        say("warning: the nowcast's diagnostics failed; see a run's report for details")
    context = nullcontext(None) if args.serial else cluster(scheduler=args.scheduler,
                                                            workers=args.workers)
    with context as client:
        out, result = write_sweep(
            out, fit.state, cfg.assumptions, grid, scenario=cfg.scenario.id,
            horizon_days=cfg.forecast.horizon_days, seed=seed, draws=draws, horizons=horizons,
            client=client, plots=not args.no_plots, progress=say,
            meta={"config": str(args.config), "config_hash": loaded.config_hash,
                  "nowcast_cached": cached, "nowcast_diagnostics": fit.diagnostics})
    if not args.quiet:
        last = all_regions(result.table)
        last = last[last["horizon"] == max(horizons)]
        print(last.drop(columns=["region"]).to_string(index=False,
                                                       float_format=lambda v: f"{v:,.0f}"))
    for label, error in result.failures.items():
        print(f"point {label} failed: {error}", file=sys.stderr)
    print(f"sweep written to {out}", file=sys.stderr)
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
