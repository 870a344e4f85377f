"""The backtest's short report (``summary.md``) as a list of report blocks
(:mod:`models.outputs.blocks`): CRPS ratios to each benchmark per horizon, coverage, the
targets, NUTS diagnostics and time. Rendered with :func:`models.outputs.blocks.to_markdown`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from models.data import month_date
from models.inference.diagnostics import RHAT_MAX
from models.inference.monthly import MODEL_NAME
from models.outputs.blocks import Bullets, Heading, Para, Table, to_markdown
from models.outputs.formatting import format_decimal as fmt

if TYPE_CHECKING:
    from models.evaluation.backtest.loop import BacktestResult
    from models.evaluation.backtest.scores import BacktestStatistics

__all__ = ["summary_blocks", "summary_markdown"]


def _intro(result: BacktestResult, meta: dict) -> Para:
    s = result.settings
    return Para(f"Unit {meta['country']} from `{meta['data_path']}`; {len(s.origins)} origins "
                f"{month_date(s.origins[0]):%Y-%m} to {month_date(s.origins[-1]):%Y-%m}"
                f"{' (--quick)' if meta['quick'] else ''}; horizons 1-{s.horizons} months; "
                f"{s.draws} draws per forecast; model `{MODEL_NAME}` fitted to the last "
                f"{meta['window_months']} months, trend damping {meta['trend_damping']}, "
                f"December effect {'on' if meta['december_effect'] else 'off'}, AR deviations "
                f"anchored at the {meta['ar_anchor']}; seed {s.seed}.")


def _ratio_blocks(ratios: dict, horizons: list[int]) -> list:
    bench = list(ratios)
    rows = []
    for h in horizons:
        cells = []
        for b in bench:
            r = ratios[b].set_index("horizon").loc[h]
            cells.append(f"{fmt(r['ratio'])} [{fmt(r['low'], 2)}, {fmt(r['high'], 2)}]")
        rows.append([str(h), *cells])
    return [Heading(2, f"CRPS ratio of {MODEL_NAME} to each benchmark (mean over origins; "
                       "< 1 = better)"),
            Table(["horizon", *bench], rows),
            Para("Brackets: 90% moving-block bootstrap interval over origins (blocks of 12 "
                 "months; paired). Mean CRPS per model and horizon: `scores.csv`.")]


def _coverage_blocks(ours, pooled, horizons: list[int]) -> list:
    rows = [[str(h), fmt(ours.loc[h, "coverage_50"], 2), fmt(ours.loc[h, "coverage_90"], 2),
             fmt(ours.loc[h, "crps"], 1)] for h in horizons]
    return [Heading(2, f"Coverage of {MODEL_NAME}'s central intervals"),
            Table(["horizon", "50%", "90%", "mean CRPS"], rows),
            Para("All horizons pooled: " + "; ".join(
                f"{m} 50% {fmt(r.coverage_50, 2)}, 90% {fmt(r.coverage_90, 2)}"
                for m, r in pooled.iterrows()))]


def _target_blocks(ratios: dict, ours, pooled) -> list:
    if "conflictology" not in ratios:
        return []
    r3 = ratios["conflictology"].set_index("horizon").reindex([1, 2, 3])["ratio"]
    beat = [f"h{h}: {'yes' if v < 1 else 'no'} ({fmt(v)})" for h, v in r3.items()]
    cov90 = pooled.loc[MODEL_NAME, "coverage_90"]
    return [Heading(2, "Targets (issue 6)"),
            Bullets(["CRPS below conflictology at horizons 1-3: " + ", ".join(beat),
                     f"90% coverage in [0.85, 0.95]: {'yes' if 0.85 <= cov90 <= 0.95 else 'no'} "
                     f"({fmt(cov90, 3)} pooled; per horizon "
                     f"{fmt(ours['coverage_90'].min(), 2)}-{fmt(ours['coverage_90'].max(), 2)})"])]


def _nuts_blocks(f, meta: dict) -> list:
    if "max_rhat" not in f.columns:
        return []
    bad_rhat = int((f["max_rhat"] > RHAT_MAX).sum())
    with_div = int((f["divergences"] > 0).sum())
    either = int(((f["max_rhat"] > RHAT_MAX) | (f["divergences"] > 0)).sum())
    return [Heading(2, f"NUTS diagnostics of {MODEL_NAME} (one fit per origin)"),
            Bullets([f"fits: {len(f)}; with max R-hat > {RHAT_MAX}: {bad_rhat} (worst "
                     f"{f['max_rhat'].max():.3f}); with divergences: {with_div} "
                     f"({int(f['divergences'].sum())} divergent transitions in all); either: "
                     f"{either}",
                     f"R-hat of the log-intensity at the origin (what forecasts start from) > "
                     f"{RHAT_MAX}: {int((f['rhat_log_intensity_at_origin'] > RHAT_MAX).sum())} "
                     f"fits; min bulk ESS {f['min_ess_bulk'].min():.0f}",
                     f"sampler: nutpie, {meta['sampler']}"])]


def _time_blocks(f, meta: dict) -> list:
    t = meta["seconds"]
    nuts = f["fit_seconds"].mean() if "fit_seconds" in f else np.nan
    return [Heading(2, "Time"),
            Bullets([f"compile {fmt(t.get('compile', np.nan), 1)} s (once); fit + forecast per "
                     f"origin: mean {f['forecast_seconds'].mean():.2f} s, max "
                     f"{f['forecast_seconds'].max():.2f} s; NUTS alone mean {nuts:.2f} s; "
                     f"whole run {fmt(t.get('total', np.nan), 1)} s"])]


def summary_blocks(result: BacktestResult, stats: BacktestStatistics, meta: dict) -> list:
    """The short report as blocks. ``meta``: the run's description
    (:func:`models.evaluation.backtest.pipeline.run_meta`) with ``seconds``."""
    fs = result.forecast_scores
    scores = stats.scores
    ours = scores[scores["model"] == MODEL_NAME].pivot(index="horizon", columns="metric",
                                                       values="value")
    horizons = sorted(fs["horizon"].unique())
    pooled = fs.groupby("model", sort=False)[["coverage_50", "coverage_90", "crps"]].mean()
    return [Heading(1, f"Backtest: {meta['name']}"), _intro(result, meta),
            *_ratio_blocks(stats.ratios, horizons),
            *_coverage_blocks(ours, pooled, horizons),
            *_target_blocks(stats.ratios, ours, pooled),
            *_nuts_blocks(result.fits, meta),
            *_time_blocks(result.fits, meta),
            Para("Plots: `crps_by_horizon.png`, `calibration.png`. Per-forecast scores: "
                 "`forecast_scores.csv`; per-fit diagnostics: `fits.csv`.")]


def summary_markdown(result: BacktestResult, stats: BacktestStatistics, meta: dict) -> str:
    """``summary.md``: :func:`summary_blocks` rendered as Markdown."""
    return to_markdown(summary_blocks(result, stats, meta))
