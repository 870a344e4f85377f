"""The CLI headline table (models.cli.run.headline): columns that hold the longest id and cell,
a header that says what the numbers are, and per-region rows with --by-region."""

from __future__ import annotations

import numpy as np
import pytest
from support.results import synthetic_forecast

from models.cli import run as run_cli
from models.outputs.summary_text import headline
from models.vocabulary import TARGETS

LONG = "goma-escalation"  # 15 characters: once ran into the target ("goma-escalationcum_deaths")


@pytest.fixture(scope="module")
def forecast():
    fc = synthetic_forecast([LONG, "baseline"], draws=100, horizon=40,
                            regions=("north_kivu", "south_kivu"))
    fc["forecast"] = fc["forecast"] * 100  # millions of displaced
    return fc


def columns(line: str) -> list[str]:
    return [c.strip() for c in line.split("  ") if c.strip()]


def test_columns_hold_the_longest_id(forecast):
    text = headline(forecast, [7, 30], "2025-01-31", "2025-01-26")
    header, names, *rows = text.splitlines()
    assert header.startswith("median [5%–95%], people, all regions; day N = N days after the "
                             "origin 2025-01-31; cumulative targets count from the episode "
                             "start 2025-01-26")
    assert columns(names) == ["scenario", "target", "day 7", "day 30"]
    assert len(rows) == 2 * len(TARGETS)
    for row in rows:  # every row splits into its columns: nothing runs together
        assert len(columns(row)) == 4, row
        assert row.split()[0] in (LONG, "baseline")
    x = forecast["forecast"].sel(scenario=LONG, target="displaced", region="all", day=30).values
    (row,) = [r for r in rows if r.split()[:2] == [LONG, "displaced"]]
    assert median_of(row, -1) == pytest.approx(np.quantile(x.astype(float), 0.5), rel=1e-6)


def median_of(row: str, column: int) -> float:
    """The median of a cell ('24,396,100 [14,416,045–47,019,255]') in a headline row."""
    return float(columns(row)[column].split(" [")[0].replace(",", ""))


def test_by_region_gives_a_row_per_region_and_the_sum(forecast):
    text = headline(forecast, [7, 30], "2025-01-31", "2025-01-26", by_region=True)
    header, names, *rows = text.splitlines()
    assert "per region (all = their sum)" in header
    assert columns(names) == ["scenario", "region", "target", "day 7", "day 30"]
    assert len(rows) == 2 * 3 * len(TARGETS)
    assert {row.split()[1] for row in rows} == {"north_kivu", "south_kivu", "all"}
    for row in rows:
        assert len(columns(row)) == 5, row
    x = forecast["forecast"].sel(scenario="baseline", target="cum_deaths", region="south_kivu",
                                 day=7).values
    (row,) = [r for r in rows if r.split()[:3] == ["baseline", "south_kivu", "cum_deaths"]]
    assert median_of(row, -2) == pytest.approx(np.quantile(x.astype(float), 0.5), rel=1e-6)


def test_by_region_option():
    assert run_cli.parser().parse_args(["c.yaml", "--by-region"]).by_region is True
    assert run_cli.parser().parse_args(["c.yaml"]).by_region is False
    text = " ".join(run_cli.parser().format_help().split())
    assert "--by-region" in text and "(default: None)" not in text
