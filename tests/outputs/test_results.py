"""Run results: atomic writes, file formats (netCDF, hubverse CSV/parquet, ViEWS), integrity
checks on reload, the report, and the progress reporter. No NUTS fit: synthetic runs from
support.results."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from support.results import synthetic_forecast, synthetic_run

from models import runtime
from models.data import month_id
from models.outputs import hubverse, run_result
from models.outputs import write as writer
from models.outputs.atomic import TEMP_PREFIX
from models.outputs.blocks import to_markdown
from models.outputs.formatting import round_sig
from models.outputs.hubverse import HUBVERSE_COLUMNS
from models.outputs.report import report_blocks
from models.outputs.run_result import new_run_id
from models.outputs.statistics import QUANTILE_LEVELS
from models.outputs.store import RunIntegrityError, list_runs, load_run
from models.outputs.views import monthly_deaths
from models.outputs.write import write_run
from models.progress import Progress, progress_enabled
from models.vocabulary import TARGETS
from scenarios.loader import config_hash

ROOT = Path(__file__).resolve().parents[2]
HORIZON = 62  # reaches 31 Jan 2025 from a 1 Dec 2024 origin: one full month for the ViEWS export
DRAWS = 200


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    result = synthetic_run("escalation", draws=DRAWS, horizon=HORIZON)
    out = tmp_path_factory.mktemp("results")
    # Plots and report are rendered in test_plots (one full run there keeps the suite fast).
    run_dir = write_run(result, out, ("netcdf", "csv", "parquet"))
    return result, run_dir


def tree_digest(path: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under ``path``."""
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}


# --- layout and formats ---------------------------------------------------------------------


def test_run_directory_layout(run):
    result, run_dir = run
    assert run_dir.name == result.run_id
    assert run_dir.parent.name == "escalation"
    expected = {"forecast.nc", "quantiles.csv", "samples.parquet", "run.json",
                "config.resolved.yaml", "config.baseline.resolved.yaml", "exports"}
    assert expected <= {p.name for p in run_dir.iterdir()}
    assert not [p for p in run_dir.parent.iterdir() if p.name.startswith(TEMP_PREFIX)]
    assert list_runs(run_dir.parents[1]) == [run_dir]


def test_netcdf_reloads_with_arviz_and_keeps_everything(run):
    result, run_dir = run
    az = runtime.import_arviz()
    with az.rc_context({"data.load": "eager"}):
        idata = az.from_netcdf(str(run_dir / "forecast.nc"))
    for group in ("posterior", "prior", "posterior_predictive", "prior_predictive",
                  "observed_data", "constant_data", "sample_stats", "scenario_forecast"):
        assert group in idata.groups(), group
    fc = idata.scenario_forecast
    assert fc["forecast"].dims == ("scenario", "draw", "day", "target", "region")
    np.testing.assert_array_equal(fc["forecast"].values, result.forecast["forecast"].values)
    np.testing.assert_array_equal(fc["regime"].values, result.forecast["regime"].values)
    np.testing.assert_array_equal(idata.posterior["civilian_share"].values,
                                  result.idata.posterior["civilian_share"].values)
    attrs = idata.attrs
    assert attrs["config_hash"] == result.primary.config_hash
    assert config_hash(yaml.safe_load(attrs["config_yaml"])) == attrs["config_hash"]
    assert attrs["config_hash__baseline"] == result.configs[1].config_hash
    assert int(attrs["seed"]) == result.seed
    assert attrs["origin"] == "2024-12-01"
    versions = json.loads(attrs["versions"])
    assert {"numpy", "pymc", "arviz", "nutpie", "xarray"} <= set(versions)
    dt.datetime.fromisoformat(attrs["created"])
    assert list(attrs["key_parameters"]) == result.idata.attrs["key_parameters"]


