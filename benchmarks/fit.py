"""The nowcast fit: nutpie against PyMC's NUTS on the same model and data
(:class:`models.inference.nowcast.NowcastModel` of the escalation config; every shipped config shares this
nowcast), both with 4 chains on at most 2 cores and the config's tuning and target acceptance.

* **compile**: seconds to build the logp+gradient function each sampler runs, in a fresh process
  (``NowcastModel(cfg).compiled()`` for nutpie's numba backend; ``pm.NUTS`` construction, which
  compiles the PyTensor C function, for PyMC), first with an empty compile cache (cold), then
  again in a new process with the cache that run filled (warm);
* **sampling**: ESS per second for each scalar parameter: ArviZ bulk ESS of the posterior draws
  divided by the sampling seconds (tuning included, compilation excluded: nutpie's is done before
  the clock starts, PyMC's ``sampling_time`` starts after it). Per parameter the median over
  repetitions (seeds differ), then ``nutpie_vs_pymc`` = the **median over parameters** of the
  ratio of ESS/s (the minimum-ESS ratio is reported beside it).
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.e2e import ROOT, cache_env

CONFIG = ROOT / "configs" / "escalation.yaml"

_COMPILE_CHILD = """
import json, sys, time, warnings
sys.path.insert(0, {root!r})
import pymc as pm
from scenarios.loader import load_config
from models.inference.nowcast import NowcastModel
cfg = load_config({config!r}).config
model = NowcastModel(cfg)
t = time.perf_counter(); model.compiled(); nutpie_s = time.perf_counter() - t
t = time.perf_counter()
with model.model, warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    pm.NUTS(target_accept=cfg.sampler.target_accept)
pymc_s = time.perf_counter() - t
print(json.dumps({{"nutpie": nutpie_s, "pymc": pymc_s}}))
"""

_SAMPLE_CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
import arviz as az, numpy as np
from scenarios.loader import load_config
from models.inference.nowcast import NowcastModel
cfg = load_config({config!r}).config
model = NowcastModel(cfg)
free = [rv.name for rv in model.model.free_RVs]
t = time.perf_counter(); model.compiled(); nutpie_compile = time.perf_counter() - t
out = {{"nutpie": [], "pymc": []}}
for sampler in ("nutpie", "pymc"):
    for rep in range({repeats}):
        t = time.perf_counter()
        idata = model.sample(seed=1000 + rep, sampler=sampler, chains={chains}, tune={tune},
                             draws={draws}, target_accept=cfg.sampler.target_accept)
        wall = time.perf_counter() - t
        seconds = float(idata.posterior.attrs.get("sampling_time", wall))
        ess = az.ess(idata.posterior[free], method="bulk")
        per_param = {{}}
        for name in free:
            values = np.atleast_1d(ess[name].values)
            for idx in np.ndindex(values.shape):
                label = name + ("[" + ",".join(map(str, idx)) + "]" if values.ndim and values.size > 1 else "")
                per_param[label] = float(values[idx])
        div = int(idata.sample_stats["diverging"].values.sum()) if "diverging" in idata.sample_stats else 0
        out[sampler].append({{"sampling_s": seconds, "wall_s": wall, "ess_bulk": per_param,
                             "divergences": div}})
# PyMC compiles inside every sample() call: its compile (and worker start) time is the wall
# time outside its own sampling clock
out["compile_s"] = {{"nutpie": nutpie_compile,
                    "pymc": out["pymc"][0]["wall_s"] - out["pymc"][0]["sampling_s"]}}
print(json.dumps(out))
"""


def _child(code: str, env) -> dict:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"fit benchmark child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def compile_times(env) -> dict:
    """Cold then warm compile seconds of both samplers' logp+gradient, each in a fresh process,
    in the compile caches ``env`` points to (they should start empty)."""
    code = _COMPILE_CHILD.format(root=str(ROOT), config=str(CONFIG))
    cold = _child(code, env)
    warm = _child(code, env)
    return {s: {"cold_s": round(cold[s], 2), "warm_s": round(warm[s], 2)} for s in ("nutpie", "pymc")}


def measure(repeats: int = 3, chains: int = 4, tune: int | None = None, draws: int | None = None,
            cold: bool = True, work_dir: Path | None = None) -> dict:
    """ESS/s per parameter for both samplers (``repeats`` seeds each) and compile times.

    ``tune``/``draws``: per chain; default the config's ``sampler.tune``/``sampler.posterior_draws``.
    ``cold``: measure compile times from empty caches (then warm) and sample with the caches
    that filled; else use this machine's caches as they are, and the single compile time
    measured in the sampling process is reported as warm (cold: None)."""
    from scenarios.loader import load_config

    f = load_config(CONFIG).config.sampler
    tune = f.tune if tune is None else tune
    draws = f.posterior_draws if draws is None else draws
    base = Path(tempfile.mkdtemp(prefix="bench-fit-", dir=work_dir)) if cold else None
    try:
        env = cache_env(base)
        compile_s = compile_times(env) if cold else None
        code = _SAMPLE_CHILD.format(root=str(ROOT), config=str(CONFIG), repeats=repeats,
                                    chains=chains, tune=tune, draws=draws)
        runs = _child(code, env)
    finally:
        if base is not None:
            shutil.rmtree(base, ignore_errors=True)
    if compile_s is None:
        compile_s = {s: {"cold_s": None, "warm_s": runs["compile_s"][s]} for s in ("nutpie", "pymc")}

    per_sampler = {}
    for sampler in ("nutpie", "pymc"):
        reps = runs[sampler]
        params = list(reps[0]["ess_bulk"])
        ess_per_s = {p: statistics.median(r["ess_bulk"][p] / r["sampling_s"] for r in reps)
                     for p in params}
        per_sampler[sampler] = {
            "sampling_s": round(statistics.median(r["sampling_s"] for r in reps), 2),
            "sampling_s_runs": [round(r["sampling_s"], 2) for r in reps],
            "min_ess_bulk": round(statistics.median(min(r["ess_bulk"].values()) for r in reps)),
            "median_ess_bulk": round(statistics.median(
                statistics.median(r["ess_bulk"].values()) for r in reps)),
            "min_ess_per_s": round(min(ess_per_s.values()), 2),
            "median_ess_per_s": round(statistics.median(ess_per_s.values()), 2),
            "divergences": [r["divergences"] for r in reps],
            "ess_per_s": {p: round(v, 2) for p, v in ess_per_s.items()},
            "compile_cold_s": compile_s[sampler]["cold_s"],
            "compile_warm_s": compile_s[sampler]["warm_s"],
        }
    n, p = per_sampler["nutpie"], per_sampler["pymc"]
    ratios = {k: n["ess_per_s"][k] / p["ess_per_s"][k] for k in n["ess_per_s"]}
    return {
        "config": CONFIG.name, "chains": chains, "tune": tune, "draws": draws, "repeats": repeats,
        "aggregate": "median over scalar parameters of (nutpie ESS/s) / (PyMC ESS/s)",
        "nutpie_vs_pymc": round(statistics.median(ratios.values()), 2),
        "nutpie_vs_pymc_min_ess_per_s": round(n["min_ess_per_s"] / p["min_ess_per_s"], 2),
        "nutpie_vs_pymc_range": [round(min(ratios.values()), 2), round(max(ratios.values()), 2)],
        "n_parameters": len(ratios),
        "samplers": per_sampler,
    }
