"""The two-origin example of the update loop: configs/synthetic-later/ (the shipped Syria
scenarios at a made-up later origin, 8 Dec 2024, with made-up reports) is labelled synthetic
everywhere a reader could take it for real, and composes with the shipped levers."""

from __future__ import annotations

from pathlib import Path

from scenarios.compose import compose
from scenarios.loader import load_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
LATER = CONFIGS / "synthetic-later"


def test_the_later_origin_composes_with_the_shipped_levers():
    comp = compose([LATER / "escalation.yaml"])
    assert comp.scenario_ids == ["escalation", "baseline"]
    for c in comp.configs:
        shipped = load_config(CONFIGS / f"{c.config.scenario.id}.yaml")
        assert c.resolved["assumptions"] == shipped.resolved["assumptions"]
        assert str(c.config.episode.origin) == "2024-12-08"
        assert set(shipped.config.evidence) < set(c.config.evidence)


def test_everything_made_up_says_so():
    cfg = load_config(LATER / "escalation.yaml").config
    shipped = load_config(CONFIGS / "escalation.yaml").config
    new = {k: e for k, e in cfg.evidence.items() if k not in shipped.evidence}
    assert new
    for e in new.values():
        assert e.source.reporter.startswith("SYNTHETIC")
        assert e.source.passage.startswith("SYNTHETIC")
        doc = cfg.sources[e.source.document]
        assert "SYNTHETIC" in doc.title and "never published" in doc.title
    for path in LATER.glob("*.yaml"):
        assert path.read_text("utf-8").startswith("# SYNTHETIC"), path
