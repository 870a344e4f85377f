"""Fault classes 2, 5 and 6 (issue 16): writes into the wrong place, unusable output locations
found late, silent drops.

* Class 2: ``models.score --out`` and ``models.compare --out`` pointed at any file of a finished
  run (through a hard link or a symbolic link too), at an input, or into a finished run: refused
  in one line, every file byte-identical.
* Class 5: every unusable location of ``models.run`` (an existing file, ``/proc``, a dangling
  link, the scenario directory or the fit cache a file, paths longer than the file system holds) is
  refused before the fit: the fit is replaced by a tripwire, so a refusal found after it fails.
* Class 6: a second config with the scenario id of the first and other contents is refused; the
  same config twice is one scenario, said by the run's headline and not a drop.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from harness import CONFIGS, assert_refused, in_process, leftovers, tree_digest, write

from models.cli import compare as compare_cli
from models.cli import run as run_cli
from models.cli import score as score_cli

HUB = "exports/hubverse/model-output"


def _hub_file(run: Path) -> Path:
    return next((run / HUB).rglob("*.csv"))


# --- class 2: score and compare never write into a run or over an input -----------------------

SCORE_TARGETS = {
    "samples.parquet": lambda run, outcomes, tmp: run / "samples.parquet",
    "quantiles.csv": lambda run, outcomes, tmp: run / "quantiles.csv",
    "hubverse export (hard link)": lambda run, outcomes, tmp: _hub_file(run),
    "run.json": lambda run, outcomes, tmp: run / "run.json",
    "new file in the run": lambda run, outcomes, tmp: run / "scores.csv",
    "new file in the run's exports": lambda run, outcomes, tmp: run / "exports" / "scores.csv",
    "the outcomes file": lambda run, outcomes, tmp: outcomes,
    "a symbolic link to quantiles.csv": lambda run, outcomes, tmp: _link(tmp / "q.csv",
                                                                         run / "quantiles.csv"),
    "a hard link to samples.parquet": lambda run, outcomes, tmp: _hard(tmp / "s.parquet",
                                                                       run / "samples.parquet"),
    "a directory": lambda run, outcomes, tmp: tmp,
}


def _link(link: Path, target: Path) -> Path:
    link.symlink_to(target)
    return link


def _hard(link: Path, target: Path) -> Path:
    os.link(target, link)
    return link


@pytest.mark.parametrize("case", sorted(SCORE_TARGETS))
def test_score_out_never_overwrites_a_run_or_an_input(run_copy, outcomes, tmp_path, capsys, case):
    run = run_copy()
    target = SCORE_TARGETS[case](run, outcomes, tmp_path)
    before, outcomes_before = tree_digest(run), outcomes.read_bytes()
    outcome = in_process(score_cli.main, [run, outcomes, "--out", target], capsys)
    assert_refused(outcome, "--out")
    assert tree_digest(run) == before and outcomes.read_bytes() == outcomes_before
    assert not leftovers(run, tmp_path)


@pytest.mark.parametrize("case", ["inside a run", "an input run", "inside an input run's parent "
                                  "scenario directory's run"])
def test_compare_out_never_writes_into_a_run(finished_runs, run_copy, tmp_path, capsys, case):
    first, _ = finished_runs
    run = run_copy()
    out = {"inside a run": run / "comparison", "an input run": run,
           "inside an input run's parent scenario directory's run": run / "plots" / "cmp"}[case]
    before = tree_digest(run)
    outcome = in_process(compare_cli.main, [first, run, "--out", out, "--no-plots"], capsys)
    assert_refused(outcome, str(run.name))
    assert tree_digest(run) == before and not leftovers(run)


# --- class 5: unusable output locations are found before the fit ------------------------------


@pytest.fixture
def no_fit(monkeypatch):
    """A tripwire in place of the fit: a refusal that comes after it fails the test."""
    import models.pipeline as pipeline

    def tripwire(*args, **kwargs):
        raise AssertionError("the run reached the fit before refusing its output location")

    monkeypatch.setattr(pipeline, "run_scenarios", tripwire)


LOCATIONS = {  # case -> (build(tmp) -> extra argv, names the message must contain)
    "--out is a file": lambda tmp: (["--out", write(tmp / "f", "x")], ["f"]),
    "--out in /proc": lambda tmp: (["--out", "/proc/conflict-results"], ["/proc"]),
    "--out a dangling symbolic link": lambda tmp: (["--out", _link(tmp / "gone",
                                                                   tmp / "nowhere")], ["gone"]),
    "the scenario directory is a file": lambda tmp: (
        ["--out", (write(tmp / "o" / "escalation", "x")).parent], ["escalation"]),
    "--cache-dir is a file": lambda tmp: (["--out", tmp / "o", "--cache-dir",
                                           write(tmp / "c", "x")], ["c"]),
    "--cache-dir in /proc": lambda tmp: (["--out", tmp / "o", "--cache-dir", "/proc/fits"],
                                         ["/proc"]),
    "--out inside a finished run": lambda tmp: (
        ["--out", _finished(tmp) / "more"], ["finished run"]),
}


def _finished(tmp: Path) -> Path:
    run = tmp / "old" / "escalation" / "20241201T000000Z-x"
    write(run / "run.json", "{}")
    write(run / "forecast.nc", "x")
    return run


@pytest.mark.parametrize("case", sorted(LOCATIONS))
def test_run_refuses_unusable_locations_before_the_fit(tmp_path, capsys, no_fit, case):
    argv, names = LOCATIONS[case](tmp_path)
    before = tree_digest(tmp_path)
    outcome = in_process(run_cli.main, [CONFIGS / "escalation.yaml", *argv], capsys)
    assert_refused(outcome, *map(str, names), seconds=20)
    assert tree_digest(tmp_path) == before and not leftovers(tmp_path)


def test_paths_longer_than_the_file_system_allows_are_refused_before_the_fit(tmp_path, capsys,
                                                                             no_fit):
    """Scenario ids are capped at 64 characters by the schema; a deep --out can still make the
    run's paths longer than PATH_MAX (4096 bytes on Linux)."""
    deep = tmp_path.joinpath(*["d" * 200] * 21)
    outcome = in_process(run_cli.main, [CONFIGS / "escalation.yaml", "--out", deep], capsys)
    assert_refused(outcome, "long", seconds=20)
    assert not (tmp_path / ("d" * 200)).exists()


# --- class 6: nothing is dropped without a word -----------------------------------------------


def test_a_second_config_with_the_same_id_and_other_levers_is_refused(tmp_path, capsys, no_fit):
    other = write(tmp_path / "other.yaml", f"extends: {CONFIGS / 'escalation.yaml'}\n"
                  "forecast:\n  scenario_weights: null\n"
                  "assumptions:\n  regimes:\n    escalated:\n      intensity_multiplier: "
                  "{dist: fixed, value: 9, low: null, high: null}\n")
    outcome = in_process(run_cli.main, [CONFIGS / "escalation.yaml", other, "--validate-only"],
                         capsys)
    assert_refused(outcome, "other.yaml", "scenario id 'escalation'", "different contents")


def test_the_same_config_twice_is_one_scenario_and_validates(capsys):
    outcome = in_process(run_cli.main, [CONFIGS / "escalation.yaml", CONFIGS / "escalation.yaml",
                                        "--validate-only"], capsys)
    assert outcome.code == 0, outcome.stderr
    ids = [ln for ln in outcome.stdout.splitlines() if ln.startswith("ok:")]
    assert sum("'escalation'" in ln for ln in ids) == 1  # one scenario, not two
