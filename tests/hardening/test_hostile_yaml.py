"""Issue 16, classes 1 and 8: unbounded work from small YAML, odd YAML structure, files that
are not configs, and ``extends`` / ``compare_with`` naming files they may not.

Every case is refused before the work it would cause, with one line naming the file (and the
line where there is one), exit 2 on the command line, within seconds."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scenarios.limits import (
    MAX_CONFIG_BYTES,
    MAX_EXTENDS_DEPTH,
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
)
from scenarios.loader import load_config
from scenarios.yaml_source import ConfigError, load_yaml_text, read_yaml
from tests.hardening.harness import (
    CONFIGS,
    assert_one_line,
    assert_refused,
    cli,
    over_baseline,
    write,
)


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """``levels`` anchors, each a list of ``width`` aliases of the one before: width**levels
    values once expanded from a few hundred bytes."""
    lines = ["a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def deep_list(depth: int) -> str:
    return "a: " + "[" * depth + "]" * depth + "\n"


def deep_mapping(depth: int) -> str:
    return "a: " + "{b: " * depth + "1" + "}" * depth + "\n"


def chain(tmp: Path, n: int) -> Path:
    """``c1.yaml`` extends ``c2.yaml`` ... extends ``c<n>.yaml``, which extends the baseline."""
    for i in range(1, n):
        write(tmp / f"c{i}.yaml", f"extends: c{i + 1}.yaml\n")
    over_baseline(tmp / f"c{n}.yaml")
    return tmp / "c1.yaml"


# (case id, builder tmp_path -> config path, what the one-line message must say, line or None)
STRUCTURE_CASES = [
    ("alias-bomb", lambda t: write(t / "c.yaml", alias_bomb()), "alias", None),
    ("alias-bomb-merge-keys", lambda t: write(t / "c.yaml", "a: &a {x: 1, y: 2}\n" + "".join(
        f"b{i}: &b{i} {{<<: *{'a' if i == 0 else f'b{i - 1}'}, k{i}: [" + ", ".join(
            [f"*{'a' if i == 0 else f'b{i - 1}'}"] * 8) + "]}\n" for i in range(9))),
     "MAX_YAML_NODES", None),
    ("recursive-alias", lambda t: write(t / "c.yaml", "a: &a [1, *a]\n"), "recursive alias", 1),
    ("undefined-alias", lambda t: write(t / "c.yaml", "a: *nowhere\n"), "nowhere", 1),
    ("deep-list-5000", lambda t: write(t / "c.yaml", deep_list(5000)), "nest", 1),
    ("deep-mapping-5000", lambda t: write(t / "c.yaml", deep_mapping(5000)), "nest", 1),
    ("deep-list-just-over", lambda t: write(t / "c.yaml", deep_list(MAX_YAML_DEPTH + 1)),
     "MAX_YAML_DEPTH", 1),
    ("complex-key-list", lambda t: write(t / "c.yaml", "schema_version: 1\n? [a, b]\n: 1\n"),
     "mapping key must be a plain value", 2),
    ("complex-key-mapping", lambda t: write(t / "c.yaml", "? {a: 1}\n: 1\n"),
     "mapping key must be a plain value", 1),
    ("complex-key-alias", lambda t: write(t / "c.yaml", "x: &l [1, 2]\n*l : 3\n"),
     "mapping key must be a plain value", 2),
    ("python-tag", lambda t: write(t / "c.yaml", "a: !!python/object/apply:os.system [ls]\n"),
     "not allowed", 1),
    ("two-documents", lambda t: write(t / "c.yaml", "a: 1\n---\nb: 2\n"), "invalid YAML", None),
    ("extends-chain-1500", lambda t: chain(t, 1500), "MAX_EXTENDS_DEPTH", 1),
    # c1 .. c<n>, baseline.yaml, northwest-syria-evidence.yaml: n + 2 files
    ("extends-chain-just-over", lambda t: chain(t, MAX_EXTENDS_DEPTH - 1), "MAX_EXTENDS_DEPTH",
     None),
]


@pytest.mark.parametrize("case, build, says, line", STRUCTURE_CASES,
                         ids=[c[0] for c in STRUCTURE_CASES])
def test_odd_structure_is_refused_quickly_with_its_line(tmp_path, case, build, says, line):
    path = build(tmp_path)
    t0 = time.perf_counter()
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert time.perf_counter() - t0 < 5
    text = assert_one_line(err.value, says)
    assert str(tmp_path) in text, text  # the file, or (a chain too long) the chain's first file
    if line is not None:
        assert f".yaml:{line}: " in text, text


def test_extends_chain_within_the_limit_loads(tmp_path):
    assert load_config(chain(tmp_path, MAX_EXTENDS_DEPTH - 2)).config.scenario.id == "baseline"


def test_nesting_within_the_limit_is_read(tmp_path):
    data, _ = read_yaml(write(tmp_path / "c.yaml", deep_list(MAX_YAML_DEPTH - 1)))
    assert isinstance(data["a"], list)


def _fifo(t: Path) -> Path:
    os.mkfifo(t / "c.yaml")
    return t / "c.yaml"


def _socket(t: Path) -> Path:
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(t / "c.yaml"))  # the socket file stays after the socket is closed
    return t / "c.yaml"


def _loop(t: Path) -> Path:
    os.symlink(t / "b.yaml", t / "c.yaml")
    os.symlink(t / "c.yaml", t / "b.yaml")
    return t / "c.yaml"


def _too_large(t: Path) -> Path:
    p = over_baseline(t / "c.yaml")
    with open(p, "a") as f:
        f.write("# padding\n" * (MAX_CONFIG_BYTES // 10 + 1))
    return p


# (case id, builder, what the message says)
FILE_CASES = [
    ("fifo", _fifo, "named pipe"),
    ("socket", _socket, "socket"),
    ("dev-zero", lambda t: Path("/dev/zero"), "character device"),
    ("dev-null", lambda t: Path("/dev/null"), "character device"),
    ("directory", lambda t: (t / "c.yaml").mkdir() or t / "c.yaml", "directory"),
    ("symlink-loop", _loop, "symbolic link loop"),
    ("too-large", _too_large, "MAX_CONFIG_BYTES"),
    ("not-utf8", lambda t: (t / "c.yaml").write_bytes(b"a: \xff\xfe\n") and t / "c.yaml",
     "not a text file"),
    ("missing", lambda t: t / "c.yaml", "file not found"),
]


@pytest.mark.parametrize("case, build, says", FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_what_is_not_a_config_file_is_refused_before_reading(tmp_path, case, build, says):
    path = build(tmp_path)
    t0 = time.perf_counter()
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert time.perf_counter() - t0 < 5
    assert_one_line(err.value, str(path), says)


def test_extends_naming_a_fifo_or_a_device_is_refused(tmp_path):
    os.mkfifo(tmp_path / "pipe.yaml")
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path / "c.yaml", "extends: pipe.yaml\n"))
    assert_one_line(err.value, "pipe.yaml", "named pipe")


# --- where extends and compare_with may point -------------------------------------------------

def _outside(tmp: Path) -> Path:
    """A valid config outside the directory of the config that names it."""
    return over_baseline(tmp / "elsewhere" / "other.yaml", "scenario:\n  id: other\n")


REFERENCE_CASES = [
    ("extends-absolute-outside", lambda t: f"extends: {_outside(t)}\n", "extends"),
    ("extends-relative-outside", lambda t: (_outside(t), "extends: ../elsewhere/other.yaml\n")[1],
     "extends"),
    ("extends-etc", lambda t: "extends: /etc/hostname\n", "extends"),
    ("extends-symlink-out", lambda t: (os.symlink(_outside(t), t / "mine" / "link.yaml"),
                                       "extends: link.yaml\n")[1], "extends"),
    ("compare-with-outside", lambda t: (f"extends: {CONFIGS / 'baseline.yaml'}\nscenario:\n"
                                        f"  id: mine\n  compare_with: [{_outside(t)}]\n"),
     "compare_with"),
]


@pytest.mark.parametrize("case, body, key", REFERENCE_CASES, ids=[c[0] for c in REFERENCE_CASES])
def test_extends_and_compare_with_stay_in_the_allowed_places(tmp_path, case, body, key):
    (tmp_path / "mine").mkdir()
    text = body(tmp_path)
    config = write(tmp_path / "mine" / "c.yaml", text)
    from scenarios.compose import compose

    with pytest.raises(ConfigError) as err:
        compose([config])
    message = assert_one_line(err.value, f"{config}:", key, "outside the places")
    assert str(tmp_path / "mine") in message and str(CONFIGS) in message


def test_allowed_places_load(tmp_path):
    """Beside the config, in a subdirectory, and the repository's configs/ are allowed."""
    over_baseline(tmp_path / "sub" / "base.yaml", "scenario:\n  id: sub\n")
    config = write(tmp_path / "c.yaml", "extends: sub/base.yaml\nscenario:\n  id: mine\n"
                   f"  compare_with: [{CONFIGS / 'escalation.yaml'}]\n")
    from scenarios.compose import compose

    assert compose([config]).scenario_ids == ["mine", "escalation"]


