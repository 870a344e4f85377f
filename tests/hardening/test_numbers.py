"""Issue 16, class 7: non-finite and huge numbers are refused at validation, with file, line and
key, wherever a number is read (one rule: :func:`scenarios.limits.number_problems`, run by the
``Config`` model before anything else, and ``allow_inf_nan=False`` on every section)."""

from __future__ import annotations

import math

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from models.cli import run as run_cli
from scenarios.distributions import LogNormal
from scenarios.limits import MAX_NUMBER, MAX_SEED
from scenarios.loader import load_config
from scenarios.yaml_source import ConfigError
from tests.hardening.harness import CONFIGS, assert_refused, in_process, write

EVIDENCE = "idlib_air_strike_deaths_since_27_nov"
WHERE_NUMBERS_ARE_READ = {
    # key path: how a number is set there (the value replaces X in the override)
    "population": ("episode", "regions", "aleppo", "population_at_risk", "value"),
    "evidence value": ("evidence", EVIDENCE, "value"),
    "evidence range": ("evidence", EVIDENCE, "value", 1),
    "evidence bound": ("evidence", EVIDENCE, "value", "at_least"),
    "beta parameter": ("assumptions", "daily_return_rate", "low"),
    "lognormal parameter": ("assumptions", "trend_half_life_days", "high"),
    "regime multiplier": ("assumptions", "regimes", "prolonged", "intensity_multiplier", "low"),
    "reporting share": ("reporting", "displacement_reports", "share", "low"),
    "lexicon interval": ("lexicon", "a heap", 1),
    "scenario weight": ("forecast", "scenario_weights", "baseline"),
    "seed": ("forecast", "seed"),
    "draws": ("forecast", "draws"),
    "horizon": ("forecast", "horizon_days"),
    "target accept": ("sampler", "target_accept"),
}
"""A number read at each of these places (one per kind of field)."""

SHAPES = {("evidence", EVIDENCE, "value", 1): [10, None], ("lexicon", "a heap", 1): [1, None],
          ("evidence", EVIDENCE, "value", "at_least"): {"at_least": None}}


def override(path: tuple, number) -> dict:
    """The smallest override that puts ``number`` at ``path``."""
    container = path[:-1] if path in SHAPES else path
    leaf = SHAPES.get(path, None)
    if leaf is None:
        value = number
    elif isinstance(leaf, list):
        value = [number if v is None else v for v in leaf]
    else:
        value = {k: number for k in leaf}
    out: dict = {}
    node = out
    for key in container[:-1]:
        node = node.setdefault(key, {})
    node[container[-1]] = value
    return out


def config_with(tmp_path, path: tuple, number):
    body = override(path, number)
    text = yaml.safe_dump(body, sort_keys=False)
    return write(tmp_path / "c.yaml", f"extends: {CONFIGS / 'baseline.yaml'}\n{text}")


BAD_NUMBERS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf, "1e400 (int)": 10**400,
               "2**70": 2**70, "1e300": 1e300, "just over": MAX_NUMBER * 1.5}


@pytest.mark.parametrize("number", list(BAD_NUMBERS.values()), ids=list(BAD_NUMBERS))
@pytest.mark.parametrize("place", list(WHERE_NUMBERS_ARE_READ), ids=list(WHERE_NUMBERS_ARE_READ))
def test_bad_number_refused_with_file_line_and_key(tmp_path, place, number):
    path = WHERE_NUMBERS_ARE_READ[place]
    config = config_with(tmp_path, path, number)
    with pytest.raises(ConfigError) as err:
        load_config(config)
    key = ".".join(map(str, path))
    lines = [m for m in err.value.messages if key in m]
    assert len(lines) == 1, err.value.messages
    assert lines[0].startswith(f"{config}:"), lines[0]
    assert lines[0].split(":")[1].isdigit(), lines[0]  # the line
    assert ("finite" if isinstance(number, float) and not math.isfinite(number)
            else "too large") in lines[0]


def test_text_that_reads_as_a_huge_number_is_refused(tmp_path):
    config = config_with(tmp_path, ("evidence", EVIDENCE, "value"), "1" + "0" * 400)
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert f"evidence.{EVIDENCE}.value" in str(err.value) and "MAX_NUMBER" in str(err.value)


def test_seed_range_is_what_the_generators_accept(tmp_path):
    assert load_config(config_with(tmp_path, ("forecast", "seed"), MAX_SEED)).config.forecast.seed \
        == MAX_SEED
    with pytest.raises(ConfigError, match="forecast -> seed: Input should be less than or equal "
                       f"to {MAX_SEED}"):
        load_config(config_with(tmp_path, ("forecast", "seed"), MAX_SEED + 1))


def test_every_section_refuses_non_finite_floats_when_built_in_code():
    with pytest.raises(ValidationError, match="finite"):
        LogNormal(dist="lognormal", low=1.0, high=math.inf)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(place=st.sampled_from(sorted(WHERE_NUMBERS_ARE_READ)),
       number=st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                        st.integers(-(10**30), 10**30)))
def test_generated_numbers_load_or_are_refused_by_key(tmp_path, place, number):
    """Any number anywhere: it loads, or a ConfigError names the file and line; a non-finite or
    huge number is always refused at its key; nothing else (OverflowError, a nutpie error)."""
    path = WHERE_NUMBERS_ARE_READ[place]
    config = config_with(tmp_path, path, number)
    bad = (isinstance(number, float) and not math.isfinite(number)) or abs(number) > MAX_NUMBER
    try:
        load_config(config)
    except ConfigError as e:
        assert all(m.startswith(str(config)) for m in e.messages), e.messages
        if bad:
            assert any(".".join(map(str, path)) in m for m in e.messages), e.messages
    else:
        assert not bad


COMMAND_LINE = [
    ("seed 2**70", ["--seed", str(2**70)], "--seed"),
    ("seed -1", ["--seed", "-1"], "--seed"),
    ("weights nan", ["--weights", "baseline=nan,escalation=1"], "--weights"),
    ("weights inf", ["--weights", "baseline=inf,escalation=1"], "--weights"),
    ("draws 10**30", ["--draws", str(10**30)], "--draws"),
]


@pytest.mark.parametrize("case, args, names", COMMAND_LINE, ids=[c[0] for c in COMMAND_LINE])
def test_numbers_on_the_command_line(capsys, case, args, names):
    outcome = in_process(run_cli.main, [CONFIGS / "escalation.yaml", "--validate-only", *args],
                         capsys)
    assert_refused(outcome, names, seconds=30)


@pytest.mark.parametrize("name", ["nan population", "nan evidence", "inf evidence",
                                  "int 10**400 evidence", "seed 2**70"])
def test_the_issues_examples_exit_2_in_one_line_per_problem(tmp_path, capsys, name):
    path, number = {"nan population": (WHERE_NUMBERS_ARE_READ["population"], math.nan),
                    "nan evidence": (WHERE_NUMBERS_ARE_READ["evidence value"], math.nan),
                    "inf evidence": (WHERE_NUMBERS_ARE_READ["evidence value"], math.inf),
                    "int 10**400 evidence": (WHERE_NUMBERS_ARE_READ["evidence value"], 10**400),
                    "seed 2**70": (WHERE_NUMBERS_ARE_READ["seed"], 2**70)}[name]
    config = config_with(tmp_path, path, number)
    outcome = in_process(run_cli.main, [config, "--validate-only"], capsys)
    # "error: <file>: 1 problem(s) in the config:" then the problem with its line and key
    assert_refused(outcome, str(config), ".".join(map(str, path)), lines=2, seconds=30)
