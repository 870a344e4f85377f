"""Config of the rolling-origin backtest (``python -m models.backtest CONFIG --out DIR``).

A YAML file, validated strictly (unknown keys are errors, with a "did you mean" hint); every
problem is reported at once, one line each, naming the file, the line of the offending key, the
key path and what is expected, the way :mod:`scenarios.loader` reports scenario configs::

    schema_version: 1
    name: sudan-monthly
    data:
      country: SDN                       # ISO alpha-3 (or a ViEWS country_id, or a name)
      # path: ...                        # default: the all-country ViEWS panel
    origins: {first: 2020-01, last: 2023-04, step_months: 1}
    model: {name: latent_nb, window_months: 24, trend_damping: 0.8, priors: rule}
    forecast: {horizons: 12, draws: 1000, seed: 20241127}      # Monte Carlo draws per forecast
    sampler: {backend: nutpie, chains: 4, tune: 1000, posterior_draws: 1000, target_accept: 0.99}
    benchmarks: [zero, last, conflictology, bootstrap]
    quick: {origins: 3, draws: 200, tune: 200, posterior_draws: 100}

A cross-country backtest names a list instead (``data.countries: [AFG, CMR, ...]``): the same
settings are run for every country in turn and scored per country
(``docs/cross-country-backtest.md``). ``data.country`` and ``data.countries`` exclude each other.

Countries: an ISO 3166-1 alpha-3 code (any case; unknown codes get a "did you mean"), a ViEWS
``country_id`` (an integer) or a name; a name the shipped code table knows
(:mod:`scenarios.geography`) is replaced by its ISO code, another name is matched against the
data file's own country names.

``draws`` means Monte Carlo draws and ``posterior_draws`` NUTS draws per chain, as in scenario
configs; the first layout's ``forecast.samples``, ``sampler.draws``, ``sampler.name`` and
``quick.samples`` are refused with their new names (:data:`RENAMED_KEYS`).

Paths: a relative ``data.path`` (and ``data.pool``) is resolved against the directory of the
config file (as ``extends`` is in scenario configs), so a config works from any working
directory. Without ``data.path`` the backtest reads the all-country ViEWS panel,
``../shared/data/views_cm_ged_all_countries_2018_2024.csv`` beside the repository root
(:data:`DEFAULT_DATA_FILE`), which holds every country; a longer file of one country (e.g.
Syria's 1990-2024 file) is used when named. ``data.pool`` is the all-country panel the priors'
cross-country pool is drawn from (default the same panel).

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

from scenarios.geography import countries as country_table
from scenarios.geography import resolve_country
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
DEFAULT_DATA_FILE = (REPO_ROOT.parent / "shared" / "data"
                     / "views_cm_ged_all_countries_2018_2024.csv")
"""The all-country ViEWS panel (2018-01..2024-04), used when a config gives no ``data.path``
and as the priors' cross-country pool when it gives no ``data.pool``."""

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


def _country(value: object) -> int | str:
    """A country as given: an ISO alpha-3 code (returned in upper case; unknown: ValueError with
    a "did you mean"), a ViEWS ``country_id`` (int) or a name (the table's ISO code if the shipped
    table knows the name, else the name, matched against the data file later)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"give an ISO alpha-3 code, a ViEWS country_id or a name, got {value!r}")
    if isinstance(value, int):
        return value
    text = value.strip()
    if not text:
        raise ValueError("give a country id or name")
    if len(text) == 3 and text.isalpha():
        return resolve_country(text).iso3  # ValueError with "did you mean"
    by_name = {c.name.casefold(): c.iso3 for c in country_table().values()}
    return by_name.get(text.casefold(), text)


Country = Annotated[int | str, BeforeValidator(_country)]


class DataSection(_Section):
    path: str | None = None
    """CSV or parquet: a ViEWS country-month file or a UCDP GED event file (relative to the
    config file's directory). None: :data:`DEFAULT_DATA_FILE` (every country)."""
    country: Country | None = None
    """The unit to forecast: ISO alpha-3 code, ViEWS ``country_id`` or name."""
    countries: list[Country] | None = Field(default=None, min_length=1)
    """Several units, each backtested with the same settings and scored on its own."""
    pool: str | None = None
    """The all-country ViEWS panel the priors' cross-country pool comes from (``model.priors:
    rule``). None: :data:`DEFAULT_DATA_FILE`."""

    @model_validator(mode="after")
    def _one_of(self):
        if (self.country is None) == (self.countries is None):
            raise ValueError("give either 'country' (one unit) or 'countries' (a list)")
        if self.countries is not None:
            dup = sorted({str(c) for c in self.countries if self.countries.count(c) > 1})
            if dup:
                raise ValueError(f"countries listed more than once: {', '.join(dup)}")
        return self

    def units(self) -> list[int | str]:
        """The countries to backtest, in the config's order."""
        return [self.country] if self.country is not None else list(self.countries)


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
    innovations: Literal["normal", "student_t"] = "normal"
    """Distribution of the AR(1) innovations of the log-intensity: ``normal`` or ``student_t``
    (heavy-tailed, ``innovation_nu`` degrees of freedom: a month of mass-casualty events is a
    rare large innovation, not a reason to widen every month)."""
    innovation_nu: float = Field(default=4.0, gt=2.0, le=100.0)
    """Degrees of freedom of ``student_t`` innovations (> 2: finite variance)."""
    persistence: tuple[float, float] = (0.2, 0.9)
    """90% interval of the Beta prior of the AR(1) persistence (a judgement, the same for every
    country; :data:`models.inference.monthly_priors.JUDGEMENT_PRIORS`)."""

    @field_validator("persistence")
    @classmethod
    def _interval(cls, v):
        if not 0 < v[0] < v[1] < 1:
            raise ValueError(f"give a 90% interval 0 < low < high < 1, got {list(v)}")
        return v
    level_prior_months: Literal["active", "all"] = "active"
    """Which months the rule's level quantiles are taken over: ``active`` (>= 25 deaths, the
    nowcast's rule: an episode is active) or ``all`` (every month, at least 1 death, of the
    countries with an active month: the monthly level runs through quiet spells too)."""
    priors: Literal["rule", "weak"] = "rule"
    """``rule``: the level and trend priors derived at each origin from the data up to it, the
    country's own partially pooled with the cross-country pool
    (:class:`models.inference.monthly.MonthlyPriorRule`); ``weak``: the fixed, data-free weak
    priors (:data:`models.inference.monthly.WEAK_PRIORS`)."""


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
    data: DataSection
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
    pool_path: Path
    """``data.pool`` resolved (absolute): the panel of the priors' cross-country pool (a named
    pool must exist; the default may be absent, and the priors then say so)."""
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
    base = path.resolve().parent
    data_path, pool_path = ((DEFAULT_DATA_FILE if p is None else (base / p).resolve())
                            for p in (config.data.path, config.data.pool))
    for key, file in (("path", data_path), ("pool", pool_path)):
        if not file.is_file() and (key == "path" or config.data.pool is not None):
            where = locate(("data", key), lines)
            raise ConfigError([f"{where}: data -> {key}: file not found: {file} (relative paths "
                               "are resolved against the config file's directory)"])
    resolved = json.loads(config.model_dump_json())
    return LoadedBacktest(config=config, path=path.resolve(), data_path=data_path,
                          pool_path=pool_path, lines=lines, resolved=resolved)
