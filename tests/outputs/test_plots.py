"""Plots: the numbers behind each figure (found through artist gids), labelled axes, every plot
for every shipped scenario, and one complete run written with plots and the HTML report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fixtures_results import SHIPPED, synthetic_run
from matplotlib.figure import Figure

from models.outputs import plots, statistics
from models.outputs.statistics import summarise
from models.outputs.store import list_runs
from models.outputs.write import write_run
from models.vocabulary import TARGETS
from scenarios.levers import REGIMES


@pytest.fixture(scope="module")
def run():
    result = synthetic_run("escalation", draws=300, horizon=40)
    return result, summarise(result.forecast)


def artist(fig: Figure, gid: str):
    found = fig.findobj(lambda a: a.get_gid() == gid)
    assert len(found) == 1, f"expected one artist '{gid}', found {len(found)}"
    return found[0]


def band_edges(poly, days):
    """Lower and upper edge of a fill_between polygon at each day."""
    v = poly.get_paths()[0].vertices
    lower = np.array([v[v[:, 0] == d, 1].min() for d in days])
    upper = np.array([v[v[:, 0] == d, 1].max() for d in days])
    return lower, upper


def assert_labelled(fig: Figure) -> None:
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert axes
    assert all(ax.get_xlabel() for ax in axes), "every panel needs an x label"
    assert any(ax.get_ylabel() for ax in axes), "a figure needs a y label"


def test_fan_chart_bands_are_quantiles_of_the_draws(run):
    result, summary = run
    draws = result.forecast["forecast"].sel(target="cum_deaths", region="all")
    stats = statistics.fan_statistics(summary, "cum_deaths")
    expected = np.quantile(draws.transpose("scenario", "draw", "day").values,
                           statistics.FAN_LEVELS, axis=1)  # (level, scenario, day)
    np.testing.assert_allclose(stats.transpose("quantile", "scenario", "day").values, expected)
    fig = plots.plot_fan_chart(stats, "cum_deaths", origin=result.origin)
    days = stats["day"].values
    for k, s in enumerate(stats["scenario"].values):
        np.testing.assert_allclose(artist(fig, f"median:{s}").get_ydata(), expected[2, k])
        lower, upper = band_edges(artist(fig, f"band90:{s}"), days)
        np.testing.assert_allclose(lower, expected[0, k])
        np.testing.assert_allclose(upper, expected[4, k])
        lower, upper = band_edges(artist(fig, f"band50:{s}"), days)
        np.testing.assert_allclose(lower, expected[1, k])
        np.testing.assert_allclose(upper, expected[3, k])
    assert_labelled(fig)
    assert "(people)" in fig.axes[0].get_ylabel()
    assert fig.axes[0].yaxis.get_major_formatter() is plots.THOUSANDS


def test_count_labels_have_thousands_separators():
    assert plots._tick_count(25_000) == "25,000"
    assert plots._tick_count(999_999) == "999,999"
    assert plots._tick_count(1_500_000) == "1.5 M"
    assert plots._tick_count(2_000_000) == "2 M"


def test_distribution_marks_median_and_90_interval(run):
    result, _ = run
    draws = statistics.horizon_draws(result.forecast, "displaced", [7, 30])
    fig = plots.plot_distribution(draws, "displaced")
    for s in draws["scenario"].values:
        for day in (7, 30):
            v = draws.sel(scenario=s, day=day).values
            q05, q50, q95 = np.quantile(v, [0.05, 0.5, 0.95])
            np.testing.assert_allclose(artist(fig, f"median:{s}:{day}").get_xdata(), [q50])
            np.testing.assert_allclose(artist(fig, f"interval90:{s}:{day}").get_xdata(),
                                       [q05, q95])
            shares, edges, _ = artist(fig, f"hist:{s}:{day}").get_data()
            np.testing.assert_allclose(shares, np.histogram(v, edges)[0] / v.size)
            inside = np.mean((v >= edges[0]) & (v <= edges[-1]))
            assert shares.sum() == pytest.approx(inside) and inside > 0.95
    assert_labelled(fig)


def test_exceedance_curve_is_share_of_draws_above():
    rng = np.random.default_rng(4)
    values = rng.poisson(20, 500).astype(float)  # many ties
    x, p = statistics.exceedance_curve(values)
    np.testing.assert_allclose(p, (values[None, :] > x[:, None]).mean(axis=1))
    assert np.all(np.diff(p) <= 0)


def test_exceedance_plot_draws_the_curves(run):
    result, _ = run
    draws = statistics.horizon_draws(result.forecast, "cum_deaths", [30])
    fig = plots.plot_exceedance(draws, "cum_deaths")
    for s in draws["scenario"].values:
        line = artist(fig, f"exceed:{s}:30")
        x, p = statistics.exceedance_curve(draws.sel(scenario=s, day=30).values)
        np.testing.assert_allclose(line.get_xdata(), x)
        np.testing.assert_allclose(line.get_ydata(), p)
    assert_labelled(fig)


def test_difference_to_baseline_is_paired_draw_by_draw(run):
    result, _ = run
    fc = result.forecast["forecast"].sel(target="cum_deaths", region="all")
    diff = statistics.paired_differences(result.forecast, "cum_deaths", "baseline")
    assert list(diff["scenario"].values) == ["escalation", "mixture"]
    for s in ("escalation", "mixture"):
        np.testing.assert_array_equal(
            diff.sel(scenario=s).transpose("draw", "day").values,
            (fc.sel(scenario=s) - fc.sel(scenario="baseline")).transpose("draw", "day").values)
    stats = statistics.difference_statistics(diff)
    d = diff.sel(scenario="escalation").transpose("draw", "day").values
    np.testing.assert_allclose(stats["quantiles"].sel(scenario="escalation").values,
                               np.quantile(d, statistics.FAN_LEVELS, axis=0))
    np.testing.assert_allclose(stats["p_above"].sel(scenario="escalation"), (d > 0).mean(axis=0))
    fig = plots.plot_difference(stats, "cum_deaths", "baseline", origin=result.origin)
    np.testing.assert_allclose(artist(fig, "median:escalation").get_ydata(),
                               np.quantile(d, 0.5, axis=0))
    assert_labelled(fig)


def test_difference_with_a_single_scenario_says_so():
    result = synthetic_run("baseline", draws=100, horizon=10)
    stats = statistics.difference_statistics(
        statistics.paired_differences(result.forecast, "cum_deaths", "baseline"))
    assert stats.sizes["scenario"] == 0
    fig = plots.plot_difference(stats, "cum_deaths", "baseline")
    assert "single scenario" in artist(fig, "empty").get_text()
    assert_labelled(fig)


def test_regime_occupancy_is_share_of_draws_in_each_regime(run):
    result, _ = run
    occ = statistics.regime_occupancy(result.forecast)
    np.testing.assert_allclose(occ.sum("regime"), 1.0)
    codes = result.forecast["regime"].sel(scenario="escalation").transpose("draw", "day").values
    for k, name in enumerate(REGIMES):
        np.testing.assert_allclose(occ.sel(scenario="escalation", regime=name),
                                   (codes == k).mean(axis=0))
    fig = plots.plot_regime_occupancy(occ, origin=result.origin)
    for s in occ["scenario"].values:
        for name in REGIMES:
            artist(fig, f"regime:{s}:{name}")
    assert_labelled(fig)


def test_prior_vs_posterior_histograms(run):
    result, _ = run
    pairs = statistics.prior_posterior_draws(result.idata)
    labels = [label for label, _, _ in pairs]
    assert labels == ["log_intensity_origin[aleppo]", "log_intensity_origin[idlib]",
                      "civilian_share[aleppo]", "civilian_share[idlib]", "dispersion"]
    label, prior, post = pairs[3]
    np.testing.assert_array_equal(
        post, result.idata.posterior["civilian_share"].sel(region="idlib").values.ravel())
    fig = plots.plot_prior_posterior(pairs)
    for kind, draws in (("prior", prior), ("posterior", post)):
        dens, edges, _ = artist(fig, f"{kind}:{label}").get_data()
        np.testing.assert_allclose(dens, np.histogram(draws, edges, density=True)[0])
    assert_labelled(fig)


def test_reported_figures_against_model_implied_reports(run):
    result, _ = run
    table = statistics.evidence_fit(result.idata)
    cd = result.idata.constant_data
    assert list(table["evidence"]) == [str(e) for e in cd["evidence"].values]
    np.testing.assert_array_equal(table["low"], cd["evidence_low"].values)
    rep = result.idata.posterior_predictive["reported"]
    for row in table.itertuples():
        draws = rep.sel(evidence=row.evidence).values.ravel()
        np.testing.assert_allclose([row.post_q05, row.post_q50, row.post_q95],
                                   np.quantile(draws, [0.05, 0.5, 0.95]))
    fig = plots.plot_evidence_fit(table)
    for row in table.itertuples():
        np.testing.assert_allclose(artist(fig, f"reported:{row.evidence}").get_xdata(),
                                   [row.low, row.high])
        np.testing.assert_allclose(artist(fig, f"posterior:{row.evidence}").get_xdata(),
                                   [row.post_q05, row.post_q95])
    assert_labelled(fig)
    # A lower bound ("at least 56") is drawn as a bar with an arrow, not an infinite bar.
    bound = table.iloc[:1].assign(high=np.inf)
    fig = plots.plot_evidence_fit(bound)
    artist(fig, f"lower_bound:{bound.evidence.iloc[0]}")
    assert np.isfinite(artist(fig, f"reported:{bound.evidence.iloc[0]}").get_xdata()).all()


@pytest.mark.parametrize("scenario_id", SHIPPED)
def test_every_plot_for_every_shipped_scenario(scenario_id):
    result = synthetic_run(scenario_id, draws=100, horizon=30)
    figures = dict(plots.make_figures(result))
    assert list(figures) == plots.plot_names(TARGETS)
    for name, fig in figures.items():
        assert isinstance(fig, Figure), name
        assert_labelled(fig)
        assert fig.get_suptitle() or any(ax.get_title() for ax in fig.axes), name


def test_write_run_with_plots_and_self_contained_report(tmp_path):
    """The one full render in the default tier: a single-scenario run (small panels)."""
    result = synthetic_run("baseline", draws=100, horizon=30)
    run_dir = write_run(result, tmp_path, dpi=30)
    assert list_runs(tmp_path) == [run_dir]
    written = sorted(p.stem for p in (run_dir / "plots").glob("*.png"))
    assert written == sorted(plots.plot_names(TARGETS))
    for p in (run_dir / "plots").glob("*.png"):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (run_dir / "report.html").read_text()
    assert page.count('src="data:image/png;base64,') == len(written)
    assert 'src="http' not in page and "<link" not in page and "<script" not in page
    md = (run_dir / "report.md").read_text()
    for name in written:
        assert f"(plots/{name}.png)" in md
    assert "| Target (people, all regions) | day 7 | day 30 |" in md
    pd.read_csv(run_dir / "quantiles.csv")  # all formats written alongside
