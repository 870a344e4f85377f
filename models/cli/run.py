"""``python -m models.run CONFIG [CONFIG ...]``: validate, fit, simulate, write results, summarise.

Several configs (and each config's ``scenario.compare_with``) run as one comparison: one nowcast
shared by all of them (their evidence must agree), paired Monte Carlo draws, and a weighted
mixture when weights are given (``--weights`` or the first config's ``forecast.scenario_weights``).
The first config's ``forecast`` and ``output`` settings apply to the whole comparison.

Exit codes: 0 done; 2 bad input (config, option); 3 diagnostics failed with ``--strict``;
130 interrupted. Bad input never leaves results behind and never touches earlier runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import sys
import time
from pathlib import Path

from scenarios.loader import ConfigError, Loaded, load_config

NOWCAST_SECTIONS = ("episode", "evidence", "reporting", "lexicon")
"""Config sections the nowcast reads: scenarios that agree on them share one fit."""


class UsageError(Exception):
    pass


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def collect_configs(paths: list[str]) -> list[Loaded]:
    """The configs named plus those they ask to be compared with, primary first, no repeats."""
    loaded: list[Loaded] = []
    seen: set[str] = set()
    errors: list[str] = []
    queue = [Path(p) for p in paths]
    for p in paths:
        try:
            first = load_config(p)
        except ConfigError as e:
            errors.extend(e.messages)
            continue
        queue += [first.path.parent / c for c in first.config.scenario.compare_with]
    if errors:
        raise ConfigError(errors)
    for p in queue:
        cfg = load_config(p)
        if cfg.config.scenario.id in seen:
            continue
        seen.add(cfg.config.scenario.id)
        loaded.append(cfg)
    base = {k: loaded[0].resolved.get(k) for k in NOWCAST_SECTIONS}
    for other in loaded[1:]:
        diff = [k for k in NOWCAST_SECTIONS if other.resolved.get(k) != base[k]]
        if diff:
            raise ConfigError([f"{other.path}: section(s) {', '.join(diff)} differ from "
                               f"{loaded[0].path}; scenarios compared in one run must share their "
                               "episode and evidence (run them separately)"])
    return loaded


RUN_BYTES_PER_DRAW_DAY_SCENARIO = 200
"""Peak memory of ``models.run`` per draw x day x scenario (mixture included), measured with
``/usr/bin/time -v`` on configs/escalation.yaml (escalation, baseline, mixture; 90 days): peak
RSS 1.25 GB at 4,000 draws and 1.97 GB at 20,000 draws, i.e. ~170 B per draw-day-scenario (the
float32 forecast array holds 49 B of it; summaries, the samples table and plots work on copies),
rounded up."""
RUN_BYTES_FIXED = 1.3e9
"""Peak of a small run: interpreter, PyMC/ArviZ imports, the compiled nowcast (~1.1 GB measured)."""


def available_memory_bytes() -> float | None:
    """Memory the OS says a new allocation can use (Linux ``MemAvailable``), or None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(draws: int, horizon_days: int, n_series: int, where: str,
                 available: float | None = None) -> None:
    """Refuse, before anything is allocated, a run whose estimated peak memory exceeds what is
    available. ``where`` names the option or config line that set the draws."""
    need = RUN_BYTES_FIXED + RUN_BYTES_PER_DRAW_DAY_SCENARIO * draws * horizon_days * n_series
    available = available_memory_bytes() if available is None else available
    if available is not None and need > available:
        fit = int((available - RUN_BYTES_FIXED) / (RUN_BYTES_PER_DRAW_DAY_SCENARIO * horizon_days
                                                   * n_series))
        raise UsageError(
            f"{where}: {draws:,} draws x {horizon_days} days x {n_series} scenario(s) need about "
            f"{need / 1e9:,.1f} GB of memory, more than the {available / 1e9:,.1f} GB available; "
            f"lower the draws (at most about {max(fit, 0):,} here) or the horizon")


def parse_weights(text: str | None, scenario_ids: list[str], default: dict | None) -> dict | None:
    if text is None:
        weights = default
        if weights is None:
            return None
    else:
        weights = {}
        for part in text.split(","):
            name, _, value = part.partition("=")
            try:
                weights[name.strip()] = float(value)
            except ValueError:
                raise UsageError(f"--weights: expected id=number pairs, got {part!r}") from None
    unknown = sorted(set(weights) - set(scenario_ids))
    missing = sorted(set(scenario_ids) - set(weights))
    if unknown or missing:
        raise UsageError(f"scenario weights must name exactly the scenarios run ({', '.join(scenario_ids)}); "
                         + "; ".join([f"unknown: {', '.join(unknown)}"] * bool(unknown)
                                     + [f"missing: {', '.join(missing)}"] * bool(missing)))
    if any(w < 0 for w in weights.values()) or not sum(weights.values()) > 0:
        raise UsageError("scenario weights must be >= 0 and not all 0")
    return weights


