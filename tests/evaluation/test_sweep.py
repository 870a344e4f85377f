"""Scenario sweeps: the grid is checked against the scenario's levers, each point holds its
levers and keeps the others' distributions, the points share their random numbers, a serial and
a Dask run give the same table, a failed point is reported and the rest kept, the writer is
atomic, and the command line exits 2 on a bad grid."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from support import example_state, shipped_assumptions

from models.evaluation.distributed import cluster
from models.evaluation.sweep import (
    grid_points,
    parse_grid,
    point_assumptions,
    run_sweep,
    write_sweep,
)
from models.simulation.engine import simulate_scenarios
from models.simulation.levers import lever_specs
from models.vocabulary import ALL

INTENSITY = "regimes/escalated/intensity_multiplier"
HAZARD = "transitions/prolonged/escalated"


@pytest.fixture(scope="module")
def escalation():
    return shipped_assumptions("escalation")["escalation"]


@pytest.fixture(scope="module")
def state():
    return example_state(300, seed=3)


def _sweep(state, assumptions, grid, **kw):
    return run_sweep(state, assumptions, grid, scenario="escalation", horizon_days=30, seed=5,
                     draws=300, horizons=[7, 30], **kw)


def test_the_grid_is_checked_against_the_levers(escalation):
    grid = parse_grid([f"{INTENSITY}=1.5,2,3", f"{HAZARD}=0,0.05"], escalation)
    assert grid == {INTENSITY: [1.5, 2.0, 3.0], HAZARD: [0.0, 0.05]}
    points = grid_points(grid)
    assert len(points) == 6 and points["p001"] == {INTENSITY: 1.5, HAZARD: 0.05}
    for bad, says in [("regimes/escalated/intensity=2", "did you mean"),
                      (f"{INTENSITY}=0,1", "greater than 0"),
                      (f"{HAZARD}=1.5", "in [0, 1]"),
                      (f"{INTENSITY}=two", "numbers"),
                      (f"{INTENSITY}=1,1", "twice"),
                      (INTENSITY, "LEVER=V1,V2"),
                      (f"{INTENSITY}=nan", "greater than 0")]:
        with pytest.raises(ValueError, match=None) as err:
            parse_grid([bad], escalation)
        assert says in str(err.value), (bad, str(err.value))
    with pytest.raises(ValueError, match="given twice"):
        parse_grid([f"{INTENSITY}=1", f"{INTENSITY}=2"], escalation)


def test_a_point_holds_its_levers_and_keeps_the_others(escalation):
    held = point_assumptions(escalation, {INTENSITY: 2.5, HAZARD: 0.0,
                                          "daily_return_rate": 0.001})
    specs, before = lever_specs(held), lever_specs(escalation)
    assert specs[INTENSITY][0].ppf(np.array([0.1, 0.9])).tolist() == [2.5, 2.5]
    assert specs[HAZARD][0].ppf(np.array([0.5])).tolist() == [0.0]
    assert specs["daily_return_rate"][0].median() == 0.001
    for path in set(specs) - {INTENSITY, HAZARD, "daily_return_rate"}:
        assert specs[path][0] == before[path][0]


def test_points_share_their_random_numbers_and_move_with_the_lever(state, escalation):
    result = _sweep(state, escalation, {INTENSITY: [1.0, 2.0, 4.0]})
    assert not result.failures
    deaths = result.table[(result.table["target"] == "cum_deaths")
                          & (result.table["region"] == ALL) & (result.table["horizon"] == 30)]
    medians = deaths.set_index(INTENSITY)["median"]
    assert medians.is_monotonic_increasing and medians[4.0] > medians[1.0]
    # the point at 2.0 is exactly the engine run with that lever held (same seed, same draws)
    ds = simulate_scenarios(state, {"p001": point_assumptions(escalation, {INTENSITY: 2.0})},
                            horizon_days=30, seed=5, draws=300)
    direct = float(ds["forecast"].sel(scenario="p001", day=30, target="cum_deaths",
                                      region=ALL).quantile(0.5))
    assert medians[2.0] == pytest.approx(direct)


def test_dask_gives_the_serial_table_and_a_failed_point_is_kept_apart(state, escalation):
    grid = {INTENSITY: [1.5, 3.0], HAZARD: [0.0, 0.04]}
    serial = _sweep(state, escalation, grid)
    with cluster(workers=2, processes=False) as client:
        distributed = _sweep(state, escalation, grid, client=client)
    pd.testing.assert_frame_equal(serial.table, distributed.table)
    broken = type(state)(**{**state.__dict__, "persistence": state.persistence[:10]})
    failed = _sweep(broken, escalation, {INTENSITY: [1.5]})
    assert list(failed.failures) == ["p000"] and failed.table.empty


@pytest.mark.slow
def test_two_worker_processes_give_the_serial_table(state, escalation):
    grid = {INTENSITY: [1.5, 2.0, 3.0]}
    with cluster(workers=2) as client:
        distributed = _sweep(state, escalation, grid, client=client)
    pd.testing.assert_frame_equal(_sweep(state, escalation, grid).table, distributed.table)


def test_the_writer_streams_parts_and_is_atomic(tmp_path, state, escalation):
    out, _ = write_sweep(tmp_path / "sweep", state, escalation, {INTENSITY: [1.5, 3.0]},
                              scenario="escalation", horizon_days=30, seed=5, draws=200,
                              horizons=[30], meta={"config": "configs/escalation.yaml"})
    assert sorted(p.name for p in (out / "parts").iterdir()) == ["p000.csv", "p001.csv"]
    parts = pd.concat([pd.read_csv(out / "parts" / f"p00{i}.csv") for i in range(2)],
                      ignore_index=True)
    table = pd.read_csv(out / "sweep.csv")
    pd.testing.assert_frame_equal(parts[table.columns], table, check_exact=False, atol=0.01)
    record = json.loads((out / "sweep.json").read_text())
    assert record["grid"] == {INTENSITY: [1.5, 3.0]} and record["seed"] == 5
    assert (out / "plots" / "sweep_day30.png").stat().st_size > 10_000
    with pytest.raises(FileExistsError):
        write_sweep(out, state, escalation, {INTENSITY: [2.0]}, scenario="escalation",
                    horizon_days=30, seed=5, draws=200, horizons=[30])
    assert json.loads((out / "sweep.json").read_text()) == record  # the earlier one untouched


def test_the_chart_has_a_panel_per_target_and_a_line_per_second_lever_value(state, escalation):
    from models.outputs.sweep_plots import plot_sweep

    result = _sweep(state, escalation, {INTENSITY: [1.5, 3.0], HAZARD: [0.0, 0.04]})
    fig = plot_sweep(result.table, [INTENSITY, HAZARD], horizon=30, scenario="escalation")
    targets = set(result.table["target"])
    lines = [ln for ax in fig.axes for ln in ax.lines if str(ln.get_gid()).startswith("sweep:")]
    assert len(lines) == 2 * len(targets)
    assert {tuple(ln.get_xdata()) for ln in lines} == {(1.5, 3.0)}


def test_command_line_refuses_a_bad_grid_in_one_line(capsys):
    from models.cli.sweep import main

    assert main(["configs/escalation.yaml", "--grid", "regimes/escalated/intensty_multiplier=2",
                 "--serial"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did you mean 'regimes/escalated/intensity_multiplier'" in err
    assert main(["configs/escalation.yaml", "--serial"]) == 2
    assert "at least one" in capsys.readouterr().err
