"""Figures in a sentence: where a value phrase is, what it counts, and which ones are not figures.

**Finding.** A value phrase is what :func:`scenarios.lexicon.parse_value` reads: an optional
modifier ("at least", "around", ...) and a number (digits with comma or space thousands, a scale
word, number words), a range or a vague phrase of the lexicon. Dates, years, labels ("Rusayo 1",
"#3"), shares ("40%"), money, ages ("Jean, 25,") and anything that counts something other than
people ("several towns", "60 kilometres") are left out, and so are parts of another figure
("including 10 children"), figures a sentence projects ("could displace 100,000") and the
earlier figure of a change ("rose from 200 to 300"); each is listed with its reason.

**Quantity.** Words cue a family: deaths (killed, died, deaths, death toll, lost their lives),
injured (injured, wounded), displaced (fled, fleeing, displaced, exodus, on the move), refugees
(refugees, crossed the border, asylum), population (home to, population of, city of). A cue binds
to the figure right after it when only linking words stand between ("deaths of approximately 25",
"home to around 4 million", "killing 12"), else to the nearest figure before it in the sentence
("700 people have been killed and 2,800 people injured"), else to the nearest after it ("the
death toll ... has reached 56"). The nearest bound cue decides. "casualties" alone leaves deaths
or injured open. Deaths split by the words that follow the figure: soldiers, troops, fighters ->
``combatant_deaths``; civilians, children, residents -> ``civilian_deaths``; people, individuals
or nothing -> undecided, the candidates ordered by the sentence's other words (children, women,
residential, homes -> civilian first; soldiers, fighters -> combatant first; else all-actor
``deaths`` first). A figure no cue binds to is not drafted (listed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from scenarios.extraction.text import Sentence, Token, token_index, tokens
from scenarios.lexicon import (
    DEFAULT_LEXICON,
    MODIFIERS,
    ReportedValue,
    VaguePhraseError,
    parse_value,
)

_NW = r"(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|" \
      r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|" \
      r"seventy|eighty|ninety|hundred|thousand|million|billion|dozen)\b"
_WORDNUM = rf"(?:half\s+an?\s+|an?\s+(?=(?:hundred|thousand|million|billion|dozen)\b))?{_NW}" \
           rf"(?:(?:\s+|-)(?:and\s+(?:a\s+half\s+)?)?{_NW})*"
_DIGITS = r"(?<![\d.,])(?:\d{1,3}(?:(?:,|[ \u00a0\u2009\u202f])\d{3})+|\d+)(?:\.\d+)?(?![\d])" \
          r"(?:\s+(?:thousand|million|billion)\b)?"
_NUM = rf"(?:{_DIGITS}|{_WORDNUM})"
_VAGUE = r"(?:several|a\s+few)\s+(?:hundreds?|thousands?|millions?)(?:\s+of\s+thousands)?\b|" + \
         "|".join(re.sub(r"\s+", r"[\\s-]+", k) + r"\b"
                  for k in sorted(DEFAULT_LEXICON, key=len, reverse=True))
_RANGE = rf"between\s+{_NUM}\s+and\s+{_NUM}|{_NUM}\s*[-–—]\s*{_NUM}|{_NUM}\s+to\s+{_NUM}"
_MOD = "|".join(re.escape(m).replace(r"\ ", r"\s+") for m in sorted(MODIFIERS, key=len, reverse=True))
VALUE = re.compile(rf"(?<![\w-])(?:(?P<mod>{_MOD})\s+)?(?P<q>{_RANGE}|{_NUM}|{_VAGUE})", re.I)

PEOPLE = frozenset(
    "people persons person individuals civilians civilian children child women men residents "
    "inhabitants villagers soldiers soldier troops fighters militants combatants rebels "
    "servicemen peacekeepers militiamen others refugees idps displaced patients students "
    "worshippers members workers journalists bodies dead deaths casualties fatalities injuries "
    "wounded injured lives killed fleeing fled".split())
CIVILIAN = frozenset("civilians civilian children child women residents inhabitants villagers "
                     "patients students worshippers journalists".split())
COMBATANT = frozenset("soldiers soldier troops fighters militants combatants rebels servicemen "
                      "militiamen".split())
_FUNCTION = frozenset("with in on at since and or have has had were was are is to from by as after "
                      "so over during this that who which more of the its their his her reported "
                      "according said were have been other".split())
_LINK = frozenset("of to at by is was has have had reached rose risen climbed stood stands now the "
                  "with nearly reportedly".split())
CUES = [  # (family, strong, pattern) on the lower-case sentence
    ("deaths", True, r"death toll|killed|killing|kills|dead|deaths?|died|dying|lost their lives|"
                     r"lives were lost|fatalities|perished|slain|massacred|bodies"),
    ("injured", True, r"injured|injuring|injuries|wounded|wounding|hurt"),
    ("refugees", True, r"refugees?|crossed (?:the border )?into|across the border|crossed the "
                       r"border|asylum"),
    ("displaced", True, r"fled|flee|fleeing|flight|displaced|displacing|displacement|exodus|"
                        r"evacuated|uprooted|on the move|left their homes|forced from their homes|"
                        r"sought shelter|escaped"),
    ("population", True, r"home to|population of|population|inhabitants|a city of|city of|"
                         r"town of|live in|living in|lives in"),
    ("deaths", False, r"toll"),
    ("casualties", False, r"casualties"),
]
_CUES = [(f, strong, re.compile(rf"\b(?:{p})\b")) for f, strong, p in CUES]
_CIVILIAN_HINT = re.compile(r"\b(?:civilians?|children|women|residential|homes|schools?|"
                            r"hospitals?|market|displacement sites?|camps?)\b", re.I)
_COMBATANT_HINT = re.compile(r"\b(?:soldiers|troops|fighters|militants|combatants|army's|"
                             r"servicemen)\b", re.I)
_MODAL = frozenset("could may might would will expected likely feared threatens risk".split())
_PART = re.compile(r"(?:including|among them|among whom|of whom|of them|among the (?:dead|killed|"
                   r"injured|wounded)(?: were)?|among those (?:killed|dead|injured)(?: were)?)\s*$",
                   re.I)
_CHANGE = re.compile(r"\b(?:rose|risen|rising|increased|climbed|jumped|grew|revised)\s+(?:\w+\s+)?from\s*$", re.I)
_SMALL_WORDS = frozenset("zero one two three four five six seven eight nine ten".split())
DEATH_QUANTITIES = ("deaths", "civilian_deaths", "combatant_deaths")


@dataclass
class Figure:
    sentence: Sentence
    start: int
    end: int
    phrase: str
    value: ReportedValue
    family: str | None = None
    """deaths, injured, displaced, refugees, population, casualties; None: no cue."""
    quantity: str | None = None
    """Decided quantity, or None with ``candidates``."""
    candidates: list[str] = field(default_factory=list)
    cue: str = ""
    qualifier: str = ""
    """The word that decided civilian or combatant deaths, if any."""


@dataclass(frozen=True)
class Skipped:
    sentence: Sentence
    phrase: str
    reason: str


def _value_text(m: re.Match) -> str:
    return " ".join(m[0].split())


def scan(sentence: Sentence, date_spans: list[tuple[int, int]]) -> tuple[list[Figure], list[Skipped]]:
    """Value phrases of a sentence that count people (with their cue), and those left out."""
    text = sentence.text
    toks = tokens(text)
    figures: list[Figure] = []
    skipped: list[Skipped] = []
    for m in VALUE.finditer(text):
        phrase = _value_text(m)
        if any(a < m.end() and m.start() < b for a, b in date_spans):
            continue  # part of a date
        reason = _not_a_figure(text, toks, m)
        if reason == "":
            continue  # a year or a stray word ("one of"): not worth listing
        if reason is None and _CHANGE.search(text[:m.start()]) and " to " in phrase:
            skipped.append(Skipped(sentence, phrase.split(" to ")[0],
                                   "the earlier figure of a change ('from ... to')"))
            m = VALUE.match(text, m.start() + m[0].rfind(" to ") + 4)
            phrase = _value_text(m)
        if reason:
            skipped.append(Skipped(sentence, phrase, reason))
            continue
        try:
            value = parse_value(phrase)
        except VaguePhraseError:
            skipped.append(Skipped(sentence, phrase, "the lexicon cannot read it"))
            continue
        figures.append(Figure(sentence, m.start(), m.end(), phrase, value))
    _bind_cues(text, toks, figures)
    kept = []
    for f in figures:
        if f.family is None:
            skipped.append(Skipped(sentence, f.phrase, "no quantity word (killed, injured, fled, "
                                                       "refugees, population) bound to it"))
        else:
            _quantity(f, toks)
            kept.append(f)
    return kept, skipped


def _not_a_figure(text: str, toks: list[Token], m: re.Match) -> str | None:
    """Why a value phrase is not a count of people ('' = skip silently), or None."""
    q = " ".join(m["q"].split()).lower()
    before, after = text[:m.start()], text[m.end():]
    i0, i1 = token_index(toks, m.start()), token_index(toks, m.end())
    nxt = toks[i1:i1 + 4]
    bare = m["mod"] is None and re.fullmatch(r"[\d,.]+", q) is not None
    following = []
    for t in nxt:
        if not t.text[0].isalnum():
            break
        following.append(t)
    people = any(t.low in PEOPLE for t in following)
    if bare and re.fullmatch(r"(?:19|20)\d\d", q) and not people:
        return ""
    if re.match(r"\s*(?:%|per ?cent)", after, re.I):
        return "a share (%), not a count"
    if re.search(r"(?:\$|US\$|USD|€|£)\s*$", before) or re.match(r"\s*(?:dollars|euros)\b", after, re.I):
        return "an amount of money"
    if re.match(r"-year-old|\s*years? old", after) or re.search(r"\baged\s*$", before):
        return "an age"
    if bare and re.search(r"[A-Z][a-z]+,\s*$", before) and re.match(r"\s*,", after):
        return "an age (name, N,)"
    if bare and (re.search(r"(?:#|No\.)\s*$", before) or
                 (i0 > 0 and toks[i0 - 1].text[:1].isupper() and i0 - 1 > 0
                  and toks[i0 - 1].low not in MODIFIERS)):
        return f"a label ('{toks[i0 - 1].text} {m[0].strip()}')"
    if _PART.search(before):
        return "part of the figure before it ('including ...'): encode it with a subset if needed"
    window = [t.low for t in toks[max(0, i0 - 6):i0]]
    if "," in window:
        window = window[len(window) - window[::-1].index(","):]
    if any(w in _MODAL for w in window) or any(t.low in _MODAL for t in following[:3]):
        return "a projected figure (could, may, would, ...), not a report"
    if people:
        return None
    if m["mod"] is None and q in _SMALL_WORDS:
        return ""  # "one of", "two sides": words, not figures
    if following and following[0].text[0].isalpha() and not following[0].text[0].isupper() \
            and following[0].low not in _FUNCTION:
        return f"counts something other than people ('{m[0].strip()} {following[0].text}')"
    return None


def _bind_cues(text: str, toks: list[Token], figures: list[Figure]) -> None:
    low = text.lower()
    spans = [(token_index(toks, f.start), token_index(toks, f.end)) for f in figures]
    best: dict[int, tuple[int, bool, str, str]] = {}  # figure -> (distance, strong, family, cue)
    for family, strong, rx in _CUES:
        for c in rx.finditer(low):
            ca, cb = token_index(toks, c.start()), token_index(toks, c.end())
            if any(a <= ca < b for a, b in spans):
                continue  # inside a value phrase ("tens of thousands")
            target = None
            for j, (a, _) in enumerate(spans):
                between = [t.low for t in toks[cb:a]]
                if a >= cb and len(between) <= 3 and all(w in _LINK for w in between):
                    target, dist = j, a - cb
                    break
            if target is None:
                left = [j for j, (_, b) in enumerate(spans) if b <= ca]
                right = [j for j, (a, _) in enumerate(spans) if a >= cb]
                if left:
                    target = left[-1]
                    dist = ca - spans[target][1]
                elif right:
                    target = right[0]
                    dist = spans[target][0] - cb
                else:
                    continue
            key = (0 if strong else 1, dist)
            if target not in best or key < best[target][:2]:
                best[target] = (*key, family, c[0])
    for j, (_, _, family, cue) in best.items():
        figures[j].family, figures[j].cue = family, cue


def _quantity(f: Figure, toks: list[Token]) -> None:
    if f.family in ("injured", "displaced", "refugees", "population"):
        f.quantity = f.family
        return
    text = f.sentence.text
    i1 = token_index(toks, f.end)
    head = [t.low for t in toks[i1:i1 + 4]]
    cue_at = text.lower().find(f.cue)
    before_cue = text[max(0, cue_at - 12):cue_at].lower() if cue_at >= 0 else ""
    qual = next((w for w in head if w in CIVILIAN or w in COMBATANT), "")
    if not qual and "civilian" in before_cue:
        qual = "civilian"
    if f.family == "casualties":
        f.candidates = ["deaths", "injured", "civilian_deaths"]
        return
    if qual in CIVILIAN:
        f.quantity, f.qualifier = "civilian_deaths", qual
    elif qual in COMBATANT:
        f.quantity, f.qualifier = "combatant_deaths", qual
    elif _CIVILIAN_HINT.search(text):
        f.candidates = ["civilian_deaths", "deaths", "combatant_deaths"]
        f.qualifier = _CIVILIAN_HINT.search(text)[0]
    elif _COMBATANT_HINT.search(text):
        f.candidates = ["combatant_deaths", "deaths", "civilian_deaths"]
        f.qualifier = _COMBATANT_HINT.search(text)[0]
    else:
        f.candidates = list(DEATH_QUANTITIES)
