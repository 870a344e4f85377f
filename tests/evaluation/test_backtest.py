"""The rolling-origin backtest (:mod:`models.evaluation.backtest`): no data after an origin
reaches its forecasts, the outputs have the promised format, the library call and the command
line give the same outputs, and bad configs (old key names included) give one line per problem
with file, line and key (exit 2). The monthly model itself: ``tests/inference/test_monthly.py``.

Fast tests replace NUTS by a cheap forecaster with the same interface; the tests that compile
and sample the real model are marked slow (each well under 2 minutes on 2 cores).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import models.evaluation.backtest.loop as loop
import models.evaluation.backtest.pipeline as pipeline
from models.cli.backtest import main
from models.data import month_date, month_id
from models.evaluation.backtest import (
    MARKER,
    MODEL_NAME,
    BacktestSettings,
    OriginForecast,
    backtest_from_config,
    crps_ratios,
    outcomes_after,
    run_backtest,
    scores_table,
    write_outputs,
)
from models.inference.monthly import LatentNBForecaster
from scenarios.backtest_config import ConfigError, load_backtest_config

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ("zero", "last", "conflictology", "bootstrap")
POISON = 1e9


def synthetic_deaths(n_months: int = 60, first: int = month_id("2015-01-01"),
                     seed: int = 1) -> pd.DataFrame:
    """A tidy monthly series (month_id, date, country_id, deaths): NB counts around a slowly
    wandering level of a few hundred deaths a month."""
    rng = np.random.default_rng(seed)
    log_level = np.log(300) + np.cumsum(rng.normal(0, 0.15, n_months))
    deaths = rng.negative_binomial(10, 10 / (10 + np.exp(log_level))).astype(float)
    months = np.arange(first, first + n_months)
    return pd.DataFrame({"month_id": months, "date": month_date(months), "country_id": 220,
                         "deaths": deaths})


class RecordingForecaster:
    """A cheap stand-in for ``latent_nb``: NB draws around the mean of the last 6 months of the
    history it is given (so leaked data would change its draws), recording what it saw."""

    def __init__(self):
        self.seen: list[tuple[int, float]] = []  # (latest month seen, largest count seen)

    def __call__(self, history, horizons, draws, seed):
        self.seen.append((int(history["month_id"].max()), float(history["deaths"].max())))
        mean = history["deaths"].to_numpy()[-6:].mean()
        rng = np.random.default_rng(seed)
        return OriginForecast(rng.negative_binomial(5, 5 / (5 + mean), (draws, horizons))
                              .astype(float), {"fit_seconds": 0.0})


def settings(origins, draws=200, horizons=12):
    return BacktestSettings(origins=tuple(origins), horizons=horizons, draws=draws,
                            seed=7, benchmarks=BENCHMARKS)


def poisoned_after(deaths: pd.DataFrame, origin: int) -> pd.DataFrame:
    out = deaths.copy()
    out.loc[out["month_id"] > origin, "deaths"] = POISON
    return out


# --- leakage ----------------------------------------------------------------------------------


def test_forecasts_never_see_a_month_after_their_origin():
    """Every forecaster call gets history up to its origin only, and every model's draws at an
    origin are identical whether the months after it are real or poisoned (1e9 deaths)."""
    deaths = synthetic_deaths()
    origins = [month_id("2017-01-01"), month_id("2017-06-01"), month_id("2018-03-01")]
    clean_fc = RecordingForecaster()
    clean = run_backtest(deaths, settings(origins), clean_fc, keep_samples=True)
    assert [m for m, _ in clean_fc.seen] == origins
    for origin in origins:
        fc = RecordingForecaster()
        poisoned = run_backtest(poisoned_after(deaths, origin), settings([origin]), fc,
                                keep_samples=True)
        assert fc.seen[0][0] == origin and fc.seen[0][1] < POISON
        for name, x in poisoned.samples[origin].items():
            np.testing.assert_array_equal(x, clean.samples[origin][name], err_msg=name)
            assert x.max() < POISON
        # the poison does reach the outcomes, so the test would see a leak if there were one
        assert (poisoned.forecast_scores["observed"] == POISON).all()


def test_history_is_read_only_through_series_as_of(monkeypatch):
    """The backtest loop reads history through models.data.series_as_of (wrapped here to
    record the month it is asked for); each origin asks exactly once, for itself."""
    calls = []
    original = loop.series_as_of

    def recording(df, origin_month_id):
        calls.append(origin_month_id)
        return original(df, origin_month_id)

    monkeypatch.setattr(loop, "series_as_of", recording)
    origins = [month_id("2017-01-01"), month_id("2017-04-01")]
    run_backtest(synthetic_deaths(), settings(origins), RecordingForecaster())
    assert calls == origins


# --- outputs ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_result():
    deaths = synthetic_deaths()
    origins = list(range(month_id("2016-06-01"), month_id("2017-06-01") + 1))
    return run_backtest(deaths, settings(origins, horizons=6), RecordingForecaster())


def test_scores_table_has_exactly_the_columns_and_every_model_metric_horizon(small_result):
    scores = scores_table(small_result.forecast_scores)
    assert list(scores.columns) == ["model", "horizon", "metric", "value"]
    assert list(pd.unique(scores["model"])) == [MODEL_NAME, *BENCHMARKS]
    required = {"crps", "log_score", "binned_log_score", "mis_90", "coverage_50", "coverage_90"}
    assert required <= set(scores["metric"])
    assert set(scores["horizon"]) == set(range(1, 7))
    assert not scores.duplicated(["model", "horizon", "metric"]).any()
    # a value is the mean over origins of the per-forecast score
    fs = small_result.forecast_scores
    one = fs[(fs["model"] == "conflictology") & (fs["horizon"] == 3)]["crps"].mean()
    got = scores.query("model == 'conflictology' and horizon == 3 and metric == 'crps'")["value"]
    assert got.item() == pytest.approx(one, rel=1e-12)


def test_crps_ratio_is_ratio_of_sums_with_an_interval_around_it(small_result):
    fs = small_result.forecast_scores
    r = crps_ratios(fs, "conflictology", block=3, seed=0)
    for _, row in r.iterrows():
        g = fs[fs["horizon"] == row["horizon"]].pivot(index="origin", columns="model",
                                                      values="crps")
        assert row["ratio"] == pytest.approx(g[MODEL_NAME].sum() / g["conflictology"].sum())
        assert row["low"] <= row["ratio"] <= row["high"]
        assert row["n"] == 13


def test_outcomes_after_returns_the_following_months_by_horizon():
    deaths = synthetic_deaths(n_months=24)
    origin = int(deaths["month_id"].iloc[20])
    out = outcomes_after(deaths, origin, 12)
    assert list(out.index) == [1, 2, 3]  # the data end 3 months after this origin
    np.testing.assert_array_equal(out.to_numpy(), deaths["deaths"].to_numpy()[21:24])


def test_origins_before_enough_history_are_refused():
    deaths = synthetic_deaths(n_months=30)
    with pytest.raises(ValueError, match="origins -> first: 2015-06 has fewer than 24 months"):
        run_backtest(deaths, settings([month_id("2015-06-01")]), RecordingForecaster(), window=24)


# --- config and CLI ---------------------------------------------------------------------------


def write_views_csv(path: Path, deaths: pd.DataFrame) -> Path:
    """A ViEWS country-month file (all deaths as state-based)."""
    pd.DataFrame({"month_id": deaths["month_id"], "country_id": 220,
                  "ged_sb": deaths["deaths"].astype(int), "ged_os": 0, "ged_ns": 0}).to_csv(
        path, index=False)
    return path


CONFIG = """\
schema_version: 1
name: synthetic
data:
  path: deaths.csv
  country: 220
