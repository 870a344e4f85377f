"""What a run records about the machine and the libraries it ran with, and small helpers
every layer shares: package versions, peak memory, JSON-safe values, a quiet ArviZ import."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import math
import os
import resource
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    pass


PACKAGES = ("numpy", "scipy", "pandas", "xarray", "pymc", "pytensor", "arviz", "nutpie",
            "pydantic", "PyYAML", "matplotlib", "pyarrow", "h5netcdf", "h5py", "scoringrules",
            "conflict-scenarios")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a run depends on (no imports, so it is quick)."""
    out = {}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    import platform

    out["python"] = platform.python_version()
    return out


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 if os.uname().sysname != "Darwin" else rss / 1024**2


def import_arviz():
    """ArviZ, imported on first use (it takes seconds; writing CSV or parquet does not need
    it). ArviZ 0.2x announces its coming refactor on import; that notice is not about our use
    and must not fail runs or tests that treat warnings as errors."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"\s*ArviZ is undergoing",
                                category=FutureWarning)
        import arviz

    return arviz


def jsonable(x):
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if isinstance(x, (dt.date, dt.datetime)):
        return x.isoformat()
    if isinstance(x, Path):
        return str(x)
    return x
