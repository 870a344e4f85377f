"""Evidence -> observation rows, with nested claims separated."""

import math

import pytest
import yaml

from scenarios.evidence import EvidenceError, observations
from scenarios.loader import load_config
from tests.conftest import CONFIGS


def test_shipped_evidence_is_disjoint(baseline):
    rows = {o.evidence_id: o for o in observations(baseline.config)}
    day = rows["idlib_air_strike_deaths_1_dec"]
    total = rows["idlib_air_strike_deaths_since_27_nov"]
    assert (day.first_day, day.last_day, day.low, day.high) == (4, 4, 23, 27)
    # 56 since 27 Nov minus 'approximately 25' on 1 Dec = [29, 33] over 27-30 Nov
    assert (total.first_day, total.last_day, total.low, total.high) == (0, 3, 29, 33)
    assert total.derived_from == ("idlib_air_strike_deaths_1_dec",)
    fled = rows["aleppo_civilians_fled"]
    assert (fled.low, fled.high, fled.kind) == (10_000, 99_999, "interval")


def _with_evidence(tmp_path, evidence):
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump({"extends": str(CONFIGS / "baseline.yaml"), "evidence": evidence}))
    return load_config(p).config


def _claim(period, value):
    return {"quantity": "deaths", "region": "aleppo", "period": period, "value": value,
            "reporting": "displacement_reports", "reported_on": "2024-12-01",
            "source": {"document": "aleppo-2024-11-30", "passage": "a passage"}}


def test_lower_bound_minus_exact(tmp_path):
    cfg = _with_evidence(tmp_path, {
        "a": _claim({"since": "2024-11-27", "as_of": "2024-12-01"}, "at least 100"),
        "b": _claim({"day": "2024-11-27"}, 30)})
    a = next(o for o in observations(cfg) if o.evidence_id == "a")
    assert (a.first_day, a.last_day, a.low) == (1, 4, 70) and math.isinf(a.high)


def test_overlap_that_cannot_be_separated(tmp_path):
    cfg = _with_evidence(tmp_path, {
        "a": _claim({"from": "2024-11-27", "to": "2024-11-29"}, 10),
        "b": _claim({"from": "2024-11-28", "to": "2024-11-30"}, 10)})
    with pytest.raises(EvidenceError, match="'a' and 'b'"):
        observations(cfg)
