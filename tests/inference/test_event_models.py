"""The nowcast's event-model structure (slow: each builds and fits a small synthetic episode).

* Displacement with its own driver: an episode with a large displacement and few deaths is
  explained by the flight hazard, not by invented deaths.
* Displacement per death ten times the prior median, with rich evidence, is recovered.
* A region with no evidence stays at its prior (and says so in the information table).
* Evidence analysts get: injured counts, a figure over two regions, a window that began before
  the episode start, refugees, a subset of deaths: each builds, and the likelihood terms are the
  ones the module docstring states.

Statistical checks run at fixed seeds; each states what a failure would mean.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

from models.inference.nowcast import NowcastModel, fit_nowcast
from scenarios.loader import load_config

SOURCE = {"document": "synthetic", "reporter": "test", "passage": "a synthetic figure"}


def episode(tmp_path, evidence: dict, *, regions=("north", "south"), extra=None):
    """A small synthetic episode in Sudan: 5 days, two regions of 1 million, the given evidence
    (each figure: quantity, region, period, value, optional subset/reporting)."""
    cfg = {
        "schema_version": 1,
        "sources": {"synthetic": {"url": "https://example.org/synthetic", "title": "synthetic",
                                  "published": "2024-06-05"}},
        "scenario": {"id": "synthetic", "title": "synthetic", "narrative": "synthetic",
                     "projections": {"p": {"statement": "synthetic",
                                           "source": {"document": "synthetic",
                                                      "passage": "synthetic"}}}},
        "episode": {"name": "synthetic", "country": "SDN", "start": "2024-06-01",
                    "origin": "2024-06-05",
                    "regions": {r: {"name": r, "population_at_risk": {
                        "value": 1_000_000, "basis": "synthetic"}} for r in regions}},
        "reporting": {"exact": {"description": "near-complete count",
                                "share": {"dist": "beta", "low": 0.9, "high": 0.99},
                                "basis": "synthetic: counts nearly everything"}},
        "evidence": {eid: {"reporting": "exact", "reported_on": "2024-06-05", "source": SOURCE,
                           **e} for eid, e in evidence.items()},
        "assumptions": _encoding(yaml.safe_load(_baseline().read_text())["assumptions"]),
        "forecast": {"horizon_days": 30, "draws": 200, "seed": 1},
        "output": {"headline_horizons": [7, 30]},
        "sampler": {"chains": 2, "tune": 600, "posterior_draws": 500},
        **(extra or {}),
    }
    path = tmp_path / "synthetic.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return load_config(path).config


def _encoding(node):
    """The shipped baseline's levers, each encoding the synthetic projection ``p``."""
    if isinstance(node, dict):
        return {k: ("p" if k == "encodes" else _encoding(v)) for k, v in node.items()}
    return node


def _baseline():
    from tests.conftest import CONFIGS

    return CONFIGS / "baseline.yaml"


def _q(post, name, q=(0.05, 0.5, 0.95)):
    return np.quantile(post[name].values.reshape(-1, *post[name].shape[2:]), q, axis=0)


@pytest.mark.slow
def test_large_displacement_with_few_deaths_does_not_invent_deaths(tmp_path):
    """20 deaths in five days and 150,000 displaced (of 1 million) in the north: the deaths
    stay near 20 (deaths-only displacement would need about 20 x 1,000 implied deaths at the
    prior's displacement per death), and the flight hazard carries the displacement."""
    cfg = episode(tmp_path, {
        "north_deaths": {"quantity": "deaths", "region": "north",
                         "period": {"from": "2024-06-01", "to": "2024-06-05"}, "value": 20},
        "north_fled": {"quantity": "displaced", "region": "north",
                       "period": {"from": "2024-06-01", "to": "2024-06-05"}, "value": 150_000},
    }, regions=("north",))
    fit = fit_nowcast(cfg, seed=3)
    assert fit.diagnostics["divergences"] <= 5, fit.diagnostics
    post = fit.idata.posterior
    deaths = post["intensity"].sum("day").values.ravel()
    assert np.quantile(deaths, 0.95) < 60, np.quantile(deaths, [0.05, 0.5, 0.95])
    displaced = post["displaced_at_origin"].values.ravel()
    assert 100_000 < np.median(displaced) < 220_000
    # the flight of its own carries part of it: its posterior moved well above its prior median
    prior_median = math.exp(NowcastModel(cfg).priors["flight_hazard"].spec.mu)
    assert np.median(post["flight_hazard"].values) > 10 * prior_median


