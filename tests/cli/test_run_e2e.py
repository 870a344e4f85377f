"""End to end: ``python -m models.run`` as a user runs it (subprocess), results and exit codes."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tests.conftest import CONFIGS, ROOT


def _run(*args, timeout=900):
    return subprocess.run([sys.executable, "-m", "models.run", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=timeout)


@pytest.fixture(scope="module")
def escalation_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    proc = _run(CONFIGS / "escalation.yaml", "--out", out, "--draws", 1000, "--strict")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr == ""  # not a terminal: no progress or status chatter, no warnings
    (run_dir,) = (out / "escalation").iterdir()
    return out, run_dir, proc


@pytest.mark.slow
def test_escalation_run_leaves_everything(escalation_run):
    _out, run_dir, proc = escalation_run
    assert str(run_dir) in proc.stdout
    for name in ("forecast.nc", "quantiles.csv", "samples.parquet", "run.json",
                 "config.resolved.yaml", "report.md", "report.html"):
        assert (run_dir / name).is_file(), name
    run = json.loads((run_dir / "run.json").read_text())
    d = run["diagnostics"]
    assert d["passed"] and d["divergences"] == 0 and d["max_rhat"] <= 1.01
    q = pd.read_csv(run_dir / "quantiles.csv")
    # escalation is compared with baseline (compare_with) and mixed with its weights
    assert set(q["scenario_id"]) == {"escalation", "baseline", "mixture"}
    assert len(list((run_dir / "plots").glob("*.png"))) >= 10


@pytest.mark.slow
def test_same_config_and_seed_same_numbers(escalation_run, tmp_path):
    out, _run_dir, _ = escalation_run
    # a fresh fit (same seed: nutpie is seeded), then one served from the fit cache; the numbers
    # only (plots and the report are drawn from them, and the fixture's run checks those)
    numbers = ["--formats", "netcdf,csv"]
    for extra in (["--no-cache"], []):
        proc = _run(CONFIGS / "escalation.yaml", "--out", out, "--draws", 1000, "--quiet",
                    *numbers, *extra)
        assert proc.returncode == 0, proc.stderr[-3000:]
    runs = sorted((out / "escalation").iterdir())
    assert len(runs) == 3  # earlier runs are untouched, new ones are added
    assert [json.loads((r / "run.json").read_text())["posterior_fingerprint"] for r in runs[1:]] \
        == [json.loads((runs[0] / "run.json").read_text())["posterior_fingerprint"]] * 2
    a, b, cached = (pd.read_csv(r / "quantiles.csv") for r in runs)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, cached)
    # a different seed gives different numbers
    proc = _run(CONFIGS / "escalation.yaml", "--out", tmp_path, "--draws", 1000, "--seed", 7,
                "--quiet", *numbers)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (c_dir,) = (tmp_path / "escalation").iterdir()
    c = pd.read_csv(c_dir / "quantiles.csv")
    assert not np.allclose(a["value"], c["value"])


@pytest.mark.slow
def test_bad_weights_leave_no_results(escalation_run):
    out, _, _ = escalation_run
    before = sorted(p.name for p in (out / "escalation").iterdir())
    proc = _run(CONFIGS / "escalation.yaml", "--out", out, "--weights", "baseline=1,escalation=-1")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert sorted(p.name for p in (out / "escalation").iterdir()) == before


@pytest.mark.slow
def test_strict_exits_3_when_diagnostics_fail(tmp_path):
    """One short chain cannot reach ESS 400: the run still writes its results, says FAILED loudly
    on stderr and in run.json, and --strict makes that exit code 3."""
    cfg = tmp_path / "short.yaml"
    cfg.write_text(f"extends: {CONFIGS / 'baseline.yaml'}\nscenario:\n  id: short\n"
                   "sampler:\n  chains: 1\n  tune: 100\n  posterior_draws: 100\n")
    proc = _run(cfg, "--out", tmp_path / "out", "--draws", 200, "--strict",
                "--target-accept", "0.9")
    assert proc.returncode == 3, proc.stderr[-3000:]
    assert "WARNING: nowcast diagnostics FAILED" in proc.stderr and "Traceback" not in proc.stderr
    assert "FAILED" in proc.stdout
    (run_dir,) = (tmp_path / "out" / "short").iterdir()
    run = json.loads((run_dir / "run.json").read_text())
    assert run["diagnostics"]["passed"] is False
    # --target-accept reached the sampler; a divergent first attempt was retried once at 0.99
    d = run["diagnostics"]
    first = d["retry"]["target_accept"] if d["retry"] else d["target_accept"]
    assert first == 0.9 and d["target_accept"] == (0.99 if d["retry"] else 0.9)
    assert "to try: sampler.tune: 200" in proc.stderr
    assert "FAILED" in (run_dir / "report.md").read_text()
