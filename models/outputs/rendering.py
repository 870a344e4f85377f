"""Figures to PNG files, drawn in worker processes while the writer goes on with the rest.

A run writes about thirty figures, and drawing them (matplotlib's layout, the Agg raster, the PNG
encoding: all on one core, most of it under the GIL) is most of what a rerun costs once the fit is
cached. Each figure is a pure function of small inputs already computed from the run (quantile
bands, the draws at the headline horizons), so :class:`FigureWriter` sends the plot function and
its inputs to a :class:`concurrent.futures.ProcessPoolExecutor` and returns at once; the writer
meanwhile writes the stored run and the tables and computes the sensitivity table in its own
process, and collects the files at the end (:meth:`FigureWriter.files`).

Why these choices:

* processes, not threads: drawing holds the GIL (threads beside the netCDF and parquet writers
  saved 1-1.7 s of 15, measured);
* the standard library's pool, not Dask: a local Dask cluster costs seconds to start and
  serialises through its scheduler; this is one machine's cores for one run, and the pool is kept
  for the life of the process (a notebook, or the test suite, pays its start once);
* workers come from a ``forkserver`` that imported the plotting modules once (see
  :data:`PRELOAD`), not from a fork of the writer, which holds sampler and compiler threads (a
  fork of a threaded process can deadlock);
* with fewer than two usable cores, or ``workers=0``, each figure is drawn in the caller's process,
  in the same order, to the same bytes; if the pool breaks (a worker killed), the figures it
  lost are drawn in the caller's process instead: slower, never missing.

Figures are identical either way: the same plot functions, the same style (each plot function
sets its rc parameters itself, :func:`models.outputs.plot_style.styled`), the same dpi.
"""

from __future__ import annotations

import atexit
import gc
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

__all__ = ["FigureWriter", "default_workers", "render_png", "stop_workers", "warm_up"]

MAX_WORKERS = 8
"""Workers at most: a run has about thirty figures of a second or two each; beyond this many
processes, their start and memory (about 150 MB each) cost more than they save."""
PRELOAD = ["models.outputs.plots", "models.outputs.sensitivity_plots", "models.outputs.blocks"]
"""Modules the forkserver imports once, so that each worker starts with matplotlib loaded."""

_pools: dict[int, ProcessPoolExecutor] = {}


def default_workers() -> int:
    """Worker processes for figures: the usable cores, at most :data:`MAX_WORKERS`; 0 (draw in
    the caller's process) on a single core, where a pool only adds its start."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return 0 if cores < 2 else min(cores, MAX_WORKERS)


def _pool(workers: int) -> ProcessPoolExecutor:
    pool = _pools.get(workers)
    if pool is None:
        if "forkserver" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
        else:  # Windows: each worker imports matplotlib itself
            context = multiprocessing.get_context("spawn")
        pool = _pools[workers] = ProcessPoolExecutor(workers, mp_context=context,
                                                     initializer=_worker_start,
                                                     initargs=(os.getpid(),))
    return pool


def _worker_start(owner: int) -> None:
    """Set up a figure worker of the process ``owner``."""
    # Ctrl-C reaches the whole process group: the run that owns the workers says what happened;
    # a worker must not print a traceback of its own
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A pool's workers wait for work until their owner tells them to stop; an owner that ends
    # without telling them (an interrupted command ends with os._exit, a killed one at once)
    # would leave them waiting for ever, holding its terminal's pipes open
    threading.Thread(target=_exit_without, args=(owner,), daemon=True).start()


def _exit_without(owner: int, every: float = 0.5) -> None:
    while _alive(owner):
        time.sleep(every)
    os._exit(0)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, ended but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except FileNotFoundError:
        return False
    except OSError:  # no /proc (not Linux): a zombie counts as running there
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True


@atexit.register
def stop_workers() -> None:
    """Stop the figure workers (figures not started are dropped; one being drawn is finished)
    and release what their pools hold: at the interpreter's exit, and by a command that ends
    without it (:func:`models.cli.entry_point`), whose interprocess locks would otherwise be
    reported as leaked."""
    for pool in _pools.values():
        pool.shutdown(wait=True, cancel_futures=True)
    _pools.clear()
    gc.collect()  # the pools' queues and their locks, now unreferenced


def warm_up(workers: int | None = None) -> None:
    """Start the figure workers now (the forkserver imports matplotlib, about 2 s), so that they
    are ready when the first figure is sent: call it before work that does not need them, e.g.
    loading the fit. Does nothing when figures are drawn in the caller's process."""
    workers = default_workers() if workers is None else workers
    if workers:
        pool = _pool(workers)
        for _ in range(workers):
            pool.submit(int)  # a no-op task per worker: each process starts (and imports) now


