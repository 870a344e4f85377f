"""A refit after an evidence change without a recompile (models.inference.model_reuse): the
structure key, the evidence values put into a compiled model, the process's registry; slow: the
refit of the notebook path gives the draws of a fresh compile, to the bit."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from models.inference import model_reuse
from models.inference.model_reuse import adopt_evidence, model_structure, reusable_model
from models.inference.nowcast import NowcastModel
from scenarios.loader import load_config
from scenarios.schema import Config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.fixture(scope="module")
def shipped():
    return load_config(CONFIGS / "escalation.yaml")


def variant(loaded, edit) -> Config:
    d = copy.deepcopy(loaded.resolved)
    edit(d)
    return Config.model_validate(d)


def values_only(d):
    ev = d["evidence"]
    ev["idlib_air_strike_deaths_1_dec"]["value"] = "approximately 30"
    ev["idlib_air_strike_deaths_since_27_nov"]["value"] = 61
    ev["aleppo_civilians_fled"]["value"] = "hundreds of thousands"


def test_the_structure_ignores_values_and_sees_everything_compiled(shipped):
    base = model_structure(shipped.config)
    assert model_structure(variant(shipped, values_only)) == base

    def window(d):
        d["evidence"]["aleppo_soldiers_killed"]["period"] = {"since": "2024-11-28",
                                                             "as_of": "2024-11-30"}

    def added(d):
        d["evidence"]["extra"] = copy.deepcopy(d["evidence"]["aleppo_soldiers_killed"])
        d["evidence"]["extra"]["region"] = "idlib"

    def share(d):
        d["reporting"]["syrian_army_own_losses"]["share"] = {"dist": "beta", "low": 0.1,
                                                             "high": 0.5}

    def exact(d):  # an exact displacement figure is a constant of the graph
        d["evidence"]["aleppo_civilians_fled"]["value"] = 40000

    for edit in (window, added, share, exact):
        assert model_structure(variant(shipped, edit)) != base, edit.__name__


def test_adopted_evidence_is_what_a_fresh_model_reads(shipped):
    model = NowcastModel(shipped.config)
    new = variant(shipped, values_only)
    adopt_evidence(model, new)
    fresh = NowcastModel(new)
    for name in ("death_grid", "death_grid_mask", "death_complement", "disp_log_low",
                 "disp_log_high"):
        np.testing.assert_array_equal(model.model[name].get_value(),
                                      fresh.model[name].get_value(), err_msg=name)
        np.testing.assert_array_equal(model._data[name], fresh.model[name].get_value())
    assert [o.low for o in model.evidence.death] == [o.low for o in fresh.evidence.death]
    assert model.config is new


def test_the_registry_reuses_by_structure(shipped, monkeypatch):
    monkeypatch.setattr(model_reuse, "_MODELS", type(model_reuse._MODELS)())
    first, reused = reusable_model(shipped.config)
    assert not reused
    new = variant(shipped, values_only)
    again, reused = reusable_model(new)
    assert reused and again is first and again.config is new
    other, reused = reusable_model(variant(shipped, lambda d: d["evidence"].pop("aleppo_"
                                                                                 "soldiers_killed")))
    assert not reused and other is not first
    assert len(model_reuse._MODELS) <= model_reuse.KEEP


@pytest.mark.slow
def test_a_refit_in_the_same_process_equals_a_fresh_compile(shipped, monkeypatch):
    """The notebook path: run_scenarios twice in one process, the second after an evidence
    value change, reuses the compiled model; its posterior is a fresh compile's, draw for draw."""
    from models.inference.nowcast import fit_nowcast
    from models.pipeline import run_scenarios
    from scenarios.compose import Comparison
    from scenarios.loader import Loaded

    monkeypatch.setattr(model_reuse, "_MODELS", type(model_reuse._MODELS)())
    first = run_scenarios([CONFIGS / "escalation.yaml"], draws=200)
    assert first.diagnostics["compiled_model_reused"] is False
    cfg = variant(shipped, values_only)
    d = copy.deepcopy(shipped.resolved)
    values_only(d)
    second = run_scenarios(Comparison((Loaded(cfg, shipped.path, d),), None), draws=200)
    assert second.diagnostics["compiled_model_reused"] is True
    fresh = fit_nowcast(cfg, model=NowcastModel(cfg))
    for name in ("intensity_at_origin", "reporting_share", "flight_hazard"):
        np.testing.assert_array_equal(second.idata.posterior[name].values,
                                      fresh.idata.posterior[name].values, err_msg=name)
    np.testing.assert_array_equal(second.idata.constant_data["evidence_low"].values,
                                  fresh.idata.constant_data["evidence_low"].values)