@pytest.mark.slow
def test_ten_times_the_prior_displacement_per_death_is_recovered_and_a_silent_region_stays_prior(
        tmp_path):
    """Truth: 40 deaths/day for five days in the north and displacement per death ten times the
    prior median, no flight of its own; exact daily tolls and the displacement total. The
    posterior of the displaced covers the truth, the deaths stay at theirs; the south has no
    evidence: its intensity posterior stays within the prior's range and the table says
    'prior only'."""
    from models.inference.episode_priors import episode_priors
    from models.outputs.statistics import information_sources

    probe = episode(tmp_path, {"d": {"quantity": "deaths", "region": "north",
                                     "period": {"day": "2024-06-01"}, "value": 40}})
    ratio = 10 * math.exp(episode_priors(probe).priors["displacement_per_death"].spec.mu)
    pop, lam = 1_000_000, 40.0
    displaced = round(pop * (1 - math.exp(-ratio * lam * 5 / pop)))
    evidence = {f"deaths_{d}": {"quantity": "deaths", "region": "north",
                                "period": {"day": f"2024-06-0{d}"}, "value": int(lam)}
                for d in range(1, 6)}
    evidence["fled"] = {"quantity": "displaced", "region": "north",
                        "period": {"from": "2024-06-01", "to": "2024-06-05"}, "value": displaced}
    cfg = episode(tmp_path, evidence)
    fit = fit_nowcast(cfg, seed=4)
    assert fit.diagnostics["divergences"] <= 5, fit.diagnostics
    post = fit.idata.posterior
    lo, hi = np.quantile(post["displaced_at_origin"].sel(region="north").values.ravel(),
                         [0.05, 0.95])
    assert lo <= displaced <= hi, (lo, displaced, hi)
    deaths = post["intensity"].sel(region="north").sum("day").values.ravel()
    assert np.quantile(deaths, 0.05) < 200 < np.quantile(deaths, 0.95)
    south = post["intensity_at_origin"].sel(region="south").values.ravel()
    spec = fit.idata.attrs and NowcastModel(cfg).priors["intensity_at_origin"].spec
    assert spec.low / 3 < np.median(south) < spec.high * 3
    table = information_sources(fit.idata)
    south_rows = table[table.region == "south"]
    assert set(south_rows["informed_by"]) == {"prior only"}


def test_evidence_analysts_get_builds_with_the_stated_terms(tmp_path):
    """Injured, a figure over both regions, a window that began before the start, refugees and
    a subset of deaths: the model builds, each figure becomes one observation, and the expected
    counts are the documented functions of the parameters at a point."""
    cfg = episode(tmp_path, {
        "injured": {"quantity": "injured", "region": "north",
                    "period": {"from": "2024-06-01", "to": "2024-06-05"}, "value": [100, 300]},
        "both": {"quantity": "deaths", "region": ["north", "south"],
                 "period": {"from": "2024-06-02", "to": "2024-06-04"}, "value": "dozens"},
        "since_may": {"quantity": "civilian_deaths", "region": "south",
                      "period": {"since": "2024-05-20", "as_of": "2024-06-05"}, "value": 80},
        "crossed": {"quantity": "refugees", "region": "all",
                    "period": {"from": "2024-06-01", "to": "2024-06-05"}, "value": "thousands"},
        "air": {"quantity": "civilian_deaths", "region": "north", "subset": "air_strikes",
                "period": {"day": "2024-06-05"}, "value": 5},
    }, extra={"subsets": {"air_strikes": {
        "description": "civilians killed in air strikes", "basis": "synthetic",
        "share": {"dist": "beta", "low": 0.2, "high": 0.8}}}})
    model = NowcastModel(cfg)
    obs = {o.evidence_id: o for o in model.evidence.death + model.evidence.disp}
    assert obs["since_may"].before_start and obs["since_may"].low == 0
    assert obs["since_may"].first_day == 0 and obs["since_may"].high == 80
    assert obs["both"].covered == ("north", "south") and obs["crossed"].region == "all"
    m = model.model
    names = ["intensity", "civilian_share", "wounded_to_killed", "refugee_share",
             "population_at_risk", "displacement_per_death", "flight_hazard",
             "expected_true_count"]
    fn = m.compile_fn([m[n] for n in names], inputs=m.value_vars, on_unused_input="ignore",
                      point_fn=True)
    v = dict(zip(names, fn(m.initial_point(random_seed=1)), strict=True))
    ids = model.evidence.ids
    expected = dict(zip(ids, v["expected_true_count"], strict=True))
    lam, civ = v["intensity"], v["civilian_share"]
    assert expected["injured"] == pytest.approx(v["wounded_to_killed"] * lam[0].sum(), rel=1e-6)
    assert expected["both"] == pytest.approx(lam[:, 1:4].sum(), rel=1e-6)
    assert expected["since_may"] == pytest.approx(civ[1] * lam[1].sum(), rel=1e-6)
    assert expected["air"] == pytest.approx(civ[0] * lam[0, 4], rel=1e-6)
    pop, d, f = v["population_at_risk"], v["displacement_per_death"], v["flight_hazard"]
    hazard = (d * lam / pop[:, None] + f[:, None]).sum(axis=1)
    crossed = (v["refugee_share"] * pop * (1 - np.exp(-hazard))).sum()
    assert expected["crossed"] == pytest.approx(crossed, rel=1e-6)
