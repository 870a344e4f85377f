"""python -m scenarios.extract DOC.txt [DOC.txt ...] [--published DATE] [--regions id=Name,...]
[--episode CONFIG] [--start DATE] [--out draft.yaml]  (console command ``conflict-extract``)

Reads plain-text reports and writes a draft config for the analyst to review: ``sources:``, an
``episode:`` with the regions, ``reporting:`` profiles for the reporters it found, ``evidence:``
(one entry per figure: the sentence, the value as the lexicon reads it with its interval, the
quantity, the period, the region, the reporter) and ``scenario.projections:`` (the sentences
that project). What it cannot decide is a ``{TODO: why, candidates: [...]}``; the draft
validates once they are filled. Deterministic and offline: the rules are in
``scenarios/extraction/``.

Publication dates: a date in the file name (``...-2024-11-30.txt``), else ``--published DATE``;
``--published NAME=DATE`` sets one document's date (NAME: file name or stem). Relative dates
("since Sunday", "yesterday") and the ``as_of`` of running totals read from it.

Regions: ``--regions aleppo=Aleppo,idlib=Idlib`` (aliases with ``|``: ``north_kivu=North
Kivu|Goma|Rusayo``), or ``--episode CONFIG`` to take the ids and names of a config's
``episode.regions`` (names in brackets count as aliases).

Exit codes: 0 written; 2 bad input (a missing file, a bad date, no publication date).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

from scenarios.extraction import Document, build, todos


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def parse_regions(text: str) -> dict[str, list[str]]:
    """``id=Name|Alias,id2=Name`` -> {id: [names]}; an id alone is its own name.

    >>> parse_regions("north_kivu=North Kivu|Goma, idlib")
    {'north_kivu': ['North Kivu', 'Goma'], 'idlib': ['Idlib']}
    """
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        rid, _, names = part.partition("=")
        rid = rid.strip()
        if not re.fullmatch(r"[a-z][a-z0-9_]*", rid):
            raise ValueError(f"region id {rid!r}: lower-case letters, digits and '_'")
        out[rid] = [n.strip() for n in names.split("|") if n.strip()] or \
            [rid.replace("_", " ").title()]
    return out


def regions_of_config(path: str) -> dict[str, list[str]]:
    """Region ids and names (with the names in brackets as aliases) of a config's episode."""
    from scenarios.loader import resolve

    data, _ = resolve(Path(path))
    out = {}
    for rid, region in (data.get("episode", {}).get("regions") or {}).items():
        name = str(region.get("name", rid))
        head, _, inside = name.partition("(")
        aliases = [p.strip() for p in re.split(r",| and ", inside.rstrip(")"))
                   if p.strip()[:1].isupper()]
        out[rid] = list(dict.fromkeys([name, head.strip(), *aliases]))
    return out


def _published(args, path: Path) -> dt.date | None:
    for spec in args.published:
        name, sep, date = spec.rpartition("=")
        if sep and name in (path.name, path.stem):
            return _date(date)
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m scenarios.extract", description="Draft sources, evidence and "
        "projections from plain-text reports, for review.", epilog="exit codes: 0 written, 2 "
        "bad input (a missing file, a bad date, no publication date). example: python -m "
        "scenarios.extract ../shared/sources/*.txt --regions 'aleppo=Aleppo,idlib=Idlib|Idleb' "
        "--start 2024-11-27 --out draft.yaml")
    ap.add_argument("documents", nargs="+", help="plain-text documents (UTF-8)")
    ap.add_argument("--published", action="append", default=[], metavar="[NAME=]DATE",
                    help="publication date (YYYY-MM-DD) of documents whose file name has none, "
                         "or NAME=DATE for one document; repeatable")
    ap.add_argument("--regions", default="", metavar="ID=NAME,...",
                    help="the episode's regions: id=Name|Alias,... (default: none, "
                         "episode.regions is drafted as a TODO)")
    ap.add_argument("--episode", metavar="CONFIG", help="take the regions from this config")
    ap.add_argument("--start", type=_date, metavar="DATE",
                    help="the episode start: first candidate of 'since' periods (default: "
                         "none)")
    ap.add_argument("--out", metavar="FILE", help="write the draft here (default: stdout)")
    args = ap.parse_args(argv)
    try:
        default = [_date(s) for s in args.published if "=" not in s]
        regions = parse_regions(args.regions)
        if args.episode:
            regions = {**regions_of_config(args.episode), **regions}
    except (ValueError, argparse.ArgumentTypeError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if len(default) > 1:
        print("error: --published DATE given twice; use NAME=DATE for single documents",
              file=sys.stderr)
        return 2
    docs = []
    for name in args.documents:
        path = Path(name)
        if not path.is_file():
            print(f"error: {name}: no such file", file=sys.stderr)
            return 2
        try:
            doc = Document.read(path, _published(args, path))
        except (argparse.ArgumentTypeError, UnicodeDecodeError) as e:
            print(f"error: {name}: {e}", file=sys.stderr)
            return 2
        if doc.published is None and default:
            doc.published = default[0]
        elif default and doc.published != default[0] and _published(args, path) is None:
            print(f"note: {path.name}: published {doc.published} (from its file name; "
                  f"--published {path.name}=DATE to change it)", file=sys.stderr)
        if doc.published is None:
            print(f"error: {name}: no publication date: give --published DATE or "
                  f"--published {path.name}=DATE", file=sys.stderr)
            return 2
        docs.append(doc)
    if len({d.id for d in docs}) < len(docs):
        print("error: two documents with the same name", file=sys.stderr)
        return 2
    draft = build(docs, regions, args.start)
    text = draft.to_yaml()
    if args.out:
        Path(args.out).write_text(text, "utf-8")
    else:
        sys.stdout.write(text)
    d = draft.data
    drafted = d.get("episode", {}).get("regions", {})
    pops = (len(drafted.get("candidates", [])) if "TODO" in drafted else
            sum(1 for r in drafted.values()
                if "value" in r["population_at_risk"] or r["population_at_risk"].get("candidates")))
    print(f"drafted from {len(docs)} document(s): {len(d['evidence'])} evidence, "
          f"{pops} population figure(s), {len(d['scenario']['projections'])} projection(s); "
          f"{len(todos(d))} TODO(s) to fill; {len(draft.skipped)} number(s) not drafted "
          f"(listed at the end){' -> ' + args.out if args.out else ''}", file=sys.stderr)
    if not regions:
        print("note: no --regions: episode.regions is a TODO offering the population figures "
              "found; --regions id=Name,... places figures in their regions", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
