"""The nowcast fit cache: a fit is reused only when nothing it depends on has changed.

An entry is ``<cache_dir>/nowcast-<key>.nc`` (the fit's InferenceData) beside
``nowcast-<key>.json`` (the key's inputs and the SHA-256 of the ``.nc`` file). The key hashes
everything the fit depends on: the config sections the nowcast reads, the sampler settings, the
seed, the source of every project module the nowcast's code reaches (found from the module
objects themselves, so a moved or renamed file cannot be missed), and the PyMC, nutpie and
PyTensor versions. Changing only scenario levers therefore reuses the fit.

An entry is used only if its record is a JSON object naming this key, the inputs it records
equal the current inputs (an entry from another fit copied under this key is detected), the
``.nc`` file matches the SHA-256 in the record (checked before the file is opened, so a
truncated, empty or random file never reaches HDF5), and the posterior has the config's regions,
chains and draws. Anything else (a directory in an entry's place, a half entry) is reported,
removed and refitted. ``refit=True`` (``--no-cache``) never reads an entry: it refits and
replaces it, which also repairs a damaged one. Entries are written to temporary names, checked
against the free space first, and renamed into place, so a killed run never leaves a half-written
entry under a real key; a temporary file of a process that is gone (killed with SIGKILL) is
removed by the next run, and a full disk is a :class:`~models.storage.DiskFullError` naming the
entry and the space needed, with the temporary files removed.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import sys
import time
import types
import warnings
from pathlib import Path

from scenarios.compose import NOWCAST_SECTIONS
from scenarios.loader import Loaded

__all__ = ["fit_or_load", "nowcast_cache_key", "nowcast_code_modules"]

PROJECT_PACKAGES = ("models.", "scenarios.")
MAX_RECORD_BYTES = 10_000_000
"""A record larger than this is not one (records are a few kB: the key's inputs)."""


def nowcast_code_modules() -> list[types.ModuleType]:
    """The project modules the nowcast's code reaches: :mod:`models.inference.nowcast` and,
    transitively, every project module whose objects its globals refer to. Sorted by name."""
    from models.inference import nowcast

    seen: dict[str, types.ModuleType] = {}
    todo = [nowcast]
    while todo:
        mod = todo.pop()
        if mod.__name__ in seen:
            continue
        seen[mod.__name__] = mod
        for value in vars(mod).values():
            name = value.__name__ if isinstance(value, types.ModuleType) else \
                getattr(value, "__module__", None)
            if (isinstance(name, str) and name.startswith(PROJECT_PACKAGES)
                    and name not in seen and name in sys.modules):
                todo.append(sys.modules[name])
    return [seen[k] for k in sorted(seen)]


def nowcast_cache_key(loaded: Loaded, seed: int, sampler: str,
                      target_accept: float | None = None) -> tuple[str, dict]:
    """The cache key (20 hex digits) and the inputs it hashes (``target_accept``: the value
    that replaces ``sampler.target_accept``, as ``--target-accept`` does)."""
    import nutpie
    import pymc
    import pytensor

    code = hashlib.sha256()
    for mod in nowcast_code_modules():
        code.update(mod.__name__.encode())
        code.update(inspect.getsource(mod).encode())
    from models.inference.episode_priors import episode_priors

    payload = {
        "sections": {k: loaded.resolved.get(k) for k in NOWCAST_SECTIONS},
        # the priors as derived from the data files (a changed data file changes the fit)
        "priors": episode_priors(loaded.config).table(),
        "sampler": sampler, "seed": seed,
        "settings": {k: v for k, v in loaded.resolved["sampler"].items() if k != "backend"}
        | ({} if target_accept is None else {"target_accept": target_accept}),
        "code": code.hexdigest(),
        "versions": [pymc.__version__, nutpie.__version__, pytensor.__version__],
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20], payload


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _load_entry(nc: Path, meta: Path, key: str, payload: dict | None = None):
    """The cached InferenceData, or None with the reason it cannot be used."""
    from models.runtime import import_arviz

    try:
        if meta.stat().st_size > MAX_RECORD_BYTES:
            return None, "its record is too large to be one"
        record = json.loads(meta.read_text("utf-8"))
        if not isinstance(record, dict) or record.get("key") != key:
            return None, "its record is for another fit"
        if payload is not None and record.get("inputs") != _as_json(payload):
            return None, "its record lists other inputs (an entry of another fit under this key)"
        if record.get("sha256") != _file_sha256(nc):
            return None, "the file does not match its recorded hash (damaged or replaced)"
        az = import_arviz()
        idata = az.from_netcdf(nc)
        idata.load()
        if "posterior" not in idata.groups():
            return None, "it holds no posterior"
        return idata, None
    except Exception as e:  # any failure to read means: refit
        first = (str(e).strip().splitlines() or [""])[0][:200]
        return None, f"it cannot be read ({type(e).__name__}: {first})"


def _as_json(payload: dict):
    """``payload`` as its record stores it (JSON, keys sorted, dates as text)."""
    return json.loads(json.dumps(payload, sort_keys=True, default=str))


def _matches(idata, loaded: Loaded) -> str | None:
    """Why a readable entry's posterior is not this config's fit, or None."""
    post = idata.posterior
    settings = loaded.resolved.get("sampler", {})
    regions = [str(r) for r in post["region"].values] if "region" in post.coords else None
    if regions is not None and regions != list(loaded.config.episode.regions):
        return f"its posterior has regions {', '.join(regions)}, not the config's"
    for dim, key in (("chain", "chains"), ("draw", "posterior_draws")):
        if key in settings and post.sizes.get(dim) != settings[key]:
            return f"its posterior has {post.sizes.get(dim)} {dim}s, the settings {settings[key]}"
    return None


def _clean_stale(cache_dir: Path) -> None:
    """Remove temporary entry files of processes that are gone (a fit killed while storing)."""
    if not cache_dir.is_dir():
        return
    for p in cache_dir.glob("nowcast-*.tmp-*"):
        pid = p.name.rpartition(".tmp-")[2].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                _remove(p)
            except OSError:
                pass


def _remove(*paths: Path) -> None:
    for p in paths:
        try:
            p.unlink()
        except IsADirectoryError:
            import shutil

            shutil.rmtree(p, ignore_errors=True)
        except FileNotFoundError:
            pass


def fit_or_load(loaded: Loaded, seed: int, sampler: str, cache_dir: Path | None,
                progress: bool = False, *, say=None, refit: bool = False,
                target_accept: float | None = None):
    """The nowcast fit for the primary config, from the cache when its inputs are unchanged.
    Returns ``(NowcastFit, cached: bool)``. ``cache_dir=None``: always fit, write nothing.
    ``refit``: fit even when an entry exists (never reading it) and replace the entry.
    ``target_accept``: instead of ``sampler.target_accept`` (part of the key).
    ``say(message)`` receives notices (a damaged entry removed, the automatic retry)."""
    from models.inference.diagnostics import diagnose
    from models.inference.nowcast import NowcastFit, NowcastModel, fit_nowcast
    from models.inference.sampling import sampler_record

    cfg = loaded.config
    nc = meta = None
    if cache_dir is not None:
        key, payload = nowcast_cache_key(loaded, seed, sampler, target_accept)
        nc, meta = cache_dir / f"nowcast-{key}.nc", cache_dir / f"nowcast-{key}.json"
        _clean_stale(cache_dir)
        if refit:
            _remove(nc, meta)
        elif nc.exists() or meta.exists() or nc.is_symlink() or meta.is_symlink():
            t0 = time.perf_counter()
            idata, problem = _load_entry(nc, meta, key, payload) \
                if nc.is_file() and meta.is_file() else (None, "it is incomplete")
            problem = problem or _matches(idata, loaded)
            if problem is None:
                try:
                    state = NowcastModel(cfg).state_for_seed(idata.posterior, seed)
                    diagnostics = diagnose(idata.posterior, idata.sample_stats, sampler) \
                        | sampler_record(idata)
                except Exception as e:  # a posterior the model cannot use
                    problem = f"its posterior does not fit the model ({type(e).__name__}: {e})"
                else:
                    diagnostics["cached"] = True
                    return NowcastFit(idata, state, diagnostics,
                                      {"load_cached": time.perf_counter() - t0}), True
            if say is not None:
                say(f"warning: cached nowcast fit {nc} unusable ({problem}); removed, refitting")
            else:
                warnings.warn(f"cached nowcast fit {nc} unusable ({problem}); removed, refitting",
                              RuntimeWarning, stacklevel=2)
            _remove(nc, meta)
    from models.inference.model_reuse import reusable_model

    # A model compiled earlier in this process for the same structure (only evidence values
    # changed: a notebook's refit) is reused, not recompiled.
    model, reused = reusable_model(cfg)
    if reused and say is not None:
        say("nowcast: evidence values changed only; reusing this process's compiled model")
    fit = fit_nowcast(cfg, seed=seed, sampler=sampler, progress=progress, model=model,
                      target_accept=target_accept)
    retry = fit.diagnostics.get("retry")
    if retry and say is not None:
        say(f"nowcast: {retry['divergences']} divergent transitions at target_accept "
            f"{retry['target_accept']:g}; refitted once at {fit.diagnostics['target_accept']:g} "
            f"({fit.diagnostics['divergences']} divergences)")
    fit.diagnostics["cached"] = False
    fit.diagnostics["compiled_model_reused"] = reused
    if nc is not None:
        _store(fit.idata, nc, meta, key, payload)
    return fit, False


def _store(idata, nc: Path, meta: Path, key: str, payload: dict) -> None:
    """Write the entry under temporary names, then rename: the record last, so an entry is
    complete whenever its record exists."""
    from models.storage import (
        DISK_FULL_ERRNOS,
        OutputError,
        check_free_space,
        disk_full,
        write_netcdf_groups,
    )

    need = 1.5 * sum(getattr(idata, g).nbytes for g in idata.groups()) + 1e6
    try:
        nc.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"{nc.parent}: cannot create the fit cache ({e.strerror})") from None
    check_free_space(nc.parent, need, "the fit cache entry")
    stamp = f".tmp-{os.getpid()}-{time.time_ns()}"
    tmp_nc, tmp_meta = nc.with_name(nc.name + stamp), meta.with_name(meta.name + stamp)
    try:
        # built in memory: a full disk must not fail inside HDF5 (see write_netcdf_groups)
        write_netcdf_groups(tmp_nc, dict(idata.attrs), [(g, getattr(idata, g))
                                                        for g in idata.groups()])
        record = {"key": key, "sha256": _file_sha256(tmp_nc), "inputs": payload}
        tmp_meta.write_text(json.dumps(record, sort_keys=True, default=str), "utf-8")
        os.replace(tmp_nc, nc)
        os.replace(tmp_meta, meta)
    except OSError as e:
        if e.errno in DISK_FULL_ERRNOS:
            raise disk_full(nc, need, e) from None
        raise OutputError(f"{nc}: cannot write the fit cache entry ({e.strerror})") from None
    finally:
        _remove(tmp_nc, tmp_meta)
