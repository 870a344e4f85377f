"""The draft as YAML, with the readings as comments: deterministic, and read back by
``yaml.safe_load`` to the same mapping (dates as dates)."""

from __future__ import annotations

import datetime as dt
import json
import re

from scenarios.extraction.figures import Skipped

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_SPECIAL = frozenset("yes no on off true false null y n".split())
WIDTH = 100

HEADER = """\
# Draft config from documents (python -m scenarios.extract): review every entry before use.
# Each {TODO: why, candidates: [...]} is undecided: replace it with one of its candidates (the
# likeliest first) or your own value. The loader refuses a file with a TODO left.
# Comments give what the extractor read: the interval of each value, the words that decided the
# quantity and the period. Evidence needs a reporting profile per reporter (share and basis are
# yours to set); population figures go to episode.regions.<id>.population_at_risk.
"""


def scalar(x) -> str:
    if x is None:
        return "null"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int | float):
        return repr(x)
    if isinstance(x, dt.date):
        return x.isoformat()
    s = str(x)
    if _PLAIN.fullmatch(s) and s.lower() not in _SPECIAL:
        return s
    return json.dumps(s, ensure_ascii=False)


def _flow(x) -> str | None:
    if isinstance(x, dict):
        parts = [f"{scalar(k)}: {_flow(v)}" for k, v in x.items()]
        return None if None in [_flow(v) for v in x.values()] else "{" + ", ".join(parts) + "}"
    if isinstance(x, list):
        parts = [_flow(v) for v in x]
        return None if None in parts else "[" + ", ".join(parts) + "]"
    return scalar(x)


def _lines(x, indent: int, path: tuple, comments: dict) -> list[str]:
    pad = " " * indent
    out = []
    if isinstance(x, dict):
        for k, v in x.items():
            p = (*path, k)
            note = f"  # {comments[p]}" if p in comments else ""
            flow = _flow(v) if not isinstance(v, dict | list) or v else ("{}" if isinstance(v, dict) else "[]")
            head = f"{pad}{scalar(k)}:"
            if flow is not None and (not isinstance(v, dict | list) or not v or
                                     len(head) + len(flow) + 1 <= WIDTH):
                out.append(f"{head} {flow}{note}")
            else:
                out.append(head + note)
                out += _lines(v, indent + 2, p, comments)
    elif isinstance(x, list):
        for i, v in enumerate(x):
            flow = _flow(v)
            if flow is not None and (not isinstance(v, dict | list) or len(pad) + len(flow) + 2 <= WIDTH):
                out.append(f"{pad}- {flow}")
            else:
                sub = _lines(v, indent + 2, (*path, i), comments)
                out.append(f"{pad}- {sub[0].lstrip()}")
                out += sub[1:]
    else:
        out.append(pad + scalar(x))
    return out


def dump(data: dict, comments: dict[tuple, str], skipped: list[Skipped]) -> str:
    """The YAML text: header, the mapping with its comments, then the numbers not drafted."""
    body = _lines(data, 0, (), comments)
    notes = []
    if skipped:
        notes = ["", "# Numbers not drafted, with the reason (check none is a figure you need):"]
        for s in skipped:
            excerpt = s.sentence.text if len(s.sentence.text) <= 90 else s.sentence.text[:87] + "..."
            notes.append(f"#  - {s.sentence.doc}: '{s.phrase}': {s.reason}. \"{excerpt}\"")
    return HEADER + "\n".join(body) + "\n" + "\n".join(notes) + ("\n" if notes else "")
