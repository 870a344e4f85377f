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
* ``plots/``, ``report.md``, ``report.html`` (see :mod:`models.plots`, :mod:`models.report`);
* ``exports/``         hubverse model-output files and ViEWS-challenge parquet.

Atomicity: everything is written into a temporary sibling directory (``.tmp-<host>-<pid>-<run>``,
same filesystem) that is renamed to its final name only when complete. An exception, Ctrl-C or
SIGTERM removes the temporary directory; SIGKILL cannot be caught, so it leaves one behind, which
is recognisable by its prefix, ignored by :func:`list_runs` and removed by the next
:func:`write_run` in the same scenario directory once its process is gone. Existing runs are never
opened for writing, and ``rename`` refuses to replace a non-empty directory.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib.metadata
import json
import math
import os
import resource
import secrets
import shutil
import signal
import socket
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import xarray as xr
import yaml

from models.state import ALL
from scenarios.loader import Loaded, config_hash

if TYPE_CHECKING:
    import arviz as az


def import_arviz():
    """ArviZ, imported on first use (it takes seconds; writing CSV or parquet does not need
    it). ArviZ 0.2x announces its coming refactor on import; that notice is not about our use
    and must not fail runs or tests that treat warnings as errors."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"\s*ArviZ is undergoing",
                                category=FutureWarning)
        import arviz

    return arviz


QUANTILE_LEVELS: tuple[float, ...] = (
    0.01, 0.025, *(round(0.05 * k, 2) for k in range(1, 20)), 0.975, 0.99)
"""The 23 standard hubverse quantile levels."""

HUBVERSE_COLUMNS = ("origin_date", "scenario_id", "location", "target", "horizon",
                    "output_type", "output_type_id", "value")
FORECAST_GROUP = "scenario_forecast"
"""InferenceData group holding the Monte Carlo forecast."""
MIXTURE = "mixture"
"""Scenario id of the weighted mixture of scenarios."""
TEMP_PREFIX = ".tmp-"
"""Prefix of directories being written (never a finished run)."""
DEFAULT_MODEL_ID = "conflictscen-nowcastmc"
"""hubverse ``model_id`` (``team_abbr-model_abbr``) used for exports."""
SYRIA_COUNTRY_ID = 220
"""ViEWS ``country_id`` of Syria (Gleditsch-Ward 652)."""
PACKAGES = ("numpy", "scipy", "pandas", "xarray", "pymc", "pytensor", "arviz", "nutpie",
            "pydantic", "PyYAML", "matplotlib", "pyarrow", "h5netcdf", "h5py", "scoringrules",
            "conflict-scenarios")


class RunIntegrityError(ValueError):
    """A stored run does not match itself (e.g. a config edited after the run was written)."""


@dataclass
class RunResult:
    """Everything one run produced, as handed to :func:`write_run`."""

    configs: list[Loaded]
    """Scenario configs, the primary (the one the user ran) first, then those compared with it."""
    idata: az.InferenceData
    """The Bayesian nowcast (posterior, prior, predictive, observed/constant data, sample stats)."""
    forecast: xr.Dataset
    """Monte Carlo forecast: ``forecast`` (scenario, draw, day, target, region) in people,
    ``regime`` (scenario, draw, day), ``event_day``, ``lever__*``, ``mixture_component``."""
    diagnostics: dict
    """Sampler diagnostics: max_rhat, min_ess_bulk, min_ess_tail, divergences, passed, sampler,
    messages."""
    timings: dict
    """Stage -> {"seconds", "peak_mb"}."""
    seed: int
    weights: dict | None
    origin: dt.date
    run_id: str
    extra: dict = field(default_factory=dict)
    """Anything else worth keeping in run.json (e.g. command line)."""

    @property
    def primary(self) -> Loaded:
        return self.configs[0]

    @property
    def scenario_id(self) -> str:
        return self.primary.config.scenario.id

    @property
    def scenario_ids(self) -> list[str]:
        """Scenarios in the forecast, in its order (includes ``mixture`` when weighted)."""
        return [str(s) for s in self.forecast["scenario"].values]

    @property
    def horizon(self) -> int:
        return int(self.forecast.sizes["day"])

    @property
    def draws(self) -> int:
        return int(self.forecast.sizes["draw"])

    @property
    def config_hashes(self) -> dict[str, str]:
        return {c.config.scenario.id: c.config_hash for c in self.configs}


# ---------------------------------------------------------------------------------------------
# Summaries shared by the CSV, plots and report


@dataclass(frozen=True)
class ForecastSummary:
    """Quantiles and means over draws of a forecast."""

    quantiles: xr.DataArray
    """(scenario, quantile, day, target, region), people."""
    mean: xr.DataArray
    """(scenario, day, target, region), people."""


def summarise(forecast: xr.Dataset, levels=QUANTILE_LEVELS) -> ForecastSummary:
    """Quantiles (numpy's default linear interpolation) and means over the ``draw`` dimension."""
    da = forecast["forecast"].transpose("scenario", "draw", "day", "target", "region")
    # float64: the engine stores float32 counts, and interpolating between large float32 counts
    # in float32 would round to the nearest 0.125 people above a million.
    values = da.values.astype(np.float64)
    q = np.quantile(values, np.asarray(levels), axis=1)  # (quantile, scenario, day, ...)
    coords = {k: da.coords[k].values for k in ("scenario", "day", "target", "region")}
    quantiles = xr.DataArray(
        np.moveaxis(q, 0, 1), dims=("scenario", "quantile", "day", "target", "region"),
        coords={**coords, "quantile": np.asarray(levels)})
    mean = xr.DataArray(values.mean(axis=1), dims=("scenario", "day", "target", "region"),
                        coords=coords)
    return ForecastSummary(quantiles=quantiles, mean=mean)


def _categorical(labels, codes) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=pd.Index(list(labels)))


