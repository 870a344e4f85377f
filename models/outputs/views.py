"""ViEWS-challenge export: monthly deaths per draw (``month_id, country_id, draw, outcome``)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import xarray as xr

from models.data import month_id
from models.vocabulary import ALL


def monthly_deaths(forecast: xr.Dataset, origin: dt.date, scenario: str,
                   country_id: int) -> pd.DataFrame:
    """Deaths of all actors in each calendar month fully inside the forecast, per draw, summed
    over regions: ViEWS-challenge columns ``month_id, country_id, draw, outcome``.

    ``country_id``: the episode country's ViEWS id (:attr:`RunResult.country`). A month is
    exported only when the cumulative count is known at the end of the month before it (day 0,
    the origin, counts: the forecast stores the deaths to the origin) and at its own end (within
    days 1..H); the month of the origin is partly observed, so it is left out rather than
    reported short. Returns an empty table when no whole month lies in the horizon. Our deaths are all actors
    (UCDP's ``ged_sb`` + ``ged_os`` + ``ged_ns`` is the nearest ViEWS counterpart); say so to a
    scorer."""
    cum = forecast["forecast"].sel(scenario=scenario, target="cum_deaths", region=ALL)
    cum = cum.transpose("draw", "day").values
    horizon = cum.shape[1]
    if "cum_deaths_at_origin" in forecast:  # day 0, so a month starting the day after counts
        at_origin = forecast["cum_deaths_at_origin"].sel(region=ALL).values.astype(cum.dtype)
        cum = np.concatenate([at_origin[:, None], cum], axis=1)
    else:  # runs written before the forecast kept day 0
        cum = np.concatenate([np.full((cum.shape[0], 1), np.nan, cum.dtype), cum], axis=1)
    rows = []
    first = (origin.replace(day=1) + dt.timedelta(days=32)).replace(day=1)  # next month
    while True:
        nxt = (first + dt.timedelta(days=32)).replace(day=1)
        start_day = (first - origin).days - 1  # day index of the last day before the month
        end_day = (nxt - dt.timedelta(days=1) - origin).days
        if end_day > horizon:
            break
        if start_day >= 0 and not np.isnan(cum[0, start_day]):
            deaths = cum[:, end_day] - cum[:, start_day]
            rows.append(pd.DataFrame({"month_id": month_id(first), "draw": np.arange(len(deaths)),
                                      "outcome": deaths}))
        first = nxt
    if not rows:
        return pd.DataFrame({"month_id": pd.Series(dtype=np.int64),
                             "country_id": pd.Series(dtype=np.int64),
                             "draw": pd.Series(dtype=np.int64),
                             "outcome": pd.Series(dtype=float)})
    out = pd.concat(rows, ignore_index=True)
    out["country_id"] = int(country_id)
    return out.astype({"month_id": np.int64, "country_id": np.int64, "draw": np.int64})[
        ["month_id", "country_id", "draw", "outcome"]]
