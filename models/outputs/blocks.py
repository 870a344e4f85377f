"""One report contract for every renderer: a list of blocks rendered to Markdown and HTML.

The run report, the comparison of runs and the backtest summary all build a list of
:class:`Heading`, :class:`Para`, :class:`Warning_`, :class:`Table`, :class:`Bullets` and
:class:`Image` blocks and render it with :func:`to_markdown` and :func:`to_html`, so the two
formats always say the same thing. The HTML is self-contained (CSS inline, images as base64 PNG
data URIs): one file that opens in any browser, offline.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Bullets", "Heading", "Image", "Para", "Table", "Warning_", "to_html", "to_markdown"]



@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Warning_:
    text: str


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Bullets:
    items: list[str]


@dataclass(frozen=True)
class Image:
    path: Path
    """Absolute path of the PNG."""
    rel: str
    """Path relative to the report (for Markdown)."""
    caption: str




def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks: list) -> str:
    out = []
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"{'#' * b.level} {b.text}")
        elif isinstance(b, Para):
            out.append(b.text)
        elif isinstance(b, Warning_):
            out.append(f"> **WARNING: {b.text}**")
        elif isinstance(b, Table):
            out.append("| " + " | ".join(_md_cell(h) for h in b.headers) + " |")
            out[-1] += "\n|" + "|".join("---" for _ in b.headers) + "|"
            for row in b.rows:
                out[-1] += "\n| " + " | ".join(_md_cell(c) for c in row) + " |"
        elif isinstance(b, Bullets):
            out.append("\n".join(f"- {item}" for item in b.items))
        elif isinstance(b, Image):
            out.append(f"![{b.caption}]({b.rel})\n\n*{b.caption}*")
    return "\n\n".join(out) + "\n"


_CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; max-width: 1200px;
       margin: 2em auto; padding: 0 1em; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.9em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .8em 0 1.4em; font-size: .92em; }
th, td { border: 1px solid #d0d0d0; padding: .35em .6em; vertical-align: top; text-align: left; }
th { background: #f2f2f2; }
.warning { background: #fdecea; border: 2px solid #c62828; color: #8e0000; padding: .8em 1em;
           font-weight: 600; margin: 1em 0; }
figure { margin: 1.2em 0 2em; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #444; font-style: italic; }
"""


def to_html(blocks: list, title: str) -> str:
    esc = html.escape
    parts = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
             f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>"]
    for b in blocks:
        if isinstance(b, Heading):
            parts.append(f"<h{b.level}>{esc(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            parts.append(f"<p>{esc(b.text)}</p>")
        elif isinstance(b, Warning_):
            parts.append(f"<div class=\"warning\" role=\"alert\">WARNING: {esc(b.text)}</div>")
        elif isinstance(b, Table):
            head = "".join(f"<th>{esc(h)}</th>" for h in b.headers)
            body = "".join("<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in row) + "</tr>"
                           for row in b.rows)
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif isinstance(b, Bullets):
            parts.append("<ul>" + "".join(f"<li>{esc(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Image):
            data = base64.b64encode(Path(b.path).read_bytes()).decode("ascii")
            parts.append(f"<figure><img alt=\"{esc(b.caption)}\" "
                         f"src=\"data:image/png;base64,{data}\">"
                         f"<figcaption>{esc(b.caption)}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts)