def quantile_table(summary: ForecastSummary, origin: dt.date) -> pd.DataFrame:
    """hubverse long table (exactly :data:`HUBVERSE_COLUMNS`): for each scenario, location,
    target and horizon the 23 quantiles then the mean (``output_type_id`` missing for the mean).
    ``output_type_id`` holds the level as text ("0.025") so CSV keeps it exact."""
    q = summary.quantiles.transpose("scenario", "region", "target", "day", "quantile")
    m = summary.mean.transpose("scenario", "region", "target", "day")
    values = np.concatenate([q.values, m.values[..., None]], axis=-1)
    s, r, t, h, k = values.shape
    index = np.indices((s, r, t, h, k)).reshape(5, -1)
    levels = [f"{x:g}" for x in q["quantile"].values]
    id_codes = np.where(index[4] < k - 1, index[4], -1)
    return pd.DataFrame({
        "origin_date": origin.isoformat(),
        "scenario_id": _categorical(q["scenario"].values, index[0]),
        "location": _categorical(q["region"].values, index[1]),
        "target": _categorical(q["target"].values, index[2]),
        "horizon": q["day"].values[index[3]].astype(np.int32),
        "output_type": _categorical(["quantile", "mean"], (index[4] == k - 1).astype(np.int8)),
        "output_type_id": _categorical(levels, id_codes),
        "value": values.reshape(-1),
    }, columns=list(HUBVERSE_COLUMNS))


def sample_table(forecast: xr.Dataset, origin: dt.date) -> pa.Table:
    """hubverse sample table (columns :data:`HUBVERSE_COLUMNS`, ``output_type`` "sample",
    ``output_type_id`` = draw index). One draw index is one joint trajectory over horizons,
    targets and locations, and the same index is the paired draw in every scenario. Rows are
    ordered scenario, location, target, draw, horizon (each trajectory contiguous)."""
    da = forecast["forecast"].transpose("scenario", "region", "target", "draw", "day")
    s, r, t, n, h = da.shape
    rows = s * r * t * n * h

    def dictionary(labels, codes):
        return pa.DictionaryArray.from_arrays(pa.array(codes), pa.array([str(x) for x in labels]))

    def repeat_tile(values, inner, outer):
        return np.tile(np.repeat(values, inner), outer)

    return pa.table({
        "origin_date": pa.DictionaryArray.from_arrays(
            pa.array(np.zeros(rows, np.int8)), pa.array([origin], pa.date32())),
        "scenario_id": dictionary(da["scenario"].values,
                                  np.repeat(np.arange(s, dtype=np.int8), r * t * n * h)),
        "location": dictionary(da["region"].values,
                               repeat_tile(np.arange(r, dtype=np.int8), t * n * h, s)),
        "target": dictionary(da["target"].values,
                             repeat_tile(np.arange(t, dtype=np.int8), n * h, s * r)),
        "horizon": pa.array(np.tile(da["day"].values.astype(np.int32), s * r * t * n)),
        "output_type": pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, np.int8)),
                                                      pa.array(["sample"])),
        "output_type_id": pa.array(repeat_tile(da["draw"].values.astype(np.int32), h, s * r * t)),
        "value": pa.array(da.values.reshape(-1)),
    })