def render_png(draw: Callable, args: tuple, kwargs: dict, path: Path, dpi: int,
               screen_scale: float | None) -> tuple[Path, bytes | None]:
    """Draw ``draw(*args, **kwargs)`` (a Figure), save it as the PNG ``path`` at ``dpi``; return
    the path and, with ``screen_scale``, the report's smaller copy of it
    (:func:`models.outputs.blocks.screen_png`). Runs in a worker or in the caller's process."""
    from models.outputs.blocks import screen_png
    from models.outputs.plot_style import freeze_layout

    fig = draw(*args, **kwargs)
    freeze_layout(fig).savefig(path, dpi=dpi)  # one draw: the layout is declutter's
    return path, (None if screen_scale is None else screen_png(path, screen_scale))


class FigureWriter:
    """Writes figures as ``plots_dir/<name>.png``, in worker processes when there are cores to
    spare (see the module docstring): :meth:`submit` each, then :meth:`files` waits for all.

    ``screen_scale``: the scale of the report's embedded copy of figures submitted with
    ``screen=True`` (collected in :attr:`screen`, name -> PNG bytes). ``workers``: processes
    (default :func:`default_workers`; 0 draws each figure in this process as it is submitted)."""

    def __init__(self, plots_dir: Path, dpi: int = 120, *, screen_scale: float | None = None,
                 workers: int | None = None):
        self.plots_dir = Path(plots_dir)
        self.plots_dir.mkdir(parents=True, exist_ok=True)
        self.dpi, self.screen_scale = dpi, screen_scale
        self.workers = default_workers() if workers is None else workers
        self.screen: dict[str, bytes] = {}
        self._jobs: dict[str, tuple] = {}  # name -> the arguments of render_png
        self._futures: dict[str, Future] = {}
        self._done: dict[str, tuple[Path, bytes | None]] = {}

    @property
    def submitted(self) -> list[str]:
        """Names of the figures submitted so far, in order."""
        return list(self._jobs)

    def submit(self, name: str, draw: Callable, *args, screen: bool = False, **kwargs) -> None:
        """Write the figure ``draw(*args, **kwargs)`` as ``<name>.png`` (``draw`` and its
        arguments must pickle: a module-level plot function and plain data)."""
        job = (draw, args, kwargs, self.plots_dir / f"{name}.png", self.dpi,
               self.screen_scale if screen else None)
        self._jobs[name] = job
        if self.workers:
            try:
                self._futures[name] = _pool(self.workers).submit(render_png, *job)
                return
            except BrokenProcessPool:
                _pools.pop(self.workers, None)  # the next run starts a new pool
                self.workers = 0
        self._done[name] = render_png(*job)

    def files(self) -> dict[str, Path]:
        """Wait for every submitted figure; name -> PNG path, in the order submitted. A plot
        function's error is raised here, as in the caller's own process."""
        for name, future in self._futures.items():
            try:
                self._done[name] = future.result()
            except BrokenProcessPool:  # a worker died: draw what it lost here
                _pools.pop(self.workers, None)
                self._done[name] = render_png(*self._jobs[name])
        self._futures.clear()
        out = {}
        for name in self._jobs:
            path, small = self._done[name]
            out[name] = path
            if small is not None:
                self.screen[name] = small
        return out

    def close(self) -> None:
        """Cancel the figures not started and wait for those being drawn (on an error in the
        caller: no worker may still write into a directory that is being removed)."""
        for future in self._futures.values():
            future.cancel()
        wait(list(self._futures.values()))
        self._futures.clear()
