"""The Dask path of the heavy jobs gives the serial path's results for the same seeds: the
cross-country backtest by country and by origin, a failed task reported with its inputs and the
rest kept (fast tier: an in-process cluster); the same on a LocalCluster of two worker processes,
and SBC replicates (slow tier)."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from models.data import month_date, month_id
from models.evaluation.backtest import backtest_countries, backtest_from_config
from models.evaluation.distributed import backtest_distributed, cluster, map_tasks
from models.inference.monthly import OriginForecast
from scenarios.backtest_config import load_backtest_config

CONFIG = """\
schema_version: 1
name: synthetic
data:
  path: panel.csv
  countries: [SDN, MLI]
origins:
  first: 2017-01
  last: 2017-12
  step_months: 1
model:
  window_months: 24
  trend_damping: 0.8
forecast: {horizons: 6, draws: 200, seed: 3}
sampler: {chains: 2, tune: 100, posterior_draws: 100, target_accept: 0.9}
quick: {origins: 3, draws: 100, tune: 100, posterior_draws: 50}
"""
FAIL_MONTH = month_id("2017-07-01")
"""The middle of the three quick origins (2017-01, -07, -12), where :class:`FailingForecaster`
fails (MLI only)."""


class StandIn:
    """A cheap, deterministic stand-in for ``latent_nb`` (picklable: no compiled model)."""

    def __call__(self, history, horizons, draws, seed):
        mean = history["deaths"].to_numpy()[-6:].mean()
        rng = np.random.default_rng(seed)
        return OriginForecast(rng.negative_binomial(5, 5 / (5 + mean), (draws, horizons))
                              .astype(float), {"fit_seconds": 0.0})


class FailingForecaster(StandIn):
    def __call__(self, history, horizons, draws, seed):
        if history["month_id"].max() == FAIL_MONTH and history["deaths"].iloc[0] == 777:
            raise ValueError("no convergence")
        return super().__call__(history, horizons, draws, seed)


def _series(seed: int, first_value: float | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n, first = 60, month_id("2015-01-01")
    level = np.log(300) + np.cumsum(rng.normal(0, 0.15, n))
    deaths = rng.negative_binomial(10, 10 / (10 + np.exp(level))).astype(float)
    if first_value is not None:
        deaths[0] = first_value
    months = np.arange(first, first + n)
    return pd.DataFrame({"month_id": months, "date": month_date(months), "deaths": deaths})


@pytest.fixture
def panel(tmp_path):
    from scenarios.geography import resolve_country

    pd.concat([pd.DataFrame({"month_id": d["month_id"],
                             "country_id": resolve_country(iso).views_id,
                             "ged_sb": d["deaths"].astype(int), "ged_os": 0, "ged_ns": 0})
               for iso, d in (("SDN", _series(1)), ("MLI", _series(2, first_value=777)))]
              ).to_csv(tmp_path / "panel.csv", index=False)
    (tmp_path / "countries.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "one.yaml").write_text(CONFIG.replace("countries: [SDN, MLI]", "country: MLI"),
                                       encoding="utf-8")
    return tmp_path


def _same(serial, distributed) -> None:
    """Equal scores and fits (fit wall times aside), origin by origin."""
    pd.testing.assert_frame_equal(serial.forecast_scores, distributed.forecast_scores)
    drop = ["forecast_seconds"]
    pd.testing.assert_frame_equal(serial.fits.drop(columns=drop),
                                  distributed.fits.drop(columns=drop))
    assert serial.settings == distributed.settings


@pytest.fixture(scope="module")
def in_process():
    with cluster(workers=2, processes=False) as client:
        yield client


@pytest.mark.parametrize("per", ["country", "origin"])
def test_cross_country_backtest_equals_the_serial_run(panel, in_process, per):
    loaded = load_backtest_config(panel / "countries.yaml")
    serial = backtest_countries(loaded, quick=True, forecaster=StandIn())
    lines = []
    dist = backtest_distributed(loaded, quick=True, forecaster=StandIn(), client=in_process,
                                per=per, progress=lines.append)
    assert list(dist.runs) == list(serial.runs) == ["SDN", "MLI"]
    for label in serial.runs:
        _same(serial.runs[label].result, dist.runs[label].result)
    record = dist.meta["distributed"]
    assert record["per"] == per and record["failed"] == []
    assert record["tasks"] == (2 if per == "country" else 6)
    assert sum("done" in line for line in lines) == record["tasks"]  # progress per task


def test_one_country_by_origin_equals_the_serial_run(panel, in_process):
    loaded = load_backtest_config(panel / "one.yaml")
    serial = backtest_from_config(loaded, quick=True, forecaster=StandIn())
    dist = backtest_distributed(loaded, quick=True, forecaster=StandIn(), client=in_process,
                                per="origin")
    _same(serial.result, dist.result)


def test_a_failed_task_is_reported_with_its_inputs_and_the_rest_kept(panel, in_process):
    loaded = load_backtest_config(panel / "countries.yaml")
    lines = []
    dist = backtest_distributed(loaded, quick=True, forecaster=FailingForecaster(),
                                client=in_process, per="origin", progress=lines.append)
    (failed,) = dist.meta["distributed"]["failed"]
    assert f"MLI/{FAIL_MONTH}" in failed and "origin=" in failed and "no convergence" in failed
    assert any("failed" in line for line in lines)
    assert len(dist.runs["SDN"].result.settings.origins) == 3
    assert FAIL_MONTH not in dist.runs["MLI"].result.settings.origins
    assert len(dist.runs["MLI"].result.settings.origins) == 2


def test_map_tasks_keeps_the_order_of_the_tasks(in_process):
    out, failures = map_tasks(in_process, _square, {f"t{i}": {"x": i} for i in range(5)})
    assert list(out) == [f"t{i}" for i in range(5)] and out["t3"] == 9 and not failures


def _square(x):
    return x * x


@pytest.mark.slow
def test_backtest_on_two_worker_processes_equals_the_serial_run(panel):
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers need the stand-in
    loaded = load_backtest_config(panel / "countries.yaml")
    serial = backtest_countries(loaded, quick=True, forecaster=StandIn())
    with cluster(workers=2) as client:
        dist = backtest_distributed(loaded, quick=True, forecaster=StandIn(), client=client,
                                    per="origin")
    assert dist.meta["distributed"]["workers"] == 2
    for label in serial.runs:
        _same(serial.runs[label].result, dist.runs[label].result)


@pytest.mark.slow
def test_sbc_on_two_worker_processes_equals_the_serial_run():
    """Three replicates of a small SBC (NUTS): the same ranks as run_sbc."""
    from models.evaluation.distributed import sbc_distributed
    from models.inference.calibration import run_sbc
    from scenarios.loader import load_config

    config = load_config("configs/baseline.yaml").config
    settings = {"seed": 5, "chains": 2, "tune": 150, "draws": 100, "thin": 5, "bins": 4}
    serial = run_sbc(config, 3, **settings)
    with cluster(workers=2) as client:
        dist = sbc_distributed(config, 3, client=client, **settings)
    pd.testing.assert_frame_equal(serial.ranks, dist.ranks)
    assert serial.divergent_fits == dist.divergent_fits


def test_command_line_on_a_cluster_writes_what_the_serial_run_writes(panel, monkeypatch):
    """--workers N: the same countries.csv and per-country scores as without (a stand-in for
    latent_nb, and the cluster's workers as threads here so the stand-in reaches them)."""
    from models.cli.backtest import main
    from models.evaluation import distributed
    from models.evaluation.backtest import pipeline

    class Patched(StandIn):
        def __init__(self, window, **kwargs):
            self.prior_rule = kwargs.get("prior_rule")

    monkeypatch.setattr(pipeline, "LatentNBForecaster", Patched)
    monkeypatch.setattr(distributed, "_WORKER_MODELS", {})
    real = distributed.cluster
    monkeypatch.setattr(distributed, "cluster",
                        lambda client=None, **kw: real(client, **kw, processes=False))
    cfg = str(panel / "countries.yaml")
    assert main([cfg, "--out", str(panel / "serial"), "--quiet", "--quick"]) == 0
    assert main([cfg, "--out", str(panel / "dask"), "--quiet", "--quick", "--workers", "2",
                 "--per", "origin"]) == 0
    for name in ("countries.csv", "SDN/scores.csv", "MLI/forecast_scores.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(panel / "serial" / name),
                                      pd.read_csv(panel / "dask" / name))
    with pytest.raises(SystemExit):
        main([cfg, "--out", str(panel / "x"), "--workers", "0"])


def test_sbc_command_refuses_a_bad_config(tmp_path, capsys):
    from models.cli.sbc import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\nscenario: {titel: x}\n", encoding="utf-8")
    assert main([str(bad), "--workers", "2"]) == 2
    assert "error:" in capsys.readouterr().err
