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

from models.cli import HelpFormatter, acceptance_rate
from models.inference.diagnostics import remedies
from models.outputs.summary_text import headline, information_lines
from scenarios.compose import compose, parse_weights
from scenarios.schema import OUTPUT_FORMATS
from scenarios.yaml_source import ConfigError

EXAMPLE = "example: python -m models.run configs/escalation.yaml --draws 2000 --seed 7"


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
    p.add_argument("--target-accept", type=acceptance_rate, metavar="P", help="NUTS target "
                   "acceptance, 0.5 < P < 1 (default: sampler.target_accept); a fit that diverges "
                   "is refitted once at 0.99 anyway")
    p.add_argument("--weights", metavar="ID=W,...", help="scenario weights for the mixture")
    p.add_argument("--since", metavar="RUN_DIR", help="an earlier run of the episode: the "
                   "reports dated after its origin update its scenario weights (the mixture's, "
                   "unless --weights is given)")
    p.add_argument("--validate-only", action="store_true", help="check the configs and stop")
    p.add_argument("--strict", action="store_true", help="exit 3 if diagnostics fail")
    p.add_argument("--cache-dir", metavar="DIR", help="where nowcast fits are cached "
                   "(default: $CONFLICT_SCENARIOS_CACHE, else the user cache directory, "
                   "~/.cache/conflict-scenarios/nowcast-fits on Linux)")
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
    # warnings, not chatter); --quiet silences them there too. Warnings (a damaged fit-cache
    # entry removed and refitted) are said everywhere.
    progress = not args.quiet and sys.stderr.isatty()

    def say(msg: str) -> None:
        if progress or msg.startswith("warning:"):
            print(msg, file=sys.stderr)

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
    from models.storage import fit_cache_directory

    cache_dir = Path(args.cache_dir) if args.cache_dir else fit_cache_directory()
    try:  # where the run goes, before the fit (a file, read-only, no room, names too long)
        from models.pipeline import check_output

        check_output(out_dir, comparison, args.draws, cache_dir=cache_dir,
                     formats=args.formats or primary.output.formats)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if {"plots", "report"} & set(args.formats or primary.output.formats):
        from models.outputs.rendering import warm_up

        warm_up()  # the figure workers start (and import matplotlib) while the fit is made
    try:
        result = run_scenarios(comparison, draws=args.draws, seed=args.seed,
                               sampler=args.sampler, progress=progress, say=say,
                               cache_dir=cache_dir, refit=args.no_cache,
                               weights=weights, since=args.since,
                               target_accept=args.target_accept)
        if args.evidence_influence:
            from models.evaluation.influence import attach_influence

            attach_influence(result, sampler=args.sampler, say=say)
        diag = result.diagnostics
        if not diag["passed"]:
            print("WARNING: nowcast diagnostics FAILED: " + "; ".join(diag["messages"])
                  + " — treat the results with suspicion", file=sys.stderr)
            for line in remedies(diag, primary.sampler):
                print(f"  to try: {line}", file=sys.stderr)
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
              f"{diag['min_ess_tail']:.0f}, divergences {diag['divergences']}"
              + (f" (after a retry at target_accept {diag['target_accept']:g}: "
                 f"{diag['retry']['divergences']} at {diag['retry']['target_accept']:g})"
                 if diag.get("retry") else "") + ": " + ("ok" if diag["passed"] else "FAILED"))
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
