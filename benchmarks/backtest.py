"""The cross-country backtest on one machine: serial against a local Dask cluster.

``python -m models.backtest configs/backtest-countries.yaml --countries A,B,...`` is run as a user
runs it, in a child process, once serially and once with ``--workers N``: wall and CPU seconds,
and the peak memory of the whole process tree (the driver and, with Dask, its scheduler and
worker processes: resident set sizes summed, sampled every 0.2 s with psutil, so a peak shorter
than that can be missed). The two runs must give the same forecast scores (``forecast_scores.csv``
equal), as the distributed path promises; the speed-up is serial wall over Dask wall.

What to expect on 2 cores: nutpie already runs a fit's 4 chains on both cores, so the cluster
gains only where one process leaves cores idle (compilation, the Python between fits, the
sampler's start and end), and the Dask workers each compile the model once; on a machine or
cluster with more cores than a fit's chains the gain grows with the workers (one task per
country, or per origin with ``--per origin``).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "backtest-countries.yaml"


def run_tree(argv: list[str], log: Path, interval: float = 0.2) -> dict:
    """Run ``argv``; wall seconds, CPU seconds of the tree, peak summed RSS of the tree (MB)."""
    import psutil

    with open(log, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        root = psutil.Process(proc.pid)
        peak, cpu = 0.0, {}
        while proc.poll() is None:
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            rss = 0
            for p in tree:
                try:
                    rss += p.memory_info().rss
                    t = p.cpu_times()
                    cpu[p.pid] = t.user + t.system + t.children_user + t.children_system
                except psutil.Error:
                    continue
            peak = max(peak, rss / 2**20)
            time.sleep(interval)
        wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[2:])} exited {proc.returncode}; see {log}")
    return {"wall_s": round(wall, 1), "cpu_s": round(sum(cpu.values()), 1),
            "peak_tree_mb": round(peak, 0)}


PATHS = ("serial", "dask")


def measure(countries=("SYR", "IRQ"), workers: int = 2, quick: bool = False,
            config: Path = CONFIG, say=print, paths=PATHS) -> dict:
    """Serial and ``--workers`` runs of the backtest of ``countries``; their equality and the
    speed-up (both only when ``paths`` has both: one path alone gives its time and memory, e.g.
    the serial memory of all 22 countries without the hour the Dask run adds)."""
    import pandas as pd

    base = Path(tempfile.mkdtemp(prefix="bench-backtest-"))
    common = [sys.executable, "-m", "models.backtest", str(config), "--countries",
              ",".join(countries), "--quiet", *(["--quick"] if quick else [])]
    out = {"countries": list(countries), "workers": workers, "quick": quick}
    for name, extra in (("serial", []), ("dask", ["--workers", str(workers)])):
        if name not in paths:
            continue
        say(f"  backtest {name}: {','.join(countries)}...")
        out[name] = run_tree([*common, "--out", str(base / name), *extra], base / f"{name}.log")
        say(f"  backtest {name}: {out[name]}")
    # one country writes forecast_scores.csv at the top; several, one per <ISO3>/ directory
    def scores(name: str) -> list:
        files = sorted((base / name).glob("forecast_scores.csv")) or sorted(
            (base / name).glob("*/forecast_scores.csv"))
        return [(f.parent.name, pd.read_csv(f)) for f in files]

    if not {"serial", "dask"} <= set(paths):
        out["directory"] = str(base)
        return out
    a, b = scores("serial"), scores("dask")
    out["equal_scores"] = bool(a) and [k for k, _ in a] == [k for k, _ in b] and all(
        x.equals(y) for (_, x), (_, y) in zip(a, b, strict=True))
    out["speedup"] = round(out["serial"]["wall_s"] / out["dask"]["wall_s"], 2)
    out["directory"] = str(base)
    return out


if __name__ == "__main__":
    import json

    countries = tuple(sys.argv[1].split(",")) if len(sys.argv) > 1 else ("SYR", "IRQ")
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    print(json.dumps(measure(countries, workers), indent=1))
