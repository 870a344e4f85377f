"""Atomic directories: a result appears complete or not at all.

Everything is written into a temporary sibling directory (``.tmp-<host>-<pid>-<name>``, same
filesystem) that is renamed to its final name only when complete. An exception, Ctrl-C or
SIGTERM removes the temporary directory; SIGKILL cannot be caught, so it leaves one behind, which
is recognisable by its prefix and removed by the next write in the same parent directory once its
process is gone. An existing directory is never opened for writing; it is replaced only when the
caller names a marker file that proves it is an earlier output of the same kind.

Faults of the file system become one-line errors naming the directory (:mod:`models.storage`):
a full disk a :class:`~models.storage.DiskFullError` with the space needed (when the caller
gives an estimate, checked against the free space before anything is written), any other
OSError an :class:`~models.storage.OutputError`; either way the temporary directory is gone."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import threading
from pathlib import Path

from models.storage import DISK_FULL_ERRNOS, OutputError, check_free_space, disk_full

TEMP_PREFIX = ".tmp-"
"""Prefix of directories being written (never a finished run)."""


def _temp_name(run_id: str) -> str:
    return f"{TEMP_PREFIX}{socket.gethostname()}-{os.getpid()}-{run_id}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def clean_stale_temp_dirs(scenario_dir: Path) -> list[Path]:
    """Remove temporary directories left by killed runs on this host (their process is gone).
    Directories of live processes, or from other hosts, are left alone. Returns what was
    removed."""
    removed = []
    host = socket.gethostname()
    if not scenario_dir.is_dir():
        return removed
    for p in scenario_dir.iterdir():
        if not (p.is_dir() and p.name.startswith(TEMP_PREFIX)):
            continue
        rest = p.name[len(TEMP_PREFIX):]
        if not rest.startswith(host + "-"):
            continue
        pid_text = rest[len(host) + 1:].split("-", 1)[0]
        if pid_text.isdigit() and not _pid_alive(int(pid_text)):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


class TerminatedDuringWrite(SystemExit):
    """SIGTERM arrived while a run was being written; the partial run has been removed."""

    def __init__(self):
        super().__init__(128 + signal.SIGTERM)


@contextlib.contextmanager
def _sigterm_as_exception():
    """Turn the first SIGTERM into :class:`TerminatedDuringWrite` (so cleanup runs; later ones
    are held back until cleanup is done). Only the main thread can own signal handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    state = {"raised": False}

    def handler(signum, frame):
        if not state["raised"]:
            state["raised"] = True
            raise TerminatedDuringWrite()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def atomic_directory(final: Path, *, replace_marker: str | None = None,
                     need_bytes: float | None = None):
    """Yield a temporary sibling of ``final`` to fill; rename it to ``final`` on success.

    On any exception, Ctrl-C or SIGTERM the temporary directory is removed and the error
    re-raised (SIGTERM as :class:`TerminatedDuringWrite`, exit status 143). ``final`` must not
    exist, unless ``replace_marker`` is given and ``final`` holds a file of that name (an earlier
    output of the same kind, e.g. a backtest directory): then the old directory is moved aside,
    the new one renamed into place, and the old one removed. ``need_bytes``: an estimate of
    what will be written, refused up front when the file system has less free space, and named
    in the message if the disk fills anyway."""
    final = Path(final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"{final.parent}: cannot create the directory ({e.strerror})") from None
    if need_bytes:
        check_free_space(final.parent, need_bytes, f"writing {final.name}")
    clean_stale_temp_dirs(final.parent)
    replace = False
    if final.exists() or final.is_symlink():
        if replace_marker is None or not (final / replace_marker).is_file():
            what = "" if replace_marker is None else f" and is not an earlier output (no {replace_marker})"
            raise FileExistsError(f"{final}: already exists{what}; not overwriting it")
        replace = True
    tmp = final.parent / _temp_name(final.name)
    with _sigterm_as_exception():
        try:
            tmp.mkdir()
            yield tmp
            if replace:
                old = final.parent / _temp_name(final.name + ".old")
                os.rename(final, old)
                os.rename(tmp, final)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.rename(tmp, final)
        except OSError as e:
            shutil.rmtree(tmp, ignore_errors=True)
            if e.errno in DISK_FULL_ERRNOS:
                raise disk_full(final, need_bytes, e) from None
            where = f" ({e.filename})" if e.filename else ""
            raise OutputError(f"{final}: cannot write{where}: {e.strerror or e}") from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    with contextlib.suppress(OSError):  # make the rename durable where the OS allows it
        fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
