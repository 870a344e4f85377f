"""The flow, written out once: configs -> nowcast fit -> Monte Carlo scenarios -> a RunResult.

    from models import run_scenarios, write_run
    from models.storage import fit_cache_directory   # the user's fit cache
    result = run_scenarios(["configs/escalation.yaml"], draws=2000,
                           cache_dir=fit_cache_directory())
    run_dir = write_run(result, "results")

:func:`run_scenarios` returns the run in memory (nothing is written but the fit cache, when a
``cache_dir`` is given); :func:`models.outputs.write.write_run` is the one writer. The command
line (:mod:`models.cli.run`) and the notebooks both go through these two calls.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from models.inference.fit_cache import fit_or_load
from models.outputs.atomic import TEMP_PREFIX
from models.outputs.run_result import RunResult, new_run_id
from models.progress import Progress
from models.runtime import peak_memory_mb
from models.simulation.engine import simulate_scenarios
from models.storage import (
    OutputError,
    check_free_space,
    estimate_run_bytes,
    probe_directory,
    refuse_overwrite,
)
from scenarios.compose import Comparison, compose
from scenarios.limits import MAX_SEED
from scenarios.schema import DRAWS_RANGE

__all__ = ["RUN_BYTES_FIXED", "RUN_BYTES_PER_DRAW_DAY_SCENARIO", "ResourceLimitError",
           "available_memory_bytes", "check_memory", "check_output", "nowcast_bytes",
           "run_scenarios"]

RUN_BYTES_PER_DRAW_DAY_SCENARIO = 200
"""Peak memory of a run per draw x day x scenario (mixture included), measured with
``/usr/bin/time -v`` on configs/escalation.yaml (escalation, baseline, mixture; 90 days): peak
RSS 1.25 GB at 4,000 draws and 1.97 GB at 20,000 draws, i.e. ~170 B per draw-day-scenario (the
float32 forecast array holds 49 B of it; summaries, the samples table and plots work on copies),
rounded up."""
RUN_BYTES_FIXED = 1.3e9
"""Peak of a small run: interpreter, PyMC/ArviZ imports, the compiled nowcast (~1.1 GB measured)."""


class ResourceLimitError(ValueError):
    """A run refused before any work because it would exceed a resource limit."""


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
        raise ResourceLimitError(
            f"{where}: {draws:,} draws x {horizon_days} days x {n_series} scenario(s) need about "
            f"{need / 1e9:,.1f} GB of memory, more than the {available / 1e9:,.1f} GB available; "
            f"lower the draws (at most about {max(fit, 0):,} here) or the horizon")


def check_run(comparison: Comparison, draws: int | None = None, seed: int | None = None) -> None:
    """Everything about a run that can be refused before the fit: draws, seed, memory."""
    primary = comparison.primary
    if draws is not None and not DRAWS_RANGE[0] <= draws <= DRAWS_RANGE[1]:
        raise ResourceLimitError(f"draws: expected {DRAWS_RANGE[0]:,} to {DRAWS_RANGE[1]:,}, "
                                 f"got {draws}")
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise ResourceLimitError(f"seed: expected an integer from 0 to {MAX_SEED:,} (what the "
                                 f"random number generators accept), got {seed}")
    where = (f"draws {draws}" if draws is not None else
             f"{primary.where('forecast', 'draws')}: forecast -> draws")
    check_memory(draws or primary.config.forecast.draws, primary.config.forecast.horizon_days,
                 len(comparison.configs) + (comparison.weights is not None), where)


def nowcast_bytes(comparison: Comparison) -> float:
    """Estimate of the nowcast's InferenceData (the posterior and prior groups, predictive and
    sample stats) in bytes: per draw, three (region, day) paths, ~20 values per region, two
    per report and ~30 others, float64, twice (posterior and prior)."""
    cfg = comparison.primary.config
    regions, days = len(cfg.episode.regions), cfg.episode.observed_days
    per_draw = 3 * regions * days + 20 * regions + 2 * len(cfg.evidence) + 30
    return 2.0 * 8 * per_draw * cfg.sampler.chains * cfg.sampler.posterior_draws


def check_output(out_dir: str | Path, comparison: Comparison, draws: int | None = None, *,
                 cache_dir: str | Path | None = None, formats=None) -> None:
    """Everything about where a run will be written that can be refused before the fit: the
    results directory, the scenario's directory in it and the fit cache directory
    ``cache_dir`` (None: no cache) must be directories this process can write, with names and
    paths the file system allows (probed: created and removed), not inside a finished run, on
    file systems with room for the run and the fit (estimates). Raises
    :class:`models.storage.OutputError` (a ValueError) naming the path."""
    from models.vocabulary import TARGETS

    primary = comparison.primary.config
    out_dir = Path(out_dir)
    formats = primary.output.formats if formats is None else formats
    ids = comparison.scenario_ids
    refuse_overwrite(out_dir, (), what="output directory")
    probe_directory(out_dir, names=ids, what="output directory")
    run_dir_name = f"{TEMP_PREFIX}{socket.gethostname()}-{os.getpid()}-{new_run_id('0' * 8)}.old"
    probe_directory(out_dir / comparison.primary.config.scenario.id, names=[run_dir_name],
                    what="scenario directory")
    if cache_dir is not None:
        probe_directory(Path(cache_dir), names=["nowcast-" + "0" * 20 + ".json.tmp-"
                                                + "0" * 30], what="fit cache directory")
    longest = max(ids, key=len)
    deepest = (Path(os.path.abspath(out_dir)) / longest / run_dir_name / "exports" / "views"
               / longest / "cm" / "origin_0000-00-00" / f"config.{longest}.resolved.yaml")
    path_max = _path_max(out_dir)
    if len(str(deepest).encode()) >= path_max:
        raise OutputError(f"{out_dir}: paths of the run would be {len(str(deepest))} characters "
                          f"long, more than the {path_max} the file system allows; choose a "
                          "shorter --out or shorter scenario ids")
    draws = draws or primary.forecast.draws
    n_series = len(comparison.configs) + (comparison.weights is not None)
    need = estimate_run_bytes(n_series, draws, primary.forecast.horizon_days,
                              len(primary.episode.regions) + 1, len(TARGETS), formats,
                              nowcast_bytes(comparison))
    check_free_space(out_dir, need, "the run")
    if cache_dir is not None:
        check_free_space(Path(cache_dir), nowcast_bytes(comparison), "the fit cache entry")


def _path_max(path: Path) -> int:
    p = Path(os.path.abspath(path))
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        return int(os.pathconf(p, "PC_PATH_MAX"))
    except (OSError, ValueError):
        return 4096


def run_scenarios(configs: Sequence[str | Path] | Comparison, *, draws: int | None = None,
                  seed: int | None = None, sampler: str | None = None,
                  weights: Mapping[str, float] | None = None,
                  cache_dir: str | Path | None = None, progress: bool = False,
                  say: Callable[[str], None] | None = None,
                  since: str | Path | None = None, refit: bool = False,
                  target_accept: float | None = None) -> RunResult:
    """Fit the nowcast shared by the scenarios and simulate every scenario from it.

    ``configs``: config paths (the first is the primary; their ``compare_with`` join) or a
    :class:`~scenarios.compose.Comparison`; ``draws``: Monte Carlo draws per scenario (default
    the primary's ``forecast.draws``); ``seed``: the run's seed (default ``forecast.seed``; it
    seeds the NUTS fit and every Monte Carlo stream); ``sampler``: ``nutpie`` or ``pymc``
    (default ``sampler.backend``); ``weights``: scenario id -> weight of the mixture (default
    the primary's ``forecast.scenario_weights``); ``cache_dir``: where fits are cached (None:
    no cache); ``progress``: progress bars on stderr; ``say``: receives status lines;
    ``since``: an earlier run of the episode whose scenario weights the reports dated after its
    origin update (:mod:`models.evaluation.update`): the posterior weights make the mixture
    unless ``weights`` is given, and ``result.extra["scenario_update"]`` records them;
    ``refit``: fit even if ``cache_dir`` holds the fit, never reading the entry, and replace it
    (``--no-cache``: a damaged entry is repaired, never read); ``target_accept``: NUTS target
    acceptance instead of ``sampler.target_accept`` (``--target-accept``). A fit with divergent
    transitions is refitted once at a higher target (recorded in the diagnostics, ``retry``).

    Raises :class:`~scenarios.yaml_source.ConfigError` for bad configs,
    :class:`ResourceLimitError` for runs refused before any work and
    :class:`~models.storage.OutputError` for a cache directory that cannot be written (all
    before the fit).
    """
    comparison = configs if isinstance(configs, Comparison) else compose(
        configs, weights, weights_given=weights is not None)
    check_run(comparison, draws, seed)
    update = None
    if since is not None:  # before the fit: a refused update costs nothing
        from models.evaluation.update import scenario_update

        update = scenario_update(since, comparison)
        if weights is None and len(comparison.configs) > 1:
            comparison = Comparison(comparison.configs, update.posterior_weights)
    primary = comparison.primary
    cfg = primary.config
    seed = cfg.forecast.seed if seed is None else seed
    draws = draws or cfg.forecast.draws
    sampler = sampler or cfg.sampler.backend
    say = say or (lambda message: None)
    timings: dict[str, dict] = {}

    def stage(name: str, t0: float) -> None:
        timings[name] = {"seconds": round(time.perf_counter() - t0, 3),
                         "peak_mb": round(peak_memory_mb(), 1)}

    ids = comparison.scenario_ids
    if cache_dir is not None:  # a cache that cannot be written is found now, not after the fit
        probe_directory(Path(cache_dir), what="fit cache directory")
    say(f"scenarios: {', '.join(ids)}; fitting the nowcast ({sampler})...")
    t0 = time.perf_counter()
    fit, cached = fit_or_load(primary, seed, sampler,
                              None if cache_dir is None else Path(cache_dir), progress, say=say,
                              refit=refit, target_accept=target_accept)
    stage("nowcast" + (" (cached)" if cached else ""), t0)

    say(f"simulating {draws:,} draws x {cfg.forecast.horizon_days} days x {len(ids)} scenario(s)...")
    t0 = time.perf_counter()
    with Progress("simulation (draws)", total=draws, quiet=not progress) as bar:
        forecast = simulate_scenarios(
            fit.state, {c.config.scenario.id: c.config.assumptions for c in comparison.configs},
            horizon_days=cfg.forecast.horizon_days, seed=seed, draws=draws,
            weights=comparison.weights, on_chunk=bar.update)
    stage("simulation", t0)
    return RunResult(configs=list(comparison.configs), idata=fit.idata, forecast=forecast,
                     diagnostics=fit.diagnostics, timings=timings, seed=seed,
                     weights=comparison.weights, origin=cfg.episode.origin,
                     run_id=new_run_id(primary.config_hash),
                     extra={} if update is None else {"scenario_update": update.record(
                         "--weights" if weights is not None else
                         "posterior" if comparison.weights is not None else "none")})
