"""The stored run: ``forecast.nc`` (ArviZ InferenceData plus the Monte Carlo forecast), run.json,
the resolved configs, and the checks that reload it only when it matches itself."""

from __future__ import annotations

import datetime as dt
import gc
import json
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from models.outputs.atomic import TEMP_PREFIX
from models.outputs.run_result import RunResult, config_yaml, posterior_fingerprint
from models.runtime import import_arviz, jsonable, package_versions
from models.storage import write_netcdf_groups
from scenarios.loader import config_hash
from scenarios.yaml_source import ConfigError, load_yaml_text, read_text_file

if TYPE_CHECKING:
    import arviz as az


FORECAST_GROUP = "scenario_forecast"
"""InferenceData group holding the Monte Carlo forecast."""


class RunIntegrityError(ValueError):
    """A stored run does not match itself (e.g. a config edited after the run was written)."""


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


def run_json(result: RunResult, formats, timings, exports, run_dir: Path) -> dict:
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
        "hubverse_locations": result.locations,
        "country": result.country,
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
        "diagnostics": json.dumps(jsonable(result.diagnostics)),
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
            value = json.dumps(jsonable(value))
        attrs.setdefault(key, value)
    return attrs


def write_netcdf(result: RunResult, path: Path) -> None:
    """One netCDF4/HDF5 file laid out as ArviZ writes InferenceData (root attributes, one HDF5
    group per InferenceData group), with the forecast in :data:`FORECAST_GROUP`; built in memory
    and written by :func:`models.storage.write_netcdf_groups` (a full disk is an OSError, never
    a crash inside HDF5). Numeric variables are deflated with the byte shuffle filter (about 30%
    smaller than deflate alone for count trajectories)."""
    idata = result.idata
    groups = [] if idata is None else [(g, getattr(idata, g)) for g in idata.groups()
                                       if g != FORECAST_GROUP]
    write_netcdf_groups(path, _root_attrs(result), [*groups, (FORECAST_GROUP, result.forecast)])


def read_netcdf(path: Path) -> az.InferenceData:
    """Load ``forecast.nc`` eagerly (the file is closed afterwards)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=rf".*{FORECAST_GROUP}.*not defined in the "
                                "InferenceData scheme", category=UserWarning)
        az = import_arviz()
        with az.rc_context({"data.load": "eager"}):
            try:
                _check_hdf5(path)
                return az.from_netcdf(str(path))
            except Exception as e:
                error = e
    # A damaged file leaves h5netcdf's File half-built; its __del__ then fails on an attribute
    # its __init__ never set and Python prints that as "Exception ignored ... Traceback" on
    # stderr. Free the frames that hold it now, with that one message silenced, then raise the
    # reading error itself (the callers turn it into one line naming the file).
    link, seen = error, set()
    while link is not None and id(link) not in seen:  # the chained errors' frames too
        seen.add(id(link))
        link.__traceback__ = None
        link = link.__cause__ or link.__context__
    previous = sys.unraisablehook

    def hook(unraisable):
        if not (isinstance(unraisable.exc_value, AttributeError)
                and "_writable" in str(unraisable.exc_value)):
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        gc.collect()
    finally:
        sys.unraisablehook = previous
    raise error


def _check_hdf5(path: Path) -> None:
    """Read every attribute and dataset of the HDF5 file with h5py, which fails cleanly on a
    damaged file, before h5netcdf opens it (h5netcdf's File, half-built on a damaged file, fails
    again when collected, which Python prints as a traceback)."""
    import h5py

    def visit(name, obj):
        dict(obj.attrs)
        if isinstance(obj, h5py.Dataset):
            obj[()]

    with h5py.File(path, "r") as f:
        dict(f.attrs)
        f.visititems(visit)


def load_run(run_dir: Path) -> tuple[az.InferenceData, dict]:
    """Load a finished run: ``(idata, run_json)``; the forecast is ``idata.scenario_forecast``.

    Refuses (:class:`RunIntegrityError`, naming the file) a run whose stored configs do not
    match their stored hashes: in ``forecast.nc`` attributes, in ``config*.resolved.yaml``, or
    against run.json."""
    run_dir = Path(run_dir)
    if run_dir.name.startswith(TEMP_PREFIX):
        raise RunIntegrityError(f"{run_dir}: an unfinished (interrupted) run, not a result")
    run_file = run_dir / "run.json"
    if not run_file.exists():
        raise FileNotFoundError(f"{run_file}: not found; is {run_dir} a run directory?")
    try:
        run_json = json.loads(_read_text(run_file, "run.json"))
    except json.JSONDecodeError as e:
        raise RunIntegrityError(f"{run_file}: not valid JSON ({e})") from None
    if not isinstance(run_json, dict) or not isinstance(run_json.get("scenario_id"), str):
        raise RunIntegrityError(f"{run_file}: not a run record (expected a JSON object with "
                                "'scenario_id', got "
                                f"{type(run_json).__name__ if not isinstance(run_json, dict) else 'an object without it'})")
    hashes = run_json.get("config_hashes", {})
    if not isinstance(hashes, dict):
        raise RunIntegrityError(f"{run_file}: 'config_hashes' is not a mapping")
    for sid, stored in hashes.items():
        name = ("config.resolved.yaml" if sid == run_json["scenario_id"]
                else f"config.{sid}.resolved.yaml")
        _check_yaml(run_dir / name, _read_text(run_dir / name, "a stored config"), stored, sid)
    nc = run_dir / "forecast.nc"
    if not nc.is_file():
        raise FileNotFoundError(f"{nc}: not found (was the run written without 'netcdf'?)")
    try:
        idata = read_netcdf(nc)
    except Exception as e:  # HDF5 and netCDF readers raise many kinds
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise RunIntegrityError(f"{nc}: cannot be read as netCDF, damaged or truncated "
                                f"({first})") from None
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


def _read_text(path: Path, what: str) -> str:
    """A file of the run, read with the bounds of a config (a regular file, at most
    :data:`~scenarios.limits.MAX_CONFIG_BYTES`), or :class:`RunIntegrityError`."""
    try:
        return read_text_file(path, what=what)
    except ConfigError as e:
        raise RunIntegrityError(str(e)) from None


def _check_yaml(where: Path, text: str, stored_hash: str, scenario: str) -> None:
    try:  # the reader of configs, with its limits: a bomb in a stored config is refused fast
        actual = config_hash(load_yaml_text(text, str(where)))
    except ConfigError as e:
        raise RunIntegrityError(f"stored config of scenario '{scenario}': {e}") from None
    if actual != stored_hash:
        raise RunIntegrityError(
            f"{where}: stored config of scenario '{scenario}' does not match its stored hash "
            f"({actual[:12]}... != {str(stored_hash)[:12]}...); it was changed after the run "
            "was written")
