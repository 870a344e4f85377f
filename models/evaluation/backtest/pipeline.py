"""A backtest config, run as a library call: the data it names, the forecaster it describes,
the rolling-origin loop, and the run's description for the outputs::

    loaded = load_backtest_config("configs/backtest-syria.yaml")
    run = backtest_from_config(loaded, quick=True)
    write_outputs(run.result, "results/backtest-syria-quick", run.meta)

A config with ``data.countries`` runs every country in turn with one compiled model
(:func:`backtest_countries`; :func:`models.evaluation.backtest.write.write_country_outputs`).
Each country's priors come from :class:`models.inference.monthly.MonthlyPriorRule` with
``model.priors: rule`` (the default).

Problems the data reveal (a country not in the file, origins the data cannot support) are
raised as :class:`scenarios.yaml_source.ConfigError` at the config key to blame.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from models.data import DataError, load_monthly_deaths
from models.evaluation.backtest.loop import (
    BacktestResult,
    BacktestSettings,
    Forecaster,
    OriginRangeError,
    check_history,
    run_backtest,
)
from models.inference.monthly import MODEL_NAME, LatentNBForecaster, MonthlyPriorRule
from scenarios.backtest_config import BacktestConfig, LoadedBacktest
from scenarios.geography import countries as country_table
from scenarios.geography import resolve_country
from scenarios.yaml_source import ConfigError

__all__ = ["BacktestRun", "CountriesRun", "Unit", "backtest_countries", "backtest_from_config",
           "forecaster_from_config", "load_backtest_data", "prior_rule", "run_meta",
           "sampler_settings", "units"]


@dataclass
class BacktestRun:
    result: BacktestResult
    meta: dict
    """The run's description (:func:`run_meta`) with ``seconds``: what the writer records."""


@dataclass(frozen=True)
class Unit:
    """One country of a config: ``label`` (its ISO alpha-3 code where known, else as given),
    the codes, and the config key that names it (for errors)."""

    label: str
    given: int | str
    iso3: str | None
    views_id: int | None
    gw: int | None
    key: tuple

    def query(self, data_path) -> int | str:
        """What :func:`models.data.load_monthly_deaths` selects the unit by in ``data_path``:
        the ViEWS id (ViEWS files) or the GW code (UCDP GED files) of an ISO code, else the id or
        name as given."""
        if self.iso3 is None:
            return self.given
        return self.gw if _is_ged_file(data_path) else self.views_id


def _is_ged_file(path) -> bool:
    """True if the file has UCDP GED event columns (``date_start``), read from its header."""
    from pathlib import Path

    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        names = pq.read_schema(path).names
    else:
        names = list(pd.read_csv(path, nrows=0).columns)
    return "date_start" in names


def units(loaded: LoadedBacktest) -> list[Unit]:
    """The config's countries (``data.country`` or ``data.countries``) with their codes."""
    by_views = {c.views_id: c for c in country_table().values()}
    data = loaded.config.data
    keys = ([("data", "country")] if data.country is not None
            else [("data", "countries", i) for i in range(len(data.countries))])
    out = []
    for key, given in zip(keys, data.units(), strict=True):
        if isinstance(given, int):
            c = by_views.get(given)
        else:
            c = resolve_country(given) if given in country_table() else None
        out.append(Unit(label=c.iso3 if c else str(given), given=given,
                        iso3=c.iso3 if c else None, views_id=c.views_id if c else None,
                        gw=c.gw if c else None, key=key))
    return out


def _unit(loaded: LoadedBacktest, unit: Unit | None) -> Unit:
    if unit is not None:
        return unit
    all_units = units(loaded)
    if len(all_units) > 1:
        raise ValueError("the config lists several countries: give the unit "
                         "(or use backtest_countries)")
    return all_units[0]


