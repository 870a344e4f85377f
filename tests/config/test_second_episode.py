"""The second shipped episode (Goma, DR Congo, 26-31 January 2025): provenance and validity.

The stored pages the passages come from are not shipped, so the passages cannot be checked
against their documents here; what is checked is that every figure says who reported it and
quotes one sentence, that every document has an address and a date no later than the origin,
and that the configs validate (library and command line).
"""

import re
import subprocess
import sys

import pytest

from scenarios.evidence import observations
from scenarios.loader import load_config
from tests.conftest import CONFIGS, ROOT, SCENARIO_CONFIGS

GOMA_CONFIGS = ("goma-baseline", "goma-escalation", "goma-ceasefire", "goma-displacement")
REGION_CODES = {"north_kivu": "CD-NK", "south_kivu": "CD-SK"}
SENTENCE_BREAK = re.compile(r"[.!?][\"')]?\s+[A-Z\"']")
"""A sentence end followed by the start of another: a passage should quote only one sentence."""


def _config(name):
    return load_config(CONFIGS / f"{name}.yaml").config


def _citations(cfg):
    cites = [(f"scenario.projections.{k}", p.source) for k, p in cfg.scenario.projections.items()]
    cites += [(f"evidence.{k}", e.source) for k, e in cfg.evidence.items()]
    cites += [(f"episode.regions.{k}", r.population_at_risk.source)
              for k, r in cfg.episode.regions.items() if r.population_at_risk.source]
    return cites


@pytest.mark.parametrize("name", GOMA_CONFIGS)
def test_goma_configs_validate(name):
    cfg = _config(name)
    assert cfg.scenario.id == name
    assert cfg.episode.country == "COD"
    assert {k: r.code for k, r in cfg.episode.regions.items()} == REGION_CODES
    assert (str(cfg.episode.start), str(cfg.episode.origin)) == ("2025-01-26", "2025-01-31")
    a = cfg.assumptions
    projections = set(cfg.scenario.projections)
    assert a.encodes in projections
    assert all(ev.encodes in projections for ev in a.events.values())
    assert all(t.encodes in projections for tos in a.transitions.values() for t in tos.values())
    assert all(r.encodes in projections for r in a.regimes.values() if r.encodes)


@pytest.mark.parametrize("name", GOMA_CONFIGS)
def test_every_figure_has_reporter_and_passage(name):
    cfg = _config(name)
    assert cfg.evidence, "the episode has evidence"
    for eid, e in cfg.evidence.items():
        assert e.source.reporter and e.source.reporter.strip(), eid
        assert len(e.source.passage.strip()) >= 20, eid
    for rid, r in cfg.episode.regions.items():
        fig = r.population_at_risk
        assert (fig.source and fig.source.passage.strip() and fig.source.reporter) or fig.basis, rid


@pytest.mark.parametrize("name", GOMA_CONFIGS)
def test_passages_quote_one_sentence(name):
    for where, cite in _citations(_config(name)):
        for piece in cite.passage.split("..."):
            assert not SENTENCE_BREAK.search(piece.strip()), (where, cite.passage)


@pytest.mark.parametrize("name", GOMA_CONFIGS)
def test_sources_are_public_pages_dated_no_later_than_the_origin(name):
    cfg = _config(name)
    origin = cfg.episode.origin
    for doc_id, s in cfg.sources.items():
        assert s.url and s.url.startswith(("https://", "http://")), doc_id
        assert s.published <= origin, doc_id
        assert s.title and s.publisher, doc_id
    for eid, e in cfg.evidence.items():
        assert e.reported_on <= origin and e.period.bounds[1] <= origin, eid
        assert e.period.bounds[0] >= cfg.episode.start, eid
    assert max(s.published for s in cfg.sources.values()) == origin  # origin = latest document


def test_goma_evidence_separates_into_observations():
    rows = {o.evidence_id: o for o in observations(_config("goma-baseline"))}
    assert set(rows) == {"rusayo_shelling_deaths_26_jan", "goma_deaths_26_30_jan",
                         "goma_injured_26_30_jan", "rusayo_shelling_injured_26_jan",
                         "goma_people_fleeing_26_28_jan"}
    injured = rows["goma_injured_26_30_jan"]
    assert (injured.quantity, injured.first_day, injured.last_day, injured.low) == (
        "injured", 0, 4, 2800)
    deaths = rows["goma_deaths_26_30_jan"]
    assert (deaths.first_day, deaths.last_day, deaths.low, deaths.high) == (0, 4, 700, 700)
    fled = rows["goma_people_fleeing_26_28_jan"]
    assert (fled.quantity, fled.first_day, fled.last_day, fled.kind) == ("displaced", 0, 2, "interval")
    assert rows["rusayo_shelling_deaths_26_jan"].kind == "lower_bound"


def test_scenario_ids_distinct_from_the_syria_episode():
    syria = {_config(n).scenario.id for n in SCENARIO_CONFIGS}
    assert not syria & {_config(n).scenario.id for n in GOMA_CONFIGS}


def test_cli_validates_the_goma_configs():
    proc = subprocess.run([sys.executable, "-m", "models.run",
                           *(str(CONFIGS / f"{n}.yaml") for n in GOMA_CONFIGS), "--validate-only"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("ok: ") == len(GOMA_CONFIGS)
