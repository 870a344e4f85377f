"""Plots: the numbers behind each figure (found through artist gids), labelled axes, every plot
for every shipped scenario, tick labels that never overlap (long ids, many regions, millions),
and one complete run written with plots and the HTML report."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from PIL import Image as PILImage
from support.results import SHIPPED, synthetic_run

from models.outputs import plots, statistics
from models.outputs.formatting import format_counts
from models.outputs.statistics import summarise
from models.outputs.store import list_runs
from models.outputs.write import write_run
from models.vocabulary import ALL, TARGETS
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
    assert isinstance(fig.axes[0].yaxis.get_major_formatter(), plots.CountFormatter)


def test_count_labels_have_thousands_separators():
    assert plots._tick_count(25_000) == "25,000"
    assert plots._tick_count(999_999) == "999,999"
    assert plots._tick_count(1_500_000) == "1.5 M"
    assert plots._tick_count(2_000_000) == "2 M"


def test_one_number_format_per_axis():
    """An axis that reaches a million writes every tick in millions, not '900,000' beside
    '1.2 M'; a linear axis gives every tick the same decimals."""
    assert format_counts([0, 500_000, 1_000_000, 1_500_000]) == ["0", "0.5 M", "1.0 M", "1.5 M"]
    assert format_counts([30_000, 100_000, 1_000_000], same_decimals=False) == [
        "0.03 M", "0.1 M", "1 M"]
    assert format_counts([0, 25_000, 50_000]) == ["0", "25,000", "50,000"]
    assert format_counts([-20_000, 0, 20_000]) == ["-20,000", "0", "20,000"]


def test_titles_wrap_at_word_boundaries():
    long_id = "escalation_with_a_regional_war_and_closed_borders"
    lines = plots.wrap(f"{long_id} minus baseline", 20).split("\n")
    assert "".join(lines).replace(" ", "") == f"{long_id}minusbaseline"
    words = set(long_id.split("_")) | {"minus", "baseline"}
    for line in lines:  # every line is whole words (an id may break after an underscore)
        assert all(w in words for w in line.replace("_", " ").split()), lines
    assert plots.wrap("Civilian share of deaths: idlib", 12).split("\n") == [
        "Civilian", "share of", "deaths:", "idlib"]


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
    assert "No other scenario" in artist(fig, "empty").get_text()
    assert_labelled(fig)


def test_difference_charts_leave_out_the_mixture_and_say_why(run):
    """60% of the mixture's draws are the baseline's own: its difference is 0 there, so its
    median difference is 0 by construction. The chart leaves it out and says so."""
    result, _ = run
    diff = statistics.paired_differences(result.forecast, "cum_deaths", "baseline")
    mixture = diff.sel(scenario="mixture").values
    assert (mixture == 0).mean() >= 0.5 and np.median(mixture) == 0  # why it goes
    figures = dict(plots.make_figures(result))
    fig = figures["difference_cum_deaths"]
    assert not fig.findobj(lambda a: a.get_gid() == "median:mixture")
    artist(fig, "median:escalation")
    assert "mixture is not shown: 60% of its draws are baseline's own" in \
        fig.get_suptitle().replace("\n", " ")


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
    # each panel says what the parameter is and its unit, not "parameter units"
    ax = fig.axes[3]
    assert ax.get_title().replace("\n", " ") == "Civilian share of deaths: idlib"
    assert ax.get_xlabel() == "share, 0 to 1"
    assert all("parameter units" not in a.get_xlabel() for a in fig.axes if a.get_visible())


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


def test_fan_chart_shows_the_reported_figures_and_the_population_at_risk(run):
    """A figure counted from the episode start sits on the day it was reported (0: the origin,
    negative: before it); the population at risk is the ceiling of the displaced."""
    result, summary = run
    cfg = result.primary.config
    figures = dict(plots.make_figures(result, summary))
    # 'tens of thousands' fled Aleppo from 27 to 30 Nov: day -1, on Aleppo's panel as an
    # interval and on the all-regions chart as a lower bound (one region of two)
    aleppo = statistics.reported_figures(cfg, "displaced", "aleppo").iloc[0]
    assert (aleppo.evidence, aleppo.day, aleppo.low, aleppo.high, aleppo.part) == (
        "aleppo_civilians_fled", -1, 10_000, 99_999, False)
    by_region = figures["fan_displaced_by_region"]
    np.testing.assert_allclose(artist(by_region, "reported:aleppo_civilians_fled").get_ydata(),
                               [10_000, 99_999])
    assert artist(by_region, "reported:aleppo_civilians_fled").get_xdata()[0] == -1
    fan = figures["fan_displaced"]
    marks = fan.findobj(lambda a: a.get_gid() == "reported:aleppo_civilians_fled")
    assert len(marks) == 3 and all(m.get_marker() == "^" for m in marks)  # one per scenario
    assert all(ax.get_xlim()[0] < -1 for ax in fan.axes)
    # 56 civilians killed in air strikes since 27 Nov in Idlib: a subset, so a lower bound
    (row,) = statistics.reported_figures(cfg, "cum_civilian_deaths", "idlib").itertuples()
    assert (row.day, row.low, row.part) == (0, 56, True)
    # a day's toll (1 Dec only) is not a cumulative count: left out
    assert "idlib_air_strike_deaths_1_dec" not in set(
        statistics.reported_figures(cfg, "cum_civilian_deaths", "idlib")["evidence"])
    # population at risk: 'around 2 million' and 'around 4 million', summed for all regions
    low, high = statistics.population_at_risk(cfg, ALL)
    assert (low, high) == pytest.approx((5.4e6, 6.6e6))
    top = float(statistics.fan_statistics(summary, "displaced").sel(quantile=0.95).max())
    if low <= plots.CEILING_REACH * top:
        assert fan.findobj(lambda a: a.get_gid() == "ceiling")
    else:  # far above the fan: a note, not a band that flattens the chart
        assert "population at risk 5.4 M to 6.6 M, above this scale" in fan.get_suptitle()
    assert not figures["fan_cum_deaths"].findobj(lambda a: a.get_gid() == "ceiling")


def test_ceiling_is_drawn_when_in_reach():
    stats = statistics.fan_statistics(summarise(synthetic_run("escalation", draws=50,
                                                              horizon=10).forecast), "displaced")
    top = float(stats.sel(quantile=0.95).max())
    fig = plots.plot_fan_chart(stats, "displaced", ceiling=(1.5 * top, 2 * top))
    assert fig.findobj(lambda a: a.get_gid() == "ceiling")
    assert "population at risk" in fig.axes[0].get_legend_handles_labels()[1][-1]
    fig = plots.plot_fan_chart(stats, "displaced", ceiling=(10 * top, 12 * top))
    assert not fig.findobj(lambda a: a.get_gid() == "ceiling")
    assert "above this scale" in fig.get_suptitle()


def test_horizon_panels_share_one_scale(run):
    result, _ = run
    draws = statistics.horizon_draws(result.forecast, "cum_deaths", [7, 30])
    for fig in (plots.plot_distribution(draws, "cum_deaths"),
                plots.plot_exceedance(draws, "cum_deaths")):
        first, second = fig.axes[:2]
        assert first.get_xlim() == second.get_xlim()
        assert first.get_xscale() == second.get_xscale()
        assert first.get_ylim() == second.get_ylim()
    fig = plots.plot_distribution(draws, "cum_deaths")
    edges = [artist(fig, f"hist:baseline:{d}").get_data()[1] for d in (7, 30)]
    np.testing.assert_array_equal(edges[0], edges[1])  # the same bins in every panel


def overlaps(fig) -> list:
    """Tick labels of one axis whose bounding boxes overlap, as (figure title, labels)."""
    fig.canvas.draw()
    found = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            labels = [t.label1 for t in axis.get_major_ticks()
                      if t.label1.get_visible() and t.label1.get_text()
                      and lo - 1e-9 * abs(hi) <= t.get_loc() <= hi + 1e-9 * abs(hi)]
            boxes = [lb.get_window_extent() for lb in labels]
            found += [(fig.get_suptitle(), labels[i].get_text(), labels[j].get_text())
                      for i in range(len(boxes)) for j in range(i + 1, len(boxes))
                      if boxes[i].overlaps(boxes[j])]
    return found


def test_no_tick_labels_overlap_with_long_ids_many_regions_and_millions():
    """Every plot of a run with a 50-character scenario id, eight regions and counts in the
    hundreds of millions: no two tick labels of an axis overlap (measured on the drawn
    figure), titles stay whole words, and every panel is labelled."""
    regions = tuple(f"governorate_number_{k}_with_a_long_name" for k in range(8))
    result = synthetic_run("escalation", draws=60, horizon=60, regions=regions)
    long_id = "escalation_with_a_regional_war_and_closed_borders"
    forecast = result.forecast.assign_coords(scenario=[long_id, "baseline", "mixture"])
    forecast["forecast"] = forecast["forecast"] * 40
    result.forecast = forecast
    figures = dict(plots.make_figures(result))
    assert list(figures) == plots.plot_names(TARGETS, regions)
    assert "fan_displaced_by_region" in figures
    for name, fig in figures.items():
        assert overlaps(fig) == [], name
        assert_labelled(fig)
        for ax in fig.axes:
            if ax.get_visible():
                for line in ax.get_title().split("\n"):
                    assert not line.endswith(("-", "_with_a_lon")), (name, line)
        renderer = fig.canvas.get_renderer()
        width = fig.bbox.width
        for text in [fig._suptitle] if fig._suptitle else []:
            box = text.get_window_extent(renderer)
            assert box.x0 >= 0 and box.x1 <= width, (name, text.get_text())


def test_the_measured_overlap_of_the_old_log_ticks_is_gone():
    """Before: a horizon panel (a third of a slide) with a log axis from 30,000 to 10 M, ticks
    at 1 and 3 per decade and every digit wrote '100,000300,000'. Now the ticks thin until the
    labels stand apart."""
    fig = plots.new_figure((4.2, 3))
    ax = fig.subplots()
    ax.plot([30_000, 10_000_000], [0, 1])
    plots._count_axis(ax, "x", log=True)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.tick_params(labelsize=12)
    fig.canvas.draw()
    assert overlaps(fig)  # the old labels collide at this width
    plots.declutter(fig)
    assert overlaps(fig) == []
    assert len(plots.drawn_tick_labels(ax.xaxis)) >= 2


@pytest.mark.parametrize("scenario_id", SHIPPED)
def test_every_plot_for_every_shipped_scenario(scenario_id):
    result = synthetic_run(scenario_id, draws=100, horizon=30)
    figures = dict(plots.make_figures(result))
    regions = [r for r in result.forecast["region"].values if r != ALL]
    assert list(figures) == plots.plot_names(TARGETS, regions)
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
    regions = [r for r in result.forecast["region"].values if r != ALL]
    # the run's plots, and the charts of what drives the answer (models.outputs.drivers)
    drivers = [w for w in written if w.startswith(("sensitivity_", "influence_"))]
    assert sorted(set(written) - set(drivers)) == sorted(plots.plot_names(TARGETS, regions))
    for p in (run_dir / "plots").glob("*.png"):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (run_dir / "report.html").read_text()
    # every plot of the run is embedded (the drivers' charts when the report shows them)
    assert len(written) - len(drivers) <= page.count('src="data:image/png;base64,') <= len(written)
    assert 'src="http' not in page and "<link" not in page and "<script" not in page
    md = (run_dir / "report.md").read_text()
    for name in set(written) - set(drivers):
        assert f"(plots/{name}.png)" in md
    assert "| Scenario | Target (people, all regions) | day 7 (8 Dec) | day 30 (31 Dec) |" in md
    # the HTML embeds screen-size palette renderings, not the slide-size files
    from models.outputs.blocks import compact_png

    embedded = [base64.b64decode(x) for x in re.findall(r'data:image/png;base64,([^"]+)', page)]
    assert all(PILImage.open(io.BytesIO(x)).mode == "P" for x in embedded)
    files = sum(p.stat().st_size for p in (run_dir / "plots").glob("*.png"))
    assert sum(len(x) for x in embedded) < files
    assert compact_png(embedded[0]) == embedded[0]  # already a palette PNG: kept as it is
    pd.read_csv(run_dir / "quantiles.csv")  # all formats written alongside


def test_compact_png_keeps_the_picture_at_fewer_bytes(tmp_path):
    from models.outputs.blocks import compact_png

    result = synthetic_run("escalation", draws=100, horizon=30)
    summary = summarise(result.forecast)
    fig = plots.plot_fan_chart(statistics.fan_statistics(summary, "displaced"), "displaced")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=60)
    original = buffer.getvalue()
    small = compact_png(original)
    assert len(small) < 0.6 * len(original)
    a = np.asarray(PILImage.open(io.BytesIO(original)).convert("RGB"), dtype=float)
    b = np.asarray(PILImage.open(io.BytesIO(small)).convert("RGB"), dtype=float)
    assert a.shape == b.shape and np.abs(a - b).mean() < 2.0  # on a 0-255 scale