origins:
  first: 2017-01
  last: 2017-12
  step_months: 1
model:
  window_months: 24
  trend_damping: 0.8
forecast: {horizons: 6, draws: 200, seed: 3}
sampler: {chains: 2, tune: 100, posterior_draws: 100, target_accept: 0.9}
quick: {origins: 2, draws: 100, tune: 100, posterior_draws: 50}
"""


@pytest.fixture
def config_dir(tmp_path):
    write_views_csv(tmp_path / "deaths.csv", synthetic_deaths())
    (tmp_path / "backtest.yaml").write_text(CONFIG, encoding="utf-8")
    return tmp_path


def test_config_paths_resolve_against_the_config_file(config_dir, monkeypatch):
    monkeypatch.chdir(ROOT)  # not the config's directory
    loaded = load_backtest_config(config_dir / "backtest.yaml")
    assert loaded.data_path == (config_dir / "deaths.csv").resolve()
    quick = BacktestSettings.from_config(loaded, quick=True)
    full = BacktestSettings.from_config(loaded)
    assert len(full.origins) == 12 and quick.origins == (full.origins[0], full.origins[-1])
    assert quick.draws == 100 and full.draws == 200


def test_shipped_config_is_valid():
    c = load_backtest_config(ROOT / "configs" / "backtest-syria.yaml").config
    assert c.forecast.horizons == 12 and list(c.benchmarks) == list(BENCHMARKS)


BAD_CONFIGS = [
    # (replace this, with this, the exact message)
    ("  window_months: 24", "  windw_months: 24",
     "{cfg}:11: model -> windw_months: unknown key 'windw_months'. Did you mean "
     "'window_months'? Allowed here: name, window_months, trend_damping, december_effect, "
     "ar_anchor, innovations, innovation_nu, persistence, level_prior_months, priors"),
    ("  first: 2017-01", "  first: 2017-13",
     "{cfg}:7: origins -> first: expected a month as YYYY-MM, got '2017-13'"),
    ("  last: 2017-12", "  last: 2016-12",
     "{cfg}:7: origins: last (2016-12) is before first (2017-01)"),
    ("  path: deaths.csv", "  path: missing.csv",
     "{cfg}:4: data -> path: file not found: {dir}/missing.csv (relative paths are resolved "
     "against the config file's directory)"),
    ("  first: 2017-01", "  first: 2016-06",
     "{cfg}:7: origins -> first: 2016-06 has fewer than 24 months of data before it (data "
     "start 2015-01)"),
    ("  country: 220", "  country: 96",
     "{cfg}:5: data -> country: {dir}/deaths.csv: no rows for country 96 (found: Syria (220))"),
    ("forecast: {horizons: 6,", "forecast: {horizons: 0,",
     "{cfg}:13: forecast -> horizons: Input should be greater than or equal to 1"),
    ("schema_version: 1", "schema_version: 2",
     "{cfg}:1: schema_version: Input should be 1 (got 2)"),
]


def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "models.backtest", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


def _break_config(config_dir, old, new):
    cfg = config_dir / "backtest.yaml"
    text = cfg.read_text(encoding="utf-8")
    assert old in text
    cfg.write_text(text.replace(old, new), encoding="utf-8")
    return cfg


@pytest.mark.parametrize(("old", "new", "message"), BAD_CONFIGS,
                         ids=[b[2].split(": ")[1] + "-" + str(i) for i, b in enumerate(BAD_CONFIGS)])
def test_bad_config_gives_one_line_with_file_line_key_and_exit_2(config_dir, capsys, old, new,
                                                                 message):
    cfg = _break_config(config_dir, old, new)
    assert main([str(cfg), "--out", str(config_dir / "out"), "--quiet"]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == "error: " + message.format(cfg=cfg.resolve(),
                                                              dir=config_dir.resolve())
    assert captured.out == ""
    assert not (config_dir / "out").exists()


def test_bad_config_from_the_command_line_exits_2_without_traceback(config_dir):
    old, new, message = BAD_CONFIGS[0]
    cfg = _break_config(config_dir, old, new)
    p = run_cli(cfg, "--out", config_dir / "out")
    assert p.returncode == 2
    assert p.stderr.strip() == "error: " + message.format(cfg=cfg.resolve())
    assert "Traceback" not in p.stderr and p.stdout == ""


DRAWS = "'draws' means Monte Carlo draws in every config"
OLD_KEYS = [
    # (replace this, with this, the exact lines): the first layout's names say their new names
    ("forecast: {horizons: 6, draws: 200,", "forecast: {horizons: 6, samples: 200,",
     ["{cfg}:13: forecast.samples: renamed to 'forecast -> draws' (Monte Carlo draws per "
      f"forecast; {DRAWS})"]),
    ("sampler: {chains: 2, tune: 100, posterior_draws: 100,",
     "sampler: {name: nutpie, chains: 2, tune: 100, draws: 100,",
     ["{cfg}:14: sampler.draws: renamed to 'sampler -> posterior_draws' (NUTS draws per chain; "
      f"{DRAWS})",
      "{cfg}:14: sampler.name: renamed to 'sampler -> backend' (as in scenario configs)"]),
    ("quick: {origins: 2, draws: 100, tune: 100, posterior_draws: 50}",
     "quick: {origins: 2, samples: 100, tune: 100, draws: 50}",
     ["{cfg}:15: quick.samples: renamed to 'quick -> draws' (Monte Carlo draws of --quick; "
      f"{DRAWS})",
      "{cfg}:15: quick.draws: renamed to 'quick -> posterior_draws' (beside 'samples', 'draws' "
      f"meant NUTS draws per chain; {DRAWS})"]),
]


@pytest.mark.parametrize(("old", "new", "lines"), OLD_KEYS, ids=["forecast", "sampler", "quick"])
def test_an_old_key_names_its_new_name_and_exits_2(config_dir, capsys, old, new, lines):
    cfg = _break_config(config_dir, old, new)
    assert main([str(cfg), "--out", str(config_dir / "out"), "--quiet"]) == 2
    expected = [f"error: {line.format(cfg=cfg.resolve())}" for line in lines]
    assert capsys.readouterr().err.splitlines() == expected
    assert not (config_dir / "out").exists()


def test_shipped_config_uses_the_new_names():
    text = (ROOT / "configs" / "backtest-syria.yaml").read_text(encoding="utf-8")
    assert "samples:" not in text and "posterior_draws: 1000" in text


def test_every_problem_is_reported_at_once(config_dir):
    cfg = config_dir / "backtest.yaml"
    text = cfg.read_text(encoding="utf-8").replace("  window_months: 24", "  windw_months: 24")
    cfg.write_text(text.replace("  first: 2017-01", "  first: 2017-13"), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_backtest_config(cfg)
    assert len(err.value.messages) == 2


def test_cli_end_to_end_with_a_stand_in_model(config_dir, monkeypatch, capsys):
    """The whole CLI (config, data, loop, tables, plots, summary, atomic write) with the cheap
    forecaster in place of NUTS; a second run replaces the first output directory."""
    class StandIn(RecordingForecaster):
        def __init__(self, window, **kwargs):
            super().__init__()
            self.model = type("M", (), {"compiled": lambda self: None, "compile_seconds": 0.0})()

    monkeypatch.setattr(pipeline, "LatentNBForecaster", StandIn)
    out = config_dir / "out"
    assert main([str(config_dir / "backtest.yaml"), "--out", str(out), "--quiet"]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"scores.csv", "forecast_scores.csv", "fits.csv", "summary.md", "run.json",
            "crps_by_horizon.png", "calibration.png", "config.resolved.json"} <= names
    scores = pd.read_csv(out / "scores.csv")
    assert list(scores.columns) == ["model", "horizon", "metric", "value"]
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "| horizon | zero | last | conflictology | bootstrap |" in summary
    assert "CRPS below conflictology at horizons 1-3" in summary
    first = (out / "scores.csv").read_bytes()
    assert main([str(config_dir / "backtest.yaml"), "--out", str(out), "--quiet",
                 "--quick"]) == 0
    assert (out / "scores.csv").read_bytes() != first  # replaced by the quick run
    assert not [p for p in config_dir.iterdir() if p.name.startswith(".tmp-")]  # no leftovers


def test_library_call_writes_what_the_command_line_writes(config_dir, monkeypatch):
    """load_backtest_config + backtest_from_config + write_outputs (what notebook 04 does) give
    the same scores and per-forecast scores as ``main`` (stand-in model for NUTS)."""
    class StandIn(RecordingForecaster):
        def __init__(self, window, **kwargs):
            super().__init__()

    monkeypatch.setattr(pipeline, "LatentNBForecaster", StandIn)
    cfg = config_dir / "backtest.yaml"
    assert main([str(cfg), "--out", str(config_dir / "cli"), "--quiet", "--quick"]) == 0
    run = backtest_from_config(load_backtest_config(cfg), quick=True)
    out = write_outputs(run.result, config_dir / "lib", run.meta)
    assert (out / MARKER).is_file()
    for name in ("scores.csv", "forecast_scores.csv"):
        assert (out / name).read_bytes() == (config_dir / "cli" / name).read_bytes(), name
    assert run.meta["sampler"] == {"chains": 2, "tune": 100, "posterior_draws": 50,
                                   "target_accept": 0.9}


def test_cli_refuses_to_overwrite_a_directory_it_did_not_write(config_dir, capsys):
    out = config_dir / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    assert main([str(config_dir / "backtest.yaml"), "--out", str(out), "--quiet"]) == 2
    assert "exists and is not a backtest output directory" in capsys.readouterr().err
    assert (out / "notes.txt").read_text(encoding="utf-8") == "keep me"


# --- any country, several countries ---------------------------------------------------------


def write_panel_csv(path: Path, series: dict[str, pd.DataFrame]) -> Path:
    """An all-country ViEWS panel: ISO code -> a tidy series (all deaths as state-based)."""
    from scenarios.geography import resolve_country

    pd.concat([pd.DataFrame({"month_id": d["month_id"],
                             "country_id": resolve_country(iso).views_id,
                             "ged_sb": d["deaths"].astype(int), "ged_os": 0, "ged_ns": 0})
               for iso, d in series.items()]).to_csv(path, index=False)
    return path


COUNTRIES = {"SDN": 1, "MLI": 2, "KEN": 3}


@pytest.fixture
def panel_dir(tmp_path):
    write_panel_csv(tmp_path / "panel.csv", {iso: synthetic_deaths(seed=seed)
                                             for iso, seed in COUNTRIES.items()})
    for name, data in (("sudan.yaml", "  country: sdn"),
                       ("countries.yaml", "  countries: [SDN, Mali, KEN]")):
        (tmp_path / name).write_text(CONFIG.replace("  path: deaths.csv\n  country: 220",
                                                    f"  path: panel.csv\n{data}"),
                                     encoding="utf-8")
    return tmp_path


class StandIn(RecordingForecaster):
    def __init__(self, window, **kwargs):
        super().__init__()
        self.prior_rule = kwargs.get("prior_rule")


def test_another_countrys_config_runs_end_to_end_with_its_code(panel_dir, monkeypatch):
    """A config naming SDN (any case) reads Sudan's rows of an all-country panel, runs (stand-in
    model) and says SDN in its outputs; its prior rule is Sudan's."""
    monkeypatch.setattr(pipeline, "LatentNBForecaster", StandIn)
    loaded = load_backtest_config(panel_dir / "sudan.yaml")
    assert loaded.config.data.country == "SDN" and pipeline.units(loaded)[0].views_id == 245
    deaths = pipeline.load_backtest_data(loaded)
    assert set(deaths["country_id"]) == {245}
    out = panel_dir / "out"
    assert main([str(panel_dir / "sudan.yaml"), "--out", str(out), "--quiet", "--quick"]) == 0
    assert "Unit SDN" in (out / "summary.md").read_text(encoding="utf-8")
    run = backtest_from_config(loaded, quick=True)
    assert run.meta["country"] == "SDN" and run.meta["priors"].startswith("rule")
    assert pipeline.prior_rule(loaded, pipeline.units(loaded)[0]).unit == "SDN"


