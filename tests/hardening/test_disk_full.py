"""Fault class 4 (issue 16): the disk fills while a run or a fit-cache entry is being written.

A full disk is simulated per process with a file-size limit (``RLIMIT_FSIZE``, ``SIGXFSZ``
ignored): every write past the limit fails with ``EFBIG``, as a full device fails with
``ENOSPC``, at whatever point of whichever file the limit falls. For every size of file a run
writes, a limit one byte below it makes the first file at least that large fail: the run must be
refused in one line naming the run and the space needed (exit 2, no traceback, and, above all,
no crash: HDF5 that meets a failed write crashed the interpreter at exit, 139), with nothing
left behind (no run directory, no temporary files).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WRITE_RUN = """
import resource, signal, sys
sys.path.insert(0, {tests!r})
from support.results import synthetic_run
from models.outputs.write import write_run
from models.storage import OutputError
result = synthetic_run("escalation", draws=60, horizon=12)
limit = {limit}
if limit:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    print(write_run(result, {out!r}, ("netcdf", "csv", "parquet")))
except OutputError as e:
    print(f"error: {{e}}", file=sys.stderr)
    sys.exit(2)
"""
STORE_FIT = """
import resource, signal, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from support.results import synthetic_idata
from scenarios.loader import load_config
from models.inference.fit_cache import _store
from models.storage import OutputError
idata = synthetic_idata(load_config({config!r}), chains=4, draws=1000)
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
cache = Path({out!r})
try:
    _store(idata, cache / "nowcast-k.nc", cache / "nowcast-k.json", "k", {{}})
except OutputError as e:
    print(f"error: {{e}}", file=sys.stderr)
    sys.exit(2)
"""


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


@pytest.fixture(scope="module")
def file_sizes(tmp_path_factory) -> list[int]:
    """The distinct sizes of the files a run writes (measured on an unlimited run)."""
    out = tmp_path_factory.mktemp("unlimited")
    proc = _python(WRITE_RUN.format(tests=str(ROOT / "tests"), limit=0, out=str(out)))
    assert proc.returncode == 0, proc.stderr
    sizes = sorted({p.stat().st_size for p in out.rglob("*") if p.is_file()})
    return [s for s in sizes if s > 2_000]  # the small files: covered by the smallest limit


def _refused_cleanly(proc, where: Path):
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
    (line,) = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert "no space left on the device" in line and "nothing was written" in line
    left = [p for p in where.rglob("*") if p.is_file() or ".tmp-" in p.name]
    assert not left, f"left behind: {left}"


@pytest.mark.parametrize("which", range(4))
def test_a_run_whose_disk_fills_is_refused_and_leaves_nothing(file_sizes, tmp_path, which):
    limits = [1_000, *[s - 1 for s in file_sizes]]
    if which >= len(limits):
        pytest.skip("fewer distinct file sizes")
    limit = limits[::-1][which] if which else limits[0]  # the smallest, then the largest down
    out = tmp_path / "out"
    proc = _python(WRITE_RUN.format(tests=str(ROOT / "tests"), limit=limit, out=str(out)))
    _refused_cleanly(proc, out)


@pytest.mark.parametrize("limit", [1_000, 200_000])
def test_a_fit_cache_entry_whose_disk_fills_is_refused_and_leaves_nothing(tmp_path, limit):
    cache = tmp_path / "cache"
    proc = _python(STORE_FIT.format(tests=str(ROOT / "tests"), limit=limit, out=str(cache),
                                    config=str(ROOT / "configs" / "escalation.yaml")))
    _refused_cleanly(proc, cache)
    assert os.listdir(cache) == []
