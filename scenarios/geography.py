"""Country and region codes of an episode's geography.

``scenarios/country_codes.csv`` ships one row per country: ISO 3166-1 alpha-3, alpha-2 and
numeric, Gleditsch-Ward code (UCDP's country key), ViEWS ``country_id`` and the ViEWS name.

Source: the ViEWS country key (``views_country_codes.csv`` in the project's shared data: ViEWS
``country_id`` with Gleditsch-Ward code, ISO alpha-3, ISO numeric and name), code columns and
names only; ViEWS data are published under CC BY 4.0 (cite ViEWS and UCDP), the ISO and
Gleditsch-Ward codes are public standards. The ViEWS key lists some countries several times
(historic ids); the table keeps, per alpha-3 code, the ``country_id`` used in the ViEWS
2018-2024 country-month panel (``views_cm_ged_all_countries_2018_2024.csv``), and for codes
absent from the panel their single row; former states (ISO 3166-3 codes: SUN, YUG, SCG, CSK, DDR, YMD) are dropped. Kosovo has no
ISO code in the key: it gets the user-assigned ``XKX`` / ``XK`` used by the EU and the World Bank,
and no ISO numeric. ISO alpha-2 codes are not in the key: added from ISO 3166-1 (public).
:func:`table_from_views_key` rebuilds the code columns from the two ViEWS files (a test checks
the shipped table against them).

Regions are named by ISO 3166-2 subdivision codes where one exists: the country's alpha-2 code,
a hyphen and one to three letters or digits (``SY-AL`` Aleppo, ``SD-DN`` North Darfur,
``UA-14`` Donetsk). :func:`check_region_code` checks that a code's country part is the
episode's country.

>>> resolve_country("syr").views_id
220
>>> check_region_code("sy-al", "SYR")
'SY-AL'
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from scenarios.yaml_source import did_you_mean

__all__ = [
    "COUNTRY_CODES_CSV",
    "REGION_CODE_PATTERN",
    "Country",
    "check_region_code",
    "countries",
    "resolve_country",
    "table_from_views_key",
]

COUNTRY_CODES_CSV = Path(__file__).with_name("country_codes.csv")

REGION_CODE_PATTERN = re.compile(r"^(?P<country>[A-Z]{2})-(?P<subdivision>[A-Z0-9]{1,3})$")
"""An ISO 3166-2 subdivision code: alpha-2 country code, ``-``, 1-3 letters or digits."""

FORMER_STATES = frozenset({"SUN", "YUG", "SCG", "CSK", "DDR", "YMD"})
"""ISO 3166-3 codes of states that no longer exist (in the ViEWS key, not in the panel)."""

KOSOVO = {"iso3": "XKX", "iso2": "XK"}

NOT_VIEWS_UNITS = {
    "PSE": "Palestine is not a ViEWS unit: UCDP and ViEWS count deaths in Gaza and the West "
           "Bank under Israel ('ISR')",
}
"""ISO codes of places the ViEWS key has no row for, with where their data are."""


@dataclass(frozen=True)
class Country:
    """A country's public codes. ``iso_numeric`` is None where ISO assigns none (Kosovo)."""

    iso3: str
    name: str
    gw: int
    views_id: int
    iso_numeric: int | None
    iso2: str


def _rows(path: Path):
    with open(path, newline="", encoding="utf-8") as f:
        yield from csv.DictReader(line for line in f if not line.startswith("#"))


@cache
def countries(path: Path = COUNTRY_CODES_CSV) -> dict[str, Country]:
    """The shipped table, by ISO alpha-3 code."""
    out = {}
    for r in _rows(Path(path)):
        out[r["iso3"]] = Country(
            iso3=r["iso3"], name=r["name"], gw=int(r["gw"]), views_id=int(r["views_id"]),
            iso_numeric=int(r["iso_numeric"]) if r["iso_numeric"] else None, iso2=r["iso2"])
    return out