def write_samples_parquet(table: pa.Table, path: Path) -> None:
    """zstd with byte-stream-split floats: about 3x smaller than plain snappy for trajectories."""
    categorical = ["origin_date", "scenario_id", "location", "target", "output_type"]
    pq.write_table(table, path, compression="zstd", compression_level=3,
                   use_dictionary=categorical, use_byte_stream_split=["value"],
                   row_group_size=1 << 20)


def month_id(date: dt.date) -> int:
    """ViEWS month id: January 1980 = 1 (so November 2024 = 539)."""
    return (date.year - 1980) * 12 + date.month


def monthly_deaths(forecast: xr.Dataset, origin: dt.date, scenario: str) -> pd.DataFrame:
    """Deaths of all actors in each calendar month fully inside the forecast, per draw, summed
    over regions: ViEWS-challenge columns ``month_id, country_id, draw, outcome``.

    A month is exported only when the cumulative count is known at the end of the month before
    it and at its own end (both in days 1..H after the origin); the month of the origin is
    partly observed, so it is left out rather than reported short. Our deaths are all actors
    (UCDP's ``ged_sb`` + ``ged_os`` + ``ged_ns`` is the nearest ViEWS counterpart); say so to a
    scorer."""
    cum = forecast["forecast"].sel(scenario=scenario, target="cum_deaths", region=ALL)
    cum = cum.transpose("draw", "day").values
    horizon = cum.shape[1]
    rows = []
    first = (origin.replace(day=1) + dt.timedelta(days=32)).replace(day=1)  # next month
    while True:
        nxt = (first + dt.timedelta(days=32)).replace(day=1)
        start_day = (first - origin).days - 1  # day index of the last day before the month
        end_day = (nxt - dt.timedelta(days=1) - origin).days
        if end_day > horizon:
            break
        if start_day >= 1:
            deaths = cum[:, end_day - 1] - cum[:, start_day - 1]
            rows.append(pd.DataFrame({"month_id": month_id(first), "draw": np.arange(len(deaths)),
                                      "outcome": deaths}))
        first = nxt
    if not rows:
        return pd.DataFrame({"month_id": pd.Series(dtype=np.int64),
                             "country_id": pd.Series(dtype=np.int64),
                             "draw": pd.Series(dtype=np.int64),
                             "outcome": pd.Series(dtype=float)})
    out = pd.concat(rows, ignore_index=True)
    out["country_id"] = SYRIA_COUNTRY_ID
    return out.astype({"month_id": np.int64, "country_id": np.int64, "draw": np.int64})[
        ["month_id", "country_id", "draw", "outcome"]]


# ---------------------------------------------------------------------------------------------
# Run ids, versions, fingerprints