def test_a_config_with_a_list_runs_every_country_and_writes_the_table(panel_dir, monkeypatch):
    """data.countries: one run per country (stand-in model), DIR/<ISO3>/ with the usual files,
    countries.md and countries.csv with one row per country and the pooled figures;
    --countries runs a subset."""
    monkeypatch.setattr(pipeline, "LatentNBForecaster", StandIn)
    cfg = panel_dir / "countries.yaml"
    assert [u.label for u in pipeline.units(load_backtest_config(cfg))] == ["SDN", "MLI", "KEN"]
    out = panel_dir / "out"
    assert main([str(cfg), "--out", str(out), "--quiet", "--quick"]) == 0
    table = pd.read_csv(out / "countries.csv")
    assert list(table["country"]) == ["SDN", "MLI", "KEN"]
    assert {"ratio_h1", "ratio_h2", "ratio_h3", "ratio_h1_3", "coverage_90"} <= set(table)
    assert (table["origins"] == 2).all()
    for iso in COUNTRIES:
        assert {"scores.csv", "forecast_scores.csv", "summary.md"} <= {
            p.name for p in (out / iso).iterdir()}
    md = (out / "countries.md").read_text(encoding="utf-8")
    assert "median h1-3 ratio to conflictology across countries" in md and "| KEN Kenya |" in md
    assert main([str(cfg), "--out", str(out), "--quiet", "--quick", "--countries", "mli"]) == 0
    assert list(pd.read_csv(out / "countries.csv")["country"]) == ["MLI"]


