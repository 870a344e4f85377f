"""One report contract for every renderer: a list of blocks rendered to Markdown and HTML.

The run report, the comparison of runs and the backtest summary all build a list of
:class:`Heading`, :class:`Para`, :class:`Warning_`, :class:`Table`, :class:`Bullets`,
:class:`Image` and :class:`Contents` blocks and render it with :func:`to_markdown` and
:func:`to_html`, so the two formats always say the same thing. The HTML is self-contained (CSS
inline, images as base64 PNG data URIs): one file that opens in any browser, offline. Images are
embedded as palette PNGs (:func:`compact_png`: 256 colours, which a chart's flat colours need,
at about a third of the bytes), or as the screen-size rendering an :class:`Image` carries.
Headings carry anchors (GitHub's: lower case, spaces to hyphens) that :class:`Contents` links to.
"""

from __future__ import annotations

import base64
import html
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Bullets", "Contents", "Heading", "Image", "Para", "Table", "Warning_", "anchor",
           "compact_png", "to_html", "to_markdown"]



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
    embed: bytes | None = field(default=None, repr=False, compare=False)
    """PNG bytes to embed in the HTML instead of the file (e.g. a screen-size rendering)."""


@dataclass(frozen=True)
class Contents:
    """A table of contents: links to the level-2 headings of the blocks it is rendered with."""

    title: str = "Contents"


def anchor(text: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    slug = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return slug.replace(" ", "-")


def _anchors(blocks: list) -> dict[int, str]:
    """Block index -> unique anchor of each heading (repeats get -1, -2, as on GitHub)."""
    seen: dict[str, int] = {}
    out = {}
    for k, b in enumerate(blocks):
        if isinstance(b, Heading):
            base = anchor(b.text)
            n = seen.get(base, 0)
            seen[base] = n + 1
            out[k] = base if n == 0 else f"{base}-{n}"
    return out


def _contents(blocks: list) -> list[tuple[str, str]]:
    ids = _anchors(blocks)
    return [(b.text, ids[k]) for k, b in enumerate(blocks)
            if isinstance(b, Heading) and b.level == 2]


def screen_png(path, scale: float, colours: int = 256) -> bytes:
    """The PNG file at ``path`` scaled by ``scale`` (Lanczos) as a palette PNG of at most
    ``colours`` colours: the report's embedded copy of a figure, from the file's pixels instead
    of a second rendering of the figure (which cost as much as the first)."""
    from PIL import Image as PILImage

    with PILImage.open(path) as img:
        rgb = img.convert("RGB")
    size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
    small = rgb.resize(size, PILImage.Resampling.LANCZOS) if scale != 1 else rgb
    # fast octree, not median cut: measured on a run's charts, 40% less time and half the bytes
    # (charts are a few flat colours plus anti-aliased edges)
    quantized = small.quantize(colours, method=PILImage.Quantize.FASTOCTREE,
                               dither=PILImage.Dither.NONE)
    out = io.BytesIO()
    quantized.save(out, "PNG", optimize=True)
    return out.getvalue()


def compact_png(data: bytes, colours: int = 256) -> bytes:
    """The PNG as a palette PNG of at most ``colours`` colours (no dithering: a chart's flat
    areas stay flat), or the input when that is not smaller."""
    from PIL import Image as PILImage

    img = PILImage.open(io.BytesIO(data))
    if img.mode == "P":
        return data
    quantized = img.convert("RGB").quantize(colours, method=PILImage.Quantize.MEDIANCUT,
                                            dither=PILImage.Dither.NONE)
    out = io.BytesIO()
    quantized.save(out, "PNG", optimize=True)
    return out.getvalue() if out.tell() < len(data) else data




def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks: list) -> str:
    out = []
    for b in blocks:
        if isinstance(b, Contents):
            links = "\n".join(f"- [{text}](#{ref})" for text, ref in _contents(blocks))
            out.append(f"**{b.title}**\n\n{links}")
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
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; max-width: 1100px;
       margin: 1.5em auto; padding: 0 1em; color: #1a1a1a; line-height: 1.45; font-size: 16px; }
h1 { font-size: 1.7em; margin-bottom: .3em; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 1.8em; }
table { border-collapse: collapse; margin: .8em 0 1.4em; font-size: .9em; display: block;
        max-width: 100%; overflow-x: auto; }
th, td { border: 1px solid #d0d0d0; padding: .3em .55em; vertical-align: top; text-align: left; }
td { max-width: 32em; overflow-wrap: anywhere; }
th { background: #f2f2f2; }
.warning { background: #fdecea; border: 2px solid #c62828; color: #8e0000; padding: .8em 1em;
           font-weight: 600; margin: 1em 0; }
nav.contents { background: #f7f7f7; border: 1px solid #e2e2e2; padding: .5em 1.2em;
               margin: 1em 0; display: inline-block; }
nav.contents ul { margin: .3em 0; padding-left: 1.2em; columns: 2; column-gap: 3em; }
figure { margin: 1.2em 0 2em; } figure img { max-width: 100%; height: auto; }
figcaption { color: #444; font-style: italic; }
@media print { nav.contents { display: none; } figure { break-inside: avoid; } }
"""


def to_html(blocks: list, title: str) -> str:
    esc = html.escape
    parts = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
             f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>"]
    ids = _anchors(blocks)
    for k, b in enumerate(blocks):
        if isinstance(b, Contents):
            items = "".join(f"<li><a href=\"#{ref}\">{esc(text)}</a></li>"
                            for text, ref in _contents(blocks))
            parts.append(f"<nav class=\"contents\"><strong>{esc(b.title)}</strong>"
                         f"<ul>{items}</ul></nav>")
        elif isinstance(b, Heading):
            parts.append(f"<h{b.level} id=\"{ids[k]}\">{esc(b.text)}</h{b.level}>")
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
            png = b.embed if b.embed is not None else compact_png(Path(b.path).read_bytes())
            data = base64.b64encode(png).decode("ascii")
            parts.append(f"<figure><img alt=\"{esc(b.caption)}\" "
                         f"src=\"data:image/png;base64,{data}\">"
                         f"<figcaption>{esc(b.caption)}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts)
