"""Scenario configs: loading, extends, strict validation with exact messages."""

import copy
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


# --- files that are not configs, and checks made before anything is allocated ---------------

def _validate(*args):
    return subprocess.run([sys.executable, "-m", "models.run", *map(str, args), "--validate-only"],
                          capture_output=True, text=True, cwd=ROOT)


@pytest.mark.parametrize("kind, message", [
    ("binary", "not a text file (expected a UTF-8 YAML config)"),
    ("utf16", "not a text file (expected a UTF-8 YAML config)"),
    ("directory", "is a directory, expected a YAML config file"),
    ("missing", "file not found"),
])
def test_unreadable_files_exit_2_with_one_line(tmp_path, kind, message):
    path = tmp_path / "config.yaml"
    if kind == "binary":
        path.write_bytes(bytes(range(256)) * 4)
    elif kind == "utf16":
        path.write_text((CONFIGS / "baseline.yaml").read_text(), encoding="utf-16")
    elif kind == "directory":
        path.mkdir()
    proc = _validate(path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr == f"error: {path}: {message}\n"


def test_other_yaml_in_configs_is_named_for_what_it_is():
    proc = _validate(CONFIGS / "backtest-syria.yaml")
    assert proc.returncode == 2
    assert "a backtest config" in proc.stderr and "python -m models.backtest" in proc.stderr
    proc = _validate(CONFIGS / "northwest-syria-evidence.yaml")
    assert proc.returncode == 2 and "an evidence file" in proc.stderr


def test_config_weights_must_name_the_scenarios_run(tmp_path):
    bad = tmp_path / "w.yaml"
    bad.write_text(f"extends: {CONFIGS / 'baseline.yaml'}\nscenario:\n  id: w\n"
                   "forecast:\n  scenario_weights: {w: 0.5, nosuch: 0.5}\n")
    proc = _validate(bad)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr == (f"error: {bad}:5: forecast -> scenario_weights: scenario weights must "
                           "name exactly the scenarios run (w); unknown: nosuch\n")
    # a second config on the command line: the first config's weights no longer cover the run
    proc = _validate(CONFIGS / "escalation.yaml", CONFIGS / "displacement.yaml")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert proc.stderr.endswith("missing: displacement; with several configs on the command "
                                "line, give --weights for all of them\n")
    # --weights replaces the config's weights, so it is what gets checked
    proc = _validate(CONFIGS / "escalation.yaml", CONFIGS / "displacement.yaml",
                     "--weights", "escalation=1,displacement=1,baseline=2")
    assert proc.returncode == 0, proc.stderr


def test_memory_guard_refuses_before_allocating(tmp_path):
    from models.pipeline import ResourceLimitError as UsageError
    from models.pipeline import check_memory

    check_memory(4000, 90, 3, "x", available=8e9)  # the shipped default fits in 8 GB
    with pytest.raises(UsageError) as err:
        check_memory(100_000, 365, 5, "cfg.yaml:12: forecast -> draws", available=8e9)
    assert str(err.value) == ("cfg.yaml:12: forecast -> draws: 100,000 draws x 365 days x 5 "
                              "scenario(s) need about 37.8 GB of memory, more than the 8.0 GB "
                              "available; lower the draws (at most about 18,356 here) or the "
                              "horizon")
    # from the command line (needs ~150 GB: refused on any ordinary machine), before any fit
    long = tmp_path / "long.yaml"
    long.write_text(f"extends: {CONFIGS / 'baseline.yaml'}\nscenario:\n  id: long\n"
                    "forecast:\n  horizon_days: 730\n  draws: 1000000\n")
    proc = _validate(long)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"error: {long}:6: forecast -> draws: 1,000,000 draws x 730 days "
                                  "x 1 scenario(s) need about 147.3 GB of memory")
    proc = _validate(long, "--draws", "900000")
    assert proc.returncode == 2 and proc.stderr.startswith("error: --draws 900000: 900,000 draws")


# --- property: any mutation gives a valid config or a ConfigError, never another exception ----

def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


_ESCALATION = load_config(CONFIGS / "escalation.yaml").resolved
_PATHS = [p for p in _paths(_ESCALATION) if p]
_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.dates().map(str), st.lists(st.integers(-5, 5), max_size=3),
    st.dictionaries(st.text(max_size=6), st.integers(-5, 5), max_size=2),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_PATHS), st.sampled_from(["set", "delete", "add"]),
                          _VALUES, st.text(min_size=1, max_size=8)), min_size=1, max_size=3))
def test_random_mutations_give_a_config_or_a_config_error(mutations):
    cfg = copy.deepcopy(_ESCALATION)
    for path, op, value, new_key in mutations:
        parent = cfg
        try:
            for part in path[:-1]:
                parent = parent[part]
            if op == "set":
                parent[path[-1]] = value
            elif op == "delete":
                del parent[path[-1]]
            elif isinstance(parent[path[-1]], dict):
                parent[path[-1]][new_key] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or retyped this path
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "mutated.yaml"
        path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
        try:
            load_config(path)
        except ConfigError as e:
            assert e.messages and all(m.strip() for m in e.messages)