BAD_COUNTRY_CONFIGS = [
    ("  country: sdn", "  country: SDX",
     "{cfg}:5: data -> country: unknown country code 'SDX': expected an ISO 3166-1 alpha-3 code "
     "such as 'SYR' or 'SDN' (table: scenarios/country_codes.csv). Did you mean 'SSD' (South "
     "Sudan)?"),
    ("  country: sdn", "  country: sdn\n  countries: [MLI]",
     "{cfg}:4: data: give either 'country' (one unit) or 'countries' (a list)"),
    ("  country: sdn", "  country: UGA",
     "{cfg}:5: data -> country: UGA (ViEWS country_id 235, GW 500): {dir}/panel.csv: no rows "
     "for country 235 (found: country_id 50 (50), country_id 237 (237), country_id 245 (245))"),
]


@pytest.mark.parametrize(("old", "new", "message"), BAD_COUNTRY_CONFIGS,
                         ids=["unknown-code", "both", "not-in-file"])
def test_bad_country_gives_one_line_and_exit_2(panel_dir, capsys, old, new, message):
    cfg = panel_dir / "sudan.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    assert main([str(cfg), "--out", str(panel_dir / "out"), "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == "error: " + message.format(
        cfg=cfg.resolve(), dir=panel_dir.resolve())


