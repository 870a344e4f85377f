"""Forecasts tracked across origins (models.evaluation.timeline, python -m models.timeline):
two synthetic runs of the Syria episode (1 and 15 Dec 2024, made-up reports in the later one),
the table against the stored draws, the chart's data through its gids, the refusals."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from support.update import NEW_SOURCE, synthetic_stored_run, write_episode_configs

from models.cli.timeline import main
from models.evaluation.timeline import (
    NotSameEpisode,
    check_same_episode,
    read_runs,
    reported_figures,
    timeline_table,
    write_timeline,
)
from models.outputs.timeline_plots import plot_timeline

LATER = dt.date(2024, 12, 15)
NEW_REPORTS = """\
synthetic_idlib_toll_15_dec:
  quantity: civilian_deaths
  region: idlib
  period: {since: 2024-11-27, as_of: 2024-12-14}
  value: "approximately 400"
  reporting: white_helmets_air_strike_toll
  subset: air_strikes
  reported_on: 2024-12-15
  source: {document: synthetic-2024-12-15, reporter: SYNTHETIC, passage: made up}
synthetic_all_fled_15_dec:
  quantity: displaced
  region: all
  period: {since: 2024-11-27, as_of: 2024-12-15}
  value: {at_least: 150000}
  reporting: displacement_reports
  reported_on: 2024-12-15
  source: {document: synthetic-2024-12-15, reporter: SYNTHETIC, passage: made up}
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("timeline")
    first, _ = synthetic_stored_run(write_episode_configs(tmp / "c1"), tmp / "runs", draws=600,
                                    horizon=40)
    later_cfg = write_episode_configs(tmp / "c2", origin=LATER,
                                      sources_yaml=NEW_SOURCE.format(day=15),
                                      evidence_yaml=NEW_REPORTS)
    second, _ = synthetic_stored_run(later_cfg, tmp / "runs", draws=600, horizon=40,
                                     weights={"escalation": 0.6, "baseline": 0.3,
                                              "deescalation": 0.1})
    return {"tmp": tmp, "paths": [second, first]}  # out of order on purpose


def test_the_table_reads_each_run_at_its_own_horizon(runs):
    loaded = read_runs(runs["paths"])
    assert [r.origin for r in loaded] == [dt.date(2024, 12, 1), LATER]  # sorted by origin
    date = dt.date(2024, 12, 31)  # the default: 30 days after the first origin
    table = timeline_table(loaded, date)
    deaths = table[table["target"] == "cum_deaths"]
    assert list(deaths["horizon"]) == [30, 16]
    assert list(deaths["scenario"]) == ["mixture", "mixture"]
    for r, row in zip(loaded, deaths.itertuples(index=False), strict=True):
        x = r.forecast["forecast"].sel(scenario="mixture", target="cum_deaths", region="all",
                                       day=row.horizon).values
        assert [row.q05, row.median, row.q95] == pytest.approx(np.quantile(x, [0.05, 0.5, 0.95]))
    assert np.isnan(deaths["change"].iloc[0])
    assert deaths["change"].iloc[1] == pytest.approx(deaths["median"].iloc[1]
                                                     - deaths["median"].iloc[0])
    one = timeline_table(loaded, date, scenario="baseline")
    assert set(one["scenario"]) == {"baseline"}


def test_dates_a_run_does_not_forecast_are_said(runs):
    loaded = read_runs(runs["paths"])
    before = timeline_table(loaded, dt.date(2024, 12, 10))  # after 1 Dec, before 15 Dec
    assert set(before[before["origin"] == "2024-12-15"]["note"]) == {
        "the date is not after this origin"}
    far = timeline_table(loaded, dt.date(2025, 1, 20))  # 50 days after 1 Dec: beyond 40
    notes = far[far["origin"] == "2024-12-01"]["note"]
    assert set(notes) == {"beyond this run's 40-day horizon"}
    assert far[far["origin"] == "2024-12-01"]["median"].isna().all()


def test_the_reported_figures_as_they_arrived(runs):
    rep = reported_figures(read_runs(runs["paths"])).set_index("evidence")
    assert rep.loc["idlib_air_strike_deaths_since_27_nov", "first_run_origin"] == "2024-12-01"
    assert rep.loc["synthetic_idlib_toll_15_dec", "first_run_origin"] == "2024-12-15"
    assert rep.loc["synthetic_idlib_toll_15_dec", "target"] == "cum_civilian_deaths"
    assert bool(rep.loc["synthetic_all_fled_15_dec", "since_start"])
    assert rep.loc["synthetic_all_fled_15_dec", "regions"] == "all"
    assert np.isinf(rep.loc["synthetic_all_fled_15_dec", "high"])
    assert not rep.loc["idlib_air_strike_deaths_1_dec", "since_start"]
    assert rep.loc["aleppo_soldiers_killed", "target"] == ""  # combatants: no such target


