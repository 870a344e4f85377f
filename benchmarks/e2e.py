"""Whole runs: wall time, CPU time and peak memory of ``python -m models.run CONFIG`` as a user
runs it, in a child process, in four cache states, and the notebook's refit:

* ``cold``: an empty PyTensor compile cache (``PYTENSOR_FLAGS=base_compiledir=<fresh dir>``; the
  PyTensor numba cache lives under it) and an empty numba cache (``NUMBA_CACHE_DIR``), and
  ``--no-cache`` for the nowcast fit: the first run after installation;
* ``warm_refit``: the compile caches the cold run filled, the nowcast refitted (``--no-cache``):
  what a user gets after changing the evidence;
* ``warm_fit_cache``: compile caches and the nowcast fit cache filled: what a user gets after
  changing only scenario levers (the fit is loaded, not sampled);
* ``warm_new_report``: compile caches warm, and the config has one report more than any run
  before it (repetition i adds i + 1 reports, clones of the config's first evidence entry with
  other values, so every repetition's model is a structure not yet compiled): what a user gets
  the morning a new report arrives (same regions and reporting profiles);
* ``notebook_refit`` (:func:`notebook_refit`): in one process, ``run_scenarios`` again after
  evidence values changed (the compiled model reused), timed without the first fit.

Peak memory is the child's maximum resident set size (``os.wait4`` rusage, as ``/usr/bin/time``
reports it). CPU seconds (user + system) are reported beside wall seconds: on a machine shared
with other work, wall time grows with the load and CPU time much less.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ("baseline", "escalation", "displacement", "deescalation")
MODES = ("cold", "warm_refit", "warm_fit_cache", "warm_new_report")


def cache_env(compile_dir: Path | None) -> dict[str, str]:
    """Environment that points every compile cache the run uses into ``compile_dir`` (None:
    this machine's own caches, as they are).

    PyTensor keeps its C and numba caches under ``base_compiledir``; numba's own cache (functions
    jitted with ``cache=True`` by libraries) goes to ``NUMBA_CACHE_DIR``. Other PyTensor flags
    the user has set are kept (later flags win, so ours come last)."""
    env = dict(os.environ)
    if compile_dir is None:
        return env
    flags = [f for f in env.get("PYTENSOR_FLAGS", "").split(",") if f]
    env["PYTENSOR_FLAGS"] = ",".join([*flags, f"base_compiledir={compile_dir / 'pytensor'}"])
    env["NUMBA_CACHE_DIR"] = str(compile_dir / "numba")
    return env


def run_child(argv: list[str], env: dict[str, str], log: Path) -> dict:
    """Run ``argv`` to completion; its wall seconds, CPU seconds and peak RSS (MB).

    ``os.wait4`` gives this child's own resource usage (and that of any processes it waited
    for), unlike ``getrusage(RUSAGE_CHILDREN)``, whose peak is the maximum over every child
    this process has had. Output goes to ``log`` (a file, so a chatty child cannot block)."""
    with open(log, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_mb": usage.ru_maxrss / 1024, "returncode": proc.returncode}


def _stage_seconds(out_dir: Path, scenario_id: str) -> dict:
    """Stage timings models.run wrote to the newest run.json under ``out_dir/scenario_id``."""
    runs = sorted((out_dir / scenario_id).glob("*/run.json"), key=lambda p: p.stat().st_mtime)
    if not runs:
        return {}
    timings = json.loads(runs[-1].read_text("utf-8")).get("timings", {})
    stages = {k.split(" ")[0]: v["seconds"] for k, v in timings.items() if "seconds" in v}
    stages |= {f"outputs.{k}": v for k, v in timings.get("outputs", {}).get("stages", {}).items()}
    stages["nowcast_cached"] = any("cached" in k for k in timings)
    return stages


def new_report_configs(config: str, directory: Path, reports: int) -> Path:
    """Configs in ``directory`` that extend ``configs/<config>.yaml`` (and each config it is
    compared with) by ``reports`` new reports (:func:`_new_reports`) under new ids. Returns the
    primary's path."""
    import yaml

    from scenarios.loader import load_config

    source = ROOT / "configs" / f"{config}.yaml"
    resolved = load_config(source).resolved
    extra = {f"benchmark_new_report_{k}": entry
             for k, entry in enumerate(_new_reports(resolved, reports))}
    directory.mkdir(parents=True, exist_ok=True)
    others = list((resolved.get("scenario") or {}).get("compare_with") or [])
    for name in others:
        (directory / Path(name).name).write_text(yaml.safe_dump(
            {"extends": str(source.parent / name), "evidence": extra}), "utf-8")
    primary = {"extends": str(source), "evidence": extra}
    if others:
        primary["scenario"] = {"compare_with": [Path(n).name for n in others]}
    path = directory / f"{config}.yaml"
    path.write_text(yaml.safe_dump(primary, sort_keys=False), "utf-8")
    return path


