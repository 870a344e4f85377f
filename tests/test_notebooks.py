"""The notebooks in ``notebooks/`` run top to bottom, are committed without outputs, and write
nothing into the repository.

Execution: nbclient, with a kernel spec made for this test that starts ``sys.executable`` (the
venv's Python, which has ipykernel), so the notebooks never run in some other Python that happens
to own the name "python3". Notebooks 01 and 02 share the nowcast fit through the run cache in
one temporary directory (``CONFLICT_SCENARIOS_NOTEBOOK_OUT``), so they run in that order in one
lane; the others run in a second lane at the same time (two kernels on two cores: the nowcast
compilations dominate and are single-threaded).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
EXPECTED = ("01-quickstart", "02-compare-scenarios", "03-evidence-to-priors", "04-backtest")
SHARED_CACHE_LANE = ("01-quickstart", "02-compare-scenarios")
"""Run in this order in one kernel lane: 02 reuses the nowcast fitted by 01."""
KERNEL = "conflict-scenarios-test"
CELL_TIMEOUT_S = 600


def notebook_paths() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def read(path: Path):
    import nbformat

    return nbformat.read(path, as_version=4)


def test_the_four_notebooks_are_there():
    assert tuple(p.stem for p in notebook_paths()) == EXPECTED


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    """Outputs would put results, paths and timings into the repository and into diffs."""
    import nbformat

    nb = read(path)
    nbformat.validate(nb)
    with_outputs = [i for i, c in enumerate(nb.cells)
                    if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    assert not with_outputs, (f"{path.name}: cells {with_outputs} hold outputs; clear them "
                              "(notebooks/README.md)")
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


def repository_files() -> dict[str, tuple[int, int]]:
    """Where a notebook could write by mistake: notebooks/ (the kernels' working directory, where
    relative default paths such as results/ would land), configs/ and the repository root.
    Path -> (size, mtime)."""
    paths = [p for d in (NOTEBOOKS, ROOT / "configs") for p in d.rglob("*")]
    paths += list(ROOT.iterdir())
    return {str(p.relative_to(ROOT)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in paths if p.is_file()}


def written_by_notebooks(before: dict, after: dict) -> list[str]:
    """Files new or changed under notebooks/, and files new elsewhere (existing files outside
    notebooks/ may be edited by people while the test runs; the notebooks only ever add)."""
    inside = str(NOTEBOOKS.relative_to(ROOT)) + os.sep
    return sorted(k for k, v in after.items()
                  if k not in before or (k.startswith(inside) and before[k] != v))


def write_kernel_spec(directory: Path) -> None:
    spec = directory / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "conflict-scenarios (test venv)", "language": "python"}))


async def run_lane(paths: list[Path], report: dict) -> None:
    """Execute the notebooks one after the other; record seconds or the error for each."""
    from nbclient import NotebookClient

    for path in paths:
        nb = read(path)
        client = NotebookClient(nb, kernel_name=KERNEL, timeout=CELL_TIMEOUT_S,
                                resources={"metadata": {"path": str(NOTEBOOKS)}})
        t0 = time.perf_counter()
        try:
            await client.async_execute()
            report[path.stem] = {"seconds": time.perf_counter() - t0, "error": None}
        except Exception as e:  # a failing cell: keep going with the other notebooks
            report[path.stem] = {"seconds": time.perf_counter() - t0,
                                 "error": f"{type(e).__name__}: {e}"}


@pytest.mark.slow
def test_notebooks_run_top_to_bottom(tmp_path, monkeypatch, record_property):
    """All notebooks execute without error (each checks its own results with asserts) and
    leave the repository as it was. Budget: all four in under 3 minutes on 2 cores."""
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    write_kernel_spec(tmp_path / "jupyter")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("CONFLICT_SCENARIOS_NOTEBOOK_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("CONFLICT_SCENARIOS_CACHE", str(tmp_path / "fits"))
    before = repository_files()
    paths = notebook_paths()
    lane_a = [p for p in paths if p.stem in SHARED_CACHE_LANE]
    lane_b = [p for p in paths if p.stem not in SHARED_CACHE_LANE]
    report: dict[str, dict] = {}

    async def both():
        await asyncio.gather(run_lane(lane_a, report), run_lane(lane_b, report))

    t0 = time.perf_counter()
    asyncio.run(both())
    total = time.perf_counter() - t0
    record_property("notebook_seconds", {k: round(v["seconds"], 1) for k, v in report.items()})
    record_property("notebooks_total_seconds", round(total, 1))
    print(f"notebooks: {total:.0f} s in all; "
          + ", ".join(f"{k} {v['seconds']:.0f} s" for k, v in sorted(report.items())))

    failed = {k: v["error"] for k, v in sorted(report.items()) if v["error"]}
    assert not failed, "\n\n".join(f"{k}:\n{err}" for k, err in failed.items())
    assert sorted(report) == [p.stem for p in paths]
    written = written_by_notebooks(before, repository_files())
    assert not written, f"notebooks wrote into the repository: {written}"
    fits = sorted((tmp_path / "fits").glob("nowcast-*.nc"))
    assert len(fits) == 1, f"01 and 02 should share one cached nowcast fit, found {fits}"