def new_run_id(config_hash_: str, now: dt.datetime | None = None) -> str:
    """``YYYYMMDDTHHMMSS.ffffffZ-<8 hex of the config hash>-<4 random hex>``: sorts by time, says
    which config, and stays unique for runs started in the same microsecond."""
    now = now or dt.datetime.now(dt.UTC)
    stamp = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"{stamp}-{config_hash_[:8]}-{secrets.token_hex(2)}"


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a run depends on (no imports, so it is quick)."""
    out = {}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    import platform

    out["python"] = platform.python_version()
    return out


def posterior_fingerprint(idata: az.InferenceData) -> str | None:
    """SHA-256 of the posterior draws (variables in name order): two runs with the same
    fingerprint and seed have paired Monte Carlo draws."""
    if idata is None or "posterior" not in idata.groups():
        return None
    digest = hashlib.sha256()
    post = idata.posterior
    for name in sorted(post.data_vars):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(post[name].values).tobytes())
    return digest.hexdigest()


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 if os.uname().sysname != "Darwin" else rss / 1024**2


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if isinstance(x, (dt.date, dt.datetime)):
        return x.isoformat()
    if isinstance(x, Path):
        return str(x)
    return x


def config_yaml(loaded: Loaded) -> str:
    """The resolved config (after ``extends``) as YAML text; its hash is ``loaded.config_hash``."""
    return yaml.safe_dump(loaded.resolved, sort_keys=False, allow_unicode=True, width=100)


# ---------------------------------------------------------------------------------------------
# Atomic write


def list_runs(out_dir: Path, scenario_id: str | None = None) -> list[Path]:
    """Finished run directories under ``out_dir`` (optionally one scenario), oldest first;
    temporary directories of runs being written (or killed) are ignored."""
    out_dir = Path(out_dir)
    scenario_dirs = [out_dir / scenario_id] if scenario_id else sorted(
        p for p in out_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    runs = []
    for sd in scenario_dirs:
        if sd.is_dir():
            runs += [p for p in sd.iterdir() if p.is_dir() and not p.name.startswith(".")
                     and (p / "run.json").is_file()]
    return sorted(runs, key=lambda p: p.name)


def _temp_name(run_id: str) -> str:
    return f"{TEMP_PREFIX}{socket.gethostname()}-{os.getpid()}-{run_id}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def clean_stale_temp_dirs(scenario_dir: Path) -> list[Path]:
    """Remove temporary directories left by killed runs on this host (their process is gone).
    Directories of live processes, or from other hosts, are left alone. Returns what was
    removed."""
    removed = []
    host = socket.gethostname()
    if not scenario_dir.is_dir():
        return removed
    for p in scenario_dir.iterdir():
        if not (p.is_dir() and p.name.startswith(TEMP_PREFIX)):
            continue
        rest = p.name[len(TEMP_PREFIX):]
        if not rest.startswith(host + "-"):
            continue
        pid_text = rest[len(host) + 1:].split("-", 1)[0]
        if pid_text.isdigit() and not _pid_alive(int(pid_text)):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


class TerminatedDuringWrite(SystemExit):
    """SIGTERM arrived while a run was being written; the partial run has been removed."""

    def __init__(self):
        super().__init__(128 + signal.SIGTERM)


@contextlib.contextmanager
def _sigterm_as_exception():
    """Turn the first SIGTERM into :class:`TerminatedDuringWrite` (so cleanup runs; later ones
    are held back until cleanup is done). Only the main thread can own signal handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    state = {"raised": False}

    def handler(signum, frame):
        if not state["raised"]:
            state["raised"] = True
            raise TerminatedDuringWrite()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def atomic_directory(final: Path):
    """Yield a temporary sibling of ``final`` to fill; rename it to ``final`` on success.

    On any exception, Ctrl-C or SIGTERM the temporary directory is removed and the error
    re-raised (SIGTERM as :class:`TerminatedDuringWrite`, exit status 143). ``final`` must not
    exist: an existing run is never replaced."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temp_dirs(final.parent)
    if final.exists():
        raise FileExistsError(f"{final}: already exists; not overwriting it")
    tmp = final.parent / _temp_name(final.name)
    with _sigterm_as_exception():
        try:
            tmp.mkdir()
            yield tmp
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    with contextlib.suppress(OSError):  # make the rename durable where the OS allows it
        fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_run(result: RunResult, out_dir: Path, formats=None, *, dpi: int = 120) -> Path:
    """Write the run to ``out_dir/<scenario-id>/<run-id>/`` atomically (see
    :func:`atomic_directory`); return that path.

    ``formats``: any of "netcdf", "csv", "parquet", "plots", "report" (default: the primary
    config's ``output.formats``); run.json and the resolved configs are always written. A
    report needs the plots, so "report" writes them too."""
    started = time.perf_counter()
    formats = tuple(result.primary.config.output.formats if formats is None else formats)
    final = Path(out_dir) / result.scenario_id / result.run_id
    with atomic_directory(final) as tmp:
        _write_contents(result, tmp, formats, dpi=dpi, started=started)
    return final


def _write_contents(result: RunResult, run_dir: Path, formats, *, dpi: int, started: float):
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
    exports = []
    if "netcdf" in formats:
        with timed("netcdf"):
            write_netcdf(result, run_dir / "forecast.nc")
    if "csv" in formats:
        with timed("csv"):
            table = quantile_table(summary, result.origin)
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
            meta.write_text(_hub_metadata(result), "utf-8")
            exports += [hub_file, meta]
    if "parquet" in formats:
        with timed("parquet"):
            write_samples_parquet(sample_table(result.forecast, result.origin),
                                  run_dir / "samples.parquet")
            for scenario in result.scenario_ids:
                monthly = monthly_deaths(result.forecast, result.origin, scenario)
                if monthly.empty:
                    continue
                d = (run_dir / "exports" / "views" / scenario / "cm"
                     / f"origin_{result.origin.isoformat()}")
                d.mkdir(parents=True)
                monthly.to_parquet(d / f"{scenario}.parquet", index=False)
                exports.append(d / f"{scenario}.parquet")
    plots = {}
    if {"plots", "report"} & set(formats):
        from models.plots import write_plots

        with timed("plots"):
            plots = write_plots(result, run_dir / "plots", summary=summary, dpi=dpi)
    if "report" in formats:
        from models.report import write_report

        with timed("report"):
            write_report(result, run_dir, plots, summary=summary)
    timings = dict(result.timings)
    timings["outputs"] = {"seconds": round(time.perf_counter() - started, 3),
                          "peak_mb": round(peak_memory_mb(), 1),
                          "stages": {k: round(v, 3) for k, v in stage_seconds.items()}}
    run_json = _run_json(result, formats, timings, exports, run_dir)
    (run_dir / "run.json").write_text(json.dumps(_jsonable(run_json), indent=2), "utf-8")


class _Timer:
    def __init__(self, sink: dict, name: str):
        self.sink, self.name = sink, name

    def __enter__(self):
        self.t0 = time.perf_counter()

    def __exit__(self, *exc):
        self.sink[self.name] = time.perf_counter() - self.t0


def _hub_metadata(result: RunResult) -> str:
    team, model = DEFAULT_MODEL_ID.split("-", 1)
    meta = {
        "team_abbr": team, "model_abbr": model,
        "model_name": "Bayesian nowcast of reported conflict casualties and displacement, with "
                      "regime-switching Monte Carlo scenarios",
        "designated_model": False,
        "methods": "Bayesian nowcast of reported evidence (PyMC) and a regime-switching Monte "
                   "Carlo projection per scenario; quantiles over Monte Carlo draws.",
        "scenarios": result.scenario_ids,
    }
    return yaml.safe_dump(meta, sort_keys=False)


def _run_json(result: RunResult, formats, timings, exports, run_dir: Path) -> dict:
    fc = result.forecast
    files = sorted(p for p in run_dir.rglob("*") if p.is_file())
    return {
        "run_id": result.run_id,
        "scenario_id": result.scenario_id,
        "scenario_ids": result.scenario_ids,
        "config_hash": result.primary.config_hash,
        "config_hashes": result.config_hashes,
        "seed": result.seed,
        "origin": result.origin,
        "episode_start": result.primary.config.episode.start,
        "horizon_days": result.horizon,
        "draws": result.draws,
        "targets": [str(t) for t in fc["target"].values],
        "locations": [str(r) for r in fc["region"].values],
        "weights": result.weights,
        "posterior_fingerprint": posterior_fingerprint(result.idata),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "versions": package_versions(),
        "timings": timings,
        "diagnostics": result.diagnostics,
        "formats": list(formats),
        "exports": [str(p.relative_to(run_dir)) for p in exports],
        "files": {str(p.relative_to(run_dir)): p.stat().st_size for p in files},
        **({"extra": result.extra} if result.extra else {}),
    }


# ---------------------------------------------------------------------------------------------
# netCDF


def _root_attrs(result: RunResult) -> dict:
    attrs = {
        "run_id": result.run_id,
        "scenario_id": result.scenario_id,
        "config_hash": result.primary.config_hash,
        "config_yaml": config_yaml(result.primary),
        "config_scenarios": json.dumps([c.config.scenario.id for c in result.configs]),
        "seed": str(result.seed),
        "origin": result.origin.isoformat(),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "versions": json.dumps(package_versions()),
        "diagnostics": json.dumps(_jsonable(result.diagnostics)),
        "weights": json.dumps(result.weights),
    }
    for loaded in result.configs:
        sid = loaded.config.scenario.id
        # One attribute per config keeps each under HDF5's 64 kB compact-attribute limit.
        attrs[f"config_hash__{sid}"] = loaded.config_hash
        attrs[f"config_yaml__{sid}"] = config_yaml(loaded)
    for key, value in (getattr(result.idata, "attrs", None) or {}).items():
        # The nowcast's own attributes (e.g. key_parameters) keep their names; ours win a clash.
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            value = list(value)
        elif not isinstance(value, (str, int, float)):
            value = json.dumps(_jsonable(value))
        attrs.setdefault(key, value)
    return attrs


def write_netcdf(result: RunResult, path: Path) -> None:
    """One netCDF4/HDF5 file laid out as ArviZ writes InferenceData (root attributes, one HDF5
    group per InferenceData group), with the forecast in :data:`FORECAST_GROUP`. Numeric
    variables are deflated with the byte shuffle filter (about 30% smaller than deflate alone for
    count trajectories)."""
    xr.Dataset(attrs=_root_attrs(result)).to_netcdf(path, mode="w", engine="h5netcdf")
    idata = result.idata
    groups = [] if idata is None else [(g, getattr(idata, g)) for g in idata.groups()
                                       if g != FORECAST_GROUP]
    forecast = result.forecast
    groups.append((FORECAST_GROUP, forecast))
    for name, ds in groups:
        # Deflate level 1 with shuffle: within 5% of level 4's size at two thirds of the time;
        # h5py's automatic chunking beat hand-picked chunks for (scenario, draw, ...) arrays.
        encoding = {var: {"zlib": True, "complevel": 1, "shuffle": True}
                    for var, da in ds.variables.items()
                    if np.issubdtype(da.dtype, np.number) or da.dtype == bool}
        ds.to_netcdf(path, mode="a", group=name, engine="h5netcdf", encoding=encoding)


def read_netcdf(path: Path) -> az.InferenceData:
    """Load ``forecast.nc`` eagerly (the file is closed afterwards)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=rf".*{FORECAST_GROUP}.*not defined in the "
                                "InferenceData scheme", category=UserWarning)
        az = import_arviz()
        with az.rc_context({"data.load": "eager"}):
            return az.from_netcdf(str(path))