def test_quantiles_csv_is_hubverse_long_format(run):
    _, run_dir = run
    q = pd.read_csv(run_dir / "quantiles.csv")
    assert tuple(q.columns) == HUBVERSE_COLUMNS
    assert set(q["output_type"]) == {"quantile", "mean"}
    levels = sorted(q.loc[q.output_type == "quantile", "output_type_id"].astype(float).unique())
    assert len(QUANTILE_LEVELS) == 23
    np.testing.assert_allclose(levels, QUANTILE_LEVELS)
    assert q.loc[q.output_type == "mean", "output_type_id"].isna().all()
    assert sorted(q["horizon"].unique()) == list(range(1, HORIZON + 1))
    assert set(q["location"]) == {"SY-HL", "SY-ID", "all"}  # ISO 3166-2 codes from the config
    assert set(q["scenario_id"]) == {"escalation", "baseline", "mixture"}
    assert set(q["target"]) == set(TARGETS)
    assert set(q["origin_date"]) == {"2024-12-01"}
    # target_end_date: the day the horizon falls on (origin + horizon days)
    ends = q.drop_duplicates("horizon").set_index("horizon")["target_end_date"]
    assert ends[1] == "2024-12-02" and ends[31] == "2025-01-01" and ends[HORIZON] == "2025-02-01"
    assert len(q) == 3 * 3 * len(TARGETS) * HORIZON * 24
    assert not q.duplicated(["scenario_id", "location", "target", "horizon", "output_type",
                             "output_type_id"]).any()


def test_quantiles_match_numpy_and_are_monotone(run):
    result, run_dir = run
    q = pd.read_csv(run_dir / "quantiles.csv")
    qq = q[q.output_type == "quantile"].copy()
    qq["level"] = qq["output_type_id"].astype(float)
    keys = ["scenario_id", "location", "target", "horizon"]
    ordered = qq.sort_values([*keys, "level"])
    steps = ordered.groupby(keys)["value"].diff().dropna()
    assert (steps >= 0).all(), "quantiles must not decrease with the level"
    # Against an independent computation (CSV keeps 2 decimals).
    fc = result.forecast["forecast"]
    for scenario, location, target, day in [("mixture", "all", "cum_deaths", 30),
                                            ("baseline", "idlib", "displaced", 1)]:
        draws = fc.sel(scenario=scenario, region=location, target=target, day=day).values
        code = {"idlib": "SY-ID"}.get(location, location)  # hubverse location of the region
        got = ordered[(ordered.scenario_id == scenario) & (ordered.location == code)
                      & (ordered.target == target) & (ordered.horizon == day)]
        np.testing.assert_allclose(got["value"], np.quantile(draws, got["level"]), atol=0.006)
        mean = q[(q.output_type == "mean") & (q.scenario_id == scenario)
                 & (q.location == code) & (q.target == target) & (q.horizon == day)]
        np.testing.assert_allclose(mean["value"], draws.mean(), atol=0.006)


def test_cumulative_targets_non_decreasing_in_horizon(run):
    _, run_dir = run
    q = pd.read_csv(run_dir / "quantiles.csv")
    cum = q[q.target.str.startswith("cum_")].sort_values(
        ["scenario_id", "location", "target", "output_type", "output_type_id", "horizon"])
    steps = cum.groupby(["scenario_id", "location", "target", "output_type", "output_type_id"],
                        dropna=False)["value"].diff().dropna()
    assert len(steps) > 0 and (steps >= 0).all()


