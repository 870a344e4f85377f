"""Options of python -m models.run that are checked before any work: --formats, --since."""

from __future__ import annotations

import pytest

from models.cli.run import parser


def test_formats_replace_the_configs_formats():
    args = parser().parse_args(["configs/escalation.yaml", "--formats", "netcdf, csv,parquet"])
    assert args.formats == ["netcdf", "csv", "parquet"]
    assert parser().parse_args(["configs/escalation.yaml"]).formats is None


@pytest.mark.parametrize("bad", ["pdf", "netcdf,plot", ","])
def test_unknown_formats_are_refused_with_the_choices(bad, capsys):
    with pytest.raises(SystemExit) as e:
        parser().parse_args(["configs/escalation.yaml", "--formats", bad])
    assert e.value.code == 2
    assert "choose from netcdf, csv, parquet, plots, report" in capsys.readouterr().err


def test_since_names_a_run_directory():
    args = parser().parse_args(["configs/escalation.yaml", "--since", "results/escalation/x"])
    assert args.since == "results/escalation/x"
