"""Load scenario configs: YAML with line numbers, ``extends``, strict validation, all errors at once.

``extends: other.yaml`` (path relative to the extending file) deep-merges this file over the other:

* mappings merge key by key, recursively (so a scenario states only what differs);
* any other value, lists included, replaces the inherited one;
* ``key: null`` deletes an inherited key (e.g. drop one inherited piece of evidence).

Chains are allowed (escalation -> baseline -> evidence file), up to
:data:`~scenarios.limits.MAX_EXTENDS_DEPTH` files; cycles are an error. ``extends`` (and
``scenario.compare_with``) may name only files under the directory of the config named on the
command line (its subdirectories included) or under the repository's ``configs/``, after
symbolic links are resolved; any other file is refused at the key's line. Every validation
error names the file and line where the offending key was written, the key path, and what is
expected; unknown keys get a "did you mean" hint.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from scenarios.limits import MAX_EXTENDS_DEPTH
from scenarios.schema import Config
from scenarios.yaml_source import ConfigError, config_hash, format_errors, locate, read_yaml


@dataclass
class Loaded:
    config: Config
    path: Path
    resolved: dict = field(repr=False)
    """The merged mapping after ``extends`` (what ``config.resolved.yaml`` holds)."""
    lines: dict = field(default_factory=dict, repr=False)
    """Key path -> (file, line) where each merged key was written."""

    @property
    def config_hash(self) -> str:
        return config_hash(self.resolved)

    def where(self, *keys) -> str:
        """``file:line`` where the key path ``keys`` (or its nearest written parent) was written."""
        return locate(tuple(keys), self.lines)


def _merge(base: dict, over: dict, base_lines: dict, over_lines: dict, prefix=()) -> dict:
    out = dict(base)
    for key, value in over.items():
        p = (*prefix, key)
        if value is None:
            out.pop(key, None)
            for q in [q for q in base_lines if q[: len(p)] == p]:
                base_lines.pop(q)
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = _merge(base[key], value, base_lines, over_lines, p)
        else:
            for q in [q for q in base_lines if q[: len(p)] == p]:
                base_lines.pop(q)
            out[key] = value
    for q, loc in over_lines.items():
        if q[: len(prefix)] == prefix and (len(q) > len(prefix) or not prefix):
            base_lines[q] = loc
    return out


CONFIGS_DIR = Path(__file__).resolve().parents[1] / "configs"
"""The repository's shipped configs: any config may extend or compare with one of them."""


def real_path(path: Path) -> Path:
    """``path`` with every symbolic link resolved (a link loop is left for the reader to
    report, rather than raising here)."""
    return Path(os.path.realpath(path))


def allowed_roots(config: Path) -> tuple[Path, ...]:
    """Where files named by ``extends`` and ``compare_with`` may be: the directory tree of the
    config named on the command line, and the repository's ``configs/``."""
    return tuple(dict.fromkeys((real_path(Path(config).absolute().parent), real_path(CONFIGS_DIR))))


def check_reference(target: Path, roots: tuple[Path, ...], where: str, key: str) -> Path:
    """``target`` (a file named by ``key`` at ``where``) as a real path, if it lies under one of
    ``roots``; else a :class:`ConfigError` saying what is allowed."""
    real = real_path(target)
    if not any(real == r or r in real.parents for r in roots):
        raise ConfigError([f"{where}: {key}: {target} is outside the places a config may name "
                           f"({' or '.join(f'{r}/' for r in roots)}, and their subdirectories); "
                           "copy the file there"])
    return real


def resolve(path: Path, _seen: tuple[Path, ...] = (),
            roots: tuple[Path, ...] | None = None) -> tuple[dict, dict[tuple, tuple[str, int]]]:
    """Read ``path`` and its ``extends`` chain; return the merged mapping and key -> (file, line).
    Every file of the chain must lie under ``roots`` (default :func:`allowed_roots` of ``path``);
    the chain may be at most :data:`~scenarios.limits.MAX_EXTENDS_DEPTH` files long."""
    path = real_path(Path(path).absolute())
    roots = allowed_roots(path) if roots is None else roots
    if path in _seen:
        chain = " -> ".join(str(p.name) for p in (*_seen, path))
        raise ConfigError([f"{path}: 'extends' forms a cycle: {chain}"])
    data, lines = read_yaml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data, lines
    f, ln = lines[("extends",)]
    if not isinstance(parent, str):
        raise ConfigError([f"{f}:{ln}: extends: expected a file name, got {parent!r}"])
    if len(_seen) + 2 > MAX_EXTENDS_DEPTH:  # the files seen, this one and its parent
        raise ConfigError([f"{f}:{ln}: extends: a chain of more than {MAX_EXTENDS_DEPTH} files "
                           f"(from {(_seen or (path,))[0]}; scenarios.limits.MAX_EXTENDS_DEPTH)"])
    parent_path = path.parent / parent
    check_reference(parent_path, roots, f"{f}:{ln}", "extends")
    if not parent_path.exists() and not parent_path.is_symlink():
        raise ConfigError([f"{f}:{ln}: extends: file not found: {parent_path}"])
    base, base_lines = resolve(parent_path, (*_seen, path), roots)
    merged = _merge(base, data, base_lines, lines)
    return merged, base_lines


def load_config(path: str | Path) -> Loaded:
    """Load, merge and validate a scenario config. Raises :class:`ConfigError` listing every problem."""
    path = Path(path)
    merged, lines = resolve(path)
    # Two kinds of YAML in configs/ are not scenarios; say so rather than list every missing key.
    if "scenario" not in merged and {"origins", "data"} <= set(merged):
        raise ConfigError([f"{path}: a backtest config (it has 'origins' and 'data', no "
                           "'scenario'); run it with: python -m models.backtest " + str(path)])
    if "scenario" not in merged and "forecast" not in merged and "evidence" in merged:
        raise ConfigError([f"{path}: an evidence file without 'scenario' and 'forecast'; a "
                           "scenario config uses it with 'extends: " + path.name + "'"])
    try:
        config = Config.model_validate(merged)
    except ValidationError as err:
        msgs = format_errors(err, lines, Config)
        raise ConfigError([f"{path}: {len(msgs)} problem(s) in the config:", *msgs]) from None
    resolved = json.loads(config.model_dump_json(by_alias=True, exclude_none=True))
    return Loaded(config=config, path=real_path(path.absolute()), resolved=resolved,
                  lines=lines)