NOWCAST_CODE = ("models/nowcast.py", "models/priors.py", "models/state.py", "scenarios/evidence.py",
                "scenarios/lexicon.py", "scenarios/distributions.py", "scenarios/schema.py")


def nowcast_cache_key(loaded: Loaded, seed: int, sampler: str) -> str:
    """Everything the nowcast depends on: its config sections, sampler settings, seed, the model
    code and library versions. Changing only scenario levers reuses the fit."""
    import nutpie
    import pymc
    import pytensor

    f = loaded.resolved["forecast"]
    # Code that shapes the fit: the model and priors, and how evidence is read from a config
    # (a change in parsing "dozens" must not serve a fit of the old reading).
    root = Path(__file__).resolve().parents[2]
    code = "".join((root / m).read_text() for m in NOWCAST_CODE)
    payload = {
        "sections": {k: loaded.resolved.get(k) for k in NOWCAST_SECTIONS},
        "sampler": sampler, "seed": seed,
        "settings": loaded.resolved["sampler"],
        "code": hashlib.sha256(code.encode()).hexdigest(),
        "versions": [pymc.__version__, nutpie.__version__, pytensor.__version__],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:20]


def fit_or_load(loaded: Loaded, seed: int, sampler: str, cache_dir: Path | None, progress: bool):
    """The nowcast fit, from the cache when its inputs are unchanged."""
    import arviz as az

    from models.inference.diagnostics import diagnose
    from models.inference.nowcast import NowcastFit, NowcastModel, fit_nowcast

    cfg = loaded.config
    key = nowcast_cache_key(loaded, seed, sampler)
    path = cache_dir / f"nowcast-{key}.nc" if cache_dir else None
    if path is not None and path.exists():
        t0 = time.perf_counter()
        idata = az.from_netcdf(path)
        idata.load()
        model = NowcastModel(cfg)
        state = model.state_for_seed(idata.posterior, seed)
        diagnostics = diagnose(idata.posterior, idata.sample_stats, sampler)
        diagnostics["cached"] = True
        return NowcastFit(idata, state, diagnostics, {"load_cached": time.perf_counter() - t0}), True
    fit = fit_nowcast(cfg, seed=seed, sampler=sampler, progress=progress)
    fit.diagnostics["cached"] = False
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp-{time.time_ns()}")
        try:
            fit.idata.to_netcdf(str(tmp))
            tmp.rename(path)
        finally:
            tmp.unlink(missing_ok=True)
    return fit, False


