"""hubverse tables: quantiles (long format) and joint sample trajectories, and model metadata.

Columns :data:`HUBVERSE_COLUMNS`; ``horizon`` is days after the origin and ``target_end_date``
the date it falls on (origin + horizon days); the mixture is ``scenario_id = mixture``. See
https://hubverse.io for the format.

Reading ``samples.parquet``. Text columns are plain strings (dictionary-encoded inside the file,
so it stays small, but read back as strings, not pandas categoricals: ``groupby`` gives no
FutureWarning and comparisons do what they say), dates are dates, ``horizon`` and
``output_type_id`` (the draw) are integers, ``value`` is float32. Rows are ordered scenario,
location, target, draw, horizon, in row groups of about a million rows, so a filter on the
leading columns reads only the row groups that hold them::

    import pandas as pd
    one = pd.read_parquet("samples.parquet",
                          filters=[("scenario_id", "==", "baseline"), ("target", "==", "cum_deaths")],
                          columns=["location", "horizon", "output_type_id", "value"])

(``filters`` is pyarrow's: a list of ``(column, op, value)`` tuples, all of which must hold.)
"""

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
                    "target_end_date", "output_type", "output_type_id", "value")


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
    ``output_type_id`` holds the level as text ("0.025") so CSV keeps it exact; dates are ISO
    text ("2024-12-08")."""
    q = summary.quantiles.transpose("scenario", "region", "target", "day", "quantile")
    m = summary.mean.transpose("scenario", "region", "target", "day")
    values = np.concatenate([q.values, m.values[..., None]], axis=-1)
    s, r, t, h, k = values.shape
    index = np.indices((s, r, t, h, k)).reshape(5, -1)
    levels = [f"{x:g}" for x in q["quantile"].values]
    id_codes = np.where(index[4] < k - 1, index[4], -1)
    end_dates = [(origin + dt.timedelta(days=int(d))).isoformat() for d in q["day"].values]
    return pd.DataFrame({
        "origin_date": origin.isoformat(),
        "scenario_id": _categorical(q["scenario"].values, index[0]),
        "location": _categorical(_locations(q["region"].values, locations), index[1]),
        "target": _categorical(q["target"].values, index[2]),
        "horizon": q["day"].values[index[3]].astype(np.int32),
        "target_end_date": _categorical(end_dates, index[3]),
        "output_type": _categorical(["quantile", "mean"], (index[4] == k - 1).astype(np.int8)),
        "output_type_id": _categorical(levels, id_codes),
        "value": values.reshape(-1),
    }, columns=list(HUBVERSE_COLUMNS))


def sample_table(forecast: xr.Dataset, origin: dt.date,
                 locations: dict[str, str] | None = None) -> pa.Table:
    """hubverse sample table (columns :data:`HUBVERSE_COLUMNS`, ``output_type`` "sample",
    ``output_type_id`` = draw index). One draw index is one joint trajectory over horizons,
    targets and locations, and the same index is the paired draw in every scenario. Rows are
    ordered scenario, location, target, draw, horizon (each trajectory contiguous).

    Text columns are held as dictionary arrays (one byte per row in memory);
    :func:`write_samples_parquet` writes them as plain strings, so readers get strings."""
    da = forecast["forecast"].transpose("scenario", "region", "target", "draw", "day")
    s, r, t, n, h = da.shape
    rows = s * r * t * n * h

    def dictionary(labels, codes):
        return pa.DictionaryArray.from_arrays(pa.array(codes), pa.array([str(x) for x in labels]))

    def repeat_tile(values, inner, outer):
        return np.tile(np.repeat(values, inner), outer)

    days = da["day"].values.astype(np.int32)
    end = np.datetime64(origin, "D") + days.astype("timedelta64[D]")
    return pa.table({
        "origin_date": pa.DictionaryArray.from_arrays(
            pa.array(np.zeros(rows, np.int8)), pa.array([origin], pa.date32())),
        "scenario_id": dictionary(da["scenario"].values,
                                  np.repeat(np.arange(s, dtype=np.int8), r * t * n * h)),
        "location": dictionary(_locations(da["region"].values, locations),
                               repeat_tile(np.arange(r, dtype=np.int8), t * n * h, s)),
        "target": dictionary(da["target"].values,
                             repeat_tile(np.arange(t, dtype=np.int8), n * h, s * r)),
        "horizon": pa.array(np.tile(days, s * r * t * n)),
        "target_end_date": pa.DictionaryArray.from_arrays(
            pa.array(np.tile(np.arange(h, dtype=np.int16), s * r * t * n)),
            pa.array(end, pa.date32())),
        "output_type": pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, np.int8)),
                                                      pa.array(["sample"])),
        "output_type_id": pa.array(repeat_tile(da["draw"].values.astype(np.int32), h, s * r * t)),
        "value": pa.array(da.values.reshape(-1)),
    })


SAMPLE_TEXT = ("scenario_id", "location", "target", "output_type")
SAMPLE_DATES = ("origin_date", "target_end_date")


def write_samples_parquet(table: pa.Table, path: Path) -> None:
    """zstd with byte-stream-split floats: about 3x smaller than plain snappy for trajectories.

    The text and date columns are dictionary-encoded in the file, but the file's schema says
    string and date (no Arrow schema with dictionary types is stored), so pandas and pyarrow
    read plain strings and dates, not categoricals (see the module docstring)."""
    schema = pa.schema([pa.field(f.name, f.type.value_type)
                        if pa.types.is_dictionary(f.type) else f for f in table.schema])
    pq.write_table(table, path, compression="zstd", compression_level=3,
                   use_dictionary=[*SAMPLE_DATES, *SAMPLE_TEXT], use_byte_stream_split=["value"],
                   row_group_size=1 << 20, store_schema=False)
    meta = pq.read_schema(path)
    if [f.type for f in meta] != [f.type for f in schema]:  # the promise to readers
        raise RuntimeError(f"{path}: written schema {meta} is not {schema}")


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
