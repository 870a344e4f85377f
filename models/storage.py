"""Where files go, checked before anything is written: output locations that cannot or must not
be written (:class:`OutputError`), full disks (:class:`DiskFullError`, with the path and the
space needed), and atomic single files. Every layer that writes (the fit cache, the run writer,
compare, score) uses these, so each refusal reads the same and exits 2 on a command line.

* :func:`probe_directory` finds an unusable location before the work that would fill it (an
  existing file, ``/proc``, a read-only directory or mount, a dangling symbolic link, a name
  longer than the file system allows): it creates and removes a probe directory and file with
  the longest names that will be written there, and removes any directory it had to create.
* :func:`check_free_space` compares an estimate of what will be written with the free space.
* :func:`refuse_overwrite` refuses an output inside a finished run directory, or one that is
  (by device and inode, so through a hard link too) a file the command reads.
* :func:`atomic_file` writes one file under a temporary name and renames it into place.
* :func:`write_netcdf_groups` writes a netCDF/HDF5 file (InferenceData's layout) built in memory,
  so a full disk is a plain OSError, never a failed write inside HDF5 (which crashes the process).
* :func:`fit_cache_directory` is where nowcast fits are cached: the user's cache directory, not
  the results directory, so a run with another ``--out`` reuses the fit.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = ["DISK_FULL_ERRNOS", "PROBE_PREFIX", "DiskFullError", "OutputError", "atomic_file",
           "check_free_space", "check_path_length", "describe", "disk_full", "estimate_run_bytes",
           "finished_run_above", "fit_cache_directory", "probe_directory", "refuse_overwrite"]

DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
"""OSError numbers that mean "no room": the device is full, a quota is reached, a file limit."""
PROBE_PREFIX = ".tmp-probe-"
"""Prefix of the probe directories and files (removed at once; :data:`.tmp-` like every
temporary name, so a killed probe is recognisable)."""
CACHE_ENV = "CONFLICT_SCENARIOS_CACHE"
"""Environment variable naming the fit cache directory (instead of the user cache directory)."""
RUN_MARKER = "run.json"
"""A directory holding this file (and a forecast) is a finished run, never written into."""


class OutputError(ValueError):
    """An output location that cannot or must not be written; ``str(err)`` is one line that
    names the path. A ValueError, so every command line reports it as bad input (exit 2)."""


class DiskFullError(OutputError):
    """The file system has (or would have) no room for what is being written."""


def fit_cache_directory() -> Path:
    """The directory of the nowcast fit cache: ``$CONFLICT_SCENARIOS_CACHE`` if set, else
    ``nowcast-fits`` in the user's cache directory (``~/.cache/conflict-scenarios`` on Linux,
    ``~/Library/Caches/conflict-scenarios`` on macOS, ``%LOCALAPPDATA%`` on Windows; found by
    platformdirs, which follows each platform's convention and ``$XDG_CACHE_HOME``). Entries
    are keyed by everything a fit depends on (:mod:`models.inference.fit_cache`), so one cache
    serves every results directory, notebook and sweep of the user."""
    env = os.environ.get(CACHE_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("conflict-scenarios", appauthor=False)) / "nowcast-fits"


def write_netcdf_groups(path: Path, attrs: dict, groups: Iterable[tuple[str, object]]) -> None:
    """Write ``path`` as ArviZ lays out InferenceData: root attributes ``attrs``, then one HDF5
    group per ``(name, xarray.Dataset)``, numeric and boolean variables deflated (level 1, with
    the byte shuffle filter: within 5% of level 4's size at two thirds of the time).

    HDF5 builds the file in memory and Python writes the bytes. A write that fails inside HDF5
    (a full disk, a quota, a file-size limit) leaves the library in a state that crashes the
    interpreter when it exits (measured: exit 139 with the message already printed), so HDF5
    must never meet one; written here, a full disk is a plain OSError (``errno`` in
    :data:`DISK_FULL_ERRNOS`) that the callers turn into :class:`DiskFullError`. Costs memory
    of the compressed file's size, for as long as it is written."""
    import io

    import numpy as np
    import xarray as xr

    buffer = io.BytesIO()
    xr.Dataset(attrs=attrs).to_netcdf(buffer, mode="w", engine="h5netcdf")
    for name, ds in groups:
        encoding = {var: {"zlib": True, "complevel": 1, "shuffle": True}
                    for var, da in ds.variables.items()
                    if np.issubdtype(da.dtype, np.number) or da.dtype == bool}
        ds.to_netcdf(buffer, mode="a", group=name, engine="h5netcdf", encoding=encoding)
    with open(path, "wb") as f:
        f.write(buffer.getbuffer())


def describe(n: float) -> str:
    """Bytes for people: ``12.3 MB``."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{int(n)} bytes"


def _existing_ancestor(path: Path) -> Path:
    p = Path(os.path.abspath(path))
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def free_bytes(path: Path) -> int | None:
    """Free space (for this user) on the file system that holds ``path`` or would hold it."""
    try:
        return shutil.disk_usage(_existing_ancestor(path)).free
    except OSError:
        return None


def disk_full(path: Path, need: float | None, error: OSError | None = None) -> DiskFullError:
    """The :class:`DiskFullError` for ``path`` (what could not be written), with the space
    needed (an estimate) and the space free."""
    free = free_bytes(path)
    what = f" while writing {error.filename}" if error is not None and error.filename else ""
    need_text = f"; it needs about {describe(need)}" if need else ""
    free_text = f", {describe(free)} free" if free is not None else ""
    return DiskFullError(f"{path}: no space left on the device{what}{need_text}{free_text}; "
                         "nothing was written (free some space or choose another --out)")


def check_free_space(path: Path, need: float, what: str = "the run") -> None:
    """Refuse (:class:`DiskFullError`) when the file system of ``path`` has less free space than
    ``need`` bytes (an estimate of ``what`` will be written)."""
    free = free_bytes(path)
    if free is not None and free < need:
        raise DiskFullError(f"{path}: {what} needs about {describe(need)}, only {describe(free)} "
                            "free on that file system; free some space or choose another --out")


def estimate_run_bytes(series: int, draws: int, horizon: int, locations: int, targets: int,
                       formats: Iterable[str], nowcast_bytes: float = 0.0) -> float:
    """What :func:`models.outputs.write.write_run` writes, from the sizes of a run (``series``:
    scenarios plus the mixture; ``locations``: regions plus 'all'), generously rounded up:
    netCDF holds the float32 forecast (deflated: at most its raw size) and the nowcast
    (``nowcast_bytes``, in memory); the samples table ~4.5 bytes a row after compression
    (measured 2.3); the quantile table 24 rows per series, target, location and day of ~90 bytes
    (measured 64; its hubverse export is a hard link); plots and report ~20 MB; then 1.5 times
    all that."""
    formats = set(formats)
    cells = series * draws * horizon * locations * targets
    need = 1e6  # run.json, the resolved configs, exports' metadata
    if "netcdf" in formats:
        need += 4 * cells + nowcast_bytes
    if "parquet" in formats:
        need += 4 * cells + 0.5 * cells * (targets > 0)  # the ViEWS export is far smaller
    if "csv" in formats:
        need += 90 * 24 * series * targets * locations * horizon
    if {"plots", "report"} & formats:
        need += 20e6
    return 1.5 * need


def probe_directory(path: Path, *, names: Iterable[str] = (), what: str = "output directory"
                    ) -> None:
    """Check, by doing it, that ``path`` is (or can be made) a directory this process can create
    directories and files in, with names as long as ``names`` (the longest names that will be
    written there). Leaves the file system as it found it. Raises :class:`OutputError` naming
    the path and the reason: an existing file, a dangling symbolic link, a read-only or
    special file system, a name or path too long."""
    path = Path(os.path.abspath(path))
    check_path_length(path, what)
    if path.is_symlink() and not path.exists():
        raise OutputError(f"{path}: {what} is a symbolic link to {os.readlink(path)}, which does "
                          "not exist")
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path}: {what} is an existing file, not a directory")
    created: list[Path] = []
    try:
        missing = []
        p = path
        while not p.exists():
            if p.is_symlink():
                raise OutputError(f"{p}: a symbolic link to {os.readlink(p)}, which does not "
                                  f"exist (in the path of the {what})")
            missing.append(p)
            p = p.parent
        if not p.is_dir():
            raise OutputError(f"{p}: an existing file, in the path of the {what} {path}")
        for d in reversed(missing):
            d.mkdir()
            created.append(d)
        longest = max([*names, ""], key=len)
        probe = path / (PROBE_PREFIX + f"{os.getpid()}-" + "x" * max(0, len(longest) - len(
            PROBE_PREFIX) - len(str(os.getpid())) - 1))
        probe.mkdir()
        try:
            (probe / "f").write_bytes(b"")
        finally:
            shutil.rmtree(probe, ignore_errors=True)
    except OutputError:
        raise
    except OSError as e:
        reason = {errno.ENAMETOOLONG: "a name longer than the file system allows (a scenario "
                                      "id that long cannot name a directory)",
                  errno.EROFS: "a read-only file system",
                  errno.EACCES: "permission denied", errno.EPERM: "not permitted",
                  errno.ENOTDIR: "a part of the path is a file"}.get(e.errno, e.strerror)
        if e.errno in DISK_FULL_ERRNOS:
            raise disk_full(path, None, e) from None
        raise OutputError(f"{path}: cannot write the {what} there ({reason})") from None
    finally:
        for d in reversed(created):
            with contextlib.suppress(OSError):
                d.rmdir()


def check_path_length(path: Path, what: str = "output directory") -> None:
    """Refuse (:class:`OutputError`) a path longer than its file system allows, as a whole
    (``PATH_MAX``) or in one name (``NAME_MAX``): every later look at it (even "does it
    exist?") would fail with ENAMETOOLONG."""
    p = Path(os.path.abspath(path))
    base = _existing_ancestor_quietly(p)
    limits = {}
    for key in ("PC_PATH_MAX", "PC_NAME_MAX"):
        try:
            limits[key] = int(os.pathconf(base, key))
        except (OSError, ValueError):
            limits[key] = 4096 if key == "PC_PATH_MAX" else 255
    longest = max((len(os.fsencode(part)) for part in p.parts), default=0)
    if len(os.fsencode(str(p))) >= limits["PC_PATH_MAX"] or longest > limits["PC_NAME_MAX"]:
        raise OutputError(f"{str(p)[:80]}...: the {what}'s path is {len(str(p)):,} characters "
                          f"long (longest name {longest}), more than the file system allows "
                          f"({limits['PC_PATH_MAX']} in all, {limits['PC_NAME_MAX']} per name); "
                          "choose a shorter path")


def _existing_ancestor_quietly(p: Path) -> Path:
    """The nearest ancestor of ``p`` that exists, looking only at names the system can take."""
    for d in (p, *p.parents):
        try:
            if d.exists():
                return d
        except OSError:  # too long: look higher up
            continue
    return Path("/")


def finished_run_above(path: Path) -> Path | None:
    """The finished run directory that ``path`` is in (or is), if any: a directory holding
    ``run.json`` and a forecast (``forecast.nc``, ``samples.parquet`` or ``quantiles.csv``)."""
    check_path_length(Path(path), "output")
    p = Path(os.path.realpath(path))
    for d in (p, *p.parents):
        if (d / RUN_MARKER).is_file() and any((d / f).is_file() for f in (
                "forecast.nc", "samples.parquet", "quantiles.csv", "config.resolved.yaml")):
            return d
    return None


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def refuse_overwrite(out: Path, inputs: Iterable[Path], *, what: str = "--out") -> None:
    """Refuse (:class:`OutputError`) an output path inside (or equal to) a finished run
    directory, or one that is an input: the same path, or the same file by device and inode
    (a hard link, like the hubverse export of ``quantiles.csv``). ``inputs`` are files, or
    directories whose files are all inputs."""
    out = Path(out)
    run = finished_run_above(out)
    if run is not None:
        raise OutputError(f"{what} {out}: inside the finished run {run}; a finished run is never "
                          "written into (choose a path outside it)")
    mine = _identity(out)
    real = Path(os.path.realpath(out))
    for given in inputs:
        given = Path(given)
        files = [given] if not given.is_dir() else [p for p in given.rglob("*") if p.is_file()]
        if given.is_dir() and (real == Path(os.path.realpath(given))
                               or Path(os.path.realpath(given)) in real.parents):
            raise OutputError(f"{what} {out}: inside the input directory {given}")
        for f in files:
            same = Path(os.path.realpath(f)) == real or (
                mine is not None and _identity(f) == mine)
            if same:
                link = "" if Path(os.path.realpath(f)) == real else " (the same file: a hard link)"
                raise OutputError(f"{what} {out}: is the input {f}{link}; not overwriting it")


@contextlib.contextmanager
def atomic_file(path: Path, *, need: float | None = None) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` to write; rename it to ``path`` when the block
    ends without error, else remove it. A full disk becomes :class:`DiskFullError`, any other
    OSError an :class:`OutputError`, both naming ``path``."""
    path = Path(path)
    if need:
        check_free_space(path.parent, need, f"writing {path.name}")
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if e.errno in DISK_FULL_ERRNOS:
            raise disk_full(path, need, e) from None
        raise OutputError(f"{path}: cannot write ({e.strerror})") from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
