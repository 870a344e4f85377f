"""Evidence influence: a left-out report becomes 'at least 0' on the same model rows, every
scenario is re-simulated with the run's seed, the model gets its evidence back; the real refit
on the shipped escalation run (slow)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from models.evaluation.influence import attach_influence, evidence_influence, without_report
from models.inference.nowcast import EvidenceArrays
from models.outputs.drivers import INFLUENCE_COLUMNS
from scenarios.evidence import observations
from tests.fixtures_results import synthetic_run
from tests.support import example_state


class StandInModel:
    """The interface :func:`evidence_influence` uses, without PyMC: the 'posterior' is a state
    whose intensity is higher the more reports are informative, so leaving one out lowers it."""

    def __init__(self, config):
        self.evidence = EvidenceArrays.from_observations(observations(config))
        self.current = self.evidence
        self.seeds = []

    def set_evidence(self, evidence, grid_width=None):
        self.current = evidence
        self.width = grid_width

    def sample(self, *, seed, **settings):
        self.seeds.append(seed)
        rows = self.current.death + self.current.disp
        informative = sum(math.isfinite(o.high) for o in rows)
        return SimpleNamespace(posterior=informative,
                               sample_stats={"diverging": np.zeros((2, 10), bool)})

    def state_for_seed(self, informative, seed):
        state = example_state(400, seed=seed % 1000)
        return type(state)(**{**state.__dict__,
                              "log_intensity": state.log_intensity + 0.2 * informative})


def test_without_report_keeps_rows_and_frees_one_report():
    run = synthetic_run("escalation")
    obs = observations(run.primary.config)
    ev = obs[0].evidence_id
    out = without_report(obs, ev)
    assert [o.evidence_id for o in out] == [o.evidence_id for o in obs]
    for before, after in zip(obs, out, strict=True):
        if before.evidence_id == ev:
            assert (after.low, after.high, after.kind) == (0.0, math.inf, "lower_bound")
        else:
            assert after == before
    # the compiled model's arrays keep their shapes
    a, b = EvidenceArrays.from_observations(obs), EvidenceArrays.from_observations(out)
    assert a.grid_start.shape == b.grid_start.shape and a.disp_log_low.shape == b.disp_log_low.shape


def test_influence_table_with_a_stand_in_model():
    run = synthetic_run("escalation", draws=400, horizon=40)
    model = StandInModel(run.primary.config)
    table = attach_influence(run, model=model, sampler="nutpie")
    reports = list(dict.fromkeys(o.evidence_id for o in model.evidence.death
                                 + model.evidence.disp))
    assert list(table.columns) == INFLUENCE_COLUMNS
    assert set(table["evidence"]) == set(reports)
    assert set(table["horizon"]) == {7, 30}  # the headline horizons within 40 days
    assert len(table) == len(reports) * len(run.scenario_ids) * 5 * 2
    assert model.seeds == [run.seed] * len(reports)  # the run's seed for every refit
    assert model.current is model.evidence  # evidence restored
    deaths = table[table["target"] == "cum_deaths"]
    assert (deaths["median_without"] < deaths["median_all"] * 10).all()
    assert run.extra["evidence_influence"] == table.to_dict("records")
    # a day's toll and the running total it was separated from name each other
    separated = table.drop_duplicates("evidence").set_index("evidence")["separated_with"]
    for o in model.evidence.death + model.evidence.disp:
        for d in o.derived_from:
            if d != o.evidence_id:
                assert d in separated[o.evidence_id] and o.evidence_id in separated[d]


def test_influence_blocks_and_chart(tmp_path):
    from models.outputs.blocks import Table
    from models.outputs.drivers import influence_blocks, influence_frame
    from models.outputs.sensitivity_plots import plot_influence

    run = synthetic_run("escalation", draws=400, horizon=40)
    attach_influence(run, model=StandInModel(run.primary.config))
    frame = influence_frame(run)
    blocks = influence_blocks(frame, tmp_path)
    table = next(b for b in blocks if isinstance(b, Table))
    assert table.rows[0][0] == "with every report"
    assert len(table.rows) == 1 + frame["evidence"].nunique()
    fig = plot_influence(frame, "cum_deaths", 30)
    gids = {p.get_gid(): p.get_width() for ax in fig.axes for p in ax.patches if p.get_gid()}
    row = frame[(frame["target"] == "cum_deaths") & (frame["horizon"] == 30)].iloc[0]
    assert gids[f"influence:{row.scenario}:{row.evidence}"] == pytest.approx(row.median_change)


@pytest.mark.slow
def test_evidence_influence_of_the_shipped_run():
    """The real thing on the shipped escalation run (small draws): one refit per report on one
    compiled model; leaving out a death report moves the death toll, the displacement report
    barely does."""
    from models.pipeline import run_scenarios

    result = run_scenarios(["configs/escalation.yaml"], draws=1000)
    table = evidence_influence(result, horizons=[30])
    assert (table["divergences"] == 0).all()
    deaths = table[(table["target"] == "cum_deaths") & (table["scenario"] == "baseline")]
    moved = deaths.set_index("evidence")["median_change"].abs()
    assert moved.drop("aleppo_civilians_fled").max() > 0.05
    assert moved["aleppo_civilians_fled"] < moved.drop("aleppo_civilians_fled").max()