def test_the_chart_draws_the_table_and_the_reports(runs):
    loaded = read_runs(runs["paths"])
    date = dt.date(2024, 12, 31)
    table = timeline_table(loaded, date)
    rep = reported_figures(loaded)
    rows = table[table["target"] == "cum_civilian_deaths"]
    fig = plot_timeline(rows, rep[rep["target"] == "cum_civilian_deaths"],
                        "cum_civilian_deaths", date)
    by_gid = {a.get_gid(): a for a in fig.axes[0].get_children() if a.get_gid()}
    line = by_gid["median:forecast"]
    assert list(line.get_ydata()) == pytest.approx(list(rows["median"]))
    import matplotlib.dates as mdates

    assert [mdates.num2date(x).date() for x in line.get_xdata()] == [r.origin for r in loaded]
    band = by_gid["band90:2024-12-15"].get_segments()[0]
    assert [band[0][1], band[1][1]] == pytest.approx(list(rows[["q05", "q95"]].iloc[1]))
    # running totals since the start, each at the date it was reported
    toll = by_gid["reported:synthetic_idlib_toll_15_dec"].get_segments()[0]
    assert mdates.num2date(toll[0][0]).date() == LATER
    assert [toll[0][1], toll[1][1]] == [360, 440]
    assert "reported:idlib_air_strike_deaths_since_27_nov" in by_gid
    assert "reported:idlib_air_strike_deaths_1_dec" not in by_gid  # a day's toll: not a total
    assert mdates.num2date(by_gid["target_date"].get_xdata()[0]).date() == date
    fled = plot_timeline(table[table["target"] == "cum_displaced"],
                         rep[rep["target"] == "cum_displaced"], "cum_displaced", date)
    bound = {a.get_gid(): a for a in fled.axes[0].get_children() if a.get_gid()}
    assert list(bound["reported:synthetic_all_fled_15_dec"].get_ydata()) == [150000]


def test_the_command_line_writes_the_timeline(runs, capsys):
    out = runs["tmp"] / "tl"
    assert main([*map(str, runs["paths"]), "--out", str(out), "--date", "2024-12-31"]) == 0
    printed = capsys.readouterr().out
    assert "2024-12-15" in printed and "mixture" in printed
    assert {p.name for p in out.iterdir()} >= {"timeline.csv", "reported.csv", "timeline.md",
                                               "timeline.html", "plots"}
    assert {p.name for p in (out / "plots").iterdir()} == {
        "timeline_cum_deaths.png", "timeline_cum_civilian_deaths.png", "timeline_displaced.png",
        "timeline_cum_displaced.png", "timeline_cum_refugees.png"}
    assert main([*map(str, runs["paths"]), "--out", str(out)]) == 2  # out exists
    assert "exists" in capsys.readouterr().err


def test_runs_of_other_episodes_are_refused(runs, capsys):
    tmp = runs["tmp"]
    other, _ = synthetic_stored_run(write_episode_configs(tmp / "c3", name="Another war"),
                                    tmp / "other", draws=200, horizon=10)
    code = main([str(runs["paths"][1]), str(other), "--out", str(tmp / "refused")])
    assert code == 2
    err = capsys.readouterr().err
    assert "runs of different episodes" in err and "Another war" in err
    assert not (tmp / "refused").exists()
    shifted, _ = synthetic_stored_run(
        write_episode_configs(tmp / "c4", start=dt.date(2024, 11, 26)), tmp / "shifted",
        draws=200, horizon=10)
    with pytest.raises(NotSameEpisode, match="start 2024-11-2"):
        check_same_episode(read_runs([runs["paths"][1], shifted]))
    with pytest.raises(NotSameEpisode, match="at least two"):
        write_timeline([runs["paths"][1]], tmp / "one")


def test_compare_refuses_other_origins_and_points_to_the_timeline(runs):
    from models.evaluation.compare import NotComparable, compare_runs

    with pytest.raises(NotComparable, match=r"python -m models\.timeline"):
        compare_runs(runs["paths"], runs["tmp"] / "cmp")