def load_backtest_data(loaded: LoadedBacktest, *, quick: bool = False,
                       unit: Unit | None = None) -> pd.DataFrame:
    """The unit's monthly deaths (``data``; ``unit``: one of :func:`units`, default the config's
    one country), checked against the origins: a country missing from the file or origins
    without enough history raise :class:`ConfigError` at their key; other data problems raise
    :class:`models.data.DataError`."""
    c = loaded.config
    unit = _unit(loaded, unit)
    try:
        deaths = load_monthly_deaths(loaded.data_path, country=unit.query(loaded.data_path))
    except DataError as e:
        if "no rows for country" in str(e) or "no events for country" in str(e):
            codes = (f"{unit.label} (ViEWS country_id {unit.views_id}, GW {unit.gw}): "
                     if unit.iso3 and isinstance(unit.given, str) else "")
            raise ConfigError([f"{loaded.where(*unit.key)}: {' -> '.join(map(str, unit.key))}: "
                               f"{codes}{e}"]) from None
        raise
    try:
        check_history(deaths, BacktestSettings.from_config(loaded, quick=quick),
                      c.model.window_months)
    except OriginRangeError as e:
        raise ConfigError([f"{loaded.where('origins', e.key)}: {e}"
                           + (f" ({unit.label})" if c.data.countries else "")]) from None
    return deaths


def prior_rule(loaded: LoadedBacktest, unit: Unit) -> MonthlyPriorRule | None:
    """The unit's prior rule (``model.priors: rule``), or None (``weak``: fixed priors)."""
    if loaded.config.model.priors != "rule":
        return None
    return MonthlyPriorRule(loaded.pool_path, unit=unit.label,
                            window=loaded.config.model.window_months,
                            country_data=loaded.data_path.name,
                            level_months=loaded.config.model.level_prior_months)


def sampler_settings(config: BacktestConfig, *, quick: bool = False) -> dict:
    """NUTS settings of one fit (``sampler``, with ``quick`` applied): ``chains, tune,
    posterior_draws, target_accept``."""
    return {"chains": config.sampler.chains,
            "tune": config.quick.tune if quick else config.sampler.tune,
            "posterior_draws": (config.quick.posterior_draws if quick
                                else config.sampler.posterior_draws),
            "target_accept": config.sampler.target_accept}


def forecaster_from_config(config: BacktestConfig, *, quick: bool = False,
                           rule: MonthlyPriorRule | None = None) -> LatentNBForecaster:
    """``latent_nb`` as the config's ``model`` and ``sampler`` describe it (not compiled yet),
    with the prior rule ``rule`` (:func:`prior_rule`; None: fixed priors)."""
    m = config.model
    priors = None
    if tuple(m.persistence) != (0.2, 0.9):
        from models.inference.monthly_priors import persistence_prior

        priors = {"persistence": persistence_prior(*m.persistence)}
    return LatentNBForecaster(m.window_months, damping=m.trend_damping, priors=priors,
                              december_effect=m.december_effect, anchor=m.ar_anchor,
                              innovation_nu=(m.innovation_nu if m.innovations == "student_t"
                                             else None),
                              prior_rule=rule, **sampler_settings(config, quick=quick))


def run_meta(loaded: LoadedBacktest, *, quick: bool, started: float,
             unit: Unit | None = None) -> dict:
    """What ``run.json`` and the summary say about the run (timings are added by the run)."""
    c = loaded.config
    unit = unit or units(loaded)[0]
    return {"name": c.name, "config_path": str(loaded.path), "config_hash": loaded.config_hash,
            "config": loaded.resolved, "data_path": str(loaded.data_path),
            "country": unit.label, "iso3": unit.iso3, "quick": quick,
            "window_months": c.model.window_months, "trend_damping": c.model.trend_damping,
            "december_effect": c.model.december_effect, "ar_anchor": c.model.ar_anchor,
            "innovations": (f"student_t (nu {c.model.innovation_nu:g})"
                            if c.model.innovations == "student_t" else "normal"),
            "priors": (c.model.priors if c.model.priors == "weak"
                       else f"rule (level over {c.model.level_prior_months} months)"), "pool_path": str(loaded.pool_path),
            "sampler": sampler_settings(c, quick=quick), "seed": c.forecast.seed,
            "started": started}


def _compile(forecaster, say) -> float:
    """Compile ``latent_nb`` up front (timed apart from the fits); NaN for a stand-in."""
    if not hasattr(forecaster, "model"):
        return float("nan")
    forecaster.model.compiled()
    say(f"compiled in {forecaster.model.compile_seconds:.1f} s")
    return forecaster.model.compile_seconds


