"""A draft config from documents: ``sources:``, ``episode:``, ``reporting:``, ``evidence:`` and
``scenario.projections:``, every undecided field a TODO.

A TODO is a mapping ``{TODO: why, candidates: [...]}`` in the place of the value, the likeliest
candidate first; :func:`fill_todos` replaces each with a choice (tests fill them with the first
candidate). The loader refuses a draft with a TODO left (unknown key 'TODO'), so nothing
undecided enters a forecast unseen.

Region of a figure: the one region named in its sentence; of several, for flight the one after
"from" ("from Aleppo to rural areas of Idlib" -> Aleppo), else a TODO (nearest first, a list of
them when the sentence joins them with "and"); of none, a TODO with the regions named in the two
sentences before, then the document's most named ones (decided only when the episode has one
region). Without ``regions`` the region is a TODO.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field

from scenarios.extraction.dates import find_dates, period_of, start_candidates
from scenarios.extraction.figures import Figure, Skipped, scan
from scenarios.extraction.statements import Projection, profile_id, projections_in, reporter_of
from scenarios.extraction.text import Document, region_mentions, slug
from scenarios.extraction.writer import dump

TODO = "TODO"


def todo(why: str, candidates: list | None = None) -> dict:
    return {TODO: why} if candidates is None else {TODO: why, "candidates": candidates}


def is_todo(x) -> bool:
    return isinstance(x, dict) and TODO in x


def todos(data, path: tuple = ()) -> list[tuple[tuple, dict]]:
    """Every TODO in a draft, with its key path."""
    if is_todo(data):
        return [(path, data)]
    if isinstance(data, dict):
        return [t for k, v in data.items() for t in todos(v, (*path, k))]
    if isinstance(data, list):
        return [t for i, v in enumerate(data) for t in todos(v, (*path, i))]
    return []


def fill_todos(data, choose=None):
    """A copy of ``data`` with each TODO replaced by ``choose(path, todo)`` (default: its first
    candidate; a TODO without candidates then raises ``ValueError``)."""
    def first(path, t):
        if not t.get("candidates"):
            raise ValueError(f"{'.'.join(map(str, path))}: no candidate ({t[TODO]})")
        return t["candidates"][0]
    choose = choose or first

    def walk(x, path):
        if is_todo(x):
            return walk(copy.deepcopy(choose(path, x)), path)
        if isinstance(x, dict):
            return {k: walk(v, (*path, k)) for k, v in x.items()}
        if isinstance(x, list):
            return [walk(v, (*path, i)) for i, v in enumerate(x)]
        return x
    return walk(data, ())


@dataclass
class Draft:
    data: dict
    comments: dict[tuple, str] = field(default_factory=dict)
    """Key path -> comment written at the end of that key's line."""
    skipped: list[Skipped] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    projections: list[Projection] = field(default_factory=list)

    def to_yaml(self) -> str:
        return dump(self.data, self.comments, self.skipped)


def _period_tag(p: dict | None) -> str:
    if not p:
        return ""
    d = lambda x: f"{x.day}_{x.strftime('%b').lower()}"  # noqa: E731
    if "day" in p:
        return d(p["day"])
    if "since" in p:
        return f"since_{d(p['since'])}"
    return f"{d(p['from'])}_{d(p['to'])}"


def _unique(key: str, taken: dict) -> str:
    out, n = key, 2
    while out in taken:
        out, n = f"{key}_{n}", n + 1
    return out


def _region(f: Figure, doc: Document, regions: dict[str, list[str]], counts: Counter):
    """(decided region, candidates, why)."""
    if not regions:
        return None, [], "no --regions given: name the region id"
    text = f.sentence.text
    here = region_mentions(text, regions)
    ids = list(dict.fromkeys(r for r, _ in here))
    if len(ids) == 1:
        return ids[0], [], ""
    if len(ids) > 1:
        if f.family in ("displaced", "refugees"):
            for rid, names in regions.items():
                if any(re.search(rf"\bfrom {re.escape(n)}\b", text) for n in names):
                    return rid, [], "named after 'from' (where people fled from)"
        near = sorted(ids, key=lambda r: min(abs(at - f.start) for q, at in here if q == r))
        joined = any(re.search(rf"{re.escape(a)} and {re.escape(b)}", text)
                     for r1 in ids for r2 in ids if r1 != r2
                     for a in regions[r1] for b in regions[r2])
        return None, ([ids] if joined else []) + near, "several regions named in the sentence"
    if len(regions) == 1:
        return next(iter(regions)), [], ""
    before = [r for s in reversed(doc.sentences[max(0, f.sentence.index - 2):f.sentence.index])
              for r, _ in region_mentions(s.text, regions)]
    ordered = list(dict.fromkeys([*before, *(r for r, _ in counts.most_common()), *regions]))
    return None, ordered, "no region named in the sentence"


