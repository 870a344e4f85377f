"""Reductions of a Monte Carlo forecast that never hold more than they must: exact daily
quantiles over draws, from one Dataset or from the chunks :func:`~models.simulation.engine.iter_scenario_chunks` streams."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import xarray as xr

__all__ = ["daily_quantiles"]


def daily_quantiles(source: xr.Dataset | Iterable[xr.Dataset], quantiles: Iterable[float],
                    days: Iterable[int] | None = None) -> xr.DataArray:
    """Quantiles over draws of ``forecast``, per scenario, day, target and region.

    ``source``: a Dataset from :func:`simulate_scenarios` or the chunks of
    :func:`iter_scenario_chunks`; ``days``: only these forecast days (default: all). Exact
    quantiles need every draw of a cell, so chunks are gathered into one float32 array of the
    selected days (4 bytes x scenarios x draws x days x targets x locations); beyond that only
    one day is copied at a time (a plain ``.quantile`` over everything would copy it all).
    """
    q = np.asarray(list(quantiles), dtype=float)
    values, coords = None, None
    for chunk in ([source] if isinstance(source, xr.Dataset) else source):
        f = chunk["forecast"]
        if days is not None:
            f = f.sel(day=list(days))
        if coords is None:
            coords = {k: f[k].values for k in ("scenario", "day", "target", "region")}
        f = f.transpose("day", "target", "region", "scenario", "draw").data
        if isinstance(source, xr.Dataset):
            values = f
            break
        if values is None:
            values = np.empty((*f.shape[:-1], int(chunk.attrs["draws"])), np.float32)
        d = chunk["draw"].values
        values[..., d[0]:d[-1] + 1] = f
        # Drop this chunk before the generator builds the next one: two alive at once would
        # double the streaming peak.
        del chunk, f
    if values is None:
        raise ValueError("daily_quantiles: no chunks")
    out = np.empty((len(q), *values.shape[:-1]))
    for h in range(values.shape[0]):
        out[:, h] = np.quantile(values[h], q, axis=-1)
    return xr.DataArray(
        out.transpose(0, 4, 1, 2, 3), dims=("quantile", "scenario", "day", "target", "region"),
        coords={"quantile": q, **coords}, name="forecast_quantile")