def backtest_from_config(loaded: LoadedBacktest, *, quick: bool = False,
                         deaths: pd.DataFrame | None = None,
                         forecaster: Forecaster | None = None,
                         progress: Callable[[str], None] | None = None,
                         started: float | None = None, unit: Unit | None = None,
                         compiled: bool = False) -> BacktestRun:
    """Run the backtest a loaded config describes for one country (``quick``: its ``quick:``
    settings; ``unit``: one of :func:`units`, default the config's one country).

    ``deaths``: the data if already read (:func:`load_backtest_data`); ``forecaster``: a
    stand-in for ``latent_nb`` (default :func:`forecaster_from_config` with the unit's
    :func:`prior_rule`, compiled here unless ``compiled``); ``progress``: called with one status
    line at a time; ``started``: ``time.perf_counter()`` at the start of the run (default now),
    for the whole run's duration."""
    started = time.perf_counter() if started is None else started
    say = progress or (lambda msg: None)
    c = loaded.config
    unit = _unit(loaded, unit)
    settings = BacktestSettings.from_config(loaded, quick=quick)
    if deaths is None:
        deaths = load_backtest_data(loaded, quick=quick, unit=unit)
    if forecaster is None:
        forecaster = forecaster_from_config(c, quick=quick, rule=prior_rule(loaded, unit))
    compile_seconds = float("nan")
    if not compiled:
        say(f"backtest '{c.name}' ({unit.label}): {len(settings.origins)} origins, horizons "
            f"1-{settings.horizons}, {settings.draws} draws; compiling {MODEL_NAME} (window "
            f"{c.model.window_months} months)...")
        compile_seconds = _compile(forecaster, say)
    result = run_backtest(deaths, settings, forecaster, window=c.model.window_months,
                          progress=say)
    meta = run_meta(loaded, quick=quick, started=started, unit=unit)
    meta["seconds"] = {"compile": compile_seconds, "origins": result.seconds["origins"]}
    return BacktestRun(result=result, meta=meta)


@dataclass
class CountriesRun:
    runs: dict[str, BacktestRun]
    """One run per country, by label (ISO alpha-3 code), in the config's order."""
    meta: dict
    """The whole run's description (:func:`run_meta` without a country, ``countries``,
    ``seconds``)."""


def backtest_countries(loaded: LoadedBacktest, *, quick: bool = False,
                       only: list[str] | None = None,
                       forecaster: Forecaster | None = None,
                       progress: Callable[[str], None] | None = None,
                       started: float | None = None) -> CountriesRun:
    """Every country of the config in turn (``only``: a subset of the labels), one compiled
    ``latent_nb`` for all (each country with its own :func:`prior_rule`), sequentially: the
    NUTS chains of one fit already use the cores (``docs/cross-country-backtest.md``)."""
    started = time.perf_counter() if started is None else started
    say = progress or (lambda msg: None)
    c = loaded.config
    todo = [u for u in units(loaded) if only is None or u.label in only]
    data = {u.label: load_backtest_data(loaded, quick=quick, unit=u) for u in todo}
    settings = BacktestSettings.from_config(loaded, quick=quick)
    say(f"backtest '{c.name}': {len(todo)} countries x {len(settings.origins)} origins, horizons "
        f"1-{settings.horizons}, {settings.draws} draws; compiling {MODEL_NAME} (window "
        f"{c.model.window_months} months)...")
    base = forecaster if forecaster is not None else forecaster_from_config(c, quick=quick)
    compile_seconds = _compile(base, say)
    runs = {}
    for i, u in enumerate(todo):
        fc = (base.with_prior_rule(prior_rule(loaded, u)) if hasattr(base, "with_prior_rule")
              else base)
        tag = f"{u.label} ({i + 1}/{len(todo)})"
        runs[u.label] = backtest_from_config(
            loaded, quick=quick, deaths=data[u.label], forecaster=fc, unit=u, compiled=True,
            progress=lambda msg, tag=tag: say(f"{tag} {msg}"), started=started)
    meta = run_meta(loaded, quick=quick, started=started) | {
        "country": None, "iso3": None, "countries": list(runs)}
    meta["seconds"] = {"compile": compile_seconds,
                       "origins": sum(r.meta["seconds"]["origins"] for r in runs.values())}
    return CountriesRun(runs=runs, meta=meta)
