"""Failed diagnostics come with a way forward naming the config key and the value to try."""

from __future__ import annotations

from types import SimpleNamespace

from models.inference.diagnostics import remedies

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
