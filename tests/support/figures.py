"""Plot functions for tests of :mod:`models.outputs.rendering`: module-level, so that a figure
worker (another process) can import them by name."""

from __future__ import annotations

import os

from models.outputs.plot_style import new_figure


def line(values: list[float]):
    """A one-panel line chart of ``values``."""
    fig = new_figure()
    ax = fig.subplots()
    ax.plot(values, gid="line")
    ax.set_xlabel("day")
    return fig


def refuse(message: str):
    """A plot function that fails, as a bad input would make a real one fail."""
    raise ValueError(message)


def die_unless_in(pid: int, values: list[float]):
    """Kill the process drawing it (as the kernel's OOM killer would a worker) unless it is
    ``pid``; there, draw :func:`line`."""
    if os.getpid() != pid:
        os._exit(1)
    return line(values)
