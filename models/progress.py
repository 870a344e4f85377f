"""A tiny progress reporter for long stages (NUTS fit, Monte Carlo simulation).

It writes one self-overwriting line to stderr, and only when stderr is a terminal and the user did
not ask for quiet: logs, CI and redirected output stay clean. Updates are throttled so a tight loop
can call :meth:`Progress.update` every iteration at negligible cost.

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
    unknown), elapsed seconds. A no-op when :func:`progress_enabled` is False."""

    def __init__(self, label: str, total: int | None = None, *, quiet: bool = False,
                 stream: TextIO | None = None, min_interval: float = 0.1):
        self.label = label
        self.total = total
        self.done = 0
        self.stream = sys.stderr if stream is None else stream
        self.enabled = progress_enabled(self.stream, quiet)
        self.min_interval = min_interval
        self._start = time.perf_counter()
        self._last_write = -float("inf")

    def __enter__(self) -> Progress:
        self._start = time.perf_counter()
        self._write(force=True)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(ok=exc_type is None)

    def update(self, steps: int = 1) -> None:
        """Record ``steps`` more steps done; redraw at most every ``min_interval`` seconds."""
        self.done += steps
        self._write()

    def close(self, ok: bool = True) -> None:
        """Final line (with a newline), e.g. ``fit: done in 12.3 s``."""
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self._start
        status = "done" if ok else "stopped"
        self.stream.write(f"\r{self.label}: {status} in {elapsed:,.1f} s\033[K\n")
        self.stream.flush()
        self.enabled = False

    def line(self) -> str:
        """The current progress line (without carriage return)."""
        elapsed = time.perf_counter() - self._start
        if self.total:
            share = min(self.done / self.total, 1.0)
            return (f"{self.label}: {share:4.0%} ({self.done:,}/{self.total:,}) "
                    f"{elapsed:,.1f} s")
        return f"{self.label}: {self.done:,} steps {elapsed:,.1f} s"

    def _write(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self._last_write < self.min_interval:
            return
        self._last_write = now
        self.stream.write(f"\r{self.line()}\033[K")
        self.stream.flush()
