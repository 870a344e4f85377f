"""Shared fixtures. Paths are relative to the repository root so tests run from anywhere."""

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Test modules live in folders that mirror the code (tests/inference/, tests/outputs/, ...); the
# helpers they share sit in one package, tests/support/ (imported as `support`).
sys.path.insert(0, str(Path(__file__).resolve().parent))
CONFIGS = ROOT / "configs"
SHARED_DATA = ROOT.parent / "shared" / "data"
SCENARIO_CONFIGS = ("baseline", "escalation", "displacement", "deescalation")

# The nowcast fit cache of every run the tests make (in process and in subprocesses, which
# inherit the variable): one empty directory per test session, never the user's own cache.
_FIT_CACHE = tempfile.mkdtemp(prefix="conflict-scenarios-test-cache-")
os.environ["CONFLICT_SCENARIOS_CACHE"] = _FIT_CACHE


def pytest_unconfigure(config):
    shutil.rmtree(_FIT_CACHE, ignore_errors=True)


@pytest.fixture(scope="session")
def baseline():
    from scenarios.loader import load_config

    return load_config(CONFIGS / "baseline.yaml")


@pytest.fixture(scope="session")
def shared_data():
    if not SHARED_DATA.exists():
        pytest.skip(f"{SHARED_DATA} not present (read-only shared data beside the repo)")
    return SHARED_DATA