def load_run(run_dir: Path) -> tuple[az.InferenceData, dict]:
    """Load a finished run: ``(idata, run_json)``; the forecast is ``idata.scenario_forecast``.

    Refuses (:class:`RunIntegrityError`, naming the file) a run whose stored configs do not
    match their stored hashes: in ``forecast.nc`` attributes, in ``config*.resolved.yaml``, or
    against run.json."""
    run_dir = Path(run_dir)
    if run_dir.name.startswith(TEMP_PREFIX):
        raise RunIntegrityError(f"{run_dir}: an unfinished (interrupted) run, not a result")
    run_file = run_dir / "run.json"
    try:
        run_json = json.loads(run_file.read_text("utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{run_file}: not found; is {run_dir} a run directory?") from None
    except json.JSONDecodeError as e:
        raise RunIntegrityError(f"{run_file}: not valid JSON ({e})") from None
    hashes = run_json.get("config_hashes", {})
    for sid, stored in hashes.items():
        name = ("config.resolved.yaml" if sid == run_json["scenario_id"]
                else f"config.{sid}.resolved.yaml")
        _check_yaml(run_dir / name, (run_dir / name).read_text("utf-8"), stored, sid)
    nc = run_dir / "forecast.nc"
    if not nc.is_file():
        raise FileNotFoundError(f"{nc}: not found (was the run written without 'netcdf'?)")
    idata = read_netcdf(nc)
    attrs = idata.attrs
    if attrs.get("config_hash") != run_json.get("config_hash"):
        raise RunIntegrityError(f"{nc}: config hash {attrs.get('config_hash')} differs from "
                                f"run.json's {run_json.get('config_hash')}")
    _check_yaml(nc, attrs.get("config_yaml", ""), attrs.get("config_hash", ""),
                run_json["scenario_id"])
    for key in [k for k in attrs if k.startswith("config_yaml__")]:
        sid = key.removeprefix("config_yaml__")
        _check_yaml(nc, attrs[key], attrs.get(f"config_hash__{sid}", ""), sid)
        if hashes.get(sid) != attrs.get(f"config_hash__{sid}"):
            raise RunIntegrityError(f"{nc}: config hash of scenario '{sid}' differs from "
                                    "run.json's")
    return idata, run_json


def _check_yaml(where: Path, text: str, stored_hash: str, scenario: str) -> None:
    try:
        actual = config_hash(yaml.safe_load(text))
    except yaml.YAMLError as e:
        raise RunIntegrityError(f"{where}: stored config of scenario '{scenario}' is not valid "
                                f"YAML ({e})") from None
    if actual != stored_hash:
        raise RunIntegrityError(
            f"{where}: stored config of scenario '{scenario}' does not match its stored hash "
            f"({actual[:12]}... != {str(stored_hash)[:12]}...); it was changed after the run "
            "was written")