def _new_reports(resolved: dict, n: int) -> list[dict]:
    """``n`` clones of the config's first evidence entry, each a one-day report on its own day
    (from the episode start on) in a region where no report of that quantity and reporting
    profile exists, so they overlap nothing (overlapping windows of one profile are refused)."""
    import datetime as dt

    evidence = resolved["evidence"]
    first = next(iter(evidence.values()))
    taken = {e.get("region") for e in evidence.values()
             if e["quantity"] == first["quantity"] and e.get("reporting") == first.get("reporting")}
    free = [r for r in resolved["episode"]["regions"] if r not in taken]
    start = dt.date.fromisoformat(str(resolved["episode"]["start"]))
    days = (dt.date.fromisoformat(str(resolved["episode"]["origin"])) - start).days + 1
    if not free or n > days:
        raise ValueError("no room for new reports that overlap nothing in this config")
    return [{**copy.deepcopy(first), "region": free[0], "value": 20 + 3 * k,
             "period": {"day": str(start + dt.timedelta(days=k))}} for k in range(n)]


_NOTEBOOK_CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
from models.pipeline import run_scenarios
from scenarios.compose import Comparison
from scenarios.loader import Loaded, load_config
from scenarios.schema import Config
shipped = load_config({config!r})
run_scenarios([shipped.path], draws={draws})  # the notebook's first run: compiles and fits
times = []
for k in range({repeats}):
    d = json.loads(json.dumps(shipped.resolved, default=str))
    for i, entry in enumerate(d["evidence"].values()):  # every numeric value moved, k-th way
        if isinstance(entry.get("value"), (int, float)):
            entry["value"] = max(1, round(entry["value"] * (1.1 + 0.05 * k)))
    loaded = Loaded(Config.model_validate(d), shipped.path, d)
    t = time.perf_counter()
    result = run_scenarios(Comparison((loaded,), None), draws={draws})
    times.append(time.perf_counter() - t)
    assert result.diagnostics["compiled_model_reused"], "the compiled model was not reused"