def test_samples_parquet_is_joint_hubverse_sample_format(run):
    result, run_dir = run
    s = pd.read_parquet(run_dir / "samples.parquet")
    assert tuple(s.columns) == HUBVERSE_COLUMNS
    assert set(s["output_type"].astype(str)) == {"sample"}
    n_scen, n_loc, n_tgt = 3, 3, len(TARGETS)
    assert len(s) == n_scen * n_loc * n_tgt * DRAWS * HORIZON
    fc = result.forecast["forecast"]
    # One output_type_id is one trajectory: the rows of draw 17 over horizons are that draw.
    traj = s[(s.scenario_id == "escalation") & (s.location == "SY-ID")
             & (s.target == "cum_deaths") & (s.output_type_id == 17)].sort_values("horizon")
    np.testing.assert_array_equal(traj["horizon"], np.arange(1, HORIZON + 1))
    np.testing.assert_array_equal(
        traj["value"], fc.sel(scenario="escalation", region="idlib", target="cum_deaths",
                              draw=17).values)
    ids = s.groupby(["scenario_id", "location", "target"], observed=True)["output_type_id"]
    assert (ids.nunique() == DRAWS).all()
    assert pd.to_datetime(s["origin_date"].astype(str)).eq("2024-12-01").all()
    end = pd.to_datetime(s["origin_date"].astype(str)) + pd.to_timedelta(s["horizon"], "D")
    assert (pd.to_datetime(s["target_end_date"].astype(str)) == end).all()


