"""Loaders for real conflict data: monthly deaths (ViEWS country-month, UCDP GED events) and
annual Syria displacement and deaths (UNHCR, IDMC, UCDP via Our World in Data).

Every loader takes a path (CSV, or parquet where said), validates the columns and values it
relies on, and raises :class:`DataError` with one line naming the file, the line or column and
what was expected. Nothing is copied or cached: the public files stay where the user keeps them
(``../shared/data`` for this project).

Monthly series are tidy frames with one row per unit and month::

    month_id  date        country_id  deaths
    538       2024-10-01  220         412.0

``month_id`` is the ViEWS month index: January 1980 = 1 (so November 2024 = 539), defined once
in :mod:`scenarios.months` (:func:`month_id`, :func:`month_date`, re-exported here). Deaths are
UCDP "best" estimates (people per month). A backtest reads monthly data only through
:func:`series_as_of`, so nothing after a forecast origin can reach a forecast.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from scenarios.months import month_date, month_id

__all__ = [
    "DEATH_TYPES",
    "DataError",
    "load_idmc_syria",
    "load_monthly_deaths",
    "load_owid_ucdp",
    "load_ucdp_ged_events",
    "load_unhcr_syria",
    "load_views_country_month",
    "month_date",
    "month_id",
    "series_as_of",
]

DEATH_TYPES = ("ged_sb", "ged_os", "ged_ns")
"""UCDP violence types as ViEWS names them: state-based, one-sided, non-state deaths."""

_GED_TYPE_COLUMN = {1: "ged_sb", 2: "ged_ns", 3: "ged_os"}
"""UCDP GED ``type_of_violence`` code -> ViEWS column (1 state-based, 2 non-state, 3 one-sided)."""

VIEWS_COUNTRY_NAMES = {
    220: "Syria",
    60: "Iraq",
    218: "Israel",
    62: "Jordan",
    94: "Lebanon",
    96: "Turkey",
}
"""ViEWS ``country_id`` -> name for the units in ../shared/data, used only when a file has no
``country`` column (the Syria file has none). ViEWS ids are not Gleditsch-Ward codes."""

TIDY_COLUMNS = ("month_id", "date", "country_id", "deaths")


class DataError(ValueError):
    """A data file is missing, unreadable or not in the expected format.

    ``str(err)`` is a complete one-line message: file, line or column, and what is expected.
    """


# --- months: month_id and month_date are defined in scenarios.months (re-exported) ----------


def series_as_of(df: pd.DataFrame, origin_month_id: int) -> pd.DataFrame:
    """The rows known at a forecast origin: ``month_id <= origin_month_id`` (a copy).

    This is the only way a backtest reads monthly data, so a forecast made at an origin cannot
    see a later month (the leakage test checks that).
    """
    if isinstance(origin_month_id, bool) or not isinstance(origin_month_id, (int, np.integer)):
        raise TypeError(f"origin_month_id must be an integer month index, got {origin_month_id!r}")
    if "month_id" not in df.columns:
        raise KeyError("series_as_of: the frame has no 'month_id' column")
    return df.loc[df["month_id"].to_numpy() <= int(origin_month_id)].copy()


# --- file reading helpers ---------------------------------------------------------------------


def _read_table(path: Path) -> pd.DataFrame:
    """Read a CSV or parquet file; a parquet index (ViEWS stores month_id/country_id there)
    becomes columns."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            df = pd.read_parquet(path)
            if any(name is not None for name in df.index.names):
                df = df.reset_index()
        else:
            df = pd.read_csv(path, low_memory=False)
    except (OSError, ValueError, pd.errors.ParserError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DataError(f"{path}: cannot read as {'parquet' if suffix == '.parquet' else 'CSV'} "
                        f"({first})") from None
    if df.empty:
        raise DataError(f"{path}: the file has no data rows")
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _is_csv(path: Path) -> bool:
    return Path(path).suffix.lower() not in (".parquet", ".pq")


def _where(path: Path, row: int) -> str:
    """'file:line' for a CSV (header is line 1), 'file row N' for parquet."""
    return f"{path}:{row + 2}" if _is_csv(path) else f"{path} row {row + 1}"


def _require_columns(df: pd.DataFrame, path: Path, required, what: str) -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {', '.join(missing)}; a {what} needs "
            f"{', '.join(required)} (found: {', '.join(map(str, df.columns))})"
        )


