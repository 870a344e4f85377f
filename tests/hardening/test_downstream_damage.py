"""Issue 16, classes 9 and 1 (downstream): compare and score on damaged runs exit 2 with one line
naming the file, quickly, and change nothing (the inputs byte-identical, no output, no
temporary files); a bomb in a run's stored config is refused as fast as one in a config."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.cli import compare as compare_cli
from models.cli import score as score_cli
from tests.hardening.harness import assert_refused, in_process, leftovers, tree_digest
from tests.hardening.test_hostile_yaml import alias_bomb, deep_list


def _truncate(size):
    def damage(p: Path):
        with open(p, "r+b") as f:
            f.truncate(size if size >= 0 else os.path.getsize(p) // 2)
    return damage


def _scribble(offset: int, n: int = 2000):
    def damage(p: Path):
        with open(p, "r+b") as f:
            f.seek(offset)
            f.write(os.urandom(n))
    return damage


def _replace(text: str | bytes):
    def damage(p: Path):
        p.unlink()
        (p.write_bytes if isinstance(text, bytes) else p.write_text)(text)
    return damage


def _directory(p: Path):
    p.unlink()
    p.mkdir()


def _fifo(p: Path):
    p.unlink()
    os.mkfifo(p)


def _drop(key: str):
    def damage(p: Path):
        record = json.loads(p.read_text("utf-8"))
        del record[key]
        p.unlink()
        p.write_text(json.dumps(record), "utf-8")
    return damage


def _set(key: str, value):
    def damage(p: Path):
        record = json.loads(p.read_text("utf-8")) | {key: value}
        p.unlink()
        p.write_text(json.dumps(record), "utf-8")
    return damage


def _missing(p: Path):
    p.unlink()


# (case id, file in the run, damage, what the one line must say besides the file)
DAMAGE = [
    ("nc-empty", "forecast.nc", _truncate(0), "netCDF"),
    ("nc-100-bytes", "forecast.nc", _truncate(100), "netCDF"),
    ("nc-truncated-half", "forecast.nc", _truncate(-1), "netCDF"),
    ("nc-random", "forecast.nc", _replace(os.urandom(50_000)), "netCDF"),
    ("nc-scribbled-attrs", "forecast.nc", _scribble(3000), ""),
    ("nc-directory", "forecast.nc", _directory, "not found"),
    ("nc-fifo", "forecast.nc", _fifo, "not found"),
    ("run-json-list", "run.json", _replace("[1, 2]"), "not a run record"),
    ("run-json-string", "run.json", _replace('"run"'), "not a run record"),
    ("run-json-null", "run.json", _replace("null"), "not a run record"),
    ("run-json-invalid", "run.json", _replace("{"), "JSON"),
    ("run-json-empty", "run.json", _replace(""), "JSON"),
    ("run-json-binary", "run.json", _replace(b"\x00\xff" * 100), "not a text file"),
    ("run-json-fifo", "run.json", _fifo, "named pipe"),
    ("run-json-directory", "run.json", _directory, "directory"),
    ("run-json-huge", "run.json", _replace("{" + " " * 1_100_000 + "}"), "MAX_CONFIG_BYTES"),
    ("run-json-no-scenario-id", "run.json", _drop("scenario_id"), "not a run record"),
    ("run-json-no-config-hash", "run.json", _drop("config_hash"), "config"),
    ("run-json-hashes-a-list", "run.json", _set("config_hashes", []), "config_hashes"),
    ("resolved-bomb", "config.resolved.yaml", _replace(alias_bomb()), "MAX_YAML_NODES"),
    ("resolved-deep", "config.resolved.yaml", _replace(deep_list(5000)), "deep"),
    ("resolved-not-yaml", "config.resolved.yaml", _replace("a: [\n"), "invalid YAML"),
    ("resolved-fifo", "config.resolved.yaml", _fifo, "named pipe"),
    ("resolved-missing", "config.resolved.yaml", _missing, "config.resolved.yaml"),
]


def _refused_unchanged(outcome, run: Path, before: dict, says: str, *names):
    message = assert_refused(outcome, *names, seconds=20)
    assert str(run) in message, message
    if says:
        assert says in message, message
    assert tree_digest(run) == before
    return message


@pytest.mark.parametrize("case, name, damage, says", DAMAGE, ids=[c[0] for c in DAMAGE])
def test_compare_refuses_a_damaged_run(finished_runs, run_copy, tmp_path, capsys, case, name,
                                       damage, says):
    run = run_copy()
    damage(run / name)
    before = tree_digest(run)
    out = tmp_path / "cmp"
    outcome = in_process(compare_cli.main, [finished_runs[0], run, "--out", out, "--no-plots",
                                            "--quiet"], capsys)
    _refused_unchanged(outcome, run, before, says)
    assert not out.exists() and not leftovers(tmp_path)


SCORED_FILES = {"run.json", "config.resolved.yaml"}
NOT_READ_BY_SCORE = {"run-json-no-scenario-id", "run-json-hashes-a-list"}


@pytest.mark.parametrize("case, name, damage, says",
                         [c for c in DAMAGE if c[1] in SCORED_FILES
                          and c[0] not in NOT_READ_BY_SCORE] + [
                             ("samples-truncated", "samples.parquet", _truncate(-1), "parquet"),
                             ("samples-empty", "samples.parquet", _truncate(0), "parquet"),
                             ("samples-random", "samples.parquet", _replace(os.urandom(9000)),
                              "parquet"),
                             ("samples-fifo", "samples.parquet", _fifo, "samples.parquet")],
                         ids=[c[0] for c in DAMAGE if c[1] in SCORED_FILES
                              and c[0] not in NOT_READ_BY_SCORE]
                         + ["samples-truncated", "samples-empty", "samples-random",
                            "samples-fifo"])
def test_score_refuses_a_damaged_run(run_copy, outcomes, tmp_path, capsys, case, name, damage,
                                     says):
    run = run_copy()
    damage(run / name)
    before = tree_digest(run)
    out = tmp_path / "scores.csv"
    outcome = in_process(score_cli.main, [run, outcomes, "--out", out], capsys)
    _refused_unchanged(outcome, run, before, says)
    assert not out.exists() and not leftovers(tmp_path)


def test_score_refuses_an_outcomes_file_that_is_not_one(finished_runs, tmp_path, capsys):
    for build, says in [(lambda p: os.mkfifo(p), "named pipe"),
                        (lambda p: p.mkdir(), "directory"),
                        (lambda p: p.write_bytes(b"\x00" * 100), "not a text file")]:
        p = tmp_path / f"outcomes-{says.replace(' ', '-')}.csv"
        build(p)
        outcome = in_process(score_cli.main, [finished_runs[0], p], capsys)
        assert_refused(outcome, str(p), says, seconds=20)
    outcome = in_process(score_cli.main, [finished_runs[0], "/dev/zero"], capsys)
    assert_refused(outcome, "/dev/zero", "character device", seconds=20)


@settings(max_examples=25, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(cut=st.floats(0.0, 0.999), scribble=st.one_of(st.none(), st.integers(0, 400_000)))
def test_any_damage_to_forecast_nc_is_compared_or_refused(finished_runs, tmp_path_factory,
                                                          capsys, cut, scribble):
    """Truncate forecast.nc anywhere, or overwrite 512 bytes anywhere: compare writes a
    comparison (the damage missed everything it reads) or exits 2 in one line naming the file;
    never a traceback, never a change to the runs."""
    tmp = tmp_path_factory.mktemp("nc")
    run = tmp / finished_runs[1].parent.name / finished_runs[1].name
    shutil.copytree(finished_runs[1], run)
    nc = run / "forecast.nc"
    size = nc.stat().st_size
    with open(nc, "r+b") as f:
        if scribble is None:
            f.truncate(int(cut * size))
        else:
            f.seek(scribble % size)
            f.write(os.urandom(512))
    before, first = tree_digest(run), tree_digest(finished_runs[0])
    outcome = in_process(compare_cli.main, [finished_runs[0], run, "--out", tmp / "cmp",
                                            "--no-plots", "--quiet"], capsys)
    assert "Traceback" not in outcome.stderr
    if outcome.code != 0:
        assert_refused(outcome, str(run), seconds=20)
        assert not (tmp / "cmp").exists()
    assert tree_digest(run) == before and tree_digest(finished_runs[0]) == first
    assert not leftovers(tmp)


def test_a_backtest_whose_data_hold_inf_exits_2(tmp_path, shared_data):
    """The backtest CLI belongs to the backtest helper: this case is here so the suite covers
    the issue's example (its fix is theirs); exit 2 naming the file, no traceback."""
    from tests.hardening.harness import CONFIGS, cli

    rows = (shared_data / "views_syria_monthly_ged_1990_2024.csv").read_text("utf-8").splitlines()
    rows[300] = ",".join("inf" if i == 6 else v for i, v in enumerate(rows[300].split(",")))
    data = tmp_path / "syria.csv"
    data.write_text("\n".join(rows) + "\n", "utf-8")
    config = tmp_path / "bt.yaml"
    config.write_text((CONFIGS / "backtest-syria.yaml").read_text("utf-8").replace(
        "path: ../../shared/data/views_syria_monthly_ged_1990_2024.csv", f"path: {data}"),
        "utf-8")
    outcome = cli("backtest", config, "--out", tmp_path / "out", "--quick", timeout=600)
    assert "Traceback" not in outcome.stderr, outcome.stderr[-2000:]
    assert outcome.code == 2, (outcome.code, outcome.stderr[-2000:])
    assert str(data) in outcome.stderr
