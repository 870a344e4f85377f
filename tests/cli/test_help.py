"""Every console command's ``--help`` says its exit codes, gives an example, and states defaults
only where there is one to state (no "(default: None)")."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest

SCRIPTS = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text("utf-8"))[
    "project"]["scripts"]


def test_every_command_line_has_a_console_command():
    modules = {target.split(":")[0] for target in SCRIPTS.values()}
    # each console command starts at the models.<name> entry point (Ctrl-C and SIGTERM as clean
    # exits, models.cli.entry_point), whose parser lives in models.cli.<name>
    cli = {f"models.{p.stem}" for p in (Path(__file__).parents[2] / "models" / "cli").glob(
        "*.py") if p.stem != "__init__"}
    assert cli | {"scenarios.extract"} == modules


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_help_gives_exit_codes_an_example_and_only_real_defaults(script, capsys):
    module, func = SCRIPTS[script].split(":")
    with pytest.raises(SystemExit) as stop:
        getattr(importlib.import_module(module), func)(["--help"])
    assert stop.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "exit codes: 0" in text and "2 bad input" in text.replace("2 refused", "2 bad input")
    assert "example: python -m " in text
    for empty in ("None", "False", "[]", "''"):
        assert f"(default: {empty})" not in text, f"{script}: says (default: {empty})"