def _numeric(df: pd.DataFrame, column: str, path: Path, *, allow_nan: bool = False,
             non_negative: bool = True, integer: bool = False) -> pd.Series:
    """Column as float, with the first bad value reported by line."""
    raw = df[column]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna()
    if not allow_nan:
        bad |= values.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        shown = "empty" if pd.isna(raw.iloc[i]) else repr(raw.iloc[i])
        raise DataError(f"{_where(path, i)}: column {column}: {shown} is not a number")
    infinite = np.isinf(values.to_numpy(dtype=float))
    if infinite.any():  # 'inf' parses as a number, but no count is infinite
        i = int(np.flatnonzero(infinite)[0])
        raise DataError(f"{_where(path, i)}: column {column}: {raw.iloc[i]!r} is not a finite "
                        "number")
    if non_negative and (values < 0).any():
        i = int(np.flatnonzero((values < 0).to_numpy())[0])
        raise DataError(f"{_where(path, i)}: column {column}: {values.iloc[i]:g} is negative; "
                        "counts must be >= 0")
    if integer:
        frac = values.notna() & (values != np.round(values))
        if frac.any():
            i = int(np.flatnonzero(frac.to_numpy())[0])
            raise DataError(f"{_where(path, i)}: column {column}: {values.iloc[i]!r} is not a "
                            "whole number")
    return values.astype(float)


def _check_months_complete(df: pd.DataFrame, path: Path) -> None:
    """One row per unit and month, with no month missing between a unit's first and last.

    ``df``'s index labels are the rows of the file (so errors can name the line)."""
    dup = df.duplicated(["country_id", "month_id"], keep="first")
    if dup.any():
        label = df.index[np.flatnonzero(dup.to_numpy())[0]]
        r = df.loc[label]
        raise DataError(f"{_where(path, int(label))}: country_id {r['country_id']} month_id "
                        f"{r['month_id']} appears twice; expected one row per country and month")
    for cid, g in df.groupby("country_id", sort=False):
        m = np.sort(g["month_id"].to_numpy())
        gaps = np.flatnonzero(np.diff(m) != 1)
        if gaps.size:
            first_missing = int(m[gaps[0]]) + 1
            raise DataError(
                f"{path}: country_id {cid}: month_id {first_missing} "
                f"({month_date(first_missing):%Y-%m}) is missing; expected consecutive months "
                f"from {int(m[0])} to {int(m[-1])}"
            )


# --- monthly deaths ---------------------------------------------------------------------------


def load_views_country_month(path: str | Path, country_id: int | None = None) -> pd.DataFrame:
    """ViEWS country-month UCDP deaths (CSV or parquet), one row per country and month.

    Columns required: ``month_id, country_id, ged_sb, ged_os, ged_ns`` (``date`` and ``country``
    optional; a ``date`` column must agree with ``month_id``).

    Returns columns ``month_id, date, country_id, country, ged_sb, ged_os, ged_ns, deaths``
    sorted by country and month, where ``deaths = ged_sb + ged_os + ged_ns`` (people per month,
    all UCDP violence types). A missing ``ged_ns`` counts as 0: ViEWS codes non-state deaths
    only from January 2018, so ``deaths`` before 2018 is state-based + one-sided only (Syria's
    non-state deaths before 2018 are missing, not zero). ``ged_sb`` and ``ged_os`` must be
    present in every row. ``country_id`` selects one country (ViEWS id, Syria = 220).
    """
    path = Path(path)
    df = _read_table(path)
    _require_columns(df, path, ("month_id", "country_id", *DEATH_TYPES),
                     "ViEWS country-month file")
    out = pd.DataFrame({
        "month_id": _numeric(df, "month_id", path, integer=True).astype(np.int64),
        "country_id": _numeric(df, "country_id", path, integer=True).astype(np.int64),
    })
    out["date"] = month_date(out["month_id"].to_numpy())
    if "date" in df.columns:
        given = pd.to_datetime(df["date"], errors="coerce")
        bad = given.isna() | (month_id(given.fillna(pd.Timestamp("1900-01-01")))
                              != out["month_id"].to_numpy())
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"{_where(path, i)}: column date: {df['date'].iloc[i]!r} does not "
                            f"fall in month_id {out['month_id'].iloc[i]} "
                            f"({month_date(int(out['month_id'].iloc[i])):%Y-%m})")
    if "country" in df.columns:
        out["country"] = df["country"].astype(str).to_numpy()
    else:
        out["country"] = [VIEWS_COUNTRY_NAMES.get(c, f"country_id {c}") for c in out["country_id"]]
    out["ged_sb"] = _numeric(df, "ged_sb", path)
    out["ged_os"] = _numeric(df, "ged_os", path)
    out["ged_ns"] = _numeric(df, "ged_ns", path, allow_nan=True).fillna(0.0)
    out["deaths"] = out["ged_sb"] + out["ged_os"] + out["ged_ns"]
    if country_id is not None:
        keep = out["country_id"] == int(country_id)
        if not keep.any():
            have = ", ".join(map(str, sorted(out["country_id"].unique())))
            raise DataError(f"{path}: no rows with country_id {country_id} (found: {have})")
        out = out.loc[keep]
    out = out.sort_values(["country_id", "month_id"], kind="stable")
    _check_months_complete(out, path)
    cols = ["month_id", "date", "country_id", "country", *DEATH_TYPES, "deaths"]
    return out[cols].reset_index(drop=True)


