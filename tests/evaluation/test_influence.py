"""Evidence influence: a left-out report becomes 'at least 0' on the same model rows, every
scenario is re-simulated with the run's seed, the model gets its evidence back; the real refit
on the shipped escalation run (slow)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from support import example_state
from support.results import synthetic_run

from models.evaluation.influence import (
    RETRY_TARGET_ACCEPT,
    attach_influence,
    evidence_influence,
    without_report,
)
from models.inference.nowcast import EvidenceArrays
from models.outputs.drivers import INFLUENCE_COLUMNS
from scenarios.evidence import observations


class StandInModel:
    """The interface :func:`evidence_influence` uses, without PyMC: the 'posterior' is a state
    whose intensity is higher the more reports are informative, so leaving one out lowers it."""

    def set_evidence(self, evidence, grid_width=None):
        self.current = evidence
        self.width = grid_width

    def __init__(self, config, diverge_without=None):
        self.evidence = EvidenceArrays.from_observations(observations(config))
        self.current = self.evidence
        self.seeds = []
        self.accepts = []
        self.diverge_without = diverge_without  # a report whose refit diverges at 0.95

    def sample(self, *, seed, target_accept, **settings):
        self.seeds.append(seed)
        self.accepts.append(target_accept)
        rows = self.current.death + self.current.disp
        informative = sum(math.isfinite(o.high) for o in rows)
        left_out = {o.evidence_id for o in rows if not math.isfinite(o.high)}
        diverging = np.zeros((2, 10), bool)
        diverging[0, 0] = self.diverge_without in left_out and target_accept < 0.99
        return SimpleNamespace(posterior=informative, sample_stats={"diverging": diverging})

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


def test_a_divergent_refit_is_retried_with_smaller_steps_and_recorded():
    run = synthetic_run("escalation", draws=400, horizon=40)
    probe = StandInModel(run.primary.config)
    reports = list(dict.fromkeys(o.evidence_id for o in probe.evidence.death
                                 + probe.evidence.disp))
    model = StandInModel(run.primary.config, diverge_without=reports[1])
    table = evidence_influence(run, model=model, sampler="nutpie")
    per = table.drop_duplicates("evidence").set_index("evidence")
    assert len(model.seeds) == len(reports) + 1  # one retry, only for the divergent refit
    assert per.loc[reports[1], "target_accept"] == RETRY_TARGET_ACCEPT
    assert per.loc[reports[1], "divergences"] == 0
    assert (per.drop(reports[1])["target_accept"] == run.primary.config.sampler.target_accept).all()


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
    # a divergent refit is retried with smaller steps; what remains is rare and shown
    per_refit = table.drop_duplicates("evidence")
    assert (per_refit["divergences"] <= 4).all()  # at most 0.1% of 4 x 1000 transitions
    assert per_refit["target_accept"].isin([0.95, RETRY_TARGET_ACCEPT]).all()
    deaths = table[(table["target"] == "cum_deaths") & (table["scenario"] == "baseline")]
    moved = deaths.set_index("evidence")["median_change"].abs()
    assert moved.drop("aleppo_civilians_fled").max() > 0.05
    assert moved["aleppo_civilians_fled"] < moved.drop("aleppo_civilians_fled").max()
