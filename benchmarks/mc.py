"""Throughput and memory of the Monte Carlo engine (models/simulate.py), against two references
measured in the same run:

* **naive**: ``tests/support/naive_reference.py``, a per-draw, per-day Python loop of the same process;
* **RNG bound**: numpy generating the variates one scenario path needs (per path and day: one
  uniform, one normal per region, two negative binomials and three binomials per region: new
  displacement, border crossings among them, returns), in the
  engine's chunked, per-day streams, with parameters of the sizes the scenarios produce. The
  engine shares the uniform, the normals and the negative binomials' gamma mixing between
  scenarios (common random numbers), so it can beat this bound; ``rng_shared`` is the stricter
  bound that generates shared variates once per draw, as the engine does.

Throughput is path-days per second: scenarios x draws x days / seconds. Times are medians over
repeats, both wall-clock and CPU (process time; on a busy machine CPU time is the fairer one).
The scenarios are the four shipped configs (baseline, deescalation, displacement, escalation)
with a mixture, on the synthetic two-region :func:`tests.support.example_state`.

    python -m benchmarks.mc                # quick: 10,000 draws x 90 days, 3 repeats
    python -m benchmarks.mc --memory       # also 100,000 draws x 365 days (peak memory, ~2 min)
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("baseline", "deescalation", "displacement", "escalation")
WEIGHTS = {"baseline": 0.4, "deescalation": 0.2, "displacement": 0.1, "escalation": 0.3}


def _scenarios() -> dict:
    from scenarios.loader import load_config

    return {s: load_config(ROOT / "configs" / f"{s}.yaml").config.assumptions for s in SCENARIOS}


def _timed(fn, repeats: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``fn()`` over ``repeats`` calls."""
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu)


def rng_bound(state, n_scenarios: int, draws: int, horizon: int, seed: int = 0,
              shared: bool = False) -> None:
    """Generate, with numpy and the engine's stream layout, the variates ``n_scenarios`` x
    ``draws`` paths of ``horizon`` days consume. Parameters are held at the origin's sizes (the
    cost of numpy's samplers depends on them: rejection for large means, search for small).

    ``shared``: uniforms, normals and gamma mixing once per draw (as the engine's common random
    numbers), Poisson and binomial per path; otherwise every variate per path.
    """
    from models.simulation.engine import CHUNK_DRAWS, posterior_index
    from models.simulation.rng import stream

    st = state.take(posterior_index(state.n_draws, draws))
    regions, S = state.regions, n_scenarios
    lam = np.exp(st.log_intensity).T  # (R, n) deaths/day at the origin
    share = st.civilian_share.T
    k = st.dispersion
    population = np.round(st.population_at_risk.T)
    displaced = np.round(st.displaced_at_origin.T)
    p_new = -np.expm1(-(st.displacement_per_death.T * lam / population + st.flight_hazard.T))
    new = np.round((population - displaced) * p_new)  # the day's new displacement, about
    p_ret = np.full_like(p_new, 0.006)  # median daily return rate x prolonged return multiplier
    for lo in range(0, draws, CHUNK_DRAWS):
        hi = min(lo + CHUNK_DRAWS, draws)
        c, n, sl = lo // CHUNK_DRAWS, hi - lo, slice(lo, hi)
        per = (1 if shared else S)
        for h in range(1, horizon + 1):
            stream(seed, "regime", c, h).random((per, n))
            for r, name in enumerate(regions):
                stream(seed, f"innovation/{name}", c, h).standard_normal((per, n))
                for cat, mean in (("civilian", lam[r, sl] * share[r, sl]),
                                  ("combatant", lam[r, sl] * (1 - share[r, sl]))):
                    g = stream(seed, f"deaths/{name}/{cat}", c, h)
                    if shared:
                        mix = stream(seed, f"mixing/{name}/{cat}", c, h).standard_gamma(k[sl]) / k[sl]
                        g.poisson(np.broadcast_to(mean * mix, (S, n)))
                    else:
                        g.negative_binomial(k[sl], k[sl] / (k[sl] + np.broadcast_to(mean, (S, n))))
                stream(seed, f"displacement/{name}", c, h).binomial(
                    np.broadcast_to(population[r, sl] - displaced[r, sl], (S, n)).astype(np.int64),
                    p_new[r, sl])
                stream(seed, f"refugees/{name}", c, h).binomial(
                    np.broadcast_to(new[r, sl], (S, n)).astype(np.int64), st.refugee_share.T[r, sl])
                stream(seed, f"returns/{name}", c, h).binomial(
                    np.broadcast_to(displaced[r, sl], (S, n)).astype(np.int64), p_ret[r, sl])