GED_REQUIRED = ("date_start", "best", "type_of_violence")


def load_ucdp_ged_events(path: str | Path, country: str | int | None = None) -> pd.DataFrame:
    """UCDP GED events (CSV or parquet) aggregated to monthly deaths per country.

    Columns required: ``date_start, best, type_of_violence`` and a country key: ``country_id``
    (Gleditsch-Ward code in UCDP GED) or ``gwnoa``, with ``country`` (name) optional. Each event's
    ``best`` estimate is counted in the month of its ``date_start`` (events spanning months are
    not split). ``country`` selects one country by name (case-insensitive) or GW code.

    Returns ``month_id, date, country_id, country, ged_sb, ged_os, ged_ns, deaths, n_events``:
    one row per country and month from the file's first to last month (months without events
    are 0, since GED lists every coded event), ``deaths`` = sum of ``best`` over all three
    violence types (people per month). ``country_id`` is the GW code, not a ViEWS id.
    """
    path = Path(path)
    df = _read_table(path)
    _require_columns(df, path, GED_REQUIRED, "UCDP GED event file")
    key = "country_id" if "country_id" in df.columns else "gwnoa" if "gwnoa" in df.columns else None
    if key is None:
        raise DataError(f"{path}: missing column country_id (or gwnoa); a UCDP GED event file "
                        "needs a Gleditsch-Ward country code per event")
    starts = pd.to_datetime(df["date_start"], errors="coerce")
    if starts.isna().any():
        i = int(np.flatnonzero(starts.isna().to_numpy())[0])
        raise DataError(f"{_where(path, i)}: column date_start: {df['date_start'].iloc[i]!r} is "
                        "not a date (expected YYYY-MM-DD)")
    best = _numeric(df, "best", path)
    tov = _numeric(df, "type_of_violence", path, integer=True).astype(np.int64)
    bad = ~tov.isin(list(_GED_TYPE_COLUMN))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"{_where(path, i)}: column type_of_violence: {tov.iloc[i]} is not 1, 2 "
                        "or 3 (state-based, non-state, one-sided)")
    # gwnoa can hold several codes ("651, 652") for interstate events: the first is the location.
    codes = df[key].astype(str).str.split(",").str[0].str.strip()
    cid = pd.to_numeric(codes, errors="coerce")
    if cid.isna().any():
        i = int(np.flatnonzero(cid.isna().to_numpy())[0])
        raise DataError(f"{_where(path, i)}: column {key}: {df[key].iloc[i]!r} is not a country "
                        "code")
    names = df["country"].astype(str).str.strip() if "country" in df.columns else cid.astype(str)
    events = pd.DataFrame({
        "month_id": month_id(starts),
        "country_id": cid.astype(np.int64).to_numpy(),
        "country": names.to_numpy(),
        "type": tov.map(_GED_TYPE_COLUMN).to_numpy(),
        "best": best.to_numpy(),
    })
    all_months = np.arange(events["month_id"].min(), events["month_id"].max() + 1)
    if country is not None:
        if isinstance(country, str):
            keep = events["country"].str.casefold() == country.strip().casefold()
        else:
            keep = events["country_id"] == int(country)
        if not keep.any():
            have = sorted(set(zip(events["country_id"], events["country"], strict=True)))
            listing = ", ".join(f"{n} ({c})" for c, n in have[:12])
            raise DataError(f"{path}: no events for country {country!r} (found: {listing}"
                            f"{', ...' if len(have) > 12 else ''})")
        events = events.loc[keep]
    by_type = (events.pivot_table(index=["country_id", "month_id"], columns="type", values="best",
                                  aggfunc="sum", fill_value=0.0)
               .reindex(columns=list(DEATH_TYPES), fill_value=0.0))
    n_events = events.groupby(["country_id", "month_id"]).size().rename("n_events")
    names = events.groupby("country_id")["country"].first()
    grid = pd.MultiIndex.from_product([sorted(events["country_id"].unique()), all_months],
                                      names=["country_id", "month_id"])
    out = by_type.join(n_events).reindex(grid, fill_value=0).reset_index()
    out[list(DEATH_TYPES)] = out[list(DEATH_TYPES)].astype(float)
    out["n_events"] = out["n_events"].astype(np.int64)
    out["deaths"] = out[list(DEATH_TYPES)].sum(axis=1)
    out["date"] = month_date(out["month_id"].to_numpy())
    out["country"] = out["country_id"].map(names)
    cols = ["month_id", "date", "country_id", "country", *DEATH_TYPES, "deaths", "n_events"]
    return out[cols]


