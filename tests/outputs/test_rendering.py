"""Figures drawn in worker processes (models.outputs.rendering): the same files as drawn in the
caller's process, errors raised where the caller waits, and no figure lost if a worker dies."""

from __future__ import annotations

import os
import time

import pytest
from support.figures import die_unless_in, line, refuse
from support.results import synthetic_run

from models.outputs import plots
from models.outputs.rendering import FigureWriter


def test_workers_draw_the_same_files_as_the_callers_process(tmp_path):
    result = synthetic_run("escalation", draws=200, horizon=30)
    here, there = {}, {}
    a = plots.write_plots(result, tmp_path / "here", workers=0, screen=here)
    b = plots.write_plots(result, tmp_path / "workers", workers=2, screen=there)
    assert list(a) == list(b) == [n for n, *_ in plots.figure_specs(result)]
    assert len(a) >= 20
    for name in a:
        assert a[name].read_bytes() == b[name].read_bytes(), name
        assert here[name] == there[name], name  # the report's embedded copies too


def test_a_plot_functions_error_is_raised_where_the_caller_waits(tmp_path):
    writer = FigureWriter(tmp_path, workers=2)
    writer.submit("good", line, [1.0, 2.0])
    writer.submit("bad", refuse, "no draws for target 'x'")
    with pytest.raises(ValueError, match="no draws for target 'x'"):
        writer.files()


def test_a_worker_that_dies_loses_no_figure(tmp_path):
    """The pool breaks; the figures it lost are drawn in the caller's process, and the next
    writer gets a new pool."""
    writer = FigureWriter(tmp_path / "a", workers=2)
    writer.submit("first", line, [1.0, 3.0])
    writer.submit("killer", die_unless_in, os.getpid(), [2.0, 1.0])
    writer.submit("after", line, [0.0, 1.0])
    files = writer.files()
    assert list(files) == ["first", "killer", "after"]
    assert all(p.stat().st_size > 1000 for p in files.values())
    again = FigureWriter(tmp_path / "b", workers=2)
    again.submit("fine", line, [1.0])
    assert again.files()["fine"].exists()


def test_close_waits_so_no_worker_writes_after_it(tmp_path):
    """On an error the run's directory is removed: after close() no figure may still appear."""
    writer = FigureWriter(tmp_path, workers=2)
    for k in range(8):
        writer.submit(f"f{k}", line, [float(k), 1.0])
    writer.close()
    written = {p.name for p in tmp_path.glob("*.png")}
    time.sleep(1.5)  # several figures' worth of drawing
    assert {p.name for p in tmp_path.glob("*.png")} == written
