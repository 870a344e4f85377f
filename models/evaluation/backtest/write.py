"""Write a backtest's outputs into one directory, atomically
(:func:`models.outputs.atomic.atomic_directory`): the directory appears complete or not at all,
and an existing one is replaced only if it holds :data:`MARKER` (an earlier backtest output).

Files: ``scores.csv``, ``forecast_scores.csv``, ``fits.csv``, ``crps_by_horizon.png``,
``calibration.png``, ``summary.md``, ``run.json`` (the run's description, package versions and
CRPS ratios), ``config.resolved.json`` (the validated config, whose hash ``run.json`` records)
and the marker.

A cross-country run (:func:`write_country_outputs`) writes those files per country into
``<ISO3>/`` and, at the top, ``countries.md`` and ``countries.csv`` (the per-country table and
the pooled figures, :mod:`models.evaluation.backtest.countries`), ``run.json`` and the
marker."""

from __future__ import annotations

import json
import time
from pathlib import Path

from models.data import month_date
from models.evaluation.backtest.countries import (
    countries_markdown,
    countries_table,
    country_row,
    pooled_figures,
)
from models.evaluation.backtest.loop import BacktestResult
from models.evaluation.backtest.plots import plot_statistics
from models.evaluation.backtest.scores import backtest_statistics
from models.evaluation.backtest.summary import summary_markdown
from models.outputs.atomic import atomic_directory
from models.runtime import jsonable, package_versions

__all__ = ["MARKER", "is_backtest_output", "write_country_outputs", "write_outputs"]

MARKER = "backtest.marker"
"""A file every backtest output directory holds: only such a directory is ever replaced."""


def is_backtest_output(path: Path) -> bool:
    """True if ``path`` does not exist or is an earlier backtest output (may be replaced)."""
    path = Path(path)
    return not path.exists() or (path / MARKER).is_file()


def write_outputs(result: BacktestResult, out_dir: Path, meta: dict) -> Path:
    """Write tables, plots and summary of ``result`` to ``out_dir`` (see the module docstring).
    ``meta``: the run's description (:func:`models.evaluation.backtest.pipeline.run_meta`);
    its ``started`` time gives the whole run's duration. Returns ``out_dir``."""
    with atomic_directory(Path(out_dir), replace_marker=MARKER) as tmp:
        (tmp / MARKER).write_text("written by python -m models.backtest\n", encoding="utf-8")
        _write_run(tmp, result, meta)
    return Path(out_dir)


def _with_total(meta: dict) -> dict:
    return {**meta, "seconds": {**meta["seconds"],
                                "total": time.perf_counter() - meta["started"]}}


def _write_run(tmp: Path, result: BacktestResult, meta: dict) -> None:
    """One country's files into the directory ``tmp``."""
    stats = backtest_statistics(result)
    figures = plot_statistics(stats)
    stats.scores.to_csv(tmp / "scores.csv", index=False)
    result.forecast_scores.to_csv(tmp / "forecast_scores.csv", index=False)
    result.fits.to_csv(tmp / "fits.csv", index=False)
    for name, fig in figures.items():
        fig.savefig(tmp / f"{name}.png", dpi=120)
    meta = _with_total(meta)
    (tmp / "summary.md").write_text(summary_markdown(result, stats, meta), encoding="utf-8")
    run = {k: v for k, v in meta.items() if k != "started"}
    run |= {"origins": [f"{month_date(o):%Y-%m}" for o in result.settings.origins],
            "draws": result.settings.draws, "versions": package_versions(),
            "crps_ratios": {b: r.to_dict(orient="records") for b, r in stats.ratios.items()}}
    (tmp / "run.json").write_text(json.dumps(jsonable(run), indent=2, default=str) + "\n",
                                  encoding="utf-8")
    (tmp / "config.resolved.json").write_text(
        json.dumps(meta["config"], indent=2, sort_keys=True) + "\n", encoding="utf-8")


def write_country_outputs(runs: dict, out_dir: Path, meta: dict,
                          names: dict[str, str] | None = None) -> Path:
    """Write a cross-country run: ``runs`` maps a country label to its
    :class:`models.evaluation.backtest.pipeline.BacktestRun`; ``meta``: the whole run's
    description; ``names``: country names for the table. Returns ``out_dir``."""
    names = names or {}
    rows = []
    with atomic_directory(Path(out_dir), replace_marker=MARKER) as tmp:
        (tmp / MARKER).write_text("written by python -m models.backtest\n", encoding="utf-8")
        for label, run in runs.items():
            (tmp / label).mkdir()
            _write_run(tmp / label, run.result, run.meta)
            rows.append(country_row(label, run.result.forecast_scores, run.result.fits,
                                    list(run.result.settings.benchmarks), names.get(label, "")))
        first = next(iter(runs.values())).result.settings
        meta = _with_total(meta) | {
            "origins": [f"{month_date(o):%Y-%m}" for o in first.origins],
            "horizons": first.horizons, "draws": first.draws}
        table = countries_table(rows)
        pooled = pooled_figures(table)
        table.to_csv(tmp / "countries.csv", index=False)
        (tmp / "countries.md").write_text(countries_markdown(table, pooled, meta),
                                          encoding="utf-8")
        run_json = {k: v for k, v in meta.items() if k != "started"} | {
            "pooled": pooled, "versions": package_versions()}
        (tmp / "run.json").write_text(json.dumps(jsonable(run_json), indent=2, default=str)
                                      + "\n", encoding="utf-8")
        (tmp / "config.resolved.json").write_text(
            json.dumps(meta["config"], indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return Path(out_dir)
