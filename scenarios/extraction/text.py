"""Documents as sentences and words: the units the extraction rules read.

A document is plain text; a line break or a blank line ends a paragraph, and a sentence ends at
``.``, ``!`` or ``?`` (with any closing quote) followed by a capital letter, a digit or a quote,
with or without a space ("region.The situation" is two sentences), unless the word before is an
abbreviation ("Jan.", "Mr.", "U.N.") or an initial.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

ABBREVIATIONS = frozenset(
    "mr mrs ms dr gen col lt sgt capt maj st jan feb mar apr jun jul aug sep sept oct nov dec no "
    "vs u.s u.n e.g i.e approx est etc".split())
_END = re.compile(r"[.!?][\"”’')\]]*(?=\s+[\"“‘'(]?[A-Z0-9]|[A-Z\"“])")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*(?:-[A-Za-z]+)*|\d[\d,.\u2009\u202f]*\d|\d|[^\sA-Za-z\d]")
_FILE_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


@dataclass(frozen=True)
class Sentence:
    text: str
    doc: str
    """The document's source id."""
    index: int
    """Position in the document (0, 1, ...)."""
    paragraph: int


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int

    @property
    def low(self) -> str:
        return self.text.lower()


@dataclass
class Document:
    id: str
    """Source id in the draft: the file name without its extension."""
    file: str
    text: str
    published: dt.date | None
    sentences: list[Sentence] = field(default_factory=list)

    @classmethod
    def read(cls, path: str | Path, published: dt.date | None = None) -> Document:
        path = Path(path)
        text = path.read_text("utf-8")
        if published is None:
            m = _FILE_DATE.search(path.name)
            if m:
                published = dt.date(int(m[1]), int(m[2]), int(m[3]))
        return cls.from_text(path.stem, path.name, text, published)

    @classmethod
    def from_text(cls, id: str, file: str, text: str, published: dt.date | None) -> Document:
        doc = cls(id, file, text, published)
        doc.sentences = split_sentences(text, id)
        return doc


def split_sentences(text: str, doc: str = "") -> list[Sentence]:
    """The sentences of a text, in order.

    >>> [s.text for s in split_sentences("On 26 Jan. 12 died.Aid was cut. U.N. staff left!")]
    ['On 26 Jan. 12 died.', 'Aid was cut.', 'U.N. staff left!']
    """
    out: list[Sentence] = []
    paragraphs = [p for p in re.split(r"\n", text) if p.strip()]
    for pi, para in enumerate(paragraphs):
        start = 0
        for m in _END.finditer(para):
            before = para[start:m.start()].split()
            word = before[-1].lower().rstrip(".") if before else ""
            if word in ABBREVIATIONS or re.fullmatch(r"[a-z]", word) or \
                    re.fullmatch(r"(?:[a-z]\.)+[a-z]", word):
                continue
            piece = para[start:m.end()].strip()
            if piece:
                out.append(Sentence(piece, doc, len(out), pi))
            start = m.end()
        piece = para[start:].strip()
        if piece:
            out.append(Sentence(piece, doc, len(out), pi))
    return out


def tokens(text: str) -> list[Token]:
    """Words, numbers (with their separators) and punctuation marks, with character offsets."""
    return [Token(m[0], m.start(), m.end()) for m in _WORD.finditer(text)]


def token_index(toks: list[Token], char: int) -> int:
    """Index of the token at or after character ``char``."""
    for i, t in enumerate(toks):
        if t.end > char:
            return i
    return len(toks)


def slug(text: str, words: int = 4) -> str:
    """A lower-case id from the first significant words.

    >>> slug("The Syrian army (General Command)")
    'syrian_army_general_command'
    """
    stop = {"the", "a", "an", "of", "and", "in", "on", "to", "for", "its", "their", "s"}
    parts = [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in stop]
    return "_".join(parts[:words]) or "x"


def region_mentions(sentence: str, regions: dict[str, list[str]]) -> list[tuple[str, int]]:
    """(region id, character offset) of each region name in a sentence, in order of offset."""
    found = []
    for rid, names in regions.items():
        for name in names:
            for m in re.finditer(rf"(?<![\w-]){re.escape(name)}(?![\w-])", sentence):
                found.append((rid, m.start()))
    return sorted(found, key=lambda x: x[1])