def load_monthly_deaths(path: str | Path, country: str | int | None = None) -> pd.DataFrame:
    """Monthly deaths from either supported format, chosen by the file's columns.

    * ViEWS country-month (``month_id`` and ``ged_sb`` columns): ``country`` is a ViEWS
      ``country_id`` or a name matched against the ``country`` column;
    * UCDP GED events (``date_start`` and ``best`` columns): ``country`` is a name or GW code.

    Returns the tidy series ``month_id, date, country_id, deaths`` (deaths = all UCDP violence
    types, people per month) sorted by country and month.
    """
    path = Path(path)
    df = _read_table(path)
    cols = set(df.columns)
    if {"month_id", "ged_sb"} <= cols:
        out = load_views_country_month(path)
        if country is not None:
            if isinstance(country, str):
                keep = out["country"].str.casefold() == country.strip().casefold()
            else:
                keep = out["country_id"] == int(country)
            if not keep.any():
                have = ", ".join(f"{n} ({c})" for c, n in
                                 sorted(set(zip(out["country_id"], out["country"], strict=True))))
                raise DataError(f"{path}: no rows for country {country!r} (found: {have})")
            out = out.loc[keep]
    elif {"date_start", "best"} <= cols:
        out = load_ucdp_ged_events(path, country=country)
    else:
        raise DataError(
            f"{path}: not a monthly deaths file: expected ViEWS country-month columns "
            "(month_id, country_id, ged_sb, ged_os, ged_ns) or UCDP GED event columns "
            f"(date_start, best, type_of_violence, country_id); found: {', '.join(df.columns)}"
        )
    return out[list(TIDY_COLUMNS)].reset_index(drop=True)


# --- annual displacement and deaths -----------------------------------------------------------


def load_unhcr_syria(path: str | Path) -> pd.DataFrame:
    """UNHCR Refugee Population Statistics for Syria, one row per year (people; stocks at year
    end, ``flows_*`` and ``solutions_*`` during the year).

    Requires ``year, refugees, asylum_seekers, idps``; every other column is kept as float
    (empty cells are NaN: UNHCR reports a figure only where one exists, e.g. ``idps`` from 2011).
    """
    path = Path(path)
    df = _read_table(path)
    _require_columns(df, path, ("year", "refugees", "asylum_seekers", "idps"),
                     "UNHCR Syria displacement file")
    out = pd.DataFrame({"year": _numeric(df, "year", path, integer=True).astype(np.int64)})
    for c in df.columns:
        if c != "year":
            out[c] = _numeric(df, c, path, allow_nan=True)
    return _annual_sorted(out, path)


def load_idmc_syria(path: str | Path, iso: str = "SYR") -> pd.DataFrame:
    """IDMC conflict-IDP stock (people displaced inside the country at year end), per year.

    Requires ``year, total``; if a ``coo_iso`` column is present, keeps the rows of ``iso``.
    Returns ``year, conflict_idps``.
    """
    path = Path(path)
    df = _read_table(path)
    _require_columns(df, path, ("year", "total"), "IDMC conflict-IDP file")
    if "coo_iso" in df.columns:
        df = df.loc[df["coo_iso"].astype(str).str.upper() == iso.upper()].reset_index(drop=True)
        if df.empty:
            raise DataError(f"{path}: no rows with coo_iso {iso}")
    out = pd.DataFrame({"year": _numeric(df, "year", path, integer=True).astype(np.int64),
                        "conflict_idps": _numeric(df, "total", path)})
    return _annual_sorted(out, path)


OWID_DEATHS_COLUMN = "deaths_best_all_conflict_types"