def test_countries_option_names_only_listed_countries(panel_dir, capsys):
    cfg = panel_dir / "countries.yaml"
    assert main([str(cfg), "--out", str(panel_dir / "out"), "--countries", "UGA"]) == 2
    assert "--countries: not in" in capsys.readouterr().err
    assert main([str(panel_dir / "sudan.yaml"), "--out", str(panel_dir / "o"),
                 "--countries", "SDN"]) == 2


def test_shipped_country_configs_are_valid_and_the_list_follows_the_rule(shared_data):
    """configs/backtest-sudan.yaml and -countries.yaml validate; the cross-country list is
    exactly the selection rule applied to the months before the first origin (>= 12 active
    months in the 24 before it), so no later data chose the countries."""
    from models.evaluation.backtest import active_countries
    from models.inference.monthly_priors import load_pool_panel

    assert load_backtest_config(ROOT / "configs" / "backtest-sudan.yaml").config.data.country \
        == "SDN"
    loaded = load_backtest_config(ROOT / "configs" / "backtest-countries.yaml")
    c = loaded.config
    assert len(c.data.countries) >= 20 and c.model.december_effect is False
    assert (c.origins.first, c.model.window_months, c.forecast.horizons) == ("2020-01", 24, 12)
    panel = load_pool_panel(str(loaded.pool_path))
    first = month_id(f"{c.origins.first}-01")
    assert c.data.countries == active_countries(panel, first)
    # the rule reads no month at or after the first origin
    later = panel.assign(deaths=np.where(panel["month_id"] >= first, 0, panel["deaths"]))
    assert active_countries(later, first) == c.data.countries


