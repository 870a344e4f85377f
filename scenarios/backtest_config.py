"""Config of the rolling-origin backtest (``python -m models.backtest CONFIG --out DIR``).

A YAML file, validated strictly (unknown keys are errors, with a "did you mean" hint); every
problem is reported at once, one line each, naming the file, the line of the offending key, the
key path and what is expected, the way :mod:`scenarios.loader` reports scenario configs::

    schema_version: 1
    name: syria-monthly
    data:
      path: ../../shared/data/views_syria_monthly_ged_1990_2024.csv   # relative to THIS file
      country: 220                       # ViEWS country_id or name (UCDP GED: name or GW code)
    origins: {first: 2014-01, last: 2023-04, step_months: 1}
    model: {name: latent_nb, window_months: 24, trend_damping: 0.8}
    forecast: {horizons: 12, draws: 1000, seed: 20241127}      # Monte Carlo draws per forecast
    sampler: {backend: nutpie, chains: 2, tune: 500, posterior_draws: 500, target_accept: 0.95}
    benchmarks: [zero, last, conflictology, bootstrap]
    quick: {origins: 3, draws: 200, tune: 200, posterior_draws: 100}

``draws`` means Monte Carlo draws and ``posterior_draws`` NUTS draws per chain, as in scenario
configs; the first layout's ``forecast.samples``, ``sampler.draws``, ``sampler.name`` and
``quick.samples`` are refused with their new names (:data:`RENAMED_KEYS`).

Paths: a relative ``data.path`` is resolved against the directory of the config file (as
``extends`` is in scenario configs), so a config works from any working directory. Without
``data.path`` the backtest reads the project's Syria file, ``../shared/data/...`` beside the
repository root (:data:`DEFAULT_DATA_FILE`).

An origin is a month (``YYYY-MM``): the forecast is made with the data of that month and
earlier, and horizon ``h`` is the month ``h`` months after it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from scenarios.months import month_id
from scenarios.yaml_source import ConfigError, config_hash, format_errors, locate, read_yaml

__all__ = [
    "BENCHMARK_NAMES",
    "DEFAULT_DATA_FILE",
    "BacktestConfig",
    "ConfigError",
    "LoadedBacktest",
    "load_backtest_config",
]

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_FILE = REPO_ROOT.parent / "shared" / "data" / "views_syria_monthly_ged_1990_2024.csv"
"""The Syria country-month file used when a config gives no ``data.path``."""

BENCHMARK_NAMES = ("zero", "last", "conflictology", "bootstrap")
"""The ViEWS benchmark models (:data:`models.evaluation.reference_forecasts.REFERENCE_MODELS`)."""

MODEL_NAMES = ("latent_nb",)
"""Our models that the backtest can run (a closed set: no import paths in configs)."""


def _year_month(value: object) -> str:
    """Accept ``YYYY-MM`` (YAML gives a string) or a date (``YYYY-MM-01`` parses as one);
    return ``YYYY-MM``."""
    if isinstance(value, dt.date):
        if value.day != 1:
            raise ValueError(f"an origin is a month: give YYYY-MM, not the day {value}")
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = dt.datetime.strptime(text, "%Y-%m")
        except ValueError:
            raise ValueError(f"expected a month as YYYY-MM, got {value!r}") from None
        return f"{parsed.year:04d}-{parsed.month:02d}"
    raise ValueError(f"expected a month as YYYY-MM, got {value!r}")


YearMonth = Annotated[str, BeforeValidator(_year_month)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSection(_Section):
    path: str | None = None
    """CSV or parquet: a ViEWS country-month file or a UCDP GED event file (relative to the
    config file's directory). None: :data:`DEFAULT_DATA_FILE`."""
    country: int | str = 220
    """The unit to forecast: ViEWS ``country_id`` or name (ViEWS file), GW code or name (GED)."""

    @field_validator("country")
    @classmethod
    def _country_given(cls, v):
        if isinstance(v, str) and not v.strip():
            raise ValueError("give a country id or name")
        return v


class OriginsSection(_Section):
    first: YearMonth
    last: YearMonth
    step_months: int = Field(default=1, ge=1, le=24)

    @model_validator(mode="after")
    def _ordered(self):
        if month_id(self.last) < month_id(self.first):
            raise ValueError(f"last ({self.last}) is before first ({self.first})")
        return self

    def month_ids(self) -> list[int]:
        """Origins as ViEWS month indices, from ``first`` to ``last`` in steps."""
        return list(range(month_id(self.first), month_id(self.last) + 1, self.step_months))


class ModelSection(_Section):
    name: Literal["latent_nb"] = "latent_nb"
    window_months: int = Field(default=24, ge=6, le=120)
    """Months of history the model is fitted to at each origin (a fixed window, so the model is
    compiled once and refitted with new data)."""
    trend_damping: float = Field(default=0.8, ge=0.0, le=1.0)
    """Per-month damping of the trend when forecasting (1 = linear trend, 0 = no trend)."""
    december_effect: bool = False
    """Estimate a December reporting factor (deaths recorded in December vs the intensity) at
    each origin from the window's Decembers, and apply it to forecast Decembers."""
    ar_anchor: Literal["start", "mean"] = "start"
    """How the AR(1) deviations of the latent intensity are tied to the level: ``start`` (the
    path starts at one innovation, the event model's form) or ``mean`` (the path is centred on
    its window mean, so the level parameter is identified; see
    :func:`models.inference.latent.latent_intensity`)."""


class ForecastSection(_Section):
    """Monte Carlo settings: ``draws`` always means Monte Carlo draws (as in scenario configs)."""

    horizons: int = Field(default=12, ge=1, le=36)
    """Months ahead, 1..horizons."""
    draws: int = Field(default=1000, ge=100, le=20_000)
    """Monte Carlo draws per forecast for every model (ViEWS uses 1000; the binned log score
    depends on it)."""
    seed: int = Field(default=0, ge=0)


class SamplerSection(_Section):
    """NUTS settings of the fit at each origin (the keys of a scenario config's ``sampler:``)."""

    backend: Literal["nutpie"] = "nutpie"
    """Only nutpie: the model is compiled once and refitted with new data at each origin."""
    chains: int = Field(default=2, ge=2, le=8)
    """At least 2, so R-hat can be computed for every fit."""
    tune: int = Field(default=500, ge=50, le=20_000)
    """Warm-up draws per chain."""
    posterior_draws: int = Field(default=500, ge=50, le=20_000)
    """NUTS draws kept per chain."""
    target_accept: float = Field(default=0.95, gt=0.5, lt=1.0)


class QuickSection(_Section):
    """Settings of ``--quick`` (CI, tests): a few origins spread over the range, small draws."""

    origins: int = Field(default=3, ge=1, le=50)
    draws: int = Field(default=200, ge=100, le=20_000)
    """Monte Carlo draws per forecast (replaces ``forecast.draws``)."""
    tune: int = Field(default=200, ge=50, le=20_000)
    posterior_draws: int = Field(default=100, ge=50, le=20_000)
    """NUTS draws per chain (replaces ``sampler.posterior_draws``)."""


_DRAWS = "'draws' means Monte Carlo draws in every config"
RENAMED_KEYS = {
    ("forecast", "samples"): ("draws", f"Monte Carlo draws per forecast; {_DRAWS}"),
    ("sampler", "draws"): ("posterior_draws", f"NUTS draws per chain; {_DRAWS}"),
    ("sampler", "name"): ("backend", "as in scenario configs"),
    ("quick", "samples"): ("draws", f"Monte Carlo draws of --quick; {_DRAWS}"),
}
"""Keys of the first backtest layout -> (new name in the same section, why), so that ``draws``
means Monte Carlo draws and ``posterior_draws`` NUTS draws per chain in every config. An old
``quick:`` section (one with ``samples``) also has the old ``draws``, NUTS draws: it is told to
use ``posterior_draws``. A config with an old key gets one line per old key (exit 2)."""


def _renamed_keys(data: dict) -> list[str]:
    """One line per old key in ``data``: ``section.key: renamed to 'section -> new' (why)``."""
    def section(name):
        return data.get(name) if isinstance(data.get(name), dict) else {}

    old = [(sec, key, *RENAMED_KEYS[sec, key]) for sec, key in RENAMED_KEYS
           if key in section(sec)]
    if "samples" in section("quick") and "draws" in section("quick"):
        old.append(("quick", "draws", "posterior_draws", "beside 'samples', 'draws' meant NUTS "
                    f"draws per chain; {_DRAWS}"))
    return [f"{sec}.{key}: renamed to '{sec} -> {new}' ({why})" for sec, key, new, why in old]


class BacktestConfig(_Section):
    schema_version: Literal[1]
    name: str = Field(min_length=1)
    description: str = ""
    data: DataSection = DataSection()
    origins: OriginsSection
    model: ModelSection = ModelSection()
    forecast: ForecastSection = ForecastSection()
    sampler: SamplerSection = SamplerSection()
    benchmarks: list[Literal["zero", "last", "conflictology", "bootstrap"]] = Field(
        default=list(BENCHMARK_NAMES), min_length=1)
    quick: QuickSection = QuickSection()

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data):
        if isinstance(data, dict):
            lines = _renamed_keys(data)
            if lines:
                raise ValueError("\n".join(lines))
        return data

    @field_validator("benchmarks")
    @classmethod
    def _unique(cls, v):
        dup = sorted({b for b in v if v.count(b) > 1})
        if dup:
            raise ValueError(f"listed more than once: {', '.join(dup)}")
        return v


