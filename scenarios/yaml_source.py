"""YAML as configs are read here: key lines for every key, errors that name file, line and key
path, and one "did you mean" helper. Shared by the scenario loader and the backtest loader.

Reading is bounded before it starts (:mod:`scenarios.limits`): only a regular file of at most
``MAX_CONFIG_BYTES`` is opened (never a FIFO, a device or a directory), and its event stream is
checked for depth, alias expansion, recursive aliases and complex keys before anything is
composed or walked; YAML read back from a run goes through the same checks
(:func:`load_yaml_text`)."""

from __future__ import annotations

import difflib
import errno
import hashlib
import json
import os
import stat
import types
import typing
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from scenarios.limits import MAX_CONFIG_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES

__all__ = ["ConfigError", "allowed_keys", "check_structure", "config_hash", "did_you_mean",
           "format_errors", "load_yaml_text", "locate", "read_text_file", "read_yaml"]

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


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml where installed


class _LineLoader(_BaseLoader):
    """SafeLoader that records the line of every mapping key, keyed by its path."""


_FILE_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
               (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
               (stat.S_ISSOCK, "a socket"))


def read_text_file(path: Path, *, limit: int = MAX_CONFIG_BYTES, what: str = "a YAML config",
                   limit_name: str = "scenarios.limits.MAX_CONFIG_BYTES") -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes. Anything else (missing, a
    directory, a FIFO, a device such as /dev/zero, a symlink loop, too large, not text) is a
    :class:`ConfigError` naming the file, decided before a byte is read (a FIFO never blocks)."""
    try:
        st = os.stat(path)
        if stat.S_ISREG(st.st_mode):
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            try:
                st = os.fstat(fd)  # the file opened, not the name stat'ed a moment ago
                raw = os.read(fd, limit + 1) if stat.S_ISREG(st.st_mode) else b""
                while stat.S_ISREG(st.st_mode) and len(raw) <= limit:
                    chunk = os.read(fd, limit + 1 - len(raw))
                    if not chunk:
                        break
                    raw += chunk
            finally:
                os.close(fd)
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except OSError as e:
        reason = {errno.ELOOP: "a symbolic link loop (a link that points back to itself)",
                  errno.ENAMETOOLONG: "the path is too long"}.get(e.errno, e.strerror)
        raise ConfigError([f"{path}: cannot read ({reason})"]) from None
    kind = next((name for test, name in _FILE_KINDS if test(st.st_mode)), None)
    if kind is not None or not stat.S_ISREG(st.st_mode):
        raise ConfigError([f"{path}: is {kind or 'not a regular file'}, expected {what} file"])
    if st.st_size > limit or len(raw) > limit:
        raise ConfigError([f"{path}: {max(st.st_size, len(raw)):,} bytes, larger than the "
                           f"{limit:,} bytes {what} may have ({limit_name})"])
    try:
        if b"\0" in raw:  # UTF-16 text and binaries; YAML configs here are UTF-8
            raise UnicodeDecodeError("utf-8", raw, raw.index(b"\0"), raw.index(b"\0") + 1, "NUL")
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: not a text file (expected {what.replace('a ', 'a UTF-8 ', 1)})"]) from None


def check_structure(text: str, where: str) -> None:
    """Refuse, from the event stream alone (nothing is composed or expanded), a YAML document
    nested deeper than :data:`MAX_YAML_DEPTH`, with more than :data:`MAX_YAML_NODES` nodes once
    every alias is expanded (an alias bomb), with a recursive alias, or with a key that is not
    a plain value (``? [a, b]``). Raises :class:`ConfigError` naming ``where`` and the line."""
    # Per open collection: [expanded size so far, anchor, is a mapping, next node is a key]
    stack: list[list] = [[0, None, False, False]]
    sizes: dict[str, int] = {}  # anchor -> expanded size of the node it names
    open_anchors: set[str] = set()
    total = 0

    def refuse(event, message):
        raise ConfigError([f"{where}:{event.start_mark.line + 1}: {message}"])

    def place(event, size: int, new_nodes: int) -> None:
        """A node of ``size`` expanded nodes completes at the current position."""
        nonlocal total
        parent = stack[-1]
        if parent[2]:
            if parent[3] and size != 1:
                refuse(event, "a mapping key must be a plain value (text or a number), not a "
                       "list or mapping ('? [a, b]' keys are not allowed in a config)")
            parent[3] = not parent[3]
        parent[0] += size
        total += new_nodes
        if total > MAX_YAML_NODES:
            refuse(event, f"more than {MAX_YAML_NODES:,} values with its aliases expanded "
                   "(scenarios.limits.MAX_YAML_NODES): an alias bomb, or a document far "
                   "larger than any config needs")

    try:
        for event in yaml.parse(text, Loader=_BaseLoader):
            if isinstance(event, yaml.ScalarEvent):
                place(event, 1, 1)
                if event.anchor:
                    sizes[event.anchor] = 1
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor in open_anchors:
                    refuse(event, f"alias '*{event.anchor}' refers to a value that contains "
                           "it (a recursive alias)")
                if event.anchor not in sizes:
                    refuse(event, f"alias '*{event.anchor}' names no anchor defined before it")
                place(event, sizes[event.anchor], sizes[event.anchor])
            elif isinstance(event, yaml.CollectionStartEvent):
                if stack[-1][2] and stack[-1][3]:
                    refuse(event, "a mapping key must be a plain value (text or a number), not "
                           "a list or mapping ('? [a, b]' keys are not allowed in a config)")
                if len(stack) > MAX_YAML_DEPTH:
                    refuse(event, f"nested more than {MAX_YAML_DEPTH} levels deep "
                           "(scenarios.limits.MAX_YAML_DEPTH)")
                stack.append([1, event.anchor, isinstance(event, yaml.MappingStartEvent), True])
                if event.anchor:
                    open_anchors.add(event.anchor)
            elif isinstance(event, yaml.CollectionEndEvent):
                size, anchor, _, _ = stack.pop()
                place(event, size, 1)
                if anchor:
                    open_anchors.discard(anchor)
                    sizes[anchor] = size
    except yaml.YAMLError as e:
        if "nesting depth" in str(e):  # libyaml's own bound, met while it scans ahead
            mark = getattr(e, "problem_mark", None)
            raise ConfigError([f"{where}:{mark.line + 1 if mark else 1}: nested more than "
                               f"{MAX_YAML_DEPTH} levels deep (scenarios.limits.MAX_YAML_DEPTH)"]
                              ) from None
        return  # another syntax error: composing reports it with its line


def _compose(text: str, where: str):
    """The checked document's node graph (:func:`check_structure` first), or ConfigError."""
    check_structure(text, where)
    try:
        return yaml.compose(text, Loader=_LineLoader)
    except yaml.YAMLError as e:
        # The context mark (where the unclosed structure began) is where the fix goes.
        mark = getattr(e, "context_mark", None) or getattr(e, "problem_mark", None)
        at = f"{where}:{mark.line + 1}" if mark else where
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError([f"{at}: invalid YAML: {problem}"]) from None


