"""Failed diagnostics come with a way forward naming the config key and the value to try, and a
divergent fit is retried once at a higher target acceptance, recorded."""

from __future__ import annotations

import json
from types import SimpleNamespace

import arviz as az
import numpy as np

from models.inference.diagnostics import RETRY_TARGET_ACCEPT, remedies
from models.inference.sampling import sample_retrying, sampler_record

SAMPLER = SimpleNamespace(target_accept=0.95, tune=1000, posterior_draws=1000)
CLEAN = {"divergences": 0, "max_rhat": 1.001, "min_ess_bulk": 900, "min_ess_tail": 800}


def test_clean_fits_need_nothing():
    assert remedies(CLEAN, SAMPLER) == []


def test_divergences_name_target_accept_and_the_value_to_try():
    (line,) = remedies(CLEAN | {"divergences": 3}, SAMPLER)
    assert "sampler.target_accept: 0.99" in line and "now 0.95" in line
    (line,) = remedies(CLEAN | {"divergences": 3}, SimpleNamespace(**{**vars(SAMPLER),
                                                                       "target_accept": 0.99}))
    assert "persist" in line and "prior-data conflicts" in line


def test_poor_mixing_names_tune_and_draws():
    (line,) = remedies(CLEAN | {"max_rhat": 1.05}, SAMPLER)
    assert "sampler.tune: 2000" in line and "sampler.posterior_draws: 2000" in line
    assert len(remedies(CLEAN | {"min_ess_tail": 50, "divergences": 1}, SAMPLER)) == 2


def test_the_remedy_reads_the_target_the_fit_used():
    """--target-accept or the automatic retry may have used another value than the config's."""
    (line,) = remedies(CLEAN | {"divergences": 2, "target_accept": 0.99}, SAMPLER)
    assert "persist at target_accept 0.99" in line
    (line,) = remedies(CLEAN | {"divergences": 2, "target_accept": 0.9}, SAMPLER)
    assert "--target-accept 0.99" in line and "now 0.9)" in line


class _Scripted:
    """Stands in for a NowcastModel: ``sample`` returns fits with the scripted divergences."""

    def __init__(self, *divergences):
        self.script, self.calls = list(divergences), []

    def sample(self, *, seed, sampler, chains, tune, draws, target_accept, progress):
        self.calls.append((seed, target_accept))
        n = self.script.pop(0)
        diverging = np.zeros((chains, draws), bool)
        diverging.flat[:n] = True
        return SimpleNamespace(sample_stats={"diverging": diverging})


SETTINGS = SimpleNamespace(target_accept=0.95, chains=2, tune=100, posterior_draws=100)


def test_a_divergent_fit_is_retried_once_at_the_retry_target_with_the_same_seed():
    model = _Scripted(3, 1)
    _, record = sample_retrying(model, seed=5, sampler="x", settings=SETTINGS)
    assert model.calls == [(5, 0.95), (5, RETRY_TARGET_ACCEPT)]  # once, not until clean
    assert record == {"target_accept": RETRY_TARGET_ACCEPT, "divergences": 1,
                      "retry": {"target_accept": 0.95, "divergences": 3}}


def test_no_retry_when_clean_or_already_at_the_retry_target():
    model = _Scripted(0)
    _, record = sample_retrying(model, seed=1, sampler="x", settings=SETTINGS,
                                             target_accept=0.9)
    assert model.calls == [(1, 0.9)] and record["retry"] is None
    model = _Scripted(4)
    _, record = sample_retrying(model, seed=1, sampler="x", settings=SETTINGS,
                                             target_accept=RETRY_TARGET_ACCEPT)
    assert len(model.calls) == 1 and record == {"target_accept": RETRY_TARGET_ACCEPT,
                                                "divergences": 4, "retry": None}


def test_the_retry_record_survives_the_fit_cache(tmp_path):
    """The record is an InferenceData attribute, so a cached fit reports its retry too."""
    idata = az.from_dict(posterior={"x": np.zeros((2, 10))})
    idata.attrs["sampler_record"] = json.dumps({"target_accept": 0.99, "retry": {
        "target_accept": 0.95, "divergences": 2}})
    idata.to_netcdf(str(tmp_path / "fit.nc"))
    again = az.from_netcdf(tmp_path / "fit.nc")
    assert sampler_record(again)["retry"] == {"target_accept": 0.95, "divergences": 2}
    assert sampler_record(az.from_dict(posterior={"x": np.zeros((2, 10))})) == {}
