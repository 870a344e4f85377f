"""Loaders of real conflict data: month index, ViEWS country-month, UCDP GED events, annual
displacement and deaths, the forecast-origin guard, and one-line errors for bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.data import (
    DataError,
    load_idmc_syria,
    load_monthly_deaths,
    load_owid_ucdp,
    load_ucdp_ged_events,
    load_unhcr_syria,
    load_views_country_month,
    month_date,
    month_id,
    series_as_of,
)

SHARED_DATA = Path(__file__).parents[1].parent / "shared" / "data"
needs_shared_data = pytest.mark.skipif(
    not (SHARED_DATA / "views_syria_monthly_ged_1990_2024.csv").is_file(),
    reason=f"real data not found at {SHARED_DATA} (../shared/data relative to the repo root)",
)
SYRIA = SHARED_DATA / "views_syria_monthly_ged_1990_2024.csv"
NEIGHBOURS = SHARED_DATA / "views_neighbours_monthly_2018_2024.csv"
OWID = SHARED_DATA / "owid_ucdp_conflict_deaths_by_year_syria_neighbours_1989_2024.csv"
UNHCR = SHARED_DATA / "unhcr_syria_displacement_by_year.csv"
IDMC = SHARED_DATA / "idmc_syria_conflict_idps_by_year.csv"


# --- month index ------------------------------------------------------------------------------


def test_month_id_anchors():
    # ViEWS convention (../shared/data/README.md): January 1980 = 1, November 2024 = 539.
    assert month_id("1980-01-01") == 1
    assert month_id("1980-12-31") == 12
    assert month_id("2024-11-15") == 539
    assert month_date(539) == pd.Timestamp("2024-11-01")
    assert month_date(1) == pd.Timestamp("1980-01-01")


def test_month_id_round_trip_arrays():
    ids = np.arange(1, 800)
    dates = month_date(ids)
    assert isinstance(dates, pd.DatetimeIndex)
    np.testing.assert_array_equal(month_id(dates), ids)
    assert (dates.day == 1).all()


# --- forecast-origin guard --------------------------------------------------------------------


def _toy_series():
    m = np.arange(500, 540)
    return pd.DataFrame({"month_id": m, "date": month_date(m), "country_id": 220,
                         "deaths": np.arange(40.0)})


def test_series_as_of_drops_every_later_month():
    df = _toy_series()
    known = series_as_of(df, 520)
    assert known["month_id"].max() == 520
    assert len(known) == 21
    assert (known["month_id"] <= 520).all()
    # a copy: editing it leaves the full series untouched
    known.loc[:, "deaths"] = -1.0
    assert (df["deaths"] >= 0).all()


def test_series_as_of_rejects_non_integer_origin():
    with pytest.raises(TypeError, match="integer month index"):
        series_as_of(_toy_series(), "2024-11")
    with pytest.raises(TypeError):
        series_as_of(_toy_series(), 520.0)


# --- ViEWS country-month: real files ----------------------------------------------------------


@needs_shared_data
def test_views_syria_file():
    df = load_views_country_month(SYRIA)
    assert list(df.columns) == ["month_id", "date", "country_id", "country", "ged_sb", "ged_os",
                                "ged_ns", "deaths"]
    assert df["month_id"].iloc[0] == 121 and df["month_id"].iloc[-1] == 532  # Jan 1990 - Apr 2024
    assert (np.diff(df["month_id"]) == 1).all()
    assert (df["country_id"] == 220).all() and (df["country"] == "Syria").all()
    np.testing.assert_array_equal(df["deaths"], df["ged_sb"] + df["ged_os"] + df["ged_ns"])
    # non-state deaths are coded from 2018 only: missing before, counted as 0
    raw = pd.read_csv(SYRIA)
    before_2018 = raw["month_id"] < month_id("2018-01-01")
    assert raw.loc[before_2018, "ged_ns"].isna().all()
    assert (df.loc[before_2018.to_numpy(), "ged_ns"] == 0).all()
    np.testing.assert_array_equal(df.loc[~before_2018.to_numpy(), "ged_ns"],
                                  raw.loc[~before_2018, "ged_ns"])


@needs_shared_data
def test_views_neighbours_agree_with_syria_file():
    nb = load_views_country_month(NEIGHBOURS)
    assert sorted(nb["country"].unique()) == ["Iraq", "Israel", "Jordan", "Lebanon", "Syria",
                                              "Turkey"]
    assert (nb.groupby("country").size() == 76).all()  # Jan 2018 - Apr 2024
    syria_nb = load_views_country_month(NEIGHBOURS, country_id=220).set_index("month_id")
    syria = load_views_country_month(SYRIA).set_index("month_id")
    np.testing.assert_array_equal(syria.loc[syria_nb.index, "deaths"], syria_nb["deaths"])


@needs_shared_data
def test_views_annual_sums_match_owid_ucdp_totals():
    """Two independent publications of UCDP data: from 2018 (when ViEWS codes non-state deaths)
    Syria's monthly deaths summed per year are within 3% of OWID's annual all-type totals.
    Leaving out non-state deaths would miss 2018 by 35%."""
    syria = load_views_country_month(SYRIA)
    annual = syria.groupby(syria["date"].dt.year)["deaths"].sum()
    owid = load_owid_ucdp(OWID, entity="Syria").set_index("year")["deaths"]
    years = range(2018, 2024)
    ratio = annual.loc[years] / owid.loc[years]
    assert np.all(np.abs(ratio - 1) < 0.03), ratio


@needs_shared_data
def test_load_monthly_deaths_dispatches_views(tmp_path):
    tidy = load_monthly_deaths(NEIGHBOURS, country="Syria")
    assert list(tidy.columns) == ["month_id", "date", "country_id", "deaths"]
    assert (tidy["country_id"] == 220).all() and len(tidy) == 76
    assert load_monthly_deaths(NEIGHBOURS, country=220).equals(tidy)


def test_views_parquet_with_index(tmp_path):
    # ViEWS challenge parquet files keep (month_id, country_id) in the index
    m = np.arange(530, 536)
    df = pd.DataFrame({"month_id": m, "country_id": 220, "ged_sb": 1.0, "ged_os": 2,
                       "ged_ns": [np.nan, 1, 1, 1, 1, 1]}).set_index(["month_id", "country_id"])
    path = tmp_path / "cm.parquet"
    df.to_parquet(path)
    out = load_views_country_month(path)
    np.testing.assert_array_equal(out["month_id"], m)
    np.testing.assert_array_equal(out["deaths"], [3, 4, 4, 4, 4, 4])
    assert out["date"].iloc[0] == pd.Timestamp("2024-02-01")


# --- ViEWS country-month: bad files -----------------------------------------------------------

GOOD_VIEWS = ("month_id,date,country_id,ged_sb,ged_os,ged_ns\n"
              "530,2024-02-01,220,10,1,\n"
              "531,2024-03-01,220,12,0,3\n"
              "532,2024-04-01,220,9,0,1\n")


@pytest.mark.parametrize(("text", "message"), [
    (GOOD_VIEWS.replace("ged_os,", ""),
     r"bad.csv: missing column\(s\) ged_os; a ViEWS country-month file needs month_id, "
     r"country_id, ged_sb, ged_os, ged_ns"),
    (GOOD_VIEWS.replace("531,2024-03-01,220,12", "531,2024-03-01,220,twelve"),
     r"bad.csv:3: column ged_sb: 'twelve' is not a number"),
    (GOOD_VIEWS.replace("532,2024-04-01,220,9", "532,2024-04-01,220,-9"),
     r"bad.csv:4: column ged_sb: -9 is negative; counts must be >= 0"),
    (GOOD_VIEWS.replace("530,2024-02-01,220,10,1,", "530,2024-02-01,220,10,,"),
     r"bad.csv:2: column ged_os: empty is not a number"),
    (GOOD_VIEWS.replace("532,2024-04-01", "531,2024-03-01"),
     r"bad.csv:4: country_id 220 month_id 531 appears twice"),
    (GOOD_VIEWS.replace("531,2024-03-01,220,12,0,3\n", ""),
     r"bad.csv: country_id 220: month_id 531 \(2024-03\) is missing"),
    (GOOD_VIEWS.replace("531,2024-03-01", "531,2024-05-01"),
     r"bad.csv:3: column date: '2024-05-01' does not fall in month_id 531 \(2024-03\)"),
])
def test_views_bad_files_name_file_line_and_column(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message) as err:
        load_views_country_month(path)
    assert "\n" not in str(err.value)


def test_views_unknown_country_and_missing_file(tmp_path):
    path = tmp_path / "cm.csv"
    path.write_text(GOOD_VIEWS)
    with pytest.raises(DataError, match=r"no rows with country_id 999 \(found: 220\)"):
        load_views_country_month(path, country_id=999)
    with pytest.raises(DataError, match=r"nope.csv: file not found"):
        load_views_country_month(tmp_path / "nope.csv")


def test_monthly_deaths_rejects_unknown_format(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("year,deaths\n2020,5\n")
    with pytest.raises(DataError, match=r"other.csv: not a monthly deaths file: expected ViEWS "
                       r"country-month columns .* or UCDP GED event columns"):
        load_monthly_deaths(path)


# --- UCDP GED events --------------------------------------------------------------------------

GED = """id,year,type_of_violence,conflict_new_id,country,country_id,gwnoa,date_start,date_end,best,high,low
1,2024,1,299,Syria,652,652,2024-01-03,2024-01-03,10,12,8
2,2024,3,300,Syria,652,652,2024-01-20,2024-01-20,4,4,4
3,2024,2,301,Syria,652,652,2024-01-31,2024-02-02,6,6,6
4,2024,1,299,Syria,652,652,2024-03-15,2024-03-15,7,9,7
5,2024,1,500,Lebanon,660,660,2024-02-10,2024-02-10,3,3,3
"""


def test_ged_events_aggregate_by_month_of_date_start(tmp_path):
    path = tmp_path / "ged.csv"
    path.write_text(GED)
    syria = load_ucdp_ged_events(path, country="syria").set_index("month_id")
    jan, feb, mar = month_id("2024-01-01"), month_id("2024-02-01"), month_id("2024-03-01")
    assert list(syria.index) == [jan, feb, mar]
    # event 3 runs 31 Jan - 2 Feb: counted in January, the month of its date_start
    assert syria.loc[jan, "deaths"] == 20 and syria.loc[jan, "n_events"] == 3
    assert (syria.loc[jan, ["ged_sb", "ged_os", "ged_ns"]] == [10, 4, 6]).all()
    assert syria.loc[feb, "deaths"] == 0 and syria.loc[feb, "n_events"] == 0  # no event: zero
    assert syria.loc[mar, "deaths"] == 7
    assert (syria["country_id"] == 652).all() and (syria["country"] == "Syria").all()
    lebanon = load_ucdp_ged_events(path, country=660)
    assert lebanon["deaths"].tolist() == [0, 3, 0]
    both = load_ucdp_ged_events(path)
    assert both.groupby("country_id")["deaths"].sum().to_dict() == {652: 27, 660: 3}


def test_ged_via_dispatch_and_gwnoa(tmp_path):
    path = tmp_path / "ged.csv"
    path.write_text(GED)
    tidy = load_monthly_deaths(path, country="Syria")
    assert tidy["deaths"].tolist() == [20, 0, 7]
    assert list(tidy.columns) == ["month_id", "date", "country_id", "deaths"]
    no_id = tmp_path / "ged_gwnoa.csv"
    pd.read_csv(path).drop(columns="country_id").to_csv(no_id, index=False)
    assert load_monthly_deaths(no_id, country=652)["deaths"].tolist() == [20, 0, 7]


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace("2024-03-15,2024-03-15", "15/03/2024,2024-03-15"),
     r"ged.csv:5: column date_start: '15/03/2024' is not a date"),
    (lambda t: t.replace("2024-03-15,7,", "2024-03-15,seven,"),
     r"ged.csv:5: column best: 'seven' is not a number"),
    (lambda t: t.replace("4,2024,1,299", "4,2024,5,299"),
     r"ged.csv:5: column type_of_violence: 5 is not 1, 2 or 3"),
    (lambda t: t.replace(",best,", ",deaths,"),
     r"ged.csv: missing column\(s\) best; a UCDP GED event file needs date_start, best, "
     r"type_of_violence"),
])
def test_ged_bad_files(tmp_path, edit, message):
    path = tmp_path / "ged.csv"
    path.write_text(edit(GED))
    with pytest.raises(DataError, match=message):
        load_ucdp_ged_events(path)


def test_ged_unknown_country(tmp_path):
    path = tmp_path / "ged.csv"
    path.write_text(GED)
    with pytest.raises(DataError, match=r"no events for country 'Iraq' \(found: Syria \(652\), "
                       r"Lebanon \(660\)\)"):
        load_ucdp_ged_events(path, country="Iraq")


# --- annual displacement and deaths -----------------------------------------------------------


@needs_shared_data
def test_unhcr_idmc_owid_real_files():
    unhcr = load_unhcr_syria(UNHCR)
    assert unhcr["year"].is_unique and unhcr["year"].is_monotonic_increasing
    row = unhcr.set_index("year").loc[2024]
    assert row["idps"] == 7_408_909 and row["refugees"] == 5_952_174
    idmc = load_idmc_syria(IDMC).set_index("year")["conflict_idps"]
    assert idmc.loc[2024] == 7_409_000
    # UNHCR republishes IDMC's stock: the two files agree where both have it
    both = unhcr.set_index("year")["idmc_conflict_idps"].dropna()
    common = both.index.intersection(idmc.index)
    assert len(common) >= 10
    np.testing.assert_allclose(both.loc[common], idmc.loc[common])
    owid = load_owid_ucdp(OWID)
    assert {"Syria", "World", "Middle East"} <= set(owid["entity"])
    assert list(owid.columns) == ["entity", "year", "deaths"]


def test_annual_bad_files(tmp_path):
    path = tmp_path / "owid.csv"
    path.write_text("entity,year,deaths\nSyria,2020,5\n")
    with pytest.raises(DataError, match=r"owid.csv: missing column\(s\) "
                       r"deaths_best_all_conflict_types"):
        load_owid_ucdp(path)
    path = tmp_path / "idmc.csv"
    path.write_text("year,total\n2020,5\n2020,6\n")
    with pytest.raises(DataError, match=r"idmc.csv:3: year 2020 appears twice"):
        load_idmc_syria(path)
    path = tmp_path / "unhcr.csv"
    path.write_text("year,refugees,asylum_seekers,idps\n2020,1,2,x\n")
    with pytest.raises(DataError, match=r"unhcr.csv:2: column idps: 'x' is not a number"):
        load_unhcr_syria(path)