def headline(forecast, horizons: list[int], location: str = "all") -> str:
    """Median and 90% interval per scenario and target at the headline horizons (text table)."""
    import numpy as np

    from models.state import TARGETS

    days = [h for h in horizons if h <= int(forecast["day"].max())]
    lines = [f"{'scenario':<14}{'target':<22}" + "".join(f"{f'day {h}':>28}" for h in days)]
    for scen in forecast["scenario"].values:
        for target in TARGETS:
            x = forecast["forecast"].sel(scenario=scen, target=target, region=location)
            cells = []
            for h in days:
                q = np.quantile(x.sel(day=h).values, [0.05, 0.5, 0.95])
                cells.append(f"{q[1]:>10,.0f} [{q[0]:,.0f}–{q[2]:,.0f}]".rjust(28))
            lines.append(f"{scen!s:<14}{target:<22}" + "".join(cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m models.run",
        description="Scenario forecast of casualties and displacement from YAML scenario configs.")
    parser.add_argument("configs", nargs="+", metavar="CONFIG", help="scenario config YAML file(s)")
    parser.add_argument("--out", metavar="DIR", help="results directory (default: output.directory)")
    parser.add_argument("--draws", type=int, help="Monte Carlo draws per scenario")
    parser.add_argument("--seed", type=int, help="random seed (default: forecast.seed)")
    parser.add_argument("--sampler", choices=("nutpie", "pymc"), help="NUTS implementation")
    parser.add_argument("--weights", metavar="ID=W,...", help="scenario weights for the mixture")
    parser.add_argument("--validate-only", action="store_true", help="check the configs and stop")
    parser.add_argument("--strict", action="store_true", help="exit 3 if diagnostics fail")
    parser.add_argument("--no-cache", action="store_true", help="refit the nowcast even if cached")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    args = parser.parse_args(argv)

    try:
        loaded = collect_configs(args.configs)
        primary = loaded[0].config
        ids = [c.config.scenario.id for c in loaded]
        if args.weights is None and primary.forecast.scenario_weights is not None:
            try:
                parse_weights(None, ids, primary.forecast.scenario_weights)
            except UsageError as e:
                # More configs on the command line than the config's weights know of: the user
                # has to say how to weight them.
                hint = ("; with several configs on the command line, give --weights for all of "
                        "them" if len(args.configs) > 1 else "")
                raise ConfigError([f"{loaded[0].where('forecast', 'scenario_weights')}: forecast "
                                   f"-> scenario_weights: {e}{hint}"]) from None
        weights = parse_weights(args.weights, ids, primary.forecast.scenario_weights
                                if len(loaded) > 1 else None)
        if args.draws is not None and not 100 <= args.draws <= 1_000_000:
            raise UsageError(f"--draws: expected 100 to 1,000,000, got {args.draws}")
        if args.seed is not None and args.seed < 0:
            raise UsageError(f"--seed: expected a non-negative integer, got {args.seed}")
        check_memory(args.draws or primary.forecast.draws, primary.forecast.horizon_days,
                     len(ids) + (weights is not None),
                     f"--draws {args.draws}" if args.draws else
                     f"{loaded[0].where('forecast', 'draws')}: forecast -> draws")
    except (ConfigError, UsageError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.validate_only:
        for c in loaded:
            print(f"ok: {c.path} (scenario '{c.config.scenario.id}', config hash {c.config_hash[:12]})")
        return 0

    seed = primary.forecast.seed if args.seed is None else args.seed
    draws = args.draws or primary.forecast.draws
    sampler = args.sampler or primary.sampler.backend
    out_dir = Path(args.out or primary.output.directory)
    progress = not args.quiet and sys.stderr.isatty()
    # Status lines and progress bars only on a terminal (logs and pipes get the results and
    # warnings, not chatter); --quiet silences them there too.
    say = (lambda msg: print(msg, file=sys.stderr)) if progress else (lambda *a: None)
    timings: dict[str, dict] = {}

    def stage(name, t0):
        timings[name] = {"seconds": round(time.perf_counter() - t0, 3), "peak_mb": round(_peak_mb(), 1)}

    try:
        say(f"scenarios: {', '.join(ids)}; fitting the nowcast ({sampler})...")
        t0 = time.perf_counter()
        fit, cached = fit_or_load(loaded[0], seed, sampler,
                                  None if args.no_cache else out_dir / ".cache", progress)
        stage("nowcast" + (" (cached)" if cached else ""), t0)
        diag = fit.diagnostics
        if not diag["passed"]:
            print("WARNING: nowcast diagnostics FAILED: " + "; ".join(diag["messages"])
                  + " — treat the results with suspicion", file=sys.stderr)

        from models.outputs.run_result import RunResult, new_run_id
        from models.outputs.write import write_run
        from models.progress import Progress
        from models.simulation.engine import simulate_scenarios

        say(f"simulating {draws:,} draws x {primary.forecast.horizon_days} days x {len(ids)} scenario(s)...")
        t0 = time.perf_counter()
        with Progress("simulation (draws)", total=draws, quiet=args.quiet) as bar:
            forecast = simulate_scenarios(
                fit.state, {c.config.scenario.id: c.config.assumptions for c in loaded},
                horizon_days=primary.forecast.horizon_days, seed=seed, draws=draws,
                weights=weights, on_chunk=bar.update)
        stage("simulation", t0)

        t0 = time.perf_counter()
        run_id = new_run_id(loaded[0].config_hash)
        result = RunResult(configs=loaded, idata=fit.idata, forecast=forecast, diagnostics=diag,
                           timings=timings, seed=seed, weights=weights,
                           origin=primary.episode.origin, run_id=run_id)
        with Progress("outputs", quiet=args.quiet):
            run_dir = write_run(result, out_dir, primary.output.formats)
        stage("outputs", t0)
    except KeyboardInterrupt:
        print("interrupted; no results written", file=sys.stderr)
        return 130
    except (ConfigError, UsageError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    if not args.quiet:
        print(f"results: {run_dir}")
        print(f"nowcast: {diag['sampler']}{' (cached fit)' if cached else ''}, max R-hat "
              f"{diag['max_rhat']:.3f}, min ESS bulk {diag['min_ess_bulk']:.0f} / tail "
              f"{diag['min_ess_tail']:.0f}, divergences {diag['divergences']}: "
              + ("ok" if diag["passed"] else "FAILED"))
        print(headline(forecast, primary.output.headline_horizons))
        print("timings: " + ", ".join(f"{k} {v['seconds']:.1f}s" for k, v in timings.items())
              + f"; peak memory {_peak_mb():,.0f} MB")
    if args.strict and not diag["passed"]:
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
