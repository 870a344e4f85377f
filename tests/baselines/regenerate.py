"""Regenerate the pinned baseline numbers (``tests/baselines/headline.json``) deliberately.

    python tests/baselines/regenerate.py            # synthetic part only (seconds)
    python tests/baselines/regenerate.py --nowcast  # also the shipped escalation run (a fit)

Only run this when a change is *meant* to change the numbers, and say so in the commit: the
baseline tests exist so that moving code around cannot change a forecast unnoticed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

BASELINE = HERE / "headline.json"
HORIZONS = (7, 30, 90)
LEVELS = (0.05, 0.5, 0.95)
SYNTHETIC = {"state_draws": 300, "state_seed": 11, "seed": 20241201, "draws": 1500,
             "horizon_days": 90, "weights": {"baseline": 0.6, "escalation": 0.4}}
"""The synthetic run: shipped baseline and escalation levers on the synthetic test state."""
ESCALATION = {"draws": 1000}
"""The shipped escalation run at its config seed (the end-to-end test's run)."""


def headline_from_forecast(forecast) -> dict:
    """scenario -> target -> day -> [q05, q50, q95] for location ``all`` (people)."""
    import numpy as np

    out: dict = {}
    for scen in forecast["scenario"].values:
        for target in forecast["target"].values:
            x = forecast["forecast"].sel(scenario=scen, target=target, region="all")
            out.setdefault(str(scen), {})[str(target)] = {
                str(h): [float(v) for v in np.quantile(x.sel(day=h).values.astype(np.float64),
                                                       LEVELS)]
                for h in HORIZONS}
    return out


def headline_from_quantiles(path: Path) -> dict:
    """The same numbers read from a run's hubverse ``quantiles.csv``."""
    import pandas as pd

    q = pd.read_csv(path, dtype={"output_type_id": str})
    q = q[(q["location"] == "all") & (q["output_type"] == "quantile")
          & q["horizon"].isin(HORIZONS)
          & q["output_type_id"].isin([f"{level:g}" for level in LEVELS])]
    out: dict = {}
    for (scen, target, h), g in q.groupby(["scenario_id", "target", "horizon"]):
        values = g.set_index("output_type_id")["value"]
        out.setdefault(str(scen), {}).setdefault(str(target), {})[str(h)] = [
            float(values[f"{level:g}"]) for level in LEVELS]
    return out


def synthetic_headline() -> dict:
    from support import example_state, shipped_assumptions, simulate

    s = SYNTHETIC
    forecast = simulate(example_state(s["state_draws"], seed=s["state_seed"]),
                        shipped_assumptions("baseline", "escalation"),
                        horizon_days=s["horizon_days"], seed=s["seed"], draws=s["draws"],
                        weights=s["weights"])
    return headline_from_forecast(forecast)


def escalation_headline(out_dir: Path) -> dict:
    import subprocess

    proc = subprocess.run([sys.executable, "-m", "models.run", str(ROOT / "configs" / "escalation.yaml"),
                           "--out", str(out_dir), "--draws", str(ESCALATION["draws"]), "--quiet"],
                          cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    (run_dir,) = (out_dir / "escalation").iterdir()
    return headline_from_quantiles(run_dir / "quantiles.csv")


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser()
    parser.add_argument("--nowcast", action="store_true", help="also the escalation run (slow)")
    args = parser.parse_args()
    stored = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    stored["synthetic"] = {"settings": SYNTHETIC, "headline": synthetic_headline()}
    if args.nowcast:
        with tempfile.TemporaryDirectory() as tmp:
            stored["escalation"] = {"settings": ESCALATION,
                                    "headline": escalation_headline(Path(tmp))}
    BASELINE.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
    print(f"wrote {BASELINE}")


if __name__ == "__main__":
    main()
