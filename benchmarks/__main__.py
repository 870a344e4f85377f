"""``python -m benchmarks [--quick]``: measure whole runs, the fit, the engine and its scaling on
this machine; write ``results/benchmarks/benchmarks.json`` and ``benchmarks.md``; end with one
``key=value`` summary line.

Full run: every shipped config cold and warm (3 repetitions each), the fit with the configs'
sampler settings (3 seeds per sampler), the engine at 10,000 draws x 90 days, the scaling grid.
Expect about an hour on an idle 2-core machine (mostly the 12 cold compiles and PyMC's sampling).
``--quick``: one config (escalation) with a warm compile cache, short chains, small engine runs,
one repetition: a smoke run of a few minutes whose numbers are indicative only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import backtest, e2e, fit, scaling

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("e2e", "fit", "mc", "scaling", "backtest")

TARGETS = {  # key: (comparison, threshold, what)
    "mc_vs_naive": (">=", 100, "engine path-days/s over the naive reference"),
    "mc_vs_rng": (">=", 0.5, "engine path-days/s over numpy generating the same variates"),
    "nutpie_vs_pymc": (">=", 2, "ESS/s, median over parameters"),
    "e2e_cold_s": ("<=", 60, "escalation, default draws, empty compile caches (wall s)"),
    "e2e_levers_s": ("<=", 8, "escalation rerun after a change of scenario levers only: compile "
                     "and fit caches warm (wall s)"),
    "e2e_evidence_s": ("<=", 20, "escalation rerun after one new report: compile caches warm, a "
                       "model structure not compiled before, the fit not cached (wall s)"),
    "notebook_refit_s": ("<=", 5, "run_scenarios again in the same process after evidence "
                         "values changed (compiled model reused; fit + simulation, wall s)"),
    "slope_draws": ("<=", 1.1, "log-log slope of engine time on draws (1 = linear)"),
    "slope_horizon": ("<=", 1.1, "log-log slope of engine time on horizon (1 = linear)"),
}


def machine() -> dict:
    import numpy
    import nutpie
    import pymc
    import pytensor

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                                capture_output=True).stdout.strip()
    except OSError:
        commit = ""
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpus": os.cpu_count(), "memory_gb": round(mem_gb, 1), "python": platform.python_version(),
            "platform": platform.platform(), "commit": commit,
            "versions": {"numpy": numpy.__version__, "pymc": pymc.__version__,
                         "pytensor": pytensor.__version__, "nutpie": nutpie.__version__}}


def summary(results: dict) -> dict:
    """The headline numbers (None where a section was not run)."""
    s: dict = {}
    mc = results.get("mc")
    if mc:
        s["mc_vs_naive"] = mc["cpu"]["ratio_to_naive"]
        s["mc_vs_rng"] = mc["cpu"]["ratio_to_rng_bound"]
        s["mc_vs_rng_shared"] = mc["cpu"]["ratio_to_rng_shared_bound"]
    if results.get("fit"):
        s["nutpie_vs_pymc"] = results["fit"]["nutpie_vs_pymc"]
    runs = (results.get("e2e") or {}).get("configs", {})
    esc = runs.get("escalation", {})
    for key, mode in (("e2e_cold", "cold"), ("e2e_warm", "warm_refit"),
                      ("e2e_levers", "warm_fit_cache"), ("e2e_evidence", "warm_new_report")):
        if mode in esc:
            s[f"{key}_s"] = esc[mode]["wall_s"]
            s[f"{key}_cpu_s"] = esc[mode]["cpu_s"]
    bt = results.get("backtest")
    if bt:
        s["backtest_peak_mb"] = max(bt[p]["peak_tree_mb"] for p in backtest.PATHS if p in bt)
        if "speedup" in bt:
            s["backtest_speedup"] = bt["speedup"]
            s["backtest_equal"] = bt["equal_scores"]
    notebook = (results.get("e2e") or {}).get("notebook_refit")
    if notebook:
        s["notebook_refit_s"] = notebook["wall_s"]
    if runs:
        s["peak_mb"] = max(m["peak_mb"] for modes in runs.values() for m in modes.values())
    sc = results.get("scaling")
    if sc:
        s["slope_draws"] = sc["streaming_draws"]["time_slope"]
        s["slope_horizon"] = sc["streaming_horizon"]["time_slope"]
        s["mem_slope_draws"] = sc["streaming_draws"]["memory_slope"] or 0.0
    met = [k for k, (op, thr, _) in TARGETS.items() if k in s
           and (s[k] >= thr if op == ">=" else s[k] <= thr)]
    s["targets_met"] = f"{len(met)}/{sum(k in s for k in TARGETS)}"
    s["load_avg"] = f"{results['load_avg']['start']}/{results['load_avg']['end']}"
    return s


def _fmt(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def markdown(results: dict, s: dict) -> str:
    m = results["machine"]
    busy = max(results["load_avg"].values()) > m["cpus"]
    lines = [f"# Benchmarks ({'quick' if results['quick'] else 'full'} run, {results['finished']})", "",
             f"{m['cpus']} CPUs, {m['memory_gb']} GB, Python {m['python']}, commit {m['commit']}; "
             f"1-minute load average {results['load_avg']['start']} at the start, "
             f"{results['load_avg']['end']} at the end"
             + (" (above the CPU count: other work shared the machine, so wall times are inflated; "
                "read the CPU columns too)" if busy else "")
             + ". Medians over repetitions. Reproduce: `python -m benchmarks"
             + (" --quick" if results["quick"] else "") + "`.", "",
             "## Targets", "", "| key | value | target | met | what |", "|---|---:|---|---|---|"]
    for k, (op, thr, what) in TARGETS.items():
        if k in s:
            ok = s[k] >= thr if op == ">=" else s[k] <= thr
            lines.append(f"| {k} | {_fmt(s[k])} | {op} {thr} | {'yes' if ok else '**no**'} | {what} |")
    runs = (results.get("e2e") or {}).get("configs")
    if runs:
        lines += ["", "## Whole runs (`python -m models.run CONFIG --quiet`)", "",
                  "| config | caches | wall s | CPU s | peak MB | nowcast s | simulation s | outputs s | plots s |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for config, modes in runs.items():
            for mode, r in modes.items():
                st = r["stages_s"]
                lines.append(f"| {config} | {mode} | {_fmt(r['wall_s'])} | {_fmt(r['cpu_s'])} | "
                             f"{_fmt(r['peak_mb'])} | {_fmt(st.get('nowcast', float('nan')))} | "
                             f"{_fmt(st.get('simulation', float('nan')))} | "
                             f"{_fmt(st.get('outputs', float('nan')))} | "
                             f"{_fmt(st.get('outputs.plots', float('nan')))} |")
    f = results.get("fit")
    if f:
        lines += ["", f"## Nowcast fit ({f['chains']} chains x {f['tune']} tune + {f['draws']} draws, "
                  f"{f['repeats']} seeds)", "",
                  "| sampler | compile cold s | compile warm s | sampling s | min ESS bulk | "
                  "median ESS/s | min ESS/s | divergences |", "|---|---:|---:|---:|---:|---:|---:|---|"]
        for name, r in f["samplers"].items():
            lines.append(f"| {name} | {_fmt(r['compile_cold_s'])} | {_fmt(r['compile_warm_s'])} | "
                         f"{_fmt(r['sampling_s'])} | {_fmt(r['min_ess_bulk'])} | "
                         f"{_fmt(r['median_ess_per_s'])} | {_fmt(r['min_ess_per_s'])} | "
                         f"{r['divergences']} |")
        lines += ["", f"nutpie_vs_pymc = {f['nutpie_vs_pymc']} ({f['aggregate']}; range over "
                  f"{f['n_parameters']} parameters {f['nutpie_vs_pymc_range']}; ratio of the "
                  f"minimum ESS/s {f['nutpie_vs_pymc_min_ess_per_s']})."]
    mc = results.get("mc")
    if mc:
        lines += ["", f"## Monte Carlo engine ({mc['scenarios']} scenarios x {mc['draws']:,} draws x "
                  f"{mc['horizon_days']} days, naive reference at {mc['naive_draws']} draws)", "",
                  "| clock | engine path-days/s | naive | RNG bound | RNG shared bound | vs naive | vs RNG | vs RNG shared |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for clock in ("wall", "cpu"):
            c = mc[clock]
            lines.append(f"| {clock} | {_fmt(c['engine_path_days_per_s'])} | {_fmt(c['naive_path_days_per_s'])} | "
                         f"{_fmt(c['rng_bound_path_days_per_s'])} | {_fmt(c['rng_shared_bound_path_days_per_s'])} | "
                         f"{_fmt(c['ratio_to_naive'])} | {_fmt(c['ratio_to_rng_bound'])} | "
                         f"{_fmt(c['ratio_to_rng_shared_bound'])} |")
    sc = results.get("scaling")
    if sc:
        lines += ["", f"## Scaling (4 scenarios + mixture, fresh process per point; memory baseline "
                  f"{sc['baseline_mb']} MB)", "",
                  "| axis | time slope | memory slope | points (size: seconds / peak MB) |",
                  "|---|---:|---:|---|"]
        for axis, key in (("streaming_draws", "draws"), ("streaming_horizon", "horizon_days"),
                          ("in_memory_draws", "draws")):
            a = sc[axis]
            pts = ", ".join(f"{p[key]:,}: {p['seconds']:.2f} / {p['peak_mb']:,}" for p in a["points"])
            mem = "flat" if a["memory_slope"] is None else a["memory_slope"]
            lines.append(f"| {axis} | {a['time_slope']} | {mem} | {pts} |")
        if "corner" in sc:
            c = sc["corner"]
            lines.append(f"\nLargest: {c['draws']:,} draws x {c['horizon_days']} days (streaming): "
                         f"{c['seconds']:.1f} s, {c['peak_mb']:,} MB.")
    for name, err in results.get("errors", {}).items():
        lines += ["", f"**Section {name} failed**: {err}"]
    lines += ["", "Summary: `" + summary_line(s) + "`", ""]
    return "\n".join(lines)


def summary_line(s: dict) -> str:
    def fmt(v):
        return f"{v:g}" if isinstance(v, float) else str(v)
    return " ".join(f"{k}={fmt(v)}" for k, v in s.items())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: small sizes, one repetition")
    ap.add_argument("--only", default=",".join(SECTIONS),
                    help=f"comma-separated sections to run (default: all of {','.join(SECTIONS)})")
    ap.add_argument("--repeats", type=int, help="repetitions per measurement (default 3; quick 1)")
    ap.add_argument("--configs", help="comma-separated config names for whole runs "
                    f"(default: {','.join(e2e.CONFIGS)}; quick: escalation)")
    ap.add_argument("--backtest-countries", default="SYR,IRQ", metavar="A,B,...|all",
                    help="countries of the backtest section (default SYR,IRQ; all: the 22 of "
                         "configs/backtest-countries.yaml, about 40 minutes per run)")
    ap.add_argument("--backtest-paths", default=",".join(backtest.PATHS), metavar="serial,dask",
                    help="backtest runs to make (default both: speed-up and equality; one alone "
                         "gives its wall time and peak memory)")
    ap.add_argument("--out", default=str(ROOT / "results" / "benchmarks"), help="output directory")
    args = ap.parse_args(argv)
    sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        print(f"error: --only: unknown section(s) {', '.join(unknown)}", file=sys.stderr)
        return 2
    paths = tuple(p.strip() for p in args.backtest_paths.split(",") if p.strip())
    if not paths or set(paths) - set(backtest.PATHS):
        print(f"error: --backtest-paths: expected serial, dask or both, got "
              f"{args.backtest_paths!r}", file=sys.stderr)
        return 2
    quick = args.quick
    repeats = args.repeats or (1 if quick else 3)
    configs = (args.configs.split(",") if args.configs else
               ["escalation"] if quick else list(e2e.CONFIGS))

    def say(msg):
        print(msg, file=sys.stderr, flush=True)

    results: dict = {"quick": quick, "repeats": repeats, "started": datetime.now(UTC).isoformat(timespec="seconds"),
                     "machine": machine(), "load_avg": {"start": round(os.getloadavg()[0], 1)}}
    t0 = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def run_mc():
        from benchmarks import mc

        return (mc.measure(draws=2_000, horizon=30, repeats=repeats, naive_draws=10) if quick
                else mc.measure(repeats=repeats))

    def run_scaling():
        return (scaling.measure(draws=(1_000, 4_000), horizons=(30, 90), repeats=repeats,
                                corner=False, horizon_at_draws=2_000, say=say) if quick
                else scaling.measure(repeats=repeats, say=say))

    def run_fit():
        return (fit.measure(repeats=repeats, tune=200, draws=200, cold=False) if quick
                else fit.measure(repeats=repeats))

    def run_e2e():
        modes = ("warm_refit", "warm_fit_cache", "warm_new_report") if quick else e2e.MODES
        out = e2e.measure(configs, repeats=repeats, modes=modes, say=say)
        say("  notebook refit (same process, evidence values changed)...")
        out["notebook_refit"] = e2e.notebook_refit(repeats=repeats)
        say(f"  notebook refit: {out['notebook_refit']['runs']} s")
        return out

    def run_backtest():
        chosen = args.backtest_countries
        if chosen == "all":
            from scenarios.backtest_config import load_backtest_config

            chosen = ",".join(load_backtest_config(backtest.CONFIG).config.data.countries)
        return backtest.measure(tuple(chosen.split(",")), workers=2, quick=quick, say=say,
                                paths=paths)

    jobs = {"mc": ("Monte Carlo engine against the naive reference and the RNG", run_mc),
            "scaling": ("scaling of the engine in draws and horizon", run_scaling),
            "fit": ("nowcast fit: nutpie against PyMC", run_fit),
            "e2e": (f"whole runs: {', '.join(configs)}", run_e2e),
            "backtest": ("cross-country backtest: serial against a 2-worker Dask cluster",
                         run_backtest)}
    failed = []
    for name in SECTIONS:
        if name not in sections:
            continue
        what, job = jobs[name]
        say(f"{what}...")
        try:
            results[name] = job()
        except Exception as e:  # keep the other sections' numbers; say what failed
            failed.append(name)
            results.setdefault("errors", {})[name] = f"{type(e).__name__}: {e}"
            say(f"error in {name}: {type(e).__name__}: {e}")
        write(results, out, t0)  # after every section, so a late failure loses nothing
    s = write(results, out, t0)
    say(f"wrote {out / 'benchmarks.json'} and {out / 'benchmarks.md'} ({results['seconds']:.0f} s)")
    print(summary_line(s))
    return 1 if failed else 0


def write(results: dict, out: Path, t0: float) -> dict:
    """Write the JSON and markdown of what has been measured so far; return the summary."""
    results["load_avg"]["end"] = round(os.getloadavg()[0], 1)
    results["seconds"] = round(time.perf_counter() - t0, 1)
    results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    s = summary(results)
    results["summary"] = s
    (out / "benchmarks.json").write_text(json.dumps(results, indent=1) + "\n", "utf-8")
    (out / "benchmarks.md").write_text(markdown(results, s), "utf-8")
    return s


if __name__ == "__main__":
    raise SystemExit(main())