def build(documents: list[Document], regions: dict[str, list[str]] | None = None,
          start: dt.date | None = None) -> Draft:
    """The draft config of ``documents`` (each with its ``published`` date)."""
    regions = regions or {}
    starts = start_candidates([(s.text, d.published) for d in documents for s in d.sentences],
                              start)
    draft = Draft({"schema_version": 1, "sources": {}})
    evidence, profiles, projections, population = {}, {}, {}, {r: [] for r in regions}
    unplaced: list = []  # population figures without a region (no --regions)
    c = draft.comments
    for doc in documents:
        draft.data["sources"][doc.id] = {
            "file": doc.file,
            "title": todo("the document's title", [doc.sentences[0].text[:120]] if doc.sentences else []),
            "published": doc.published}
        counts = Counter(r for s in doc.sentences for r, _ in region_mentions(s.text, regions))
        for s in doc.sentences:
            proj = projections_in(s)
            if proj:
                pid = _unique(proj.id, projections)
                projections[pid] = {"statement": todo("the projection in your words",
                                                      [s.text]),
                                    "source": {"document": doc.id, "passage": s.text}}
                c[("scenario", "projections", pid)] = (
                    f"{proj.kind}: '{proj.cue}'" + (" (a reported development: keep it if a "
                                                    "scenario encodes its continuation)"
                                                    if proj.kind == "development" else ""))
                draft.projections.append(proj)
            dates = [(d.start, d.end) for d in find_dates(s.text, doc.published)]
            figures, skipped = scan(s, dates)
            draft.skipped += skipped
            for f in figures:
                draft.figures.append(f)
                region, rcands, rwhy = _region(f, doc, regions, counts)
                if f.quantity == "population":
                    targets = [region] if region else [r for r in rcands if isinstance(r, str)]
                    for r in targets:
                        population[r].append((f, doc))
                    if not targets:
                        unplaced.append((f, doc))
                        draft.skipped.append(Skipped(s, f.phrase, "a population figure with no "
                                                     "region to put it in (give --regions); "
                                                     "offered under episode.regions"))
                    continue
                evidence_entry(draft, evidence, profiles, f, doc, starts,
                               (region, rcands, rwhy))
    draft.data["episode"] = _episode(documents, regions, population, starts, c, unplaced)
    draft.data["reporting"] = profiles
    draft.data["evidence"] = evidence
    draft.data["scenario"] = {"projections": projections}
    return draft


def evidence_entry(draft: Draft, evidence: dict, profiles: dict, f: Figure, doc: Document,
                   starts: list, region_reading: tuple) -> None:
    c = draft.comments
    region, rcands, rwhy = region_reading
    total = "toll" in f.cue or re.search(r"\btotal\b", f.sentence.text, re.I) is not None
    period, pcands, pwhy = period_of(f.sentence.text, f.start, doc.published, starts, total)
    rep = reporter_of(doc.sentences, f.sentence.index, doc.id)
    family = f.quantity or ("deaths" if f.family == "casualties" else f.family)
    eid = _unique("_".join(x for x in (region or "region", family, _period_tag(period)) if x),
                  evidence)
    if rep.name:
        pids = [profile_id(rep.name)]
    else:
        pids = [slug(doc.id, 3) if w.endswith("(the document itself)") else profile_id(w)
                for w in rep.candidates]
    for pid, who in zip(pids, [rep.name] if rep.name else rep.candidates, strict=True):
        profiles.setdefault(pid, {
            "description": todo("what its figures count, compared with which true count",
                                [f"Figures reported by {who}, compared with the true count of "
                                 "the quantity in the region."]),
            "share": todo("share of the true count its figures capture: {dist: beta, low, high}"),
            "basis": todo("what the share prior rests on")})
    value = int(f.value.low) if f.value.kind == "exact" and re.fullmatch(r"[\d,\s\u2009\u202f\u00a0]+", f.phrase) \
        else f.phrase
    evidence[eid] = {
        "quantity": f.quantity or todo(f"which quantity ('{f.cue}'"
                                       + (f", '{f.qualifier}' in the sentence" if f.qualifier else "")
                                       + ")", f.candidates),
        "region": region or todo(rwhy, rcands),
        "period": period or todo(pwhy, pcands),
        "value": value,
        "reporting": pids[0] if rep.name else todo("which reporting profile", pids),
        "reported_on": doc.published,
        "source": {"document": doc.id,
                   "reporter": rep.name or todo(rep.why, list(rep.candidates)),
                   "passage": f.sentence.text}}
    c[("evidence", eid, "value")] = f"reads {f.value.describe()}"
    if f.quantity:
        c[("evidence", eid, "quantity")] = f"'{f.cue}'" + (f", '{f.qualifier}'" if f.qualifier else "")
    if period:
        c[("evidence", eid, "period")] = pwhy
    if region and rwhy:
        c[("evidence", eid, "region")] = rwhy


def _episode(documents, regions, population, starts, c, unplaced=()) -> dict:
    latest = max(d.published for d in documents)
    out = {"name": todo("the episode's name"),
           "country": todo("ISO 3166-1 alpha-3 code of the country"),
           "start": todo("day 1 of the episode", starts) if starts else todo("day 1 of the episode"),
           "origin": todo("last day of information (the latest document's date)", [latest]),
           "regions": {}}
    if not regions:  # the analyst names the regions; the population figures found are offered
        out["regions"] = todo(
            "the episode's regions: id -> {name, code, population_at_risk} (no --regions given)",
            [{"population_at_risk": {"value": f.phrase, "source": {
                "document": doc.id, "passage": f.sentence.text}}} for f, doc in unplaced])
        return out
    for rid, names in regions.items():
        cands = [{"value": f.phrase, "source": {"document": doc.id, "passage": f.sentence.text}}
                 for f, doc in population.get(rid, [])]
        decided = len(cands) == 1 and all(
            len({r for r, _ in region_mentions(f.sentence.text, regions)}) == 1
            for f, _ in population[rid])
        out["regions"][rid] = {"name": names[0], "population_at_risk": cands[0] if decided else (
            todo("which population figure", cands) if cands else
            todo("no population figure in the documents: give value and source or basis"))}
        if decided:
            f = population[rid][0][0]
            c[("episode", "regions", rid, "population_at_risk", "value")] = f"reads {f.value.describe()}"
    return out
