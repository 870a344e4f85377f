"""Briefing plots of a run: statistics first, then figures drawn from them.

Each ``plot_*`` function takes precomputed statistics (computed by the function next to it from a
forecast Dataset or InferenceData) and optional axes, and returns the matplotlib Figure. Nothing
here uses pyplot: figures are plain :class:`matplotlib.figure.Figure` objects rendered by the Agg
canvas, so no global figure state, no display, nothing to close.

Artists that carry data have a ``gid`` (e.g. ``"band90:escalation"``, ``"median:baseline"``) so
tests can check the numbers behind a figure rather than its pixels.

Every count is people. Scenario colours are fixed by position, the mixture is black.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from models.outputs.formatting import format_counts
from models.outputs.plot_style import (  # noqa: F401  (some are part of this module's API)
    _PALETTE,
    _STYLE,
    PERCENT,
    REGIME_COLOURS,
    SLIDE_SIZE,
    CountFormatter,
    ParameterFormatter,
    _axes_grid,
    _chars_per_inch,
    _count_axis,
    _fewer_ticks,
    _in_view,
    _scientific,
    _tick_count,
    axis_ylabel,
    day_label,
    declutter,
    drawn_tick_labels,
    freeze_layout,
    new_figure,
    overlapping_labels,
    panel_title,
    scenario_colours,
    scenario_legend,
    styled,
    suptitle,
    target_label,
    wrap,
)
from models.outputs.plots_nowcast import (
    plot_evidence_fit,
    plot_prior_posterior,
    plot_regime_occupancy,
)
from models.outputs.run_result import RunResult
from models.outputs.statistics import (
    ForecastSummary,
    baseline_scenario,
    difference_statistics,
    distribution_bins,
    evidence_fit,
    exceedance_curve,
    fan_statistics,
    headline_horizons,
    horizon_draws,
    mixture_baseline_share,
    paired_differences,
    population_at_risk,
    prior_posterior_draws,
    regime_occupancy,
    region_fan_statistics,
    reported_figures,
    summarise,
    wide_range,
    without_mixture,
)
from models.vocabulary import ALL, MIXTURE, TARGET_LABELS, TARGETS

# ---------------------------------------------------------------------------------------------
# Fan charts


REPORTED_COLOUR = "#e6550d"


def _draw_reported(ax, reported: pd.DataFrame | None, legend: bool) -> None:
    """Reported figures (counted from the episode start) at the day they were reported: a bar
    over the interval the text allows, a triangle for a lower bound or a figure that counts only
    part of what the chart shows."""
    if reported is None or reported.empty:
        return
    shown = {"full": False, "part": False}
    for row in reported.itertuples(index=False):
        lower = row.part or not np.isfinite(row.high)
        key = "part" if lower else "full"
        label = None
        if legend and not shown[key]:
            label = ("reported, a part of it (at least this)" if lower
                     else "reported figure (since the episode start)")
            shown[key] = True
        if lower:
            ax.plot([row.day], [row.low], "^", ms=10, mfc="white", mec=REPORTED_COLOUR, mew=2,
                    label=label, gid=f"reported:{row.evidence}", zorder=5, clip_on=False)
        elif row.high > row.low:
            ax.plot([row.day, row.day], [row.low, row.high], color=REPORTED_COLOUR, lw=4,
                    solid_capstyle="butt", label=label, gid=f"reported:{row.evidence}", zorder=5,
                    clip_on=False)
        else:
            ax.plot([row.day], [row.low], "D", ms=8, color=REPORTED_COLOUR, label=label,
                    gid=f"reported:{row.evidence}", zorder=5, clip_on=False)
    ax.axvline(0, color="0.35", lw=1, ls=":", zorder=1)


CEILING_TARGETS = {
    "displaced": "population at risk (the ceiling)",
    "cum_displaced": "population at risk (movements can pass it: twice displaced counts twice)",
}
"""Targets whose charts show the population at risk, and what it is there."""
CEILING_REACH = 2.5
"""The ceiling is drawn when it lies within this factor of the chart's top; above, a note says
where it is (drawing it would flatten the fan)."""


def _draw_ceiling(ax, target: str, ceiling, top: float, legend: bool) -> str | None:
    """The population at risk as a band (its stated range) on a displacement chart; returns a
    note instead when it lies far above the chart's top."""
    if ceiling is None or target not in CEILING_TARGETS:
        return None
    low, high = ceiling
    if low > CEILING_REACH * max(top, 1.0):
        return (f"population at risk {format_counts([low, high], same_decimals=False)[0]} to "
                f"{format_counts([low, high], same_decimals=False)[1]}, above this scale")
    ax.axhspan(low, max(high, low * 1.001), color="0.3", alpha=0.12, lw=0, gid="ceiling",
               label=CEILING_TARGETS[target] if legend else None)
    ax.axhline(low, color="0.3", lw=1.2, ls="--")
    return None


