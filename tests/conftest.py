"""Shared fixtures. Paths are relative to the repository root so tests run from anywhere."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Test modules live in folders that mirror the code (tests/inference/, tests/outputs/, ...); the
# helpers they share sit in one package, tests/support/ (imported as `support`).
sys.path.insert(0, str(Path(__file__).resolve().parent))
CONFIGS = ROOT / "configs"
SHARED_DATA = ROOT.parent / "shared" / "data"
SCENARIO_CONFIGS = ("baseline", "escalation", "displacement", "deescalation")


@pytest.fixture(scope="session")
def baseline():
    from scenarios.loader import load_config

    return load_config(CONFIGS / "baseline.yaml")


@pytest.fixture(scope="session")
def shared_data():
    if not SHARED_DATA.exists():
        pytest.skip(f"{SHARED_DATA} not present (read-only shared data beside the repo)")
    return SHARED_DATA