def test_samples_parquet_reads_without_surprises(run):
    """Plain strings, dates and numbers (no categoricals): a user's groupby gives no
    FutureWarning, and one scenario or target reads alone through pyarrow filters."""
    import warnings

    import pyarrow.parquet as pq

    result, run_dir = run
    path = run_dir / "samples.parquet"
    schema = pq.read_schema(path)
    assert {f.name: str(f.type) for f in schema} == {
        "origin_date": "date32[day]", "scenario_id": "string", "location": "string",
        "target": "string", "horizon": "int32", "target_end_date": "date32[day]",
        "output_type": "string", "output_type_id": "int32", "value": "float"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # FutureWarning (observed=...) would fail here
        s = pd.read_parquet(path)
        assert not any(isinstance(dtype, pd.CategoricalDtype) for dtype in s.dtypes)
        means = s.groupby(["scenario_id", "target"])["value"].mean()
        assert (s["scenario_id"] == "baseline").sum() == len(s) // 3
    assert len(means) == 3 * len(TARGETS)
    # the documented way to read one scenario and target (models.outputs.hubverse docstring)
    one = pd.read_parquet(path, filters=[("scenario_id", "==", "baseline"),
                                         ("target", "==", "cum_deaths")],
                          columns=["location", "horizon", "output_type_id", "value"])
    assert len(one) == 3 * DRAWS * HORIZON  # three locations (two regions and all)
    expected = s[(s.scenario_id == "baseline") & (s.target == "cum_deaths")]
    np.testing.assert_array_equal(one["value"].to_numpy(), expected["value"].to_numpy())
    fc = result.forecast["forecast"].sel(scenario="baseline", target="cum_deaths", region="all")
    got = one[one.location == "all"].sort_values(["output_type_id", "horizon"])["value"]
    np.testing.assert_array_equal(got.to_numpy(), fc.transpose("draw", "day").values.ravel())


def test_run_json_and_resolved_configs(run):
    result, run_dir = run
    info = json.loads((run_dir / "run.json").read_text())
    assert info["run_id"] == result.run_id
    assert info["config_hash"] == result.primary.config_hash
    assert info["config_hashes"] == result.config_hashes
    assert info["seed"] == result.seed
    assert info["origin"] == "2024-12-01"
    assert info["horizon_days"] == HORIZON and info["draws"] == DRAWS
    assert info["scenario_ids"] == ["escalation", "baseline", "mixture"]
    assert info["weights"] == {"baseline": 0.6, "escalation": 0.4}
    assert info["diagnostics"]["passed"] is True
    assert {"fit", "simulate", "outputs"} <= set(info["timings"])
    for stage in info["timings"].values():
        assert stage["seconds"] >= 0 and stage["peak_mb"] > 0
    assert {"numpy", "pymc", "arviz", "nutpie"} <= set(info["versions"])
    assert info["posterior_fingerprint"] == run_result.posterior_fingerprint(result.idata)
    for name, sid in (("config.resolved.yaml", "escalation"),
                      ("config.baseline.resolved.yaml", "baseline")):
        resolved = yaml.safe_load((run_dir / name).read_text())
        assert config_hash(resolved) == info["config_hashes"][sid]
        assert "extends" not in resolved and resolved["scenario"]["id"] == sid


def test_hubverse_and_views_exports(run):
    result, run_dir = run
    model_id = hubverse.DEFAULT_MODEL_ID
    hub = run_dir / "exports" / "hubverse" / "model-output" / model_id / f"2024-12-01-{model_id}.csv"
    assert tuple(pd.read_csv(hub).columns) == HUBVERSE_COLUMNS
    meta = yaml.safe_load((run_dir / "exports/hubverse/model-metadata" / f"{model_id}.yml")
                          .read_text())
    assert f"{meta['team_abbr']}-{meta['model_abbr']}" == model_id
    views = run_dir / "exports/views/mixture/cm/origin_2024-12-01/mixture.parquet"
    v = pd.read_parquet(views)
    assert list(v.columns) == ["month_id", "country_id", "draw", "outcome"]
    assert set(v["month_id"]) == {541}  # January 2025: the only full month in 62 days
    assert set(v["country_id"]) == {220}
    cum = result.forecast["forecast"].sel(scenario="mixture", target="cum_deaths", region="all")
    np.testing.assert_allclose(v["outcome"], cum.sel(day=61).values - cum.sel(day=30).values)


def test_month_ids_and_monthly_deaths():
    assert month_id(dt.date(1980, 1, 1)) == 1
    assert month_id(dt.date(2024, 11, 15)) == 539  # as in the ViEWS data README
    fc = synthetic_forecast(["baseline"], draws=50, horizon=90, seed=3)
    out = monthly_deaths(fc, dt.date(2024, 12, 1), "baseline", 220)
    assert sorted(out["month_id"].unique()) == [541, 542]  # Jan and Feb 2025; Dec is partial
    cum = fc["forecast"].sel(scenario="baseline", target="cum_deaths", region="all")
    feb = out[out.month_id == 542].sort_values("draw")["outcome"].values
    # 31 Jan = day 61, 28 Feb = day 89 after 1 Dec.
    np.testing.assert_allclose(feb, cum.sel(day=89).values - cum.sel(day=61).values)
    assert monthly_deaths(fc.isel(day=slice(0, 20)), dt.date(2024, 12, 1), "baseline", 220).empty
    assert set(out["country_id"]) == {220}


def test_monthly_deaths_from_an_origin_on_the_last_day_of_a_month():
    """Origin 30 Nov: December is whole (day 1 = 1 Dec), counted from the deaths to the origin."""
    fc = synthetic_forecast(["baseline"], draws=50, horizon=90, seed=3)
    out = monthly_deaths(fc, dt.date(2024, 11, 30), "baseline", 625)
    assert sorted(out["month_id"].unique()) == [540, 541, 542]  # Dec, Jan, Feb (28 Feb = day 90)
    cum = fc["forecast"].sel(scenario="baseline", target="cum_deaths", region="all")
    dec = out[out.month_id == 540].sort_values("draw")["outcome"].values
    at_origin = fc["cum_deaths_at_origin"].sel(region="all").values
    np.testing.assert_allclose(dec, cum.sel(day=31).values - at_origin)
    assert set(out["country_id"]) == {625}


def test_engine_output_writes_and_reloads(tmp_path):
    """Contract with models.simulation.engine: its Dataset (float32 counts, lever variables, event
    days with inf) goes through every tabular format and back unchanged."""
    from support import example_state
    from support.results import load_with_compared, synthetic_idata

    from models.simulation.engine import simulate_scenarios

    loaded = load_with_compared("escalation")
    weights = {"baseline": 0.6, "escalation": 0.4}
    forecast = simulate_scenarios(
        example_state(150, seed=2), {c.config.scenario.id: c.config.assumptions for c in loaded},
        horizon_days=12, seed=11, draws=150, weights=weights)
    result = run_result.RunResult(
        configs=loaded, idata=synthetic_idata(loaded[0]), forecast=forecast,
        diagnostics={"passed": True, "messages": []}, timings={}, seed=11, weights=weights,
        origin=loaded[0].config.episode.origin, run_id=new_run_id(loaded[0].config_hash))
    run_dir = write_run(result, tmp_path, ("netcdf", "csv", "parquet"))
    idata, _ = load_run(run_dir)
    back = idata.scenario_forecast
    assert set(forecast.data_vars) <= set(back.data_vars)
    for name in forecast.data_vars:
        np.testing.assert_array_equal(back[name].values, forecast[name].values)
    s = pd.read_parquet(run_dir / "samples.parquet")
    assert len(s) == forecast["forecast"].size


# --- integrity on reload --------------------------------------------------------------------


def test_load_run_returns_idata_and_run_json(run):
    result, run_dir = run
    idata, info = load_run(run_dir)
    assert info["run_id"] == result.run_id
    assert "scenario_forecast" in idata.groups()


def test_load_run_refuses_config_changed_inside_netcdf(run, tmp_path):
    import h5py

    _, run_dir = run
    copy = tmp_path / run_dir.name
    shutil.copytree(run_dir, copy)
    with h5py.File(copy / "forecast.nc", "r+") as f:
        text = f.attrs["config_yaml"]
        text = text.decode() if isinstance(text, bytes) else text
        assert "seed: 20241201" in text
        f.attrs["config_yaml"] = text.replace("seed: 20241201", "seed: 1")
    with pytest.raises(RunIntegrityError, match=r"forecast\.nc.*does not match its stored hash"):
        load_run(copy)


def test_load_run_refuses_edited_resolved_yaml(run, tmp_path):
    _, run_dir = run
    copy = tmp_path / run_dir.name
    shutil.copytree(run_dir, copy)
    path = copy / "config.baseline.resolved.yaml"
    path.write_text(path.read_text().replace("horizon_days: 90", "horizon_days: 60"))
    with pytest.raises(RunIntegrityError, match=r"config\.baseline\.resolved\.yaml"):
        load_run(copy)


# --- atomic writes --------------------------------------------------------------------------


def small_run(seed: int = 1):
    return synthetic_run("baseline", draws=100, horizon=10, seed=seed)


@pytest.mark.parametrize("error", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_failure_mid_write_leaves_no_partial_run(tmp_path, monkeypatch, error):
    earlier = write_run(small_run(), tmp_path, ("csv",))
    before = tree_digest(earlier)

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(writer, "write_samples_parquet", fail)  # after quantiles.csv
    with pytest.raises(type(error)):
        write_run(small_run(seed=2), tmp_path, ("csv", "parquet"))
    assert [p.name for p in (tmp_path / "baseline").iterdir()] == [earlier.name]
    assert tree_digest(earlier) == before


def test_existing_run_is_never_overwritten(tmp_path):
    result = small_run()
    first = write_run(result, tmp_path, ("csv",))
    before = tree_digest(first)
    with pytest.raises(FileExistsError):
        write_run(result, tmp_path, ("csv",))
    assert tree_digest(first) == before
    assert not [p for p in first.parent.iterdir() if p.name.startswith(TEMP_PREFIX)]


KILL_SCRIPT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from support.results import synthetic_run
    from models.outputs import write

    out, ready = Path(sys.argv[1]), Path(sys.argv[2])

    def stall(*args, **kwargs):  # quantiles.csv is written; hold the write open until killed
        ready.touch()
        time.sleep(120)

    write.write_samples_parquet = stall
    run = synthetic_run("baseline", draws=100, horizon=10, seed=5, with_nowcast=False)
    write.write_run(run, out, ("csv", "parquet"))
""")


def test_killed_process_leaves_no_partial_run(tmp_path):
    """SIGTERM: the writer removes its temporary directory and exits 143. SIGKILL cannot be
    caught: the temporary directory stays, is ignored by list_runs and removed by the next
    write in that directory. Earlier runs are untouched in both cases."""
    script = tmp_path / "writer.py"
    script.write_text(KILL_SCRIPT.format(tests=str(Path(__file__).parents[1])))
    outs, procs = {}, {}
    for sig in (signal.SIGTERM, signal.SIGKILL):
        out = tmp_path / sig.name
        earlier = write_run(small_run(), out, ("csv",))
        outs[sig] = (out, earlier, tree_digest(earlier))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        procs[sig] = subprocess.Popen([sys.executable, str(script), str(out),
                                       str(tmp_path / f"{sig.name}.ready")],
                                      cwd=ROOT, env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    for sig, proc in procs.items():
        ready = tmp_path / f"{sig.name}.ready"
        while not ready.exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "writer never reached the stall point"
            time.sleep(0.05)
        proc.send_signal(sig)
    for proc in procs.values():
        proc.wait(timeout=30)
        proc.stderr.close()
    assert procs[signal.SIGTERM].returncode == 128 + signal.SIGTERM
    assert procs[signal.SIGKILL].returncode == -signal.SIGKILL

    out, earlier, digest = outs[signal.SIGTERM]
    assert [p.name for p in (out / "baseline").iterdir()] == [earlier.name]
    assert tree_digest(earlier) == digest

    out, earlier, digest = outs[signal.SIGKILL]
    leftovers = [p for p in (out / "baseline").iterdir() if p.name.startswith(TEMP_PREFIX)]
    assert len(leftovers) == 1 and (leftovers[0] / "quantiles.csv").exists()
    assert list_runs(out) == [earlier]
    later = write_run(small_run(seed=9), out, ("csv",))
    assert sorted(p.name for p in (out / "baseline").iterdir()) == sorted(
        [earlier.name, later.name])
    assert tree_digest(earlier) == digest


def test_run_ids_sort_by_time_and_are_unique():
    t = dt.datetime(2024, 12, 1, 12, 0, tzinfo=dt.UTC)
    a, b = new_run_id("ab" * 32, now=t), new_run_id("ab" * 32, now=t)
    assert a != b and a.startswith("20241201T120000.000000Z-abababab-")
    later = new_run_id("00" * 32, now=t + dt.timedelta(seconds=1))
    assert sorted([later, a]) == [a, later]


# --- report -----------------------------------------------------------------------------------


def test_report_cites_sources_and_gives_headline_numbers(run):
    result, run_dir = run
    md = to_markdown(report_blocks(result, {}, run_dir))
    cfg = result.primary.config
    for loaded in result.configs:
        for projection in loaded.config.scenario.projections.values():
            assert projection.source.passage in md
    for evidence in cfg.evidence.values():
        assert evidence.source.reporter in md and evidence.source.passage in md
    assert "## Summary" in md and "## Limits of this model" in md
    assert "## Diagnostics" in md and "WARNING" not in md
    # one headline table, horizons with their dates (90 > horizon: left out)
    assert "| Scenario | Target (people, all regions) | day 7 (8 Dec) | day 30 (31 Dec) |" in md
    for scenario in ("escalation", "baseline", "mixture"):
        assert f"| {scenario} | Deaths since the episode start, all actors |" in md
    for loaded in result.configs:
        assert f"### {loaded.config.scenario.id}: {loaded.config.scenario.title}" in md
    # Headline cells are the quantiles of quantiles.csv, rounded to 3 significant digits.
    q = pd.read_csv(run_dir / "quantiles.csv")
    cell = q[(q.scenario_id == "mixture") & (q.location == "all") & (q.target == "cum_deaths")
             & (q.horizon == 30) & (q.output_type == "quantile")].set_index("output_type_id")
    lo, med, hi = (f"{round_sig(cell.loc[level, 'value']):,.0f}" for level in (0.05, 0.5, 0.95))
    assert f"| {med} ({lo} to {hi}) |" in md


def test_report_is_loud_when_diagnostics_failed():
    result = synthetic_run("baseline", draws=100, horizon=10, diagnostics_passed=False)
    md = to_markdown(report_blocks(result, {}, Path(".")))
    head = md[: md.index("## Evidence")]
    assert "WARNING" in head and "FAILED" in head
    summary = md[md.index("## Summary"):md.index("| Scenario |")]
    assert "Sampler diagnostics FAILED" in summary  # in the answer itself, not only above it
    assert "12 divergent transitions" in md


def test_report_gives_the_answer_first_with_contents(run):
    """Summary paragraph and headline table first, then a table of contents, then evidence,
    assumptions, diagnostics and limits; every section is linked from the contents."""
    from models.outputs.blocks import to_html

    result, run_dir = run
    blocks = report_blocks(result, {}, run_dir)
    md = to_markdown(blocks)
    order = ["# ", "## Summary", "As of 1 December 2024, the 'escalation' scenario puts deaths",
             "| Scenario |", "**Contents**", "## Evidence", "## What informs the nowcast",
             "## Assumptions: the scenarios and their sources", "## Diagnostics",
             "## Limits of this model"]
    positions = [md.index(text) for text in order]
    assert positions == sorted(positions)
    summary = md[md.index("## Summary"):md.index("| Scenario |")]
    assert "'escalation' is higher in" in summary and "of paired draws" in summary
    assert "mixture of the scenarios (baseline 60%, escalation 40%)" in summary
    for heading in ("Summary", "Evidence", "Diagnostics", "Limits of this model"):
        slug = heading.lower().replace(" ", "-")
        assert f"- [{heading}](#{slug})" in md
    page = to_html(blocks, "t")
    assert '<nav class="contents">' in page and '<h2 id="limits-of-this-model">' in page
    assert '<a href="#assumptions-the-scenarios-and-their-sources">' in page
    assert 'name="viewport"' in page


def test_limits_are_written_from_the_config():
    """Not 'published within days of the start of the episode' whatever the episode: the
    documents' dates against this episode's start and origin, its regions and populations."""
    from models.outputs.report import limits

    goma = " ".join(limits(synthetic_run("goma-escalation", draws=50, horizon=10)))
    assert "within days" not in goma
    assert "published between 28 Jan and 31 Jan 2025 (2 to 5 days after the episode start on " \
           "26 Jan 2025)" in goma
    assert "North Kivu 1.5 M to 2.2 M" in goma and "South Kivu 1 M to 1.6 M" in goma
    assert "latest document is dated 31 Jan 2025 and the forecast origin is 31 Jan 2025" in goma
    syria = " ".join(limits(synthetic_run("escalation", draws=50, horizon=10)))
    assert "published between 30 Nov and 1 Dec 2024 (3 to 4 days after the episode start" in syria
    assert "Aleppo 1.8 M to 2.2 M; Idlib 3.6 M to 4.4 M" in syria
    assert "mixture weights" in syria
    assert "mixture weights" not in " ".join(limits(synthetic_run("baseline", draws=50,
                                                                  horizon=10)))


# --- progress ---------------------------------------------------------------------------------


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_only_on_a_terminal_and_not_quiet():
    for stream, quiet, shown in ((io.StringIO(), False, False), (FakeTerminal(), True, False),
                                 (FakeTerminal(), False, True)):
        assert progress_enabled(stream, quiet) is shown
        with Progress("simulate", total=4, stream=stream, quiet=quiet, min_interval=0) as p:
            for _ in range(4):
                p.update()
        text = stream.getvalue()
        assert bool(text) is shown
        if shown:
            assert "simulate: done in" in text and "s, 4/4" in text
            assert "━" in text  # rich's bar was drawn


def test_progress_notes_go_above_the_bar_or_back_to_the_caller():
    shown, hidden = FakeTerminal(), io.StringIO()
    with Progress("tasks", total=2, stream=shown, min_interval=0) as p:
        assert p.note("[1/2] SYR done (3 s)") is True
        p.update()
    assert "[1/2] SYR done (3 s)" in shown.getvalue()
    with Progress("tasks", total=2, stream=hidden) as p:
        assert p.note("[1/2] SYR done (3 s)") is False  # a log: the caller prints its line
    assert hidden.getvalue() == ""
