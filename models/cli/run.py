"""``python -m models.run CONFIG [CONFIG ...]``: validate, fit, simulate, write results, summarise.

Parse the command line, call :func:`models.pipeline.run_scenarios` and
:func:`models.outputs.write.write_run`, print where the run is and its headline numbers.

Exit codes: 0 done; 2 bad input (config, option); 3 diagnostics failed with ``--strict``;
130 interrupted. Bad input never leaves results behind and never touches earlier runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from models.cli import HelpFormatter
from scenarios.compose import compose, parse_weights
from scenarios.schema import OUTPUT_FORMATS
from scenarios.yaml_source import ConfigError

EXAMPLE = "example: python -m models.run configs/escalation.yaml --draws 2000 --seed 7"


def headline(forecast, horizons: list[int], origin=None, start=None,
             location: str = "all", by_region: bool = False) -> str:
    """Median and 90% interval per scenario and target at the headline horizons (text table),
    columns sized to the longest scenario id, target and cell. ``by_region``: a row per region
    too (each region, then 'all', their sum), with a region column."""
    import numpy as np

    from models.outputs.formatting import format_count
    from models.vocabulary import ALL, TARGETS

    days = [h for h in horizons if h <= int(forecast["day"].max())]
    regions = ([str(r) for r in forecast["region"].values if str(r) != ALL] + [ALL]
               if by_region else [location])
    rows = []
    for scen in forecast["scenario"].values:
        for region in regions:
            for target in TARGETS:
                x = forecast["forecast"].sel(scenario=scen, target=target, region=region)
                cells = []
                for h in days:
                    q05, q50, q95 = np.quantile(x.sel(day=h).values, [0.05, 0.5, 0.95])
                    cells.append(f"{format_count(q50, digits=None)} "
                                 f"[{format_count(q05, digits=None)}"
                                 f"–{format_count(q95, digits=None)}]")
                rows.append((str(scen), region, target, cells))
    ws = max(len("scenario"), *(len(r[0]) for r in rows)) + 2
    wr = max(len("region"), *(len(r[1]) for r in rows)) + 2 if by_region else 0
    wt = max(len("target"), *(len(r[2]) for r in rows)) + 2
    wc = max(12, *(len(c) for r in rows for c in r[3])) + 2
    when = (f"; day N = N days after the origin {origin}" if origin else "")
    since = (f"; cumulative targets count from the episode start {start}" if start else "")
    where = "per region (all = their sum)" if by_region else (
        "all regions" if location == ALL else f"region {location}")
    region_head = f"{'region':<{wr}}" if by_region else ""
    lines = [f"median [5%–95%], people, {where}{when}{since}",
             f"{'scenario':<{ws}}{region_head}{'target':<{wt}}"
             + "".join(f"{f'day {h}':>{wc}}" for h in days)]
    lines += [f"{s:<{ws}}{(r if by_region else ''):<{wr}}{t:<{wt}}"
              + "".join(f"{c:>{wc}}" for c in cells) for s, r, t, cells in rows]
    return "\n".join(lines)


def information_lines(result) -> list[str]:
    """Which regions' quantities rest on the prior alone; reports that contradict the prior."""
    from models.outputs.statistics import information_sources, prior_data_conflicts

    idata = result.idata
    if "constant_data" not in idata.groups() or "evidence_quantity" not in idata.constant_data:
        return []
    table = information_sources(idata)
    prior_only = table[table["informed_by"] == "prior only"]
    lines = []
    if len(prior_only):
        lines.append("informed by the prior alone (no report): " + ", ".join(
            f"{r.region} {r.quantity.replace('_', ' ')}" for r in prior_only.itertuples()))
    for c in prior_data_conflicts(idata).itertuples():
        lines.append(f"WARNING: prior-data conflict: {c.evidence} ({c.low:,.0f}-{c.high:,.0f}) "
                     f"is {c.direction} the prior predictive 99% interval "
                     f"({c.prior_low:,.0f}-{c.prior_high:,.0f}); prior on {c.prior}")
    return lines


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m models.run", epilog="exit codes: 0 done, 2 bad input, 3 diagnostics "
        "failed with --strict, 130 interrupted. " + EXAMPLE,
        description="Scenario forecast of casualties and displacement from YAML scenario configs.",
        formatter_class=HelpFormatter)
    p.add_argument("configs", nargs="+", metavar="CONFIG", help="scenario config YAML file(s)")
    p.add_argument("--out", metavar="DIR", help="results directory (default: output.directory)")
    p.add_argument("--draws", type=int, help="Monte Carlo draws per scenario (default: "
                   "forecast.draws)")
    p.add_argument("--seed", type=int, help="random seed (default: forecast.seed)")
    p.add_argument("--sampler", choices=("nutpie", "pymc"), help="NUTS implementation "
                   "(default: sampler.backend)")
    p.add_argument("--weights", metavar="ID=W,...", help="scenario weights for the mixture")
    p.add_argument("--since", metavar="RUN_DIR", help="an earlier run of the episode: the "
                   "reports dated after its origin update its scenario weights (the mixture's, "
                   "unless --weights is given)")
    p.add_argument("--validate-only", action="store_true", help="check the configs and stop")
    p.add_argument("--strict", action="store_true", help="exit 3 if diagnostics fail")
    p.add_argument("--no-cache", action="store_true", help="refit the nowcast even if cached "
                   "(the entry is not read, and the new fit replaces it)")
    p.add_argument("--evidence-influence", action="store_true", help="refit leaving out each "
                   "report in turn and report how the headline numbers move without it")
    p.add_argument("--by-region", action="store_true", help="headline rows per region too "
                   "(each region, then all regions)")
    p.add_argument("--formats", type=_formats, metavar="F,...", help="output formats instead "
                   "of output.formats: any of " + ", ".join(OUTPUT_FORMATS) + " (netcdf alone, all "
                   "--since and models.timeline read, skips the plots, the report and the "
                   "sensitivity tables: the quickest rerun)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # Status lines and progress bars only on a terminal (logs and pipes get the results and
    # warnings, not chatter); --quiet silences them there too.
    progress = not args.quiet and sys.stderr.isatty()
    say = (lambda msg: print(msg, file=sys.stderr)) if progress else (lambda msg: None)
    try:
        from models.pipeline import check_run

        weights = None if args.weights is None else _weights(args.weights)
        comparison = compose(args.configs, weights, weights_given=True)
        check_run(comparison, args.draws, args.seed)
    except (ConfigError, ValueError) as e:  # a bad config, a refused run, bad --weights
        print(f"error: {_as_options(e, args)}", file=sys.stderr)
        return 2
    if args.validate_only:
        for c in comparison.configs:
            print(f"ok: {c.path} (scenario '{c.config.scenario.id}', config hash "
                  f"{c.config_hash[:12]})")
        if args.since:  # the weights the new reports give, in seconds: no fit needed
            from models.evaluation.update import scenario_update, update_lines

            try:
                update = scenario_update(args.since, comparison)
            except ValueError as e:
                print(f"error: {e}", file=sys.stderr)
                return 2
            for line in update_lines(update.record("none" if len(comparison.configs) < 2
                                                   else "posterior")):
                print(line)
        return 0

    from models.outputs.write import write_run
    from models.pipeline import run_scenarios
    from models.progress import Progress
    from models.runtime import peak_memory_mb

    primary = comparison.primary.config
    out_dir = Path(args.out or primary.output.directory)
    try:  # where the run goes, before the fit (a file, read-only, no room, names too long)
        from models.pipeline import check_output

        check_output(out_dir, comparison, args.draws,
                     formats=args.formats or primary.output.formats)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        result = run_scenarios(comparison, draws=args.draws, seed=args.seed,
                               sampler=args.sampler, progress=progress, say=say,
                               cache_dir=out_dir / ".cache", refit=args.no_cache,
                               weights=weights, since=args.since)
        if args.evidence_influence:
            from models.evaluation.influence import attach_influence

            attach_influence(result, sampler=args.sampler, say=say)
        diag = result.diagnostics
        if not diag["passed"]:
            print("WARNING: nowcast diagnostics FAILED: " + "; ".join(diag["messages"])
                  + " — treat the results with suspicion", file=sys.stderr)
        with Progress("outputs", quiet=not progress):
            run_dir = write_run(result, out_dir, args.formats or primary.output.formats)
    except KeyboardInterrupt:
        print("interrupted; no results written", file=sys.stderr)
        return 130
    except (ConfigError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    if not args.quiet:
        print(f"results: {run_dir}")
        for note in result.extra.get("export_notes", []):
            print(f"note: {note}")
        print(f"nowcast: {diag['sampler']}{' (cached fit)' if diag.get('cached') else ''}, max "
              f"R-hat {diag['max_rhat']:.3f}, min ESS bulk {diag['min_ess_bulk']:.0f} / tail "
              f"{diag['min_ess_tail']:.0f}, divergences {diag['divergences']}: "
              + ("ok" if diag["passed"] else "FAILED"))
        print(headline(result.forecast, primary.output.headline_horizons,
                       primary.episode.origin, primary.episode.start,
                       by_region=args.by_region))
        for line in information_lines(result):
            print(line)
        from models.evaluation.update import update_lines

        for line in update_lines(result.extra.get("scenario_update")):
            print(line)
        print("timings: " + ", ".join(f"{k} {v['seconds']:.1f}s"
                                      for k, v in result.timings.items())
              + f"; peak memory {peak_memory_mb():,.0f} MB")
    if args.strict and not diag["passed"]:
        return 3
    return 0


def _formats(text: str) -> list[str]:
    names = [f.strip() for f in text.split(",") if f.strip()]
    unknown = [f for f in names if f not in OUTPUT_FORMATS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown format(s) {', '.join(unknown) or '(none)'}; "
                                         f"choose from {', '.join(OUTPUT_FORMATS)}")
    return names


def _weights(text: str) -> dict[str, float]:
    try:
        return parse_weights(text)
    except ValueError as e:
        raise ValueError(f"--weights: {e}") from None


def _as_options(error: Exception, args) -> str:
    """Library messages name parameters ("draws: ..."); here they were options."""
    text = str(error)
    for name in ("draws", "seed"):
        if text.startswith(f"{name}: ") or text.startswith(f"{name} "):
            return "--" + text
    return text
