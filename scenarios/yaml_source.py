"""YAML as configs are read here: key lines for every key, errors that name file, line and key
path, and one "did you mean" helper. Shared by the scenario loader and the backtest loader."""

from __future__ import annotations

import difflib
import hashlib
import json
import types
import typing
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

__all__ = ["ConfigError", "allowed_keys", "config_hash", "did_you_mean", "format_errors",
           "locate", "read_yaml"]

Path_ = tuple


class ConfigError(Exception):
    """A config could not be loaded. ``str(err)`` is the complete, user-facing message."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__("\n".join(messages))


def config_hash(resolved: dict) -> str:
    """SHA-256 of the canonical JSON of a resolved config (key order and YAML layout do not matter)."""
    canonical = json.dumps(resolved, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records the line of every mapping key, keyed by its path."""


def read_yaml(path: Path) -> tuple[dict, dict[Path_, tuple[str, int]]]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{path}: is a directory, expected a YAML config file"]) from None
    except OSError as e:
        raise ConfigError([f"{path}: cannot read ({e.strerror})"]) from None
    try:
        if b"\0" in raw:  # UTF-16 text and binaries; YAML configs here are UTF-8
            raise UnicodeDecodeError("utf-8", raw, raw.index(b"\0"), raw.index(b"\0") + 1, "NUL")
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: not a text file (expected a UTF-8 YAML config)"]) from None
    try:
        node = yaml.compose(text, Loader=_LineLoader)
    except yaml.YAMLError as e:
        # The context mark (where the unclosed structure began) is where the fix goes.
        mark = getattr(e, "context_mark", None) or getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError([f"{where}: invalid YAML: {problem}"]) from None
    if node is None:
        raise ConfigError([f"{path}: the file is empty"])
    lines: dict[Path_, tuple[str, int]] = {}

    problems: list[str] = []

    def walk(n, prefix):
        lines[prefix] = (str(path), n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            first_line: dict = {}
            for k, v in n.value:
                key = k.value
                line = k.start_mark.line + 1
                if key in first_line:  # PyYAML would silently keep the last one
                    problems.append(f"{path}:{line}: {' -> '.join(map(str, (*prefix, key)))}: "
                                    f"duplicate key '{key}' (first at line {first_line[key]})")
                first_line.setdefault(key, line)
                lines[(*prefix, key)] = (str(path), line)
                walk(v, (*prefix, key))
        elif isinstance(n, yaml.SequenceNode):
            for i, v in enumerate(n.value):
                walk(v, (*prefix, i))

    walk(node, ())
    if problems:
        raise ConfigError(problems)
    try:
        data = yaml.safe_load(text)
    except yaml.constructor.ConstructorError as e:
        # Tags that would build Python objects (!!python/...) are refused by the safe loader.
        where = f"{path}:{e.problem_mark.line + 1}" if e.problem_mark else str(path)
        tag = str(e.problem or "").rpartition("tag ")[2].strip("' ").replace("tag:yaml.org,2002:", "!!")
        raise ConfigError([f"{where}: YAML tag '{tag}' is not allowed: a config "
                           "holds plain data (numbers, text, dates, lists, mappings)"]) from None
    except yaml.YAMLError as e:
        raise ConfigError([f"{path}: invalid YAML: {e}"]) from None
    if not isinstance(data, dict):
        raise ConfigError([f"{path}:1: a config must be a mapping of sections, got {type(data).__name__}"])
    return data, lines


def locate(loc: tuple, lines: dict) -> str:
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            f, ln = lines[loc[:n]]
            return f"{f}:{ln}"
    return "?"


def did_you_mean(key: str, allowed: list[str]) -> str:
    """`` Did you mean 'x'?`` for the closest allowed key, or ``""``.

    >>> did_you_mean("titel", ["id", "title"])
    " Did you mean 'title'?"
    """
    hint = difflib.get_close_matches(key, allowed, n=1)
    return f" Did you mean '{hint[0]}'?" if hint else ""


def allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names (aliases) valid at the mapping that holds ``loc[-1]``, walking the schema."""
    current: object = model
    for part in loc[:-1]:
        if isinstance(current, type) and issubclass(current, BaseModel):
            f = current.model_fields.get(part) or next(
                (f for f in current.model_fields.values() if f.alias == part), None)
            if f is None:
                return []
            current = _unwrap(f.annotation)
        elif isinstance(current, tuple) and current[0] == "dict":
            current = current[1]
        else:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _unwrap(annotation):
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is dict:
        return ("dict", _unwrap(args[1]))
    if origin in (typing.Union, types.UnionType):
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        return models[0] if len(models) == 1 else None
    if origin is typing.Annotated:
        return _unwrap(args[0])
    return annotation


def format_errors(err: ValidationError, lines: dict, model: type[BaseModel]) -> list[str]:
    """One line per problem, ``file:line: key -> path: message``, for a validation error of
    ``model`` read from YAML with key lines ``lines`` (:func:`read_yaml`); unknown keys get a
    "did you mean" hint and the keys allowed there."""
    out = []
    for e in err.errors(include_url=False):
        # Drop pydantic's union-member tags and its "[key]" marker (an invalid dict key is
        # reported at the key itself).
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p in
                                                  ("lognormal", "beta", "uniform", "normal",
                                                   "[key]")))
        key_path = " -> ".join(str(p) for p in loc) or "(top level)"
        where = locate(loc, lines)
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            allowed = allowed_keys(model, loc)
            msg = f"unknown key '{loc[-1]}'." + did_you_mean(str(loc[-1]), allowed)
            if allowed:
                msg += f" Allowed here: {', '.join(allowed)}"
        elif e["type"] == "missing":
            msg = "required key is missing"
        elif e["type"] == "union_tag_invalid":
            msg = (f"unknown distribution {e['input'].get('dist')!r}; expected one of lognormal, "
                   "beta, uniform, normal") if isinstance(e["input"], dict) else msg
        elif e["type"] == "union_tag_not_found":
            msg = "a distribution needs 'dist:' (lognormal, beta, uniform or normal)"
        elif e["type"] == "literal_error" and loc and loc[-1] == "dist":
            msg = (f"unknown distribution {e['input']!r}; expected "
                   f"{e['ctx'].get('expected', 'another')} here")
        elif e["type"] in ("literal_error", "enum"):
            msg = f"{msg} (got {e['input']!r})"
        if "\n" in msg:  # cross-reference errors carry their own key paths
            for line in msg.splitlines():
                path_part = line.split(":", 1)[0]
                sub = tuple(int(p) if p.isdigit() else p for p in path_part.split("."))
                out.append(f"{locate(sub, lines)}: {line}")
            continue
        if not loc and ":" in msg and "." in msg.split(":", 1)[0]:
            sub = tuple(msg.split(":", 1)[0].split("."))
            out.append(f"{locate(sub, lines)}: {msg}")
            continue
        out.append(f"{where}: {key_path}: {msg}")
    return out