def measure(draws: int = 10_000, horizon: int = 90, repeats: int = 3, naive_draws: int = 40,
            seed: int = 20241201) -> dict:
    """Engine throughput against the naive reference and the RNG bound, same run, same sizes.

    ``naive_draws``: draws per scenario for the (slow) naive reference. Returns a dict of
    path-days per second (medians over ``repeats``, wall and CPU) and their ratios.
    """
    from models.simulation.engine import simulate_scenarios
    from tests.support import example_state
    from tests.support.naive_reference import simulate_naive

    scen = _scenarios()
    state = example_state(4000, seed=1)
    S = len(scen)
    path_days = S * draws * horizon
    simulate_scenarios(state, scen, 2, seed, draws=200, weights=WEIGHTS)  # warm caches, imports

    engine = _timed(lambda: simulate_scenarios(state, scen, horizon, seed, draws=draws,
                                               weights=WEIGHTS), repeats)
    bound = _timed(lambda: rng_bound(state, S, draws, horizon, seed), repeats)
    shared = _timed(lambda: rng_bound(state, S, draws, horizon, seed, shared=True), repeats)
    small = example_state(naive_draws, seed=2)
    naive = _timed(lambda: [simulate_naive(small, a, horizon, np.random.default_rng(seed))
                            for a in scen.values()], repeats)
    naive_path_days = S * naive_draws * horizon

    out = {"draws": draws, "horizon_days": horizon, "scenarios": S, "regions": len(state.regions),
           "repeats": repeats, "naive_draws": naive_draws}
    for clock, i in (("wall", 0), ("cpu", 1)):
        rate = {"engine": path_days / engine[i], "rng_bound": path_days / bound[i],
                "rng_shared_bound": path_days / shared[i], "naive": naive_path_days / naive[i]}
        out[clock] = {
            **{f"{k}_path_days_per_s": round(v) for k, v in rate.items()},
            "engine_ns_per_path_day": round(1e9 / rate["engine"], 1),
            "ratio_to_naive": round(rate["engine"] / rate["naive"], 1),
            "ratio_to_rng_bound": round(rate["engine"] / rate["rng_bound"], 2),
            "ratio_to_rng_shared_bound": round(rate["engine"] / rate["rng_shared_bound"], 2),
        }
    return out


_CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from benchmarks.mc import _scenarios, WEIGHTS
from models.simulation.engine import simulate_scenarios, iter_scenario_chunks
from models.simulation.quantiles import daily_quantiles
from tests.support import example_state
scen, state = _scenarios(), example_state(4000, seed=1)
t = time.perf_counter()
if {mode!r} == "in_memory":
    ds = simulate_scenarios(state, scen, {horizon}, 1, draws={draws}, weights=WEIGHTS)
    q = daily_quantiles(ds, [0.05, 0.5, 0.95])
else:
    q = daily_quantiles(iter_scenario_chunks(state, scen, {horizon}, 1, draws={draws},
                                             weights=WEIGHTS), [0.05, 0.5, 0.95], days={days})
print(json.dumps({{"seconds": time.perf_counter() - t,
                   "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def measure_memory(draws: int = 100_000, horizon: int = 365, mode: str = "streaming",
                   days: list[int] | None = None) -> dict:
    """Peak resident memory (MB) and time of one run with the four scenarios and the mixture,
    reduced to 5/50/95% quantiles, in a fresh process (so the peak is this run's alone).

    ``mode``: ``in_memory`` (:func:`simulate_scenarios`, every draw kept as a Dataset, then
    quantiles of every day) or ``streaming`` (:func:`iter_scenario_chunks` into
    :func:`daily_quantiles` of ``days``, default every 7th day and the last).
    """
    if days is None:
        days = sorted({*range(7, horizon + 1, 7), horizon})
    code = _CHILD.format(root=str(ROOT), mode=mode, horizon=horizon, draws=draws, days=days)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    res = json.loads(done.stdout.strip().splitlines()[-1])
    path_days = len(SCENARIOS) * draws * horizon
    return {"mode": mode, "draws": draws, "horizon_days": horizon, "scenarios": len(SCENARIOS),
            "quantile_days": "all" if mode == "in_memory" else len(days),
            "seconds": round(res["seconds"], 1), "peak_rss_mb": round(res["peak_rss_mb"]),
            "path_days_per_s": round(path_days / res["seconds"])}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--horizon", type=int, default=90)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--memory", action="store_true", help="also 100,000 draws x 365 days")
    args = ap.parse_args(argv)
    print(json.dumps(measure(args.draws, args.horizon, args.repeats), indent=1))
    if args.memory:
        for mode in ("streaming", "in_memory"):
            print(json.dumps(measure_memory(mode=mode)))
    print(f"(this process: peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