print(json.dumps({{"refit_s": times}}))
"""


def notebook_refit(config: str = "escalation", repeats: int = 3, draws: int | None = None,
                   compile_dir: Path | None = None) -> dict:
    """Seconds of ``run_scenarios`` in a process that has already fitted the config once, after
    changing evidence values only (fit with the reused compiled model, and the simulation; no
    outputs, as a notebook cell does): the median of ``repeats`` refits, each with other
    values."""
    from models.inference.nowcast import NowcastModel  # noqa: F401  (fail early if unimportable)

    code = _NOTEBOOK_CHILD.format(root=str(ROOT), config=str(ROOT / "configs" / f"{config}.yaml"),
                                  repeats=repeats, draws=draws or 2000)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env=cache_env(compile_dir))
    if proc.returncode != 0:
        raise RuntimeError("notebook refit failed:\n" + proc.stderr[-3000:])
    times = json.loads(proc.stdout.strip().splitlines()[-1])["refit_s"]
    return {"wall_s": round(statistics.median(times), 2), "runs": [round(t, 2) for t in times],
            "draws": draws or 2000}


def run_config(config: str, mode: str, compile_dir: Path | None, out_dir: Path, log: Path,
               draws: int | None = None, config_path: Path | None = None) -> dict:
    """One ``models.run`` of ``configs/<config>.yaml``; timings, peak memory, stage seconds.

    ``mode`` picks the nowcast fit cache: ``--no-cache`` for cold and warm_refit; for
    warm_fit_cache the fit cache beside ``out_dir`` (``fit-cache/``, never the user's) must
    already hold the fit; ``fill`` uses the fit cache and fills it when empty."""
    argv = [sys.executable, "-m", "models.run",
            str(config_path or ROOT / "configs" / f"{config}.yaml"),
            "--out", str(out_dir), "--cache-dir", str(out_dir.parent / "fit-cache"), "--quiet"]
    if mode not in ("warm_fit_cache", "fill", "warm_new_report"):
        argv.append("--no-cache")
    if draws is not None:
        argv += ["--draws", str(draws)]
    res = run_child(argv, cache_env(compile_dir), log)
    if res["returncode"] != 0:
        raise RuntimeError(f"models.run {config} ({mode}) exited {res['returncode']}; "
                           f"last lines of {log}:\n" + "\n".join(
                               log.read_text("utf-8", "replace").splitlines()[-15:]))
    res["stages"] = _stage_seconds(out_dir, config)
    if mode == "warm_fit_cache" and not res["stages"].get("nowcast_cached"):
        raise RuntimeError(f"models.run {config}: expected the cached nowcast fit, got a refit")
    if mode in ("cold", "warm_refit") and res["stages"].get("nowcast_cached"):
        raise RuntimeError(f"models.run {config} ({mode}): expected a refit, got the cached fit")
    return res


def _median_of(reps: list[dict]) -> dict:
    """Medians over repetitions of every number in the per-run dicts (stages included)."""
    out = {k: round(statistics.median(r[k] for r in reps), 2)
           for k in ("wall_s", "cpu_s", "peak_mb")}
    stage_keys = [k for k in reps[0]["stages"] if k != "nowcast_cached"]
    out["stages_s"] = {k: round(statistics.median(r["stages"].get(k, float("nan")) for r in reps), 2)
                       for k in stage_keys}
    out["runs"] = [{k: round(r[k], 2) for k in ("wall_s", "cpu_s", "peak_mb")} for r in reps]
    return out


def measure(configs=CONFIGS, repeats: int = 3, modes=MODES, draws: int | None = None,
            work_dir: Path | None = None, say=print) -> dict:
    """Median wall/CPU seconds and peak memory of whole runs per config and cache state.

    Every cold repetition gets its own empty compile cache. The warm repetitions of a config
    share one compile cache that its first cold repetition filled (without "cold" in ``modes``:
    this machine's own compile caches, whatever state they are in; run once before to warm
    them), and one nowcast fit cache (all shipped configs share one
    nowcast, but each config gets its own directory so that no state crosses between configs).
    Cold and warm_refit runs refit (``--no-cache``) and write the entry that warm_fit_cache then
    loads (writing the posterior costs well under a second; until 4 Dec 2026 the first
    warm_refit repetition loaded the entry the cold runs had written, so one of its three was a
    cached run); without them in ``modes`` an untimed run fills it. ``draws``: Monte Carlo draws (default: the config's)."""
    base = Path(tempfile.mkdtemp(prefix="bench-e2e-", dir=work_dir))
    results: dict = {}
    try:
        for config in configs:
            results[config] = {}
            warm_cache = base / config / "compile-warm" if "cold" in modes else None
            out_dir = base / config / "out"
            for mode in modes:
                reps = []
                if mode == "warm_fit_cache" and "warm_refit" not in modes:  # fill it, untimed
                    run_config(config, "fill", warm_cache, out_dir,
                               base / f"{config}-fill.log", draws)
                for i in range(repeats):
                    compile_dir = warm_cache
                    if mode == "cold":
                        compile_dir = warm_cache if i == 0 else base / config / f"compile-cold-{i}"
                    run_mode = mode  # warm_refit refits every time (--no-cache)
                    log = base / f"{config}-{mode}-{i}.log"
                    path = (new_report_configs(config, base / config / f"new-report-{i}", i + 1)
                            if mode == "warm_new_report" else None)
                    r = run_config(config, run_mode, compile_dir, out_dir, log, draws, path)
                    say(f"  e2e {config:<13} {mode:<15} rep {i + 1}/{repeats}: wall {r['wall_s']:6.1f} s, "
                        f"cpu {r['cpu_s']:6.1f} s, peak {r['peak_mb']:6.0f} MB")
                    reps.append(r)
                    if mode == "cold" and i > 0:
                        shutil.rmtree(compile_dir, ignore_errors=True)
                results[config][mode] = _median_of(reps)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return {"repeats": repeats, "draws": draws or "config default", "configs": results}
