"""Options of python -m models.run that are checked before any work: --formats, --since,
--target-accept."""

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


def test_target_accept_replaces_the_configs_and_changes_the_fit_cache_key():
    from models.inference.fit_cache import nowcast_cache_key
    from scenarios.loader import load_config

    args = parser().parse_args(["configs/escalation.yaml", "--target-accept", "0.97"])
    assert args.target_accept == 0.97
    assert parser().parse_args(["configs/escalation.yaml"]).target_accept is None
    loaded = load_config("configs/escalation.yaml")
    key, payload = nowcast_cache_key(loaded, 1, "nutpie")
    assert nowcast_cache_key(loaded, 1, "nutpie", None)[0] == key
    assert payload["settings"].get("target_accept") != 0.97
    other, other_payload = nowcast_cache_key(loaded, 1, "nutpie", 0.97)
    assert other != key and other_payload["settings"]["target_accept"] == 0.97


@pytest.mark.parametrize("bad", ["1", "0.5", "1.2", "high", "nan"])
def test_target_accept_outside_the_open_interval_is_refused(bad, capsys):
    with pytest.raises(SystemExit) as e:
        parser().parse_args(["configs/escalation.yaml", "--target-accept", bad])
    assert e.value.code == 2
    assert "between 0.5 and 1" in capsys.readouterr().err
