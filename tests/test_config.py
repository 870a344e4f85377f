"""Scenario configs: loading, extends, strict validation with exact messages."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scenarios.loader import ConfigError, config_hash, load_config
from tests.conftest import CONFIGS, ROOT, SCENARIO_CONFIGS

BAD = sorted((Path(__file__).parent / "bad_configs").glob("*.yaml"))


@pytest.mark.parametrize("name", SCENARIO_CONFIGS)
def test_shipped_configs_validate(name):
    loaded = load_config(CONFIGS / f"{name}.yaml")
    cfg = loaded.config
    assert cfg.scenario.id == name
    assert {"aleppo", "idlib"} <= set(cfg.episode.regions)
    assert str(cfg.episode.start) == "2024-11-27" and str(cfg.episode.origin) == "2024-12-01"
    # every lever is tied to a projection of this scenario
    a = cfg.assumptions
    projections = set(cfg.scenario.projections)
    assert a.encodes in projections
    assert all(ev.encodes in projections for ev in a.events.values())


@pytest.mark.parametrize("name", SCENARIO_CONFIGS)
def test_nothing_after_the_origin(name):
    cfg = load_config(CONFIGS / f"{name}.yaml").config
    origin = cfg.episode.origin
    assert all(s.published <= origin for s in cfg.sources.values())
    assert all(e.reported_on <= origin and e.period.bounds[1] <= origin for e in cfg.evidence.values())


def test_every_cited_passage_is_in_its_document():
    """Provenance is checkable: each cited passage (ellipses allowed) occurs in the source text."""
    docs = ROOT.parent / "shared" / "sources"
    if not docs.exists():
        pytest.skip("shared/sources not present")
    for name in SCENARIO_CONFIGS:
        cfg = load_config(CONFIGS / f"{name}.yaml").config
        cites = [p.source for p in cfg.scenario.projections.values()]
        cites += [e.source for e in cfg.evidence.values()]
        cites += [r.population_at_risk.source for r in cfg.episode.regions.values()
                  if r.population_at_risk.source]
        for c in cites:
            text = " ".join((docs / cfg.sources[c.document].file).read_text().split())
            for piece in c.passage.split("..."):
                assert " ".join(piece.split()) in text, (name, c.passage)


def test_extends_deep_merges_and_replaces(tmp_path):
    base = load_config(CONFIGS / "baseline.yaml")
    esc = load_config(CONFIGS / "escalation.yaml")
    # a mapping merges key by key: escalation changes one transition, keeps the others
    t_base, t_esc = base.config.assumptions.transitions, esc.config.assumptions.transitions
    assert t_esc["prolonged"]["contained"] == t_base["prolonged"]["contained"]
    assert t_esc["prolonged"]["escalated"] != t_base["prolonged"]["escalated"]
    # evidence and episode come unchanged from the shared evidence file
    assert esc.resolved["evidence"] == base.resolved["evidence"]
    # projections merge: escalation has its own plus the baseline's
    assert {"regional_escalation", "prolonged_conflict"} <= set(esc.config.scenario.projections)
    # null deletes an inherited key; a list replaces
    child = tmp_path / "child.yaml"
    child.write_text(yaml.safe_dump({
        "extends": str(CONFIGS / "baseline.yaml"),
        "scenario": {"id": "child"},
        "evidence": {"aleppo_soldiers_killed": None},
        "output": {"headline_horizons": [14]},
    }))
    c = load_config(child)
    assert "aleppo_soldiers_killed" not in c.config.evidence
    assert len(c.config.evidence) == len(base.config.evidence) - 1
    assert c.config.output.headline_horizons == [14]


def test_extends_cycle(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ConfigError, match="cycle"):
        load_config(tmp_path / "a.yaml")


def test_config_hash_ignores_layout(tmp_path):
    loaded = load_config(CONFIGS / "baseline.yaml")
    assert config_hash(loaded.resolved) == config_hash(dict(reversed(loaded.resolved.items())))
    assert loaded.config_hash != load_config(CONFIGS / "escalation.yaml").config_hash


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_config_message(path):
    expected = path.read_text().splitlines()[0].removeprefix("# expect: ")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert expected in str(err.value), str(err.value)


def test_all_errors_reported_at_once(tmp_path):
    bad = tmp_path / "many.yaml"
    bad.write_text(f"extends: {CONFIGS / 'baseline.yaml'}\nscenario:\n  id: many\n  titel: x\n"
                   "forecast:\n  horizon_days: 0\n  draws: 5\n")
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    msg = str(err.value)
    assert "3 problem(s)" in msg
    assert re.search(r"many.yaml:4: scenario -> titel", msg)
    assert re.search(r"many.yaml:6: forecast -> horizon_days", msg)
    assert re.search(r"many.yaml:7: forecast -> draws", msg)


def test_cli_bad_config_exit_code_and_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "models.run", str(BAD[0]), "--validate-only"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ")


def test_cli_validate_only_ok():
    proc = subprocess.run([sys.executable, "-m", "models.run", str(CONFIGS / "escalation.yaml"),
                           "--validate-only"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    # escalation names baseline in compare_with: both are validated
    assert "scenario 'escalation'" in proc.stdout and "scenario 'baseline'" in proc.stdout


@pytest.mark.parametrize("args, message", [
    (["--draws", "5"], "--draws: expected 100 to 1,000,000"),
    (["--weights", "baseline=0.5,nope=0.5"], "unknown: nope"),
    (["--weights", "baseline=x"], "--weights: expected id=number pairs"),
])
def test_cli_bad_options(args, message):
    proc = subprocess.run([sys.executable, "-m", "models.run", str(CONFIGS / "escalation.yaml"),
                           "--validate-only", *args], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