def load_owid_ucdp(path: str | Path, entity: str | None = None) -> pd.DataFrame:
    """Annual UCDP deaths, all violence types ("best" estimates), via Our World in Data.

    Requires ``entity, year, deaths_best_all_conflict_types``. Returns ``entity, year, deaths``
    (people per year); ``entity`` selects one (country or region, e.g. "Syria", "World").
    """
    path = Path(path)
    df = _read_table(path)
    _require_columns(df, path, ("entity", "year", OWID_DEATHS_COLUMN), "OWID UCDP deaths file")
    out = pd.DataFrame({"entity": df["entity"].astype(str).str.strip(),
                        "year": _numeric(df, "year", path, integer=True).astype(np.int64),
                        "deaths": _numeric(df, OWID_DEATHS_COLUMN, path)})
    if entity is not None:
        out = out.loc[out["entity"].str.casefold() == entity.casefold()]
        if out.empty:
            have = ", ".join(sorted(df["entity"].astype(str).unique()))
            raise DataError(f"{path}: no rows for entity {entity!r} (found: {have})")
    dup = out.duplicated(["entity", "year"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataError(f"{_where(path, out.index[i])}: {out['entity'].iloc[i]} "
                        f"{out['year'].iloc[i]} appears twice")
    return out.sort_values(["entity", "year"], kind="stable").reset_index(drop=True)


def _annual_sorted(out: pd.DataFrame, path: Path) -> pd.DataFrame:
    dup = out["year"].duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataError(f"{_where(path, i)}: year {out['year'].iloc[i]} appears twice")
    return out.sort_values("year", kind="stable").reset_index(drop=True)


# --- annual displacement by country of origin (UNHCR, IDMC; every country) ---------------------

UNHCR_STOCK_COLUMNS = ("refugees", "asylum_seekers", "returned_refugees", "idps", "returned_idps")
UNHCR_FLOW_COLUMNS = ("new_refugees", "new_asylum_seekers")


def _annual_by_origin(path: str | Path, columns: tuple[str, ...], what: str,
                      iso3: str | None, allow_nan: bool) -> pd.DataFrame:
    """``year, iso3, country, *columns`` of an annual by-country file, one row per country-year,
    sorted by country and year; ``iso3`` keeps one country (an empty frame if it has no row)."""
    path = Path(path)
    df = _read_table(path)
    _require_columns(df, path, ("year", "iso3", *columns), what)
    out = pd.DataFrame({"year": _numeric(df, "year", path, integer=True).astype(np.int64),
                        "iso3": df["iso3"].astype(str).str.strip().str.upper()})
    out["country"] = df["country"].astype(str).to_numpy() if "country" in df.columns \
        else out["iso3"]
    for c in columns:
        out[c] = _numeric(df, c, path, allow_nan=allow_nan)
    dup = out.duplicated(["iso3", "year"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataError(f"{_where(path, i)}: {out['iso3'].iloc[i]} {out['year'].iloc[i]} "
                        "appears twice")
    if iso3 is not None:
        out = out.loc[out["iso3"] == iso3.strip().upper()]
    return out.sort_values(["iso3", "year"], kind="stable").reset_index(drop=True)


def load_unhcr_by_origin(path: str | Path, iso3: str | None = None) -> pd.DataFrame:
    """UNHCR Refugee Population Statistics by country of origin, one row per country and year
    (``unhcr_displacement_by_origin_1990_2025.csv``): stocks at year end, people.

    Requires ``year, iso3, refugees, asylum_seekers, returned_refugees, idps, returned_idps``
    (``country`` optional); returns them with ``country``. Includes years after any forecast
    origin: the caller filters by publication date.
    """
    return _annual_by_origin(path, UNHCR_STOCK_COLUMNS, "UNHCR displacement-by-origin file",
                             iso3, allow_nan=True)


def load_unhcr_flows_by_origin(path: str | Path, iso3: str | None = None) -> pd.DataFrame:
    """UNHCR new refugee and asylum-seeker arrivals during each year by country of origin
    (``unhcr_new_displacement_flows_by_origin_1990_2025.csv``), people per year.

    Requires ``year, iso3, new_refugees, new_asylum_seekers``; an empty cell (UNHCR reports
    no such flow that year) is NaN.
    """
    return _annual_by_origin(path, UNHCR_FLOW_COLUMNS, "UNHCR new-displacement-flows file",
                             iso3, allow_nan=True)


def load_idmc_by_country(path: str | Path, iso3: str | None = None) -> pd.DataFrame:
    """IDMC stock of people internally displaced by conflict at year end, per country and year
    (``idmc_conflict_idps_by_country_1990_2025.csv``). Requires ``year, iso3, conflict_idps``."""
    return _annual_by_origin(path, ("conflict_idps",), "IDMC conflict-IDP file", iso3,
                             allow_nan=False)