# --- generated structures ---------------------------------------------------------------------

SCALARS = st.sampled_from(["1", "x", "'a b'", "2024-12-01", "null", ".nan", "true"])


@st.composite
def yaml_documents(draw):
    """Flow-style YAML with random nesting, anchors, aliases (to any earlier anchor, possibly
    one still open) and, sometimes, collections as keys."""
    anchors: list[str] = []

    def node(depth: int) -> str:
        kind = draw(st.sampled_from(["scalar", "list", "map", "alias"] if depth < 90
                                    else ["scalar", "alias"]))
        if kind == "alias" and anchors:
            return f"*{draw(st.sampled_from(anchors))}"
        if kind in ("scalar", "alias"):
            return draw(SCALARS)
        name = f"n{len(anchors)}"
        tag = ""
        if draw(st.booleans()):
            anchors.append(name)
            tag = f"&{name} "
        n = draw(st.integers(0, 4))
        if kind == "list":
            return tag + "[" + ", ".join(node(depth + 1) for _ in range(n)) + "]"
        items = []
        for i in range(n):
            key = f"k{i}" if draw(st.integers(0, 9)) else node(depth + 1)
            items.append(f"? {key}\n: {node(depth + 1)}" if key.startswith(("[", "{", "*"))
                         else f"{key}: {node(depth + 1)}")
        return tag + "{" + ", ".join(items) + "}"

    return "top: " + node(0) + "\n"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.data_too_large])
