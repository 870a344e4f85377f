"""The month index, defined once: ViEWS month ids (January 1980 = 1, so November 2024 = 539).

The config layer needs it to turn ``YYYY-MM`` origins into month ids, the data layer to index
monthly series; both use these two functions (:mod:`models.data` re-exports them).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

__all__ = ["month_date", "month_id"]


def month_id(date) -> int | np.ndarray:
    """ViEWS month index of a date (January 1980 = 1); any day of the month gives its month.

    Accepts a date, datetime, ``pd.Timestamp``, ISO string (``YYYY-MM`` or ``YYYY-MM-DD``), or
    an array-like of these (then returns an int array).

    >>> month_id("2024-11-15")
    539
    >>> month_id("1980-01")
    1
    """
    if isinstance(date, (str, dt.date, pd.Timestamp, np.datetime64)):
        ts = pd.Timestamp(date)
        return (ts.year - 1980) * 12 + ts.month
    idx = pd.DatetimeIndex(pd.to_datetime(np.asarray(date)))
    return np.asarray((idx.year - 1980) * 12 + idx.month, dtype=np.int64)


def month_date(month: int | np.ndarray) -> pd.Timestamp | pd.DatetimeIndex:
    """First day of the month with ViEWS index ``month`` (inverse of :func:`month_id`).

    >>> month_date(539)
    Timestamp('2024-11-01 00:00:00')
    """
    m = np.asarray(month, dtype=np.int64)
    years, months0 = np.divmod(m - 1, 12)
    if m.ndim == 0:
        return pd.Timestamp(year=int(years) + 1980, month=int(months0) + 1, day=1)
    return pd.DatetimeIndex(
        pd.to_datetime({"year": years + 1980, "month": months0 + 1, "day": np.ones_like(m)})
    )
