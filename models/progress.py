"""Progress of long stages (Monte Carlo simulation, writing the outputs), as ``rich`` bars.

Shown on stderr, and only when stderr is a terminal and the user did not ask for quiet: logs, CI
and redirected output stay clean. :meth:`Progress.update` only counts (rich redraws from its own
thread), so a tight loop can call it every iteration at negligible cost.

    with Progress("simulate", total=n_days, quiet=args.quiet) as progress:
        for day in range(n_days):
            ...
            progress.update()
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def progress_enabled(stream: TextIO | None = None, quiet: bool = False) -> bool:
    """True when progress should be shown: not quiet and ``stream`` (stderr) is a terminal."""
    stream = sys.stderr if stream is None else stream
    if quiet:
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed stream
        return False


class Progress:
    """Progress of one stage: ``label``, ``done`` of ``total`` steps (``total`` may be None when
    unknown), elapsed seconds, drawn by ``rich`` (a bar, the share, the count and the time;
    rich comes with PyMC and redraws from its own thread, so :meth:`update` is cheap). Ends
    with one line ``label: done in 12.3 s``. A no-op when :func:`progress_enabled` is False.
    ``min_interval``: seconds between redraws."""

    def __init__(self, label: str, total: int | None = None, *, quiet: bool = False,
                 stream: TextIO | None = None, min_interval: float = 0.1):
        self.label = label
        self.total = total
        self.done = 0
        self.stream = sys.stderr if stream is None else stream
        self.enabled = progress_enabled(self.stream, quiet)
        self.min_interval = min_interval
        self._start = time.perf_counter()
        self._bar = self._task = None

    def __enter__(self) -> Progress:
        self._start = time.perf_counter()
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            from rich.progress import Progress as Bar

            # the stream was checked to be a terminal; rich would look at sys.stderr instead
            console = Console(file=self.stream, force_terminal=True, highlight=False)
            self._bar = Bar(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                            MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                            transient=True,
                            refresh_per_second=1 / max(self.min_interval, 0.02))
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=self.total)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(ok=exc_type is None)

    def update(self, steps: int = 1) -> None:
        """Record ``steps`` more steps done."""
        self.done += steps
        if self._bar is not None:
            self._bar.update(self._task, advance=steps)

    def note(self, message: str) -> bool:
        """Print ``message`` above the bar (a line printed directly would break the bar's
        redraw). False when no bar is shown: the caller says it its own way."""
        if self._bar is None:
            return False
        self._bar.console.print(message, markup=False, highlight=False, soft_wrap=True)
        return True

    def close(self, ok: bool = True) -> None:
        """Remove the bar and write the final line, e.g. ``fit: done in 12.3 s``."""
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        elapsed = time.perf_counter() - self._start
        status = "done" if ok else "stopped"
        self.stream.write(f"{self.label}: {status} in {elapsed:,.1f} s"
                          + (f", {self.line()}" if self.done else "") + "\n")
        self.stream.flush()
        self.enabled = False

    def line(self) -> str:
        """The count so far, as text: ``4/4``, or ``12 steps`` when the total is unknown."""
        return f"{self.done:,}/{self.total:,}" if self.total else f"{self.done:,} steps"