def _construct(node, text: str, where: str):
    """Plain data from a composed node; Python tags (``!!python/...``) are refused."""
    loader = _BaseLoader("")
    try:
        return loader.construct_document(node)
    except yaml.constructor.ConstructorError as e:
        mark = e.problem_mark or e.context_mark
        at = f"{where}:{mark.line + 1}" if mark else where
        tag = str(e.problem or "").rpartition("tag ")[2].strip("' ").replace("tag:yaml.org,2002:", "!!")
        raise ConfigError([f"{at}: YAML tag '{tag}' is not allowed: a config "
                           "holds plain data (numbers, text, dates, lists, mappings)"]) from None
    except (yaml.YAMLError, TypeError, ValueError) as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ConfigError([f"{where}: invalid YAML: {first}"]) from None
    finally:
        loader.dispose()


def load_yaml_text(text: str, where: str, *, limit: int = MAX_CONFIG_BYTES):
    """``yaml.safe_load`` with the limits of a config file: at most ``limit`` characters, the
    structure checks of :func:`check_structure`, no Python tags. For YAML read back from a run
    (``config.resolved.yaml``, the configs stored in ``forecast.nc``), so a damaged or hostile
    run cannot make a downstream tool slow. Raises :class:`ConfigError` (one line)."""
    if len(text) > limit:
        raise ConfigError([f"{where}: {len(text):,} characters of YAML, more than the "
                           f"{limit:,} a config may have (scenarios.limits.MAX_CONFIG_BYTES)"])
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:  # e.g. bytes of a damaged file decoded with surrogates
        raise ConfigError([f"{where}: not valid text at character {e.start} (a damaged "
                           "file?)"]) from None
    node = _compose(text, where)
    return None if node is None else _construct(node, text, where)


def read_yaml(path: Path) -> tuple[dict, dict[Path_, tuple[str, int]]]:
    """A config file's mapping and the ``(file, line)`` of every key path, after the checks of
    :func:`read_text_file` (what may be read) and :func:`check_structure` (what may be walked).
    Raises :class:`ConfigError` naming the file and line."""
    text = read_text_file(Path(path))
    node = _compose(text, str(path))
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

    walk(node, ())  # the depth and the expanded size are bounded by check_structure
    if problems:
        raise ConfigError(problems)
    data = _construct(node, text, str(path))
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
            tags = [t.strip(" '") for t in str(e.get("ctx", {}).get("expected_tags", "")).split(",")
                    if t.strip(" '")] or ["lognormal", "beta", "uniform", "normal", "fixed"]
            given = e["input"].get("dist") if isinstance(e["input"], dict) else None
            msg = (f"unknown distribution {given!r}; expected one of {', '.join(tags)} here."
                   + did_you_mean(str(given), tags)) if isinstance(e["input"], dict) else msg
        elif e["type"] == "union_tag_not_found":
            msg = "a distribution needs 'dist:' (lognormal, beta, uniform, normal or fixed)"
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
