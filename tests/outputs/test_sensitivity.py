"""The assumption-sensitivity estimator against functions with known indices, its plumbing
(levers and nowcast parameters through ``posterior_draw``), the table, the figures and the
report blocks."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from models.outputs.sensitivity import (
    COLUMNS,
    CONF_INPUTS,
    MIXTURE_INPUT,
    first_order_indices,
    first_order_shares,
    sensitivity_inputs,
    sensitivity_table,
)

ISHIGAMI_S1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
"""Analytic first-order indices of Ishigami (a = 7, b = 0.1; Saltelli et al. 2008)."""
TOLERANCE = 0.03
"""Largest error allowed at 4,000 draws: measured errors are under 0.01 (x1 0.0013, x2 0.0054);
the bootstrap half-width at this size is 0.03-0.04."""
NULL_TOLERANCE = 0.02
"""Largest |S1| allowed for an input the function does not use (measured at most 0.006)."""


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_ishigami_indices_within_tolerance():
    rng = np.random.default_rng(20241201)
    x = rng.uniform(-np.pi, np.pi, (4000, 8))  # x4..x8 are not used by the function
    X = pd.DataFrame(x, columns=[f"x{i + 1}" for i in range(8)])
    got = first_order_indices(X, ishigami(x), seed=1).set_index("input")
    for name, truth in ISHIGAMI_S1.items():
        assert abs(got.loc[name, "S1"] - truth) < TOLERANCE, (name, got.loc[name, "S1"])
    assert (got.loc[[f"x{i}" for i in range(4, 9)], "S1"].abs() < NULL_TOLERANCE).all()
    assert (got["S1_conf"] > 0).all() and (got["S1_conf"] < 0.1).all()


def test_linear_model_variance_shares():
    """Y = 3 a + 2 b + c + noise (sd 1) with independent standard normal inputs: shares 9, 4
    and 1 out of 15."""
    rng = np.random.default_rng(7)
    n = 4000
    X = pd.DataFrame(rng.standard_normal((n, 4)), columns=["a", "b", "c", "unused"])
    y = 3 * X["a"] + 2 * X["b"] + X["c"] + rng.standard_normal(n)
    got = first_order_indices(X, y.to_numpy(), seed=2).set_index("input")["S1"]
    for name, share in {"a": 9 / 15, "b": 4 / 15, "c": 1 / 15, "unused": 0.0}.items():
        assert abs(got[name] - share) < TOLERANCE, (name, got[name], share)


def test_constant_outcome_and_too_few_draws_give_nan():
    X = pd.DataFrame({"a": np.arange(1000.0)})
    assert first_order_indices(X, np.ones(1000))["S1"].isna().all()
    assert first_order_indices(X.head(50), np.arange(50.0))["S1"].isna().all()


def test_shares_without_the_bootstrap_are_salibs_shares():
    rng = np.random.default_rng(5)
    x = rng.uniform(-np.pi, np.pi, (2000, 4))
    X = pd.DataFrame(x, columns=list("abcd"))
    full = first_order_indices(X, ishigami(x), seed=1)["S1"].to_numpy()
    np.testing.assert_allclose(first_order_shares(X, ishigami(x)), full, rtol=0, atol=1e-12)
    assert np.isnan(first_order_shares(X, np.ones(2000))).all()


def test_half_widths_for_the_inputs_the_report_can_show():
    """With more inputs than CONF_INPUTS, the largest shares at any horizon get a bootstrap
    half-width, the others their share without one."""
    rng = np.random.default_rng(11)
    n, k = 2000, CONF_INPUTS + 6
    weights = np.linspace(3.0, 0.2, k)
    ds, idata = _fake_run(n=n)
    extra = rng.standard_normal((k, n))
    for i in range(k):
        ds[f"lever__x{i:02d}"] = (("scenario", "draw"), np.stack([extra[i]] * 3), {"lever": f"x{i:02d}"})
    y = (weights[:, None] * extra).sum(axis=0)
    ds["forecast"].values[:, :, -1, 0, 0] = y
    tab = sensitivity_table(ds, idata, [10], scale="count", scenarios=["s1"])
    with_conf = tab[tab["S1_conf"].notna()]
    assert len(with_conf) == CONF_INPUTS and len(tab) > CONF_INPUTS
    assert with_conf["S1"].min() >= tab[tab["S1_conf"].isna()]["S1"].max()
    assert (with_conf["S1_conf"] > 0).all()


def test_every_input_the_report_shows_gets_a_half_width():
    import inspect

    from models.outputs.drivers import TOP
    from models.outputs.sensitivity_plots import plot_tornado

    tornado = inspect.signature(plot_tornado).parameters["top"].default
    assert CONF_INPUTS >= max(TOP, tornado)


def _fake_run(n: int = 4000, seed: int = 3):
    """A forecast whose day-10 total is known: 3 x lever_a + 2 x intensity of region r1 (through
    a shuffled posterior_draw), the rest noise-free; lever b constant; lever c only in s2."""
    rng = np.random.default_rng(seed)
    chains, per = 2, n // 2
    intensity = rng.standard_normal((chains, per, 2))
    posterior = xr.Dataset(
        {"intensity_at_origin": (("chain", "draw", "region"), intensity),
         "dispersion": (("chain", "draw"), rng.gamma(2.0, 1.0, (chains, per)))},
        coords={"chain": [0, 1], "draw": np.arange(per), "region": ["r1", "r2"]})
    idata = az.InferenceData(posterior=posterior)
    rows = rng.permutation(n)  # a Monte Carlo draw uses a shuffled posterior row
    flat = intensity.reshape(n, 2)
    a = rng.standard_normal(n)
    days = np.arange(1, 11)
    y = 3 * a + 2 * flat[rows, 0]
    fc = np.zeros((2, n, len(days), 1, 1))
    fc[:, :, -1, 0, 0] = y
    comp = rng.integers(0, 2, n)
    ds = xr.Dataset(
        {"forecast": (("scenario", "draw", "day", "target", "region"), np.concatenate(
            [fc, fc[:1]], axis=0)),
         "lever__a": (("scenario", "draw"), np.stack([a, a, a]), {"lever": "a"}),
         "lever__b": (("scenario", "draw"), np.full((3, n), 1.5), {"lever": "b"}),
         "lever__c": (("scenario", "draw"), np.stack([np.full(n, np.nan), a ** 2,
                                                      np.where(comp == 1, a ** 2, np.nan)]),
                      {"lever": "c"}),
         "posterior_draw": (("draw",), rows),
         "mixture_component": (("draw",), comp)},
        coords={"scenario": ["s1", "s2", "mixture"], "draw": np.arange(n), "day": days,
                "target": ["cum_deaths"], "region": ["all"]})
    return ds, idata


def test_inputs_come_from_levers_and_the_posterior_through_posterior_draw():
    ds, idata = _fake_run()
    X, kinds = sensitivity_inputs(ds, idata, "s1")
    assert set(X.columns) == {"a", "intensity_at_origin[r1]", "intensity_at_origin[r2]",
                              "dispersion"}  # b is constant, c absent in s1
    assert kinds["a"] == "lever" and kinds["dispersion"] == "nowcast"
    X2, _ = sensitivity_inputs(ds, idata, "s2")
    assert "c" in X2
    Xm, kinds_m = sensitivity_inputs(ds, idata, "mixture")
    assert MIXTURE_INPUT in Xm and kinds_m[MIXTURE_INPUT] == "mixture"
    assert "c" not in Xm  # only some of the mixture's draws have it


def test_table_recovers_known_shares_on_the_count_scale():
    ds, idata = _fake_run()
    tab = sensitivity_table(ds, idata, [10, 400], scale="count")
    assert list(tab.columns) == COLUMNS
    assert set(tab["horizon"]) == {10}  # a horizon beyond the forecast is skipped
    s1 = tab[tab["scenario"] == "s1"].set_index("input")["S1"]
    assert abs(s1["a"] - 9 / 13) < TOLERANCE
    assert abs(s1["intensity_at_origin[r1]"] - 4 / 13) < TOLERANCE  # mapped through the rows
    assert abs(s1["intensity_at_origin[r2]"]) < NULL_TOLERANCE
    ranks = tab[tab["scenario"] == "s1"].sort_values("rank")["input"].tolist()
    assert ranks[:2] == ["a", "intensity_at_origin[r1]"]
    with pytest.raises(ValueError, match="scale"):
        sensitivity_table(ds, idata, [10], scale="sqrt")


def test_tornado_bars_carry_the_table_numbers():
    from models.outputs.sensitivity_plots import plot_tornado

    ds, idata = _fake_run()
    tab = sensitivity_table(ds, idata, [10], scale="count")
    fig = plot_tornado(tab, "cum_deaths")
    bars = {p.get_gid(): p.get_width() for ax in fig.axes for p in ax.patches if p.get_gid()}
    want = tab[(tab["scenario"] == "s1") & (tab["input"] == "a")]["S1"].iloc[0]
    assert bars["s1:s1:a:10"] == pytest.approx(want)  # s1:<scenario>:<input>:<horizon>


def test_report_blocks_from_the_written_table(tmp_path):
    from models.outputs.blocks import Table, to_markdown
    from models.outputs.drivers import sensitivity_blocks

    ds, idata = _fake_run()
    tab = sensitivity_table(ds, idata, [10], scale="count")
    tab.to_csv(tmp_path / "sensitivity.csv", index=False)
    blocks = sensitivity_blocks(pd.read_csv(tmp_path / "sensitivity.csv"), tmp_path)
    tables = [b for b in blocks if isinstance(b, Table)]
    assert len(tables) == 3  # one per scenario
    share = tab[(tab["scenario"] == "s1") & (tab["input"] == "a")]["S1"].iloc[0]
    assert tables[0].rows[0][0] == "a" and tables[0].rows[0][2].startswith(f"{share:.0%} ± ")
    assert "assumption sensitivity" in to_markdown(blocks)


def test_the_writer_writes_sensitivity_csv(tmp_path):
    from support.results import synthetic_run

    from models.outputs.write import write_run

    run = synthetic_run("escalation", draws=400, horizon=40)
    run_dir = write_run(run, tmp_path, formats=["csv"])
    table = pd.read_csv(run_dir / "sensitivity.csv")
    assert list(table.columns) == COLUMNS
    assert set(table["horizon"]) == {7, 30} and "lever" in set(table["kind"])
    assert not (run_dir / "influence.csv").exists()  # made only with --evidence-influence
