"""Run results: one directory per run, written atomically, in formats other tools read.

A run leaves ``<out>/<scenario-id>/<run-id>/`` with

* ``forecast.nc``      ArviZ InferenceData: the nowcast groups (posterior, prior, predictive,
                       observed and constant data, sample stats) and the Monte Carlo forecast in
                       its own group ``scenario_forecast`` (dims scenario, draw, day, target,
                       region); root attributes hold the resolved config YAML of every scenario and
                       its hash, the seed, package versions, creation time and origin;
* ``quantiles.csv``    hubverse long format (23 standard quantile levels and the mean);
* ``samples.parquet``  hubverse sample format, one ``output_type_id`` = one draw = one trajectory
                       (joint across horizons, targets and locations; paired across scenarios);
* ``run.json``         hashes, seed, versions, time and peak memory per stage, diagnostics;
* ``config.resolved.yaml`` (primary scenario, after ``extends``) and
  ``config.<scenario>.resolved.yaml`` for each scenario it is compared with;
* ``sensitivity.csv`` (and ``influence.csv`` with an evidence-influence table): what drives the
  answer (:mod:`models.outputs.drivers`);
* ``plots/``, ``report.md``, ``report.html`` (see :mod:`models.outputs.plots`, :mod:`models.outputs.report`);
* ``exports/``         hubverse model-output files and ViEWS-challenge parquet.

This is the only module that imports the plots and the report: statistics come first
(:mod:`models.outputs.statistics`), then the tables, the stored run, the figures and the report,
all from one :class:`~models.outputs.run_result.RunResult`. Atomicity: see
:mod:`models.outputs.atomic`.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from models.outputs.atomic import atomic_directory
from models.outputs.drivers import write_drivers
from models.outputs.hubverse import (
    DEFAULT_MODEL_ID,
    hub_metadata,
    quantile_table,
    sample_table,
    write_samples_parquet,
)
from models.outputs.plots import screen_scale, submit_plots
from models.outputs.rendering import FigureWriter
from models.outputs.report import write_report
from models.outputs.run_result import RunResult, config_yaml
from models.outputs.statistics import summarise
from models.outputs.store import run_json, write_netcdf
from models.outputs.views import monthly_deaths
from models.runtime import jsonable, peak_memory_mb
from models.storage import estimate_run_bytes, refuse_overwrite

__all__ = ["write_run"]


def write_run(result: RunResult, out_dir: Path, formats=None, *, dpi: int = 120) -> Path:
    """Write the run to ``out_dir/<scenario-id>/<run-id>/`` atomically (see
    :func:`atomic_directory`); return that path.

    ``formats``: any of "netcdf", "csv", "parquet", "plots", "report" (default: the primary
    config's ``output.formats``); run.json and the resolved configs are always written. A
    report needs the plots, so "report" writes them too."""
    started = time.perf_counter()
    formats = tuple(result.primary.config.output.formats if formats is None else formats)
    final = Path(out_dir) / result.scenario_id / result.run_id
    refuse_overwrite(Path(out_dir), (), what="output directory")  # never inside a finished run
    with atomic_directory(final, need_bytes=result_bytes(result, formats)) as tmp:
        writer = None
        if {"plots", "report"} & set(formats):
            writer = FigureWriter(tmp / "plots", dpi, screen_scale=screen_scale(dpi)
                                  if "report" in formats else None)
        try:
            _write_contents(result, tmp, formats, writer, dpi=dpi, started=started)
        finally:
            if writer is not None:
                writer.close()
    return final


def result_bytes(result: RunResult, formats) -> float:
    """Estimate of what :func:`write_run` writes for ``result`` (see
    :func:`models.storage.estimate_run_bytes`), from the arrays in memory."""
    fc = result.forecast["forecast"]
    idata = result.idata
    nowcast = 0.0 if idata is None else float(sum(
        getattr(idata, g).nbytes for g in idata.groups()))
    return estimate_run_bytes(fc.sizes["scenario"], fc.sizes["draw"], fc.sizes["day"],
                              fc.sizes["region"], fc.sizes["target"], formats, nowcast)


def _write_contents(result: RunResult, run_dir: Path, formats, writer: FigureWriter | None, *,
                    dpi: int, started: float):
    stage_seconds: dict[str, float] = {}

    def timed(name):
        return _Timer(stage_seconds, name)

    with timed("configs"):
        (run_dir / "config.resolved.yaml").write_text(config_yaml(result.primary), "utf-8")
        for loaded in result.configs[1:]:
            name = f"config.{loaded.config.scenario.id}.resolved.yaml"
            (run_dir / name).write_text(config_yaml(loaded), "utf-8")
    summary = None
    if {"csv", "plots", "report"} & set(formats):
        with timed("summaries"):
            summary = summarise(result.forecast)
    plot_stems: set[str] = set()
    if writer is not None:  # drawn in worker processes while this one writes the rest
        with timed("plots_sent"):
            submit_plots(result, writer, summary)
            plot_stems = set(writer.submitted)
    exports = []
    notes: list[str] = []  # formats asked for that yield nothing say so (run.json, caller)
    if "netcdf" in formats:
        with timed("netcdf"):
            write_netcdf(result, run_dir / "forecast.nc")
    if "csv" in formats:
        with timed("csv"):
            table = quantile_table(summary, result.origin, result.locations)
            table.to_csv(run_dir / "quantiles.csv", index=False, na_rep="NA", float_format="%.2f")
            hub = run_dir / "exports" / "hubverse"
            model_dir = hub / "model-output" / DEFAULT_MODEL_ID
            model_dir.mkdir(parents=True)
            hub_file = model_dir / f"{result.origin.isoformat()}-{DEFAULT_MODEL_ID}.csv"
            try:  # same content as quantiles.csv: a hard link costs no space
                os.link(run_dir / "quantiles.csv", hub_file)
            except OSError:
                shutil.copyfile(run_dir / "quantiles.csv", hub_file)
            (hub / "model-metadata").mkdir()
            meta = hub / "model-metadata" / f"{DEFAULT_MODEL_ID}.yml"
            meta.write_text(hub_metadata(result), "utf-8")
            exports += [hub_file, meta]
    if "parquet" in formats:
        with timed("parquet"):
            write_samples_parquet(sample_table(result.forecast, result.origin, result.locations),
                                  run_dir / "samples.parquet")
            views_id = result.country.get("views")
            if views_id is None:
                notes.append(f"ViEWS export not written: no ViEWS country_id for "
                             f"{result.country['iso3']} (give episode.country_codes.views)")
            for scenario in result.scenario_ids if views_id is not None else []:
                monthly = monthly_deaths(result.forecast, result.origin, scenario, views_id)
                if monthly.empty:
                    if scenario == result.scenario_ids[0]:
                        notes.append("ViEWS export not written: no whole calendar month lies "
                                     f"within the {result.horizon}-day horizon after "
                                     f"{result.origin}")
                    continue
                d = (run_dir / "exports" / "views" / scenario / "cm"
                     / f"origin_{result.origin.isoformat()}")
                d.mkdir(parents=True)
                monthly.to_parquet(d / f"{scenario}.parquet", index=False)
                exports.append(d / f"{scenario}.parquet")
    if {"csv", "plots", "report"} & set(formats):  # what drives the answer (models.outputs.drivers)
        with timed("drivers"):
            write_drivers(result, run_dir, formats, dpi=dpi, writer=writer)
    plots: dict[str, Path] = {}
    if {"plots", "report"} & set(formats):
        with timed("plots"):  # waiting for the figures: what the work above did not cover
            plots = {name: path for name, path in writer.files().items()
                     if name in plot_stems}
    if "report" in formats:
        with timed("report"):
            write_report(result, run_dir, plots, summary=summary, screen=writer.screen)
    # The writer's own stage joins the run's timings (run.json and what the caller prints).
    result.timings["outputs"] = {"seconds": round(time.perf_counter() - started, 3),
                                 "peak_mb": round(peak_memory_mb(), 1),
                                 "stages": {k: round(v, 3) for k, v in stage_seconds.items()}}
    result.extra["export_notes"] = notes
    record = run_json(result, formats, result.timings, exports, run_dir)
    (run_dir / "run.json").write_text(json.dumps(jsonable(record), indent=2), "utf-8")


class _Timer:
    def __init__(self, sink: dict, name: str):
        self.sink, self.name = sink, name

    def __enter__(self):
        self.t0 = time.perf_counter()

    def __exit__(self, *exc):
        self.sink[self.name] = time.perf_counter() - self.t0
