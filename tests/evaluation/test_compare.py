"""Comparison of runs (:mod:`models.evaluation.compare`, CLI :mod:`models.cli.compare`):
draw-wise differences where paired, refusal (exit 2, one line, no traceback) of runs that are
not comparable."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from support import ROOT
from support.results import synthetic_run

from models.cli import compare as compare_cli
from models.evaluation import compare
from models.outputs.write import write_run


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    kw = {"draws": 150, "horizon": 31, "seed": 3}
    escalation = write_run(synthetic_run("escalation", **kw), out, ("netcdf",))
    displacement = write_run(synthetic_run("displacement", **kw), out, ("netcdf",))
    reseeded = write_run(synthetic_run("deescalation", draws=150, horizon=31, seed=4), out,
                         ("netcdf",))
    other_origin = synthetic_run("baseline", **kw)
    other_origin.origin = dt.date(2024, 11, 30)
    other_origin = write_run(other_origin, out, ())  # refused from run.json alone
    fewer_targets = synthetic_run("baseline", **kw)
    fewer_targets.forecast = fewer_targets.forecast.sel(target=["cum_deaths", "displaced"])
    fewer_targets = write_run(fewer_targets, out, ())
    other_start = write_run(synthetic_run("baseline", **kw), out, ())
    header = json.loads((other_start / "run.json").read_text())
    header["episode_start"] = "2024-11-20"  # as if its config counted from another day
    (other_start / "run.json").write_text(json.dumps(header))
    # One target each: the plot-writing path at a quarter of the rendering cost.
    deaths_only = []
    for scenario in ("escalation", "deescalation"):
        run = synthetic_run(scenario, **kw)
        run.forecast = run.forecast.sel(target=["cum_deaths"])
        deaths_only.append(write_run(run, out, ("netcdf",)))
    return {"escalation": escalation, "displacement": displacement, "reseeded": reseeded,
            "other_origin": other_origin, "fewer_targets": fewer_targets,
            "other_start": other_start,
            "deaths_only": deaths_only}


def test_compare_table_is_draw_by_draw(runs, tmp_path, capsys):
    out = tmp_path / "cmp"
    code = compare_cli.main([str(runs["escalation"]), str(runs["displacement"]), "--out", str(out),
                         "--no-plots"])
    assert code == 0
    table = pd.read_csv(out / "comparison.csv")
    # baseline and mixture of the displacement run repeat the escalation run's baseline draws
    # only for baseline (same config, seed, posterior); the mixtures differ in weights.
    assert list(dict.fromkeys(table["series"])) == [
        "escalation/escalation", "escalation/baseline", "escalation/mixture",
        "displacement/displacement", "displacement/mixture"]
    assert table["paired"].all()
    assert sorted(table["horizon"].unique()) == [7, 30]  # 90 is beyond the 31-day horizon
    ref = compare.load_runs([runs["escalation"]])[0].forecast["forecast"]
    other = compare.load_runs([runs["displacement"]])[0].forecast["forecast"]
    v = other.sel(scenario="displacement", target="cum_deaths", region="all", day=30).values
    r = ref.sel(scenario="escalation", target="cum_deaths", region="all", day=30).values
    row = table[(table.series == "displacement/displacement") & (table.target == "cum_deaths")
                & (table.horizon == 30)].iloc[0]
    np.testing.assert_allclose([row.diff_q05, row.diff_median, row.diff_q95],
                               np.quantile(v - r, [0.05, 0.5, 0.95]), atol=0.006)
    assert row.p_higher == pytest.approx((v > r).mean(), abs=0.006)
    assert row["median"] == pytest.approx(np.median(v), abs=0.006)
    assert "Reference series: escalation/escalation" in (out / "comparison.md").read_text()
    assert "displacement/displacement" in capsys.readouterr().out


def test_comparison_plots(runs, tmp_path):
    loaded = compare.load_runs(runs["deaths_only"])
    out, _ = compare.write_comparison(loaded, tmp_path / "cmp", dpi=30)
    for name in ("overlay_cum_deaths", "difference_cum_deaths"):
        assert (out / "plots" / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
    series = compare.make_series(loaded)
    fig = compare.plot_overlay(series, "cum_deaths")
    for s in series:
        (line,) = fig.findobj(lambda a, s=s: a.get_gid() == f"median:{s.label}")
        np.testing.assert_allclose(line.get_ydata(), np.median(s.values("cum_deaths").values,
                                                               axis=0))
    assert fig.axes[0].get_xlabel() and "(people)" in fig.axes[0].get_ylabel()
    # the report shows the plots: linked from the Markdown, embedded in the HTML
    assert "(plots/overlay_cum_deaths.png)" in (out / "comparison.md").read_text()
    assert (out / "comparison.html").read_text().count("data:image/png;base64,") == 2


def test_compare_runs_library_and_one_report_contract(runs, tmp_path):
    """compare_runs (the call a notebook makes) writes what the CLI writes; the Markdown and
    HTML are renderings of the same blocks (models.outputs.blocks)."""
    from models.outputs.blocks import to_html, to_markdown

    paths = [runs["escalation"], runs["displacement"]]
    out, table = compare.compare_runs(paths, tmp_path / "cmp", plots=False)
    assert sorted(p.name for p in out.iterdir()) == ["comparison.csv", "comparison.html",
                                                     "comparison.md"]
    pd.testing.assert_frame_equal(pd.read_csv(out / "comparison.csv"), table.round(2),
                                  check_exact=False, atol=0.006)
    loaded = compare.load_runs(paths)
    blocks = compare.comparison_blocks(loaded, compare.make_series(loaded), table)
    assert (out / "comparison.md").read_text() == to_markdown(blocks)
    assert (out / "comparison.html").read_text() == to_html(blocks, "Comparison of runs")
    assert compare.table_text(table, markdown=True) in to_markdown(blocks)
    # counts are written with every digit and thousands separators, as before the move
    row = table.iloc[1]
    assert f"{row['median']:,.0f} ({row.q05:,.0f} to {row.q95:,.0f})" in compare.table_text(table)
    with pytest.raises(compare.NotComparable, match="at least two"):
        compare.compare_runs(paths[:1], tmp_path / "one")
    with pytest.raises(compare.NotComparable, match="different forecast origins"):
        compare.compare_runs([runs["escalation"], runs["other_origin"]], tmp_path / "no")
    assert not (tmp_path / "one").exists() and not (tmp_path / "no").exists()


def test_cli_imports_no_plotting_library():
    """Refusing runs from their run.json must stay quick: the CLI does not import matplotlib
    (or xarray) until it writes."""
    code = ("import sys, models.cli.compare; "
            "print(sorted(m for m in ('matplotlib', 'xarray', 'arviz') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_unpaired_runs_compare_medians_only(runs, tmp_path):
    out = tmp_path / "cmp"
    assert compare_cli.main([str(runs["escalation"]), str(runs["reseeded"]), "--out", str(out),
                         "--quiet", "--no-plots"]) == 0
    assert not (out / "plots").exists()
    table = pd.read_csv(out / "comparison.csv")
    unpaired = table[table.run_id == compare.load_runs([runs["reseeded"]])[0].run["run_id"]]
    assert len(unpaired) and not unpaired["paired"].any()
    assert unpaired["diff_q05"].isna().all() and unpaired["p_higher"].isna().all()
    assert unpaired["diff_median"].notna().all()


@pytest.mark.parametrize("other, reason", [("other_origin", "different forecast origins"),
                                           ("other_start", "different episode starts"),
                                           ("fewer_targets", "different targets")])
def test_refuses_runs_that_do_not_match(runs, tmp_path, capsys, other, reason):
    out = tmp_path / "cmp"
    code = compare_cli.main([str(runs["escalation"]), str(runs[other]), "--out", str(out)])
    assert code == compare_cli.EXIT_REFUSED
    err = capsys.readouterr().err.strip()
    assert reason in err and "\n" not in err
    assert not out.exists() and not list(tmp_path.iterdir())


def test_cli_refusal_is_one_line_without_traceback(runs, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "models.compare", str(runs["escalation"]),
         str(runs["other_origin"]), "--out", str(tmp_path / "cmp")],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("compare: runs have different forecast origins")


def test_refuses_missing_or_tampered_runs(runs, tmp_path, capsys):
    assert compare_cli.main([str(runs["escalation"]), str(tmp_path / "nope")]) == 2
    assert "not a directory" in capsys.readouterr().err
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "run.json").write_text("{")
    assert compare_cli.main([str(runs["escalation"]), str(bad)]) == 2
    assert "run.json: not valid JSON" in capsys.readouterr().err
    assert compare_cli.main([str(runs["escalation"])]) == 2
    assert capsys.readouterr().err.strip() == "compare: give at least two run directories"


def test_reference_picks_the_series_differences_are_taken_against(runs, tmp_path, capsys):
    """--reference baseline: every series minus baseline (the plots' baseline), not minus the
    first run's scenario."""
    out = tmp_path / "cmp"
    code = compare_cli.main([str(runs["escalation"]), str(runs["displacement"]), "--out",
                             str(out), "--reference", "baseline", "--no-plots", "--quiet"])
    assert code == 0
    table = pd.read_csv(out / "comparison.csv")
    assert set(table.loc[table.reference, "series"]) == {"escalation/baseline"}
    ref = compare.load_runs([runs["escalation"]])[0].forecast["forecast"]
    fc = ref.sel(target="cum_deaths", region="all", day=30)
    row = table[(table.series == "escalation/escalation") & (table.target == "cum_deaths")
                & (table.horizon == 30)].iloc[0]
    diff = fc.sel(scenario="escalation").values - fc.sel(scenario="baseline").values
    np.testing.assert_allclose(row.diff_median, np.median(diff), atol=0.006)
    assert row.diff_median > 0  # escalation above its baseline: the sign the plots show
    assert "Reference series: escalation/baseline" in (out / "comparison.md").read_text()
    # a series label, and a run id (its primary scenario), name the reference too
    loaded = compare.load_runs([runs["escalation"], runs["displacement"]])
    series = compare.make_series(loaded)
    assert compare.resolve_reference(series, "displacement/mixture").label == \
        "displacement/mixture"
    run_id = loaded[1].run["run_id"]
    assert compare.resolve_reference(series, run_id[:20]).label == "displacement/displacement"
    assert compare.resolve_reference(series, None) is series[0]


@pytest.mark.parametrize("ident, reason", [
    ("nowhere", "no such series, scenario or run; the series are escalation/escalation"),
    ("mixture", "names several series (escalation/mixture, displacement/mixture)")])
def test_unknown_or_ambiguous_reference_is_refused(runs, tmp_path, capsys, ident, reason):
    out = tmp_path / "cmp"
    code = compare_cli.main([str(runs["escalation"]), str(runs["displacement"]), "--out",
                             str(out), "--reference", ident, "--no-plots"])
    assert code == compare_cli.EXIT_REFUSED
    err = capsys.readouterr().err.strip()
    assert reason in err and "\n" not in err and err.startswith(f"compare: --reference {ident}")
    assert not out.exists()


@pytest.mark.parametrize("cli", ["compare", "score"])
def test_help_gives_defaults_exit_codes_and_an_example(cli, capsys):
    from models.cli import score as score_cli

    module = {"compare": compare_cli, "score": score_cli}[cli]
    with pytest.raises(SystemExit) as stop:
        module.main(["--help"])
    assert stop.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "exit codes: 0" in text and "2 " in text and f"example: python -m models.{cli}" in text
    assert "(default: None)" not in text and "(default: False)" not in text
    if cli == "compare":
        assert "--reference ID" in text and "default: the first run's primary scenario" in text
        assert "default: results/comparisons/<UTC time>" in text
    else:
        assert "--out FILE" in text and "default: print the summary only" in text