# --- the real model (NUTS) ----------------------------------------------------------------------


@pytest.mark.slow
def test_real_model_is_not_changed_by_data_after_the_origin():
    """latent_nb compiled and fitted (small draws) at one origin on a clean and a poisoned
    series: identical draws for every model, and forecasts on the scale of the data."""
    deaths = synthetic_deaths(n_months=40)
    origin = int(deaths["month_id"].iloc[30])
    fc = LatentNBForecaster(24, damping=0.8, chains=2, tune=150, posterior_draws=100,
                            target_accept=0.9)
    s = settings([origin], draws=200, horizons=6)
    clean = run_backtest(deaths, s, fc, window=24, keep_samples=True)
    poisoned = run_backtest(poisoned_after(deaths, origin), s, fc, window=24, keep_samples=True)
    for name, x in clean.samples[origin].items():
        np.testing.assert_array_equal(poisoned.samples[origin][name], x, err_msg=name)
    ours = clean.samples[origin][MODEL_NAME]
    recent = deaths["deaths"].to_numpy()[25:31].mean()
    assert 0.2 * recent < np.median(ours[:, 0]) < 5 * recent
    assert clean.fits["divergences"].iloc[0] >= 0 and np.isfinite(clean.fits["max_rhat"].iloc[0])


@pytest.mark.slow
def test_cli_quick_run_with_nuts(config_dir):
    """python -m models.backtest --quick on a synthetic ViEWS file: exit 0 and every output."""
    out = config_dir / "out"
    p = run_cli(config_dir / "backtest.yaml", "--out", out, "--quick", "--quiet")
    assert p.returncode == 0, p.stderr[-2000:]
    scores = pd.read_csv(out / "scores.csv")
    assert list(scores.columns) == ["model", "horizon", "metric", "value"]
    assert set(scores["model"]) == {MODEL_NAME, *BENCHMARKS}
    fits = pd.read_csv(out / "fits.csv")
    assert len(fits) == 2 and (fits["fit_seconds"] > 0).all()
    assert textwrap.dedent("## NUTS diagnostics") in (out / "summary.md").read_text()


@pytest.mark.slow
def test_quick_run_with_nuts_for_another_country(shared_data, tmp_path):
    """configs/backtest-sudan.yaml --quick with real NUTS: exit 0, Sudan's priors recorded per
    fit (partially pooled level prior, no fallback), scores for every model."""
    p = run_cli(ROOT / "configs" / "backtest-sudan.yaml", "--out", tmp_path / "out", "--quick",
                "--quiet")
    assert p.returncode == 0, p.stderr[-2000:]
    fits = pd.read_csv(tmp_path / "out" / "fits.csv")
    assert len(fits) == 3 and fits["prior_intensity_source"].str.startswith("partial").all()
    assert fits["prior_messages"].isna().all()
    assert set(pd.read_csv(tmp_path / "out" / "scores.csv")["model"]) == {MODEL_NAME, *BENCHMARKS}