@dataclass
class LoadedBacktest:
    config: BacktestConfig
    path: Path
    data_path: Path
    """``data.path`` resolved (absolute)."""
    lines: dict = field(repr=False)
    """Key path -> (file, line), to point data-dependent errors at the key that caused them."""
    resolved: dict = field(repr=False)

    @property
    def config_hash(self) -> str:
        return config_hash(self.resolved)

    def where(self, *key_path) -> str:
        """``file:line`` of a key (or of its nearest enclosing key)."""
        return locate(tuple(key_path), self.lines)


def load_backtest_config(path: str | Path) -> LoadedBacktest:
    """Read and validate a backtest config; raises :class:`ConfigError` listing every problem
    (``str(err)``: one line per problem). Checks that the data file exists; the data's contents
    are checked when the backtest reads them."""
    path = Path(path)
    data, lines = read_yaml(path)
    try:
        config = BacktestConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_errors(err, lines, BacktestConfig)) from None
    if config.data.path is None:
        data_path = DEFAULT_DATA_FILE
    else:
        data_path = (path.resolve().parent / config.data.path).resolve()
    if not data_path.is_file():
        where = locate(("data", "path"), lines)
        raise ConfigError([f"{where}: data -> path: file not found: {data_path} (relative paths "
                           "are resolved against the config file's directory)"])
    resolved = json.loads(config.model_dump_json())
    return LoadedBacktest(config=config, path=path.resolve(), data_path=data_path, lines=lines,
                          resolved=resolved)
