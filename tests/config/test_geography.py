"""Country and region codes: the shipped table, resolution with "did you mean", ISO 3166-2."""

import re

import pytest

from scenarios.geography import (
    COUNTRY_CODES_CSV,
    REGION_CODE_PATTERN,
    check_region_code,
    countries,
    resolve_country,
    table_from_views_key,
)


def test_syria_and_sudan_codes():
    syr = resolve_country("SYR")
    assert (syr.iso3, syr.name, syr.gw, syr.views_id, syr.iso_numeric, syr.iso2) == (
        "SYR", "Syria", 652, 220, 760, "SY")
    sdn = resolve_country("sdn")  # any case
    assert (sdn.gw, sdn.views_id, sdn.iso_numeric, sdn.iso2) == (625, 245, 729, "SD")
    assert resolve_country(" ssd ").views_id == 246


@pytest.mark.parametrize(("code", "hint"), [
    ("SYRR", "Did you mean 'SYR' (Syria)?"),
    ("SUDN", "Did you mean 'SDN' (Sudan)?"),
    ("PSE", "Palestine is not a ViEWS unit"),
    ("Sudan", "Did you mean 'SDN' (Sudan)?"),
    ("Ukrain", "Did you mean 'UKR' (Ukraine)?"),
])
def test_unknown_country_says_did_you_mean(code, hint):
    with pytest.raises(ValueError, match="unknown country code") as err:
        resolve_country(code)
    assert hint in str(err.value)


def test_unknown_country_without_close_match_names_the_table():
    with pytest.raises(ValueError, match=re.escape("scenarios/country_codes.csv")):
        resolve_country("QQ9")


def test_table_is_one_row_per_code_with_iso2():
    table = countries()
    assert len(table) == 195
    iso2 = [c.iso2 for c in table.values()]
    assert len(set(iso2)) == len(iso2)
    assert all(re.fullmatch(r"[A-Z]{2}", c) for c in iso2)
    assert len({c.views_id for c in table.values()}) == len(table)
    assert table["XKX"].iso_numeric is None and table["XKX"].iso2 == "XK"


def test_shipped_table_follows_from_the_views_key(shared_data):
    rebuilt = table_from_views_key(shared_data / "views_country_codes.csv",
                                   shared_data / "views_cm_ged_all_countries_2018_2024.csv")
    shipped = [{"iso3": c.iso3, "iso_numeric": c.iso_numeric, "gw": c.gw,
                "views_id": c.views_id, "name": c.name}
               for c in sorted(countries().values(), key=lambda c: c.iso3)]
    assert rebuilt == shipped
    assert "source" in COUNTRY_CODES_CSV.read_text("utf-8").splitlines()[1].lower()


@pytest.mark.parametrize(("code", "iso3"), [
    ("SY-AL", "SYR"), ("SD-DN", "SDN"), ("UA-14", "UKR"), ("sy-di", "SYR"), ("GB-ENG", "GBR")])
def test_region_codes_of_the_country(code, iso3):
    assert check_region_code(code, iso3) == code.upper()
    assert REGION_CODE_PATTERN.match(code.upper())


def test_region_code_of_another_country_is_refused():
    with pytest.raises(ValueError, match="belongs to country 'SY', not to SDN"):
        check_region_code("SY-AL", "SDN")


@pytest.mark.parametrize("code", ["Aleppo", "SYR-AL", "SY_AL", "SY-ALEP", "SY-"])
def test_malformed_region_code_is_refused(code):
    with pytest.raises(ValueError, match="not an ISO 3166-2 subdivision code"):
        check_region_code(code, "SYR")