@given(yaml_documents())
def test_generated_yaml_reads_or_is_refused_in_one_line(text):
    """Whatever the structure: plain data, or a ConfigError of lines that each name the file
    (never RecursionError, TypeError, MemoryError), quickly."""
    t0 = time.perf_counter()
    try:
        data = load_yaml_text(text, "gen.yaml")
    except ConfigError as e:
        assert e.messages and all(m.startswith("gen.yaml") for m in e.messages), e.messages
    else:
        assert isinstance(data, dict)
    assert time.perf_counter() - t0 < 2


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 12), st.integers(2, 12))
def test_alias_expansion_is_counted_not_performed(levels, width):
    text = alias_bomb(levels, width)
    size = 1 + width  # a0: the list and its scalars; each later list holds width copies
    expanded = 1 + levels + size  # the top mapping, its keys, a0
    for _ in range(1, levels):
        size = 1 + width * size
        expanded += size
    t0 = time.perf_counter()
    if expanded > MAX_YAML_NODES:
        with pytest.raises(ConfigError) as err:
            load_yaml_text(text, "bomb.yaml")
        assert "MAX_YAML_NODES" in str(err.value)
    else:
        assert yaml.safe_load(text) == load_yaml_text(text, "bomb.yaml")
    assert time.perf_counter() - t0 < 2


# --- the command line: exit 2, one line, no traceback, no hang ----------------------------------

CLI_CASES = [
    ("alias-bomb", lambda t: write(t / "c.yaml", alias_bomb()), "MAX_YAML_NODES"),
    ("fifo", _fifo, "named pipe"),
    ("dev-zero", lambda t: Path("/dev/zero"), "character device"),
    ("deep-5000", lambda t: write(t / "c.yaml", deep_list(5000)), "deep"),
    ("chain-1500", lambda t: chain(t, 1500), "MAX_EXTENDS_DEPTH"),
    ("complex-key", lambda t: over_baseline(t / "c.yaml", "? [a, b]\n: 1\n"), "plain value"),
    ("symlink-loop", _loop, "symbolic link loop"),
]


@pytest.mark.parametrize("case, build, says", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_run_command_refuses_in_one_line(tmp_path, case, build, says):
    path = build(tmp_path)
    outcome = cli("run", path, "--validate-only", "--out", tmp_path / "results", timeout=60)
    assert_refused(outcome, str(path) if case != "chain-1500" else str(tmp_path), says)
    assert not (tmp_path / "results").exists()
