"""Finished runs to damage, compare, score and write next to (synthetic: no fit)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.results import synthetic_run

from models.outputs.write import write_run

FORMATS = ("netcdf", "csv", "parquet")


@pytest.fixture(scope="session")
def finished_runs(tmp_path_factory) -> tuple[Path, Path]:
    """Two finished runs of one origin (escalation and displacement, small), every data format."""
    out = tmp_path_factory.mktemp("finished")
    kw = {"draws": 60, "horizon": 12}
    first = write_run(synthetic_run("escalation", **kw), out, FORMATS)
    second = write_run(synthetic_run("displacement", **kw), out, FORMATS)
    return first, second


@pytest.fixture
def run_copy(finished_runs, tmp_path):
    """A fresh copy of the second finished run (to damage), hard links kept as in a real run."""
    def make(name: str = "copy") -> Path:
        dest = tmp_path / name / finished_runs[1].parent.name / finished_runs[1].name
        shutil.copytree(finished_runs[1], dest, copy_function=shutil.copy2)
        hub = next(dest.glob("exports/hubverse/model-output/*/*.csv"))
        hub.unlink()
        hub.hardlink_to(dest / "quantiles.csv")
        return dest

    return make


@pytest.fixture
def outcomes(tmp_path) -> Path:
    """An outcomes file for the synthetic runs (origin 2024-12-01)."""
    p = tmp_path / "outcomes.csv"
    p.write_text("date,target,location,value\n2024-12-05,cum_deaths,all,900\n"
                 "2024-12-08,cum_deaths,all,at least 1500\n", "utf-8")
    return p