@styled
def plot_fan_chart(stats: xr.DataArray, target: str, *, origin=None, axes=None,
                   reported: pd.DataFrame | None = None, ceiling=None,
                   where: str = "all regions") -> Figure:
    """Median, 50% and 90% bands over forecast days, one panel per scenario (shared y axis).

    ``reported``: figures as :func:`~models.outputs.statistics.reported_figures` gives them,
    drawn at the day they were reported (0 or less: before the forecast starts; the dotted line
    is the origin). ``ceiling``: the population at risk (low, high), drawn on displacement
    charts (:data:`CEILING_TARGETS`)."""
    scenarios = [str(s) for s in stats["scenario"].values]
    fig, axs = _axes_grid(len(scenarios), axes, sharey=True)
    colours = scenario_colours(scenarios)
    days = stats["day"].values
    first = days[0]
    if reported is not None and len(reported):
        first = min(first, int(reported["day"].min()) - max(1, len(days) // 30))
    top = float(stats.sel(quantile=0.95).max())
    note = None
    for k, (ax, s) in enumerate(zip(axs, scenarios, strict=True)):
        q = stats.sel(scenario=s)
        c = colours[s]
        ax.fill_between(days, q.sel(quantile=0.05), q.sel(quantile=0.95), color=c, alpha=0.18,
                        lw=0, label="90% interval", gid=f"band90:{s}")
        ax.fill_between(days, q.sel(quantile=0.25), q.sel(quantile=0.75), color=c, alpha=0.38,
                        lw=0, label="50% interval", gid=f"band50:{s}")
        ax.plot(days, q.sel(quantile=0.5), color=c, lw=2.2, label="median", gid=f"median:{s}")
        _draw_reported(ax, reported, legend=k == 0)
        note = _draw_ceiling(ax, target, ceiling, top, legend=k == 0) or note
        panel_title(ax, s)
        ax.set_xlabel(day_label(origin))
        _count_axis(ax, "y")
        ax.grid(alpha=0.3)
        ax.set_xlim(first, days[-1])
        ax.set_ylim(bottom=0)
    axis_ylabel(axs[0], target_label(target))
    axs[0].legend(loc="upper left", frameon=False)
    suptitle(fig, f"{TARGET_LABELS.get(target, target)}: scenarios side by side ({where})",
             note)
    return declutter(fig)


@styled
def plot_region_fans(stats: xr.DataArray, target: str, *, origin=None, axes=None,
                     reported: dict[str, pd.DataFrame] | None = None,
                     ceilings: dict | None = None, names: dict[str, str] | None = None) -> Figure:
    """One panel per region (each on its own scale): every scenario's median and 90% band (the
    mixture's median only, dashed), the figures reported for that region and, on displacement charts, its population at risk.
    ``stats``: (scenario, quantile, day, region) as
    :func:`~models.outputs.statistics.region_fan_statistics` gives it."""
    regions = [str(r) for r in stats["region"].values]
    scenarios = [str(s) for s in stats["scenario"].values]
    fig, axs = _axes_grid(len(regions), axes, sharex=True)
    colours = scenario_colours(scenarios)
    days = stats["day"].values
    reported = reported or {}
    first = min([days[0], *(int(df["day"].min()) - max(1, len(days) // 30)
                            for df in reported.values() if df is not None and len(df))])
    notes = []
    for ax, r in zip(axs, regions, strict=True):
        q = stats.sel(region=r)
        for s in scenarios:
            qs = q.sel(scenario=s)
            if s != MIXTURE:  # the mixture's band covers the others': its median only
                ax.fill_between(days, qs.sel(quantile=0.05), qs.sel(quantile=0.95),
                                color=colours[s], alpha=0.13, lw=0, gid=f"band90:{s}:{r}")
            ax.plot(days, qs.sel(quantile=0.5), color=colours[s], lw=2, label=s,
                    ls="--" if s == MIXTURE else "-", gid=f"median:{s}:{r}")
        _draw_reported(ax, reported.get(r), legend=True)
        note = _draw_ceiling(ax, target, (ceilings or {}).get(r),
                             float(q.sel(quantile=0.95).max()), legend=True)
        name = (names or {}).get(r, r)
        if note:
            notes.append(f"{name}: {note}")
        panel_title(ax, name)
        ax.set_xlabel(day_label(origin))
        _count_axis(ax, "y")
        ax.grid(alpha=0.3)
        ax.set_xlim(first, days[-1])
        ax.set_ylim(bottom=0)
    scenario_legend(fig, axs, inside="upper left", fontsize=10)
    axis_ylabel(axs[0], target_label(target))
    suptitle(fig, f"{TARGET_LABELS.get(target, target)}: by region (each on its own scale)",
             *notes[:2])
    return declutter(fig)


# ---------------------------------------------------------------------------------------------
# Outcome distributions and exceedance at chosen horizons


@styled
def plot_distribution(draws: xr.DataArray, target: str, *, axes=None) -> Figure:
    """Per horizon: share of draws per bin for each scenario, with the median (dot) and the 90%
    interval (bar) of each scenario marked under the histograms."""
    scenarios = [str(s) for s in draws["scenario"].values]
    days = [int(d) for d in draws["day"].values]
    fig, axs = _axes_grid(len(days), axes, sharex=True, sharey=True)
    colours = scenario_colours(scenarios)
    # One scale for every horizon panel: bins over all days' draws pooled.
    edges, log = distribution_bins(draws.values.ravel())
    top = max(float((np.histogram(v, edges)[0] / v.size).max())
              for v in draws.transpose("day", "scenario", "draw").values.reshape(
                  -1, draws.sizes["draw"]))
    for ax, day in zip(axs, days, strict=True):
        values = draws.sel(day=day).values  # (scenario, draw)
        for s, v in zip(scenarios, values, strict=True):
            counts, _ = np.histogram(v, edges)
            share = counts / v.size
            ax.stairs(share, edges, color=colours[s], lw=1.8, label=s, gid=f"hist:{s}:{day}")
        for k, (s, v) in enumerate(zip(scenarios, values, strict=True)):
            q05, q50, q95 = np.quantile(v, [0.05, 0.5, 0.95])
            y = -top * (0.08 + 0.07 * k)
            ax.plot([q05, q95], [y, y], color=colours[s], lw=3, solid_capstyle="butt",
                    gid=f"interval90:{s}:{day}")
            ax.plot([q50], [y], "o", color=colours[s], ms=7, gid=f"median:{s}:{day}")
        ax.axhline(0, color="0.6", lw=0.8)
        _count_axis(ax, "x", log=log)
        ax.set_xlabel(target_label(target, short=True))
        ax.set_title(f"{day} days after the origin")
        ax.yaxis.set_major_formatter(PERCENT)
        ax.grid(alpha=0.3, axis="x")
    axis_ylabel(axs[0], "Share of draws (bars below: median and 90% interval)")
    scenario_legend(fig, axs)
    suptitle(fig, f"{TARGET_LABELS.get(target, target)}: outcome distribution (all regions; "
             "one scale for every panel)")
    return declutter(fig)


@styled
def plot_exceedance(draws: xr.DataArray, target: str, *, axes=None) -> Figure:
    """Per horizon: P(target > x) against x for each scenario."""
    scenarios = [str(s) for s in draws["scenario"].values]
    days = [int(d) for d in draws["day"].values]
    fig, axs = _axes_grid(len(days), axes, sharex=True, sharey=True)
    colours = scenario_colours(scenarios)
    log = wide_range(draws.values.ravel())  # one scale for every horizon panel
    for ax, day in zip(axs, days, strict=True):
        values = draws.sel(day=day).values
        for s, v in zip(scenarios, values, strict=True):
            x, p = exceedance_curve(v)
            ax.step(x, p, where="post", color=colours[s], lw=2, label=s, gid=f"exceed:{s}:{day}")
        _count_axis(ax, "x", log=log)
        ax.set_xlabel(target_label(target, short=True))
        ax.set_title(f"{day} days after the origin")
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PERCENT)
        ax.grid(alpha=0.3)
    axis_ylabel(axs[0], "Probability of exceeding x, P(target > x)")
    scenario_legend(fig, axs)
    suptitle(fig, f"{TARGET_LABELS.get(target, target)}: chance of exceeding each level "
             "(all regions; one scale for every panel)")
    return declutter(fig)


# ---------------------------------------------------------------------------------------------
# Draw-wise differences to the baseline


@styled
def plot_difference(stats: xr.Dataset, target: str, baseline: str, *, origin=None,
                    axes=None, note: str | None = None) -> Figure:
    """Fan chart of scenario minus baseline, paired draw by draw; one panel per scenario. With
    no other scenario, a single panel that says so. ``note``: a line under the title (e.g. why
    the mixture is not shown)."""
    scenarios = [str(s) for s in stats["scenario"].values]
    fig, axs = _axes_grid(max(len(scenarios), 1), axes, sharey=True)
    if not scenarios:
        ax = axs[0]
        ax.text(0.5, 0.5, f"No other scenario than {baseline} to compare with:\n"
                "no difference to show.", ha="center", va="center", transform=ax.transAxes,
                fontsize=16, gid="empty")
        ax.set_xlabel(day_label(origin))
        ax.set_ylabel(f"Difference to {baseline} (people)")
        ax.set_xticks([])
        ax.set_yticks([])
        suptitle(fig, f"{TARGET_LABELS.get(target, target)}: difference to {baseline}", note)
        return fig
    colours = scenario_colours(scenarios)
    days = stats["day"].values
    for ax, s in zip(axs, scenarios, strict=True):
        q = stats["quantiles"].sel(scenario=s)
        c = colours[s]
        ax.fill_between(days, q.sel(quantile=0.05), q.sel(quantile=0.95), color=c, alpha=0.18,
                        lw=0, label="90% interval", gid=f"band90:{s}")
        ax.fill_between(days, q.sel(quantile=0.25), q.sel(quantile=0.75), color=c, alpha=0.38,
                        lw=0, label="50% interval", gid=f"band50:{s}")
        ax.plot(days, q.sel(quantile=0.5), color=c, lw=2.2, label="median", gid=f"median:{s}")
        ax.axhline(0, color="0.3", lw=1)
        p_last = float(stats["p_above"].sel(scenario=s).values[-1])
        panel_title(ax, f"{s} minus {baseline}")
        ax.text(0.02, 0.96, f"P(higher than {baseline}) at day {days[-1]}: {p_last:.0%}",
                transform=ax.transAxes, va="top", fontsize=12)
        ax.set_xlabel(day_label(origin))
        _count_axis(ax, "y")
        ax.grid(alpha=0.3)
        ax.set_xlim(days[0], days[-1])
    axs[0].set_ylabel(f"Difference to {baseline}, same draw (people)")
    axs[0].legend(loc="upper left", bbox_to_anchor=(0.0, 0.92), frameon=False)
    suptitle(fig, f"{TARGET_LABELS.get(target, target)}: scenario minus {baseline}, "
             "draw by draw (all regions)", note)
    return declutter(fig)


@styled
def plot_overlay(stats: xr.DataArray, target: str, *, origin=None, ax=None) -> Figure:
    """Median and 90% band of several series on one axes (comparison of runs). ``stats``:
    (series, quantile, day) with quantiles 0.05, 0.5 and 0.95; a series labelled ``mixture``
    or ``<run>/mixture`` is drawn in black."""
    if ax is None:
        fig = new_figure()
        ax = fig.subplots()
    else:
        fig = ax.figure
    labels = [str(s) for s in stats["series"].values]
    colours = scenario_colours(labels)
    days = stats["day"].values
    for s in labels:
        q = stats.sel(series=s)
        c = "black" if s == MIXTURE or s.endswith(f"/{MIXTURE}") else colours[s]
        ax.fill_between(days, q.sel(quantile=0.05), q.sel(quantile=0.95), color=c, alpha=0.12,
                        lw=0, gid=f"band90:{s}")
        ax.plot(days, q.sel(quantile=0.5), color=c, lw=2.2, label=s, gid=f"median:{s}")
    _count_axis(ax, "y")
    ax.set_xlabel(day_label(origin))
    ax.set_ylabel(target_label(target))
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, loc="upper left")
    ax.set_title(wrap(f"{TARGET_LABELS.get(target, target)}: median and 90% interval per run "
                      "and scenario (all regions)", 90))
    return declutter(fig)


# ---------------------------------------------------------------------------------------------
# All plots of a run


def plot_names(targets: Sequence[str] = TARGETS, regions: Sequence[str] = ()) -> list[str]:
    """File stems (without .png) that :func:`write_plots` writes for a run with these targets
    and regions (the per-region fan charts only when there are two regions or more)."""
    by_region = [f"fan_{t}_by_region" for t in targets] if len(regions) > 1 else []
    per_target = ("distribution", "exceedance", "difference")
    return ([f"fan_{t}" for t in targets] + by_region
            + [f"{kind}_{t}" for kind in per_target for t in targets]
            + ["regime_occupancy", "prior_posterior", "evidence_fit"])


def _regions(forecast: xr.Dataset) -> list[str]:
    return [str(r) for r in forecast["region"].values if str(r) != ALL]


def _ceiling(config, target: str, location: str, regions: list[str]):
    """The population at risk of ``location`` from the config, when the chart shows one
    (:data:`CEILING_TARGETS`) and the config knows the region(s)."""
    known = set(config.episode.regions)
    if target not in CEILING_TARGETS or not (set(regions) <= known if location == ALL
                                             else location in known):
        return None
    if location == ALL and set(regions) != known:
        return None
    return population_at_risk(config, location)


def _reported(config, target: str, location: str) -> pd.DataFrame | None:
    if location != ALL and location not in config.episode.regions:
        return None
    return reported_figures(config, target, location)


def mixture_note(weights: dict | None, baseline: str) -> str | None:
    """Why the difference charts leave the mixture out (None when the run has no mixture)."""
    share = mixture_baseline_share(weights, baseline)
    if share is None:
        return None
    return (f"The mixture is not shown: {share:.0%} of its draws are {baseline}'s own, where its "
            "difference is 0 by construction.")


def figure_specs(result: RunResult, summary: ForecastSummary | None = None):
    """Yield (name, plot function, args, kwargs) for every plot of a run (see :func:`plot_names`):
    the statistics each figure draws are computed here, so that drawing needs nothing else (and
    can happen in another process, :mod:`models.outputs.rendering`)."""
    summary = summary or summarise(result.forecast)
    fc = result.forecast
    cfg = result.primary.config
    origin = result.origin
    targets = [str(t) for t in fc["target"].values]
    regions = _regions(fc)
    names = {r: cfg.episode.regions[r].name for r in regions if r in cfg.episode.regions}
    horizons = headline_horizons(result)
    baseline = baseline_scenario(result.scenario_ids)
    for t in targets:
        yield f"fan_{t}", plot_fan_chart, (fan_statistics(summary, t), t), dict(
            origin=origin, reported=_reported(cfg, t, ALL), ceiling=_ceiling(cfg, t, ALL, regions))
    if len(regions) > 1:
        for t in targets:
            yield f"fan_{t}_by_region", plot_region_fans, (region_fan_statistics(summary, t), t), \
                dict(origin=origin, names=names,
                     reported={r: _reported(cfg, t, r) for r in regions},
                     ceilings={r: _ceiling(cfg, t, r, regions) for r in regions})
    draws = {t: horizon_draws(fc, t, horizons) for t in targets}
    for t in targets:
        yield f"distribution_{t}", plot_distribution, (draws[t], t), {}
    for t in targets:
        yield f"exceedance_{t}", plot_exceedance, (draws[t], t), {}
    note = mixture_note(result.weights, baseline) if MIXTURE in result.scenario_ids else None
    for t in targets:
        stats = difference_statistics(without_mixture(paired_differences(fc, t, baseline)))
        yield f"difference_{t}", plot_difference, (stats, t, baseline), dict(origin=origin,
                                                                              note=note)
    yield "regime_occupancy", plot_regime_occupancy, (regime_occupancy(fc),), dict(origin=origin)
    yield "prior_posterior", plot_prior_posterior, (prior_posterior_draws(result.idata),), {}
    if "constant_data" in result.idata.groups():
        yield "evidence_fit", plot_evidence_fit, (evidence_fit(result.idata),), {}


def make_figures(result: RunResult, summary: ForecastSummary | None = None):
    """Yield (name, Figure) for every plot of a run (see :func:`plot_names`)."""
    for name, draw, args, kwargs in figure_specs(result, summary):
        yield name, draw(*args, **kwargs)


SCREEN_DPI = 84
"""dpi of the renderings the HTML report embeds: a slide-size figure 1,120 pixels wide, the width
of the report's column on a laptop screen (the PNG files keep the writer's dpi, for slides)."""


def screen_scale(dpi: int) -> float:
    """Scale from a figure file at ``dpi`` to the report's embedded copy (:data:`SCREEN_DPI`)."""
    return min(1.0, SCREEN_DPI / dpi)


def submit_plots(result: RunResult, writer, summary: ForecastSummary | None = None) -> None:
    """Send every plot of a run to ``writer`` (a :class:`models.outputs.rendering.FigureWriter`;
    each with its screen-size copy for the HTML report)."""
    for name, draw, args, kwargs in figure_specs(result, summary):
        writer.submit(name, draw, *args, screen=True, **kwargs)


def write_plots(result: RunResult, plots_dir: Path, *, summary: ForecastSummary | None = None,
                dpi: int = 120, screen: dict[str, bytes] | None = None,
                workers: int | None = None) -> dict[str, Path]:
    """Write every plot of a run as ``plots_dir/<name>.png``; return name -> path. ``screen``,
    when given, receives name -> a :data:`SCREEN_DPI` palette PNG of each figure (for the HTML
    report: about a quarter of the bytes of the file). ``workers``: see
    :class:`~models.outputs.rendering.FigureWriter`."""
    from models.outputs.rendering import FigureWriter

    writer = FigureWriter(plots_dir, dpi, workers=workers,
                          screen_scale=None if screen is None else screen_scale(dpi))
    submit_plots(result, writer, summary)
    out = writer.files()
    if screen is not None:
        screen.update(writer.screen)
    return out