def resolve_country(iso3: str) -> Country:
    """The codes of a country given by its ISO 3166-1 alpha-3 code (any case).

    >>> c = resolve_country("SYR"); (c.name, c.gw, c.views_id, c.iso_numeric, c.iso2)
    ('Syria', 652, 220, 760, 'SY')
    >>> resolve_country("SYRIA")
    Traceback (most recent call last):
    ...
    ValueError: unknown country code 'SYRIA': expected an ISO 3166-1 alpha-3 code such as 'SYR' or 'SDN' (table: scenarios/country_codes.csv). Did you mean 'SYR' (Syria)?
    """
    table = countries()
    key = str(iso3).strip().upper()
    if key in table:
        return table[key]
    by_name = {c.name.upper(): c.iso3 for c in table.values()}
    by_code = {c: c for c in table}
    # a three-letter input is likelier a mistyped code, a longer one a name
    order = (by_code, by_name) if len(key) <= 3 else (by_name, by_code)
    hint = f" {NOT_VIEWS_UNITS[key]}." if key in NOT_VIEWS_UNITS else ""
    for lookup in order if not hint else ():
        hint = f" Did you mean '{key}'?" if key in lookup else did_you_mean(key, list(lookup))
        if hint:
            c = table[lookup[hint[len(" Did you mean '"):-2]]]
            hint = f" Did you mean '{c.iso3}' ({c.name})?"
            break
    raise ValueError(f"unknown country code {iso3!r}: expected an ISO 3166-1 alpha-3 code such "
                     f"as 'SYR' or 'SDN' (table: scenarios/{COUNTRY_CODES_CSV.name}).{hint}")


def check_region_code(code: str, iso3: str) -> str:
    """``code`` in upper case if it is an ISO 3166-2 code of country ``iso3``; ValueError if not.

    >>> check_region_code("SD-DN", "SDN")
    'SD-DN'
    >>> check_region_code("SY-AL", "SDN")
    Traceback (most recent call last):
    ...
    ValueError: region code 'SY-AL' belongs to country 'SY', not to SDN (Sudan, 'SD'): an ISO 3166-2 code starts with the country's alpha-2 code, e.g. 'SD-...'
    """
    country = resolve_country(iso3)
    norm = str(code).strip().upper()
    m = REGION_CODE_PATTERN.match(norm)
    if m is None:
        raise ValueError(f"region code {code!r} is not an ISO 3166-2 subdivision code: expected "
                         f"the alpha-2 country code, '-' and 1-3 letters or digits, e.g. "
                         f"'{country.iso2}-01'")
    if m["country"] != country.iso2:
        raise ValueError(f"region code {code!r} belongs to country '{m['country']}', not to "
                         f"{country.iso3} ({country.name}, '{country.iso2}'): an ISO 3166-2 code "
                         f"starts with the country's alpha-2 code, e.g. '{country.iso2}-...'")
    return norm


def table_from_views_key(codes_csv: Path, panel_csv: Path) -> list[dict[str, object]]:
    """Rows ``iso3, iso_numeric, gw, views_id, name`` built from the ViEWS key by the rule in
    the module docstring, sorted by alpha-3 code (the shipped table without ``iso2``)."""
    in_panel = {int(r["country_id"]) for r in _rows(Path(panel_csv))}
    by_iso: dict[str, list[dict]] = {}
    for r in _rows(Path(codes_csv)):
        iso3 = r["iso3"].strip() or (KOSOVO["iso3"] if r["country"] == "Kosovo" else "")
        if iso3 and iso3 not in FORMER_STATES:
            by_iso.setdefault(iso3, []).append({**r, "iso3": iso3})
    out = []
    for iso3, rows in sorted(by_iso.items()):
        used = [r for r in rows if int(r["country_id"]) in in_panel]
        if len(used) > 1 or (not used and len(rows) > 1):
            raise ValueError(f"{codes_csv}: {iso3} has no single ViEWS id to keep: "
                             f"{[r['country_id'] for r in (used or rows)]}")
        r = (used or rows)[0]
        num = int(r["isonum"])
        out.append({"iso3": iso3, "iso_numeric": num if num > 0 else None,
                    "gw": int(r["gleditsch_ward"]), "views_id": int(r["country_id"]),
                    "name": r["country"]})
    return out
