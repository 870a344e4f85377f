"""hubverse tables: quantiles (long format) and joint sample trajectories, and model metadata.

Columns :data:`HUBVERSE_COLUMNS`; ``horizon`` is days after the origin; the mixture is
``scenario_id = mixture``. See https://hubverse.io for the format."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import xarray as xr
import yaml

from models.outputs.run_result import RunResult
from models.outputs.statistics import ForecastSummary

if TYPE_CHECKING:
    pass


HUBVERSE_COLUMNS = ("origin_date", "scenario_id", "location", "target", "horizon",
                    "output_type", "output_type_id", "value")


DEFAULT_MODEL_ID = "conflictscen-nowcastmc"
"""hubverse ``model_id`` (``team_abbr-model_abbr``) used for exports."""


def _categorical(labels, codes) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=pd.Index(list(labels)))


def _locations(regions, locations: dict[str, str] | None) -> list[str]:
    """hubverse ``location`` of each region id: ``locations[id]`` (the region's ISO 3166-2 code,
    from the config) where given, else the id itself; ``all`` stays ``all``."""
    return [str((locations or {}).get(str(r), r)) for r in regions]


def quantile_table(summary: ForecastSummary, origin: dt.date,
                   locations: dict[str, str] | None = None) -> pd.DataFrame:
    """hubverse long table (exactly :data:`HUBVERSE_COLUMNS`): for each scenario, location,
    target and horizon the 23 quantiles then the mean (``output_type_id`` missing for the mean).
    ``output_type_id`` holds the level as text ("0.025") so CSV keeps it exact."""
    q = summary.quantiles.transpose("scenario", "region", "target", "day", "quantile")
    m = summary.mean.transpose("scenario", "region", "target", "day")
    values = np.concatenate([q.values, m.values[..., None]], axis=-1)
    s, r, t, h, k = values.shape
    index = np.indices((s, r, t, h, k)).reshape(5, -1)
    levels = [f"{x:g}" for x in q["quantile"].values]
    id_codes = np.where(index[4] < k - 1, index[4], -1)
    return pd.DataFrame({
        "origin_date": origin.isoformat(),
        "scenario_id": _categorical(q["scenario"].values, index[0]),
        "location": _categorical(_locations(q["region"].values, locations), index[1]),
        "target": _categorical(q["target"].values, index[2]),
        "horizon": q["day"].values[index[3]].astype(np.int32),
        "output_type": _categorical(["quantile", "mean"], (index[4] == k - 1).astype(np.int8)),
        "output_type_id": _categorical(levels, id_codes),
        "value": values.reshape(-1),
    }, columns=list(HUBVERSE_COLUMNS))


def sample_table(forecast: xr.Dataset, origin: dt.date,
                 locations: dict[str, str] | None = None) -> pa.Table:
    """hubverse sample table (columns :data:`HUBVERSE_COLUMNS`, ``output_type`` "sample",
    ``output_type_id`` = draw index). One draw index is one joint trajectory over horizons,
    targets and locations, and the same index is the paired draw in every scenario. Rows are
    ordered scenario, location, target, draw, horizon (each trajectory contiguous)."""
    da = forecast["forecast"].transpose("scenario", "region", "target", "draw", "day")
    s, r, t, n, h = da.shape
    rows = s * r * t * n * h

    def dictionary(labels, codes):
        return pa.DictionaryArray.from_arrays(pa.array(codes), pa.array([str(x) for x in labels]))

    def repeat_tile(values, inner, outer):
        return np.tile(np.repeat(values, inner), outer)

    return pa.table({
        "origin_date": pa.DictionaryArray.from_arrays(
            pa.array(np.zeros(rows, np.int8)), pa.array([origin], pa.date32())),
        "scenario_id": dictionary(da["scenario"].values,
                                  np.repeat(np.arange(s, dtype=np.int8), r * t * n * h)),
        "location": dictionary(_locations(da["region"].values, locations),
                               repeat_tile(np.arange(r, dtype=np.int8), t * n * h, s)),
        "target": dictionary(da["target"].values,
                             repeat_tile(np.arange(t, dtype=np.int8), n * h, s * r)),
        "horizon": pa.array(np.tile(da["day"].values.astype(np.int32), s * r * t * n)),
        "output_type": pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, np.int8)),
                                                      pa.array(["sample"])),
        "output_type_id": pa.array(repeat_tile(da["draw"].values.astype(np.int32), h, s * r * t)),
        "value": pa.array(da.values.reshape(-1)),
    })


def write_samples_parquet(table: pa.Table, path: Path) -> None:
    """zstd with byte-stream-split floats: about 3x smaller than plain snappy for trajectories."""
    categorical = ["origin_date", "scenario_id", "location", "target", "output_type"]
    pq.write_table(table, path, compression="zstd", compression_level=3,
                   use_dictionary=categorical, use_byte_stream_split=["value"],
                   row_group_size=1 << 20)


def hub_metadata(result: RunResult) -> str:
    team, model = DEFAULT_MODEL_ID.split("-", 1)
    meta = {
        "team_abbr": team, "model_abbr": model,
        "model_name": "Bayesian nowcast of reported conflict casualties and displacement, with "
                      "regime-switching Monte Carlo scenarios",
        "designated_model": False,
        "methods": "Bayesian nowcast of reported evidence (PyMC) and a regime-switching Monte "
                   "Carlo projection per scenario; quantiles over Monte Carlo draws.",
        "scenarios": result.scenario_ids,
    }
    return yaml.safe_dump(meta, sort_keys=False)
