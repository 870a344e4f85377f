"""Issue 16, class 1: an episode longer than the nowcast can fit is refused at validation, in
seconds and before any model is built (a start decades before the origin once allocated a
day x day lag matrix of 15.5 GiB; a year-long window ran for minutes). The limit itself
(:data:`scenarios.limits.MAX_OBSERVED_DAYS` days, start and origin included) validates."""

from __future__ import annotations

import datetime as dt

import pytest

from scenarios.limits import MAX_OBSERVED_DAYS
from scenarios.loader import load_config
from tests.hardening.harness import CONFIGS, assert_refused, cli, over_baseline

ORIGIN = load_config(CONFIGS / "baseline.yaml").config.episode.origin
"""The origin of the config every case extends (only ``episode.start`` is changed)."""


def _episode_from(tmp_path, start: dt.date):
    return over_baseline(tmp_path / "long.yaml", f"episode:\n  start: {start.isoformat()}\n")


@pytest.mark.parametrize("start", [dt.date(1900, 1, 1), dt.date(1990, 1, 1),
                                   ORIGIN - dt.timedelta(days=MAX_OBSERVED_DAYS)],
                         ids=["1900", "1990", "one-day-over"])
@pytest.mark.parametrize("mode", [["--validate-only"], []], ids=["validate", "run"])
def test_an_episode_longer_than_the_limit_is_refused_in_seconds(tmp_path, start, mode):
    """Both ``--validate-only`` and a real run: exit 2, one line naming the file, the line and
    the key ``episode`` (after the one-line count of problems), the number of days and the limit's constant; nothing written."""
    config = _episode_from(tmp_path, start)
    out = tmp_path / "results"
    outcome = cli("run", config, "--out", out, *mode, timeout=60)
    days = (ORIGIN - start).days + 1
    message = assert_refused(outcome, config.name, "episode", f"{days:,} days",
                             "MAX_OBSERVED_DAYS", f"{config.name}:3: episode", lines=2,
                             seconds=30)
    assert f"{MAX_OBSERVED_DAYS}" in message
    assert not out.exists()


def test_an_episode_at_the_limit_validates(tmp_path):
    config = _episode_from(tmp_path, ORIGIN - dt.timedelta(days=MAX_OBSERVED_DAYS - 1))
    outcome = cli("run", config, "--validate-only", timeout=60)
    assert outcome.code == 0, outcome.stderr
    assert "Traceback" not in outcome.stderr
