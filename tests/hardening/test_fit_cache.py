"""Fault class 3 (issue 16): the fit cache is never trusted blindly.

Every way an entry can be damaged or replaced (truncated, empty, random bytes, a directory, a
half entry, a record that is not one, an entry of another fit under this key, a dangling link,
a stale temporary file) is reported, removed and refitted, and the refit leaves a good entry
that the next run uses; ``refit=True`` (``--no-cache``) never reads an entry and repairs it.
The NUTS fit is replaced by a synthetic one (the cache's logic is what is tested, in
milliseconds); that a real fit round-trips through the cache is tested end to end in
``tests/cli/test_run_e2e.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from support.results import synthetic_idata

import models.inference.model_reuse as model_reuse
import models.inference.nowcast as nowcast
from models.inference.fit_cache import fit_or_load, nowcast_cache_key
from scenarios.loader import load_config

CONFIG = "configs/escalation.yaml"
SEED = 11


@pytest.fixture(scope="module")
def loaded():
    return load_config(CONFIG)


@pytest.fixture
def fits(monkeypatch, loaded):
    """Replace NUTS by a synthetic fit shaped like the config's; count the fits made."""
    made = []
    s = loaded.config.sampler

    class Model:
        def __init__(self, config):
            pass

        def state_for_seed(self, posterior, seed):
            return ("state", seed, posterior.sizes["draw"])

    def fit_nowcast(cfg, *, seed, sampler, progress=False, model=None, target_accept=None):
        made.append(seed)
        idata = synthetic_idata(loaded, chains=s.chains, draws=s.posterior_draws, seed=seed)
        return nowcast.NowcastFit(idata, ("state", seed), {"passed": True, "divergences": 0}, {})

    monkeypatch.setattr(nowcast, "fit_nowcast", fit_nowcast)
    monkeypatch.setattr(nowcast, "NowcastModel", Model)
    monkeypatch.setattr(model_reuse, "reusable_model", lambda cfg: (None, False))
    return made


def entry(cache, loaded):
    key, _ = nowcast_cache_key(loaded, SEED, "nutpie")
    return cache / f"nowcast-{key}.nc", cache / f"nowcast-{key}.json"


def run(cache, loaded, notices, **kw):
    fit, cached = fit_or_load(loaded, SEED, "nutpie", cache, say=notices.append, **kw)
    if cached:  # the state comes from the stored posterior, with the config's draws
        assert fit.state == ("state", SEED, loaded.config.sampler.posterior_draws)
        assert fit.diagnostics["cached"] is True
    return cached


def _truncate(nc, meta):
    nc.write_bytes(nc.read_bytes()[: nc.stat().st_size // 2])


def _empty(nc, meta):
    nc.write_bytes(b"")


def _random(nc, meta):
    nc.write_bytes(os.urandom(4096))


def _nc_directory(nc, meta):
    nc.unlink()
    nc.mkdir()
    (nc / "x").write_text("x")


def _record_directory(nc, meta):
    meta.unlink()
    meta.mkdir()


def _record_list(nc, meta):
    meta.write_text("[1, 2, 3]")


def _record_garbage(nc, meta):
    meta.write_bytes(os.urandom(300))


def _record_other_key(nc, meta):
    record = json.loads(meta.read_text())
    meta.write_text(json.dumps(record | {"key": "0" * 20}))


def _other_fits_entry(nc, meta):
    """An entry of another fit copied under this key, hash made consistent: only the recorded
    inputs tell."""
    record = json.loads(meta.read_text())
    record["inputs"]["seed"] = SEED + 1
    meta.write_text(json.dumps(record))


def _half_entry(nc, meta):
    meta.unlink()


def _record_only(nc, meta):
    nc.unlink()


def _dangling_link(nc, meta):
    nc.unlink()
    nc.symlink_to(nc.parent / "gone.nc")


def _huge_record(nc, meta):
    with open(meta, "ab") as f:
        f.truncate(20_000_000)


DAMAGE = [_truncate, _empty, _random, _nc_directory, _record_directory, _record_list,
          _record_garbage, _record_other_key, _other_fits_entry, _half_entry, _record_only,
          _dangling_link, _huge_record]


def test_a_good_entry_is_used_and_changes_nothing(tmp_path, loaded, fits):
    notices = []
    assert run(tmp_path, loaded, notices) is False and fits == [SEED]
    assert run(tmp_path, loaded, notices) is True and fits == [SEED] and notices == []


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda f: f.__name__.strip("_"))
def test_a_damaged_entry_is_reported_removed_and_refitted(tmp_path, loaded, fits, damage):
    notices = []
    run(tmp_path, loaded, notices)
    nc, meta = entry(tmp_path, loaded)
    damage(nc, meta)
    assert run(tmp_path, loaded, notices) is False, "a damaged entry was used"
    assert len(fits) == 2
    (notice,) = notices
    assert "unusable" in notice and nc.name in notice and "refitting" in notice
    assert nc.is_file() and meta.is_file()  # the refit left a good entry ...
    assert run(tmp_path, loaded, []) is True and len(fits) == 2  # ... which the next run uses
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([nc.name, meta.name])


@pytest.mark.parametrize("damage", [_random, _nc_directory, _record_list],
                         ids=lambda f: f.__name__.strip("_"))
def test_no_cache_never_reads_the_entry_and_repairs_it(tmp_path, loaded, fits, damage):
    run(tmp_path, loaded, [])
    nc, meta = entry(tmp_path, loaded)
    damage(nc, meta)
    notices = []
    assert run(tmp_path, loaded, notices, refit=True) is False and notices == []
    assert run(tmp_path, loaded, []) is True and len(fits) == 2


def test_temporary_files_of_a_killed_run_are_removed_and_of_a_live_one_kept(tmp_path, loaded,
                                                                            fits):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"nowcast-{'1' * 20}.nc.tmp-{dead.pid}-1"
    live = tmp_path / f"nowcast-{'2' * 20}.nc.tmp-{os.getppid()}-1"
    tmp_path.mkdir(exist_ok=True)
    stale.write_bytes(b"half")
    live.write_bytes(b"being written")
    run(tmp_path, loaded, [])
    assert not stale.exists() and live.exists()


def test_a_cache_directory_that_cannot_be_written_is_a_clear_error(tmp_path, loaded, fits):
    from models.storage import OutputError

    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(OutputError, match="file"):
        run(blocker / "cache", loaded, [])
