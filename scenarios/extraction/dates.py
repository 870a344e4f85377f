"""Dates in a sentence, and the period a figure covers.

Dates are read relative to the document's publication date: "27 November", "November 27",
"Nov. 27, 2024", "2024-11-27", "Sunday" (the latest such day on or before publication),
"yesterday", "today"; a day and month without a year take the latest year that puts them on or
before publication. Month and weekday names must be capitalised ("may" is a verb).

The period of a figure comes from the date expression nearest to it in its sentence:

===============================================  ===========================================
words                                            period
===============================================  ===========================================
since D                                          ``{since: D, as_of: published}``
on D, D alone, yesterday, today                  ``{day: D}``
between D1 and D2, from D1 to D2, D1-D2 Month,   ``{from: D1, to: D2}``
Sunday to Thursday, over the weekend
since ... began on D                             ``{since: D, as_of: published}``
by D, as of D; a toll on D ("rose to 312 on 9    ``{since: <TODO: the start>, as_of: D}``
March")
the past 24 hours, last night, this week,        TODO, with the readings as candidates
since the start of the offensive
===============================================  ===========================================

A sentence without a date gets a TODO whose candidates are ``{day: published}`` and ``{since:
S, as_of: published}`` for each candidate start S (the dates the documents give with "since",
"began", "launched" or "started", or ``--start``); the running total comes first when the
sentence speaks of a total ("has reached", "so far", "in total", "the toll") or uses the present
perfect ("have been killed", "has led to"), the day first otherwise.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

MONTHS = {m: i + 1 for i, m in enumerate(
    "January February March April May June July August September October November December"
    .split())}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["Sept"] = 9
WEEKDAYS = {d: i for i, d in enumerate(
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split())}

_M = "(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_W = "(?:" + "|".join(WEEKDAYS) + ")"
_D = r"(?<![\d,.])(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_Y = r"(?:19|20)\d\d"
DATE = re.compile(
    rf"(?P<dm>(?P<d1>{_D})\s+(?:of\s+)?(?P<m1>{_M})(?:,?\s+(?P<y1>{_Y}))?)"
    rf"|(?P<md>(?P<m2>{_M})\s+(?P<d2>{_D})(?![\d:])(?:,?\s+(?P<y2>{_Y}))?)"
    rf"|(?P<iso>(?P<yi>{_Y})-(?P<mi>[01]\d)-(?P<di>[0-3]\d))"
    rf"|(?P<wd>{_W})"
    r"|(?P<rel>(?i:yesterday|today|this morning|tonight|last night|this week|earlier this week"
    r"|the past 24 hours|the last 24 hours|the past 48 hours|(?:over\s+)?the\s+(?:past\s+)?weekend))"
)
_DAY_RANGE = re.compile(rf"(?:between|from)?\s*(?P<a>{_D})\s*(?:-|–|and|to)\s*(?P<b>{_D})\s+"
                        rf"(?P<m>{_M})(?:,?\s+(?P<y>{_Y}))?")
_START_WORDS = re.compile(r"\b(?:since|began|begun|launched|started|beginning)\s+(?:on\s+)?$",
                          re.I)
_SINCE_BEGAN = re.compile(r"\bsince\b[^,.;]{0,60}\b(?:began|started|launched|erupted|broke out)"
                          r"\s+(?:on\s+)?$", re.I)
_SINCE_START = re.compile(r"\bsince the (?:start|beginning|outbreak|launch) of\b", re.I)
_STATEMENT = re.compile(r"\b(?:said|says|told \w+|announced|reported|stated|added|noted|confirmed|"
                        r"disclosed|briefing)\s+(?:on\s+|late\s+|early\s+)?$", re.I)
_TOTAL = re.compile(r"\b(?:total|so far|to date|has reached|have reached|toll|cumulative|"
                    r"(?:has|have) (?:been|led|risen|fled|died)|(?:has|have) \w+ed)\b", re.I)


@dataclass(frozen=True)
class DateMention:
    start: int
    end: int
    first: dt.date | None
    last: dt.date | None
    """Equal to ``first`` for a day; a later day for a window."""
    prep: str
    """The word before it (since, on, by, between, from, ...), lower case, or ''."""
    text: str
    unsure: str | None = None
    """Why the reading is uncertain (relative phrases), or None."""


def _year_for(month: int, day: int, published: dt.date) -> dt.date | None:
    for year in (published.year, published.year - 1):
        try:
            d = dt.date(year, month, day)
        except ValueError:
            return None
        if d <= published:
            return d
    return None


def _weekday(name: str, published: dt.date) -> dt.date:
    return published - dt.timedelta(days=(published.weekday() - WEEKDAYS[name]) % 7)


def _month(text: str) -> int:
    return MONTHS[text.rstrip(".")]


def _resolve(m: re.Match, published: dt.date) -> tuple[dt.date | None, dt.date | None, str | None]:
    if m["dm"] or m["md"]:
        day = int(re.match(r"\d+", m["d1"] or m["d2"])[0])
        month = _month(m["m1"] or m["m2"])
        year = m["y1"] or m["y2"]
        try:
            d = dt.date(int(year), month, day) if year else _year_for(month, day, published)
        except ValueError:
            d = None
        return d, d, None
    if m["iso"]:
        try:
            d = dt.date(int(m["yi"]), int(m["mi"]), int(m["di"]))
        except ValueError:
            d = None
        return d, d, None
    if m["wd"]:
        d = _weekday(m["wd"], published)
        return d, d, None
    rel = " ".join(m["rel"].lower().split())
    one = dt.timedelta(days=1)
    if rel == "yesterday":
        return published - one, published - one, None
    if rel in ("today", "this morning", "tonight"):
        return published, published, None
    if rel.endswith("weekend"):
        sunday = published - dt.timedelta(days=(published.weekday() - 6) % 7)
        return sunday - one, sunday, None
    if rel in ("this week", "earlier this week"):
        monday = published - dt.timedelta(days=published.weekday())
        return monday, published, f"'{m['rel']}': which days of the week"
    if rel == "last night":
        return published - one, published - one, "'last night': the day before, or the night into the day of publication"
    return published - one, published, f"'{m['rel']}': the day of publication or the day before"


def find_dates(sentence: str, published: dt.date) -> list[DateMention]:
    """The dates in a sentence (on or before ``published``), windows joined."""
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []
    for m in _DAY_RANGE.finditer(sentence):
        month = _month(m["m"])
        a = dt.date(int(m["y"]), month, 1) if m["y"] else None
        first = _year_for(month, int(re.match(r"\d+", m["a"])[0]), published) if a is None else \
            a.replace(day=int(re.match(r"\d+", m["a"])[0]))
        last = first and first.replace(day=int(re.match(r"\d+", m["b"])[0]))
        if first and last and first <= last:
            found.append(DateMention(m.start(), m.end(), first, last, "between", m[0].strip()))
            taken.append((m.start(), m.end()))
    for m in DATE.finditer(sentence):
        if any(a <= m.start() < b for a, b in taken):
            continue
        first, last, unsure = _resolve(m, published)
        before = sentence[max(0, m.start() - 30):m.start()]
        prep = re.search(r"(\w+(?:\s+of)?)\W*$", before)
        found.append(DateMention(m.start(), m.end(), first, last,
                                 prep[1].lower() if prep else "", m[0], unsure))
    found.sort(key=lambda d: d.start)
    return _join_windows(sentence, found)


def _join_windows(sentence: str, dates: list[DateMention]) -> list[DateMention]:
    """'between Sunday and Thursday', 'from 26 January to 30 January' -> one window."""
    out: list[DateMention] = []
    i = 0
    while i < len(dates):
        a = dates[i]
        if i + 1 < len(dates) and a.prep in ("between", "from"):
            b = dates[i + 1]
            gap = sentence[a.end:b.start].strip().lower()
            if gap in ("and", "to", "-", "–", "until", "through") and a.first and b.last \
                    and a.first <= b.last:
                out.append(DateMention(a.start, b.end, a.first, b.last, "between",
                                       sentence[a.start:b.end]))
                i += 2
                continue
        out.append(a)
        i += 1
    return out


def start_candidates(sentences: list[tuple[str, dt.date]], given: dt.date | None = None) -> list[dt.date]:
    """Candidate episode starts: ``given`` first, then the dates the documents introduce with
    'since', 'began', 'launched' or 'started', most often named first."""
    counts: dict[dt.date, int] = {}
    for text, published in sentences:
        for d in find_dates(text, published):
            if d.first and d.unsure is None and d.first == d.last and \
                    _START_WORDS.search(text[:d.start]):
                counts[d.first] = counts.get(d.first, 0) + 1
    ordered = sorted(counts, key=lambda d: (-counts[d], d))
    return ([given] if given else []) + [d for d in ordered if d != given]


def period_of(sentence: str, at: int, published: dt.date, starts: list[dt.date],
              total: bool = False) -> tuple[dict | None, list[dict], str]:
    """The period of the figure at character ``at``: (decided period or None, candidates, why).
    ``total``: the figure is a toll (a running total), so a day is the day it stood at."""
    dates = [d for d in find_dates(sentence, published)
             if d.first is not None and d.last is not None and d.last <= published
             and not _STATEMENT.search(sentence[:d.start])]  # 'said on Friday': when it was said
    as_of = {"as_of": published}
    since_starts = [{"since": s, **as_of} for s in starts if s <= published]
    if _SINCE_START.search(sentence):
        return None, since_starts, "'since the start of ...': the start's date"
    if not dates:
        day = {"day": published}
        total = _TOTAL.search(sentence)
        cands = [*since_starts, day] if total else [day, *since_starts]
        why = "no date of the figure in the sentence" + (f" ('{total[0]}' reads as a running total)" if total else "")
        return None, cands, why
    d = min(dates, key=lambda d: min(abs(d.start - at), abs(d.end - at)))
    if d.prep == "since" or _SINCE_BEGAN.search(sentence[:d.start]):
        return {"since": d.first, **as_of}, [], f"'since {d.text}'" if d.prep == "since" else \
            f"'since ... began on {d.text}'"
    if d.prep in ("by", "as of", "until", "through"):
        return None, [{"since": s, "as_of": d.last} for s in starts if s <= d.last], \
            f"'{d.prep} {d.text}': a total up to that day; since when?"
    if d.first != d.last:
        window = {"from": d.first, "to": d.last}
        if d.unsure:
            return None, [window], d.unsure
        return window, [], f"'{d.text}'"
    if d.unsure:
        return None, [{"day": d.first}, {"day": published}], d.unsure
    if total:
        return None, [*({"since": s, "as_of": d.first} for s in starts if s <= d.first),
                      {"day": d.first}], f"a toll on '{d.text}': a running total up to that day?"
    return {"day": d.first}, [], f"'{(d.prep + ' ') if d.prep == 'on' else ''}{d.text}'"
