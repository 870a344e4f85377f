"""Who reported a figure, and which sentences project.

**Reporter.** In the figure's sentence, first match wins: "according to (reports from) X";
the subject of a reporting verb ("The Syrian Civil Defense group, known as the White Helmets,
reported", "The Syrian army has publicly acknowledged", "..., a UN spokesman said"); a reporter
after the verb ("said Stephane Dujarric, spokesman for ..."). A pronoun ("They reported", "he
said") or no reporting words leaves it undecided: the candidates are the reporters of the three
sentences before it (nearest first), then the document itself.

**Projections.** A sentence projects when it says what could happen: could, may, might, would,
will likely, is likely / expected to, threatens / vowed to, risk, potential(ly), possibility,
"if the current trend continues"; "could not" and "would not" do not count. A sentence that
says what a development has caused ("has led to", "have led to") is drafted too, marked as a
development, since scenarios cite such sentences for a trend that goes on; the analyst keeps or
drops it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scenarios.extraction.dates import MONTHS, WEEKDAYS
from scenarios.extraction.text import Sentence, slug

_VERBS = (r"reported|reports|said|says|stated|states|announced|announces|confirmed|confirms|"
          r"acknowledged|acknowledges|estimated|estimates|told|added|noted|disclosed|warned|"
          r"counted|recorded|documented|indicated")
_SUBJECT_VERB = re.compile(rf"\b(?:{_VERBS})\b")
_ACCORDING = re.compile(
    r"\b[Aa]ccording to (?:(?:reports|figures|data|a report|a statement|an assessment|a tally|"
    r"a count|estimates|a statement)(?: released| issued| published)? (?:from|by) )?"
    r"(?P<who>[^,;:.\"“”]+)")
_AFTER_VERB = re.compile(
    r"\b(?:said|says|reported|told reporters|added)\s+(?P<who>(?:the\s+)?[A-Z][\w'’.-]*"
    r"(?:\s+(?:[A-Z][\w'’.-]*|of|the|for|and))*(?:,\s+(?:the\s+|a\s+)?(?:[\w-]+\s+)?"
    r"(?:spokes\w+|head|chief|director|coordinator|minister|representative|official|envoy)"
    r"[^,.;\"”]*)?)")
_CONNECTOR = re.compile(r"^(?:(?:In|On|Meanwhile|However|Also|Earlier|Later|Separately|Since|As|"
                        r"But|And|Yet|Still|Overall|Elsewhere)\b[^,]*,\s*)+")
_TRAILING = frozenset("has have had also publicly officially later earlier previously repeatedly "
                      "been was were is are on reportedly".split())
_NOT_SUBJECT = frozenset("between from in on at since during after before over with by for to of "
                        "and but while when as if".split())
PRONOUNS = frozenset("they he she it we i you them this".split())
_TIME_WORDS = frozenset(MONTHS) | frozenset(WEEKDAYS)

PROJECTION = re.compile(
    r"\b(?:could(?! not)|may(?! not)|might|would(?! not)|will likely|(?:is|are) (?:likely|expected)"
    r" to|expected to rise|threaten(?:s|ed|ing)? to|vow(?:s|ed)? to|pledged? to|risks?|"
    r"potential(?:ly)?|possibility|(?i:if the current trend)|(?i:if)\s+(?:\w+\s+){1,6}continues?)\b")
DEVELOPMENT = re.compile(r"\b(?:has|have) led to\b")
_ID_STOP = frozenset("lead leading to see be a an the in of further potentially there as these "
                     "this that and with for on by may could would might more its their we other "
                     "also".split())


@dataclass(frozen=True)
class Reporter:
    name: str | None
    """As the sentence names it; None when undecided."""
    candidates: tuple[str, ...] = ()
    why: str = ""


@dataclass(frozen=True)
class Projection:
    sentence: Sentence
    cue: str
    kind: str
    """'projection' or 'development' (a 'has led to' sentence)."""

    @property
    def id(self) -> str:
        """Three words of what it projects: after its first modal verb, else after the cue."""
        text = self.sentence.text
        modal = re.search(r"\b(?:could|may|might|would|will)\b", text)
        at = modal.end() if modal else text.find(self.cue) + len(self.cue)
        after = text[at:]
        words = [w for w in re.findall(r"[a-z]+", after.lower()) if w not in _ID_STOP]
        return slug(" ".join(words[:3]), 3) if words else "projection"


def _clean(who: str) -> str:
    who = " ".join(who.split()).strip(" ,'\"“”")
    return re.sub(r"\s+(?:on|in|at|released|issued|published)\s.*$", "", who)


def _subject(text: str, verb_at: int) -> str | None:
    before = text[:verb_at]
    cut = max(before.rfind(c) for c in (";", ":", "\"", "“", "”", " — ", " -- "))
    if " that " in before:
        cut = max(cut, before.rfind(" that ") + 5)
    subject = _CONNECTOR.sub("", before[cut + 1:].strip())
    if "," in subject.rstrip(", "):
        tail = subject.rstrip(", ").rsplit(",", 1)[1].strip()
        if tail and not tail.lower().startswith(("known as", "also known as", "or ")):
            subject = tail
    words = subject.strip(" ,").split()
    while words and words[-1].lower() in _TRAILING:
        words.pop()
    if not words or len(words) > 12 or words[0] in _TIME_WORDS or \
            words[0].lower() in _NOT_SUBJECT:
        return None
    return " ".join(words)


def reporters_in(text: str) -> list[str]:
    """Reporters named in a sentence, pronouns included (lower case), in order of appearance."""
    found: list[tuple[int, int, str]] = []
    for m in _ACCORDING.finditer(text):
        found.append((m.start(), 0, _clean(m["who"])))
    for m in _SUBJECT_VERB.finditer(text):
        if re.search(r"\b(?:to|from|of|the|these|such|media|news)\s+$", text[:m.start()], re.I):
            continue  # a noun ("according to reports from"), not a reporting verb
        if re.search(r",\s*$", text[:m.start()]) and re.match(r"\s+[A-Z]", text[m.end():]) and \
                not re.match(r"\s+(?:that|The|A)\b", text[m.end():]):
            continue  # "..., said Stephane Dujarric": the reporter comes after the verb
        s = _subject(text, m.start())
        if s:
            found.append((m.start(), 0, s.lower() if s.lower() in PRONOUNS else s))
    for m in _AFTER_VERB.finditer(text):
        who = _clean(m["who"]).rstrip(".")
        if who and who.split()[0] not in _TIME_WORDS:
            found.append((m.start(), 1, who))
    return [w for *_, w in sorted(found) if w]


def reporter_of(sentences: list[Sentence], i: int, document: str) -> Reporter:
    """The reporter of the figures in ``sentences[i]``."""
    named = [w for w in reporters_in(sentences[i].text) if w not in PRONOUNS]
    if named:
        return Reporter(named[0])
    pronoun = any(w in PRONOUNS for w in reporters_in(sentences[i].text))
    cands: list[str] = []
    for j in range(i - 1, max(-1, i - 4), -1):
        for w in reporters_in(sentences[j].text):
            if w not in PRONOUNS and w not in cands:
                cands.append(w)
    cands.append(f"{document} (the document itself)")
    why = "a pronoun in the sentence" if pronoun else "no reporter named in the sentence"
    return Reporter(None, tuple(cands), why)


def projections_in(sentence: Sentence) -> Projection | None:
    m = PROJECTION.search(sentence.text)
    if m:
        return Projection(sentence, m[0], "projection")
    m = DEVELOPMENT.search(sentence.text)
    if m:
        return Projection(sentence, m[0], "development")
    return None


def profile_id(reporter: str) -> str:
    """A reporting-profile id for a reporter.

    >>> profile_id("The Syrian Civil Defense group, known as the White Helmets")
    'white_helmets'
    >>> profile_id("the Syrian Democratic Forces (SDF)")
    'sdf'
    """
    m = re.search(r"known as (?:the )?(.+)$", reporter)
    if m:
        return slug(m[1])
    m = re.search(r"\(([A-Z][A-Za-z0-9]{1,9})\)", reporter)
    if m:
        return m[1].lower()
    return slug(reporter.split(",")[0])
