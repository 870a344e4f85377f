"""Priors of the monthly model ``latent_nb`` (:mod:`models.inference.monthly`), for any country.

The level and the trend come from the nowcast's rule (:mod:`models.inference.priors`), applied
at each backtest origin to the data up to it and read at monthly resolution; the rest are
judgements, the same for every country.

The rule at an origin month ``m`` (the backtest's history: months <= ``m``; the forecast is made
at the end of month ``m``):

* *Data.* The country's own monthly deaths up to ``m`` (the backtest's history, from the file
  the config names: the all-country panel by default, Syria's 1990-2024 file when named) and the
  cross-country *pool*: every country's months up to ``m`` in the all-country ViEWS panel
  (``views_cm_ged_all_countries_2018_2024.csv``, UCDP best deaths of all actors), the country's
  own included, as in the nowcast's rule. Nothing after ``m`` is read: the pool panel is cut at
  ``m`` before any statistic is computed.
* *intensity_at_origin* (deaths per month on the trend line at the origin; lognormal by its 90%
  interval): the 5% and 95% quantiles of monthly deaths over active months (>= 25 deaths), the
  nowcast's figures (:func:`models.inference.priors.derive_figures`, computed by the same
  function) in deaths per month instead of per day; the country's quantiles partially pooled
  with the pool's on the log scale, country weight ``n / (n + 24)``, ``n`` its active months.
* *trend* (change of log-intensity per month; normal, mean 0): the monthly model's trend is the
  slope of the log-intensity across its window (month-to-month changes are its AR(1)
  deviations), so the figure is the slope itself: the root-mean-square least-squares slope of
  ``log(1 + deaths)`` per month over blocks of ``window`` consecutive months (counted back from
  ``m``, non-overlapping, each with at least one active month); the country's partially pooled
  with the pool's on the log scale, weight ``n / (n + 24)`` with ``n`` its blocks (the pool alone
  below 2 blocks, as the nowcast's rule does for a spread). The nowcast's own trend figure, the
  sd of month-on-month changes (2.5 x, per day), measures what the monthly model gives to its
  AR(1) innovations and count noise; used as a trend sd per month it would be ~2 (a factor 7 a
  month), not a trend.
* *Fallbacks*, each with a message in the fit's record: a country with no active month up to
  ``m``: the pool alone; no pool (the panel absent, or no month of it up to ``m``, as for
  Syria's origins before 2018): the country's own figures alone; neither: :data:`WEAK_PRIORS`.
* persistence, innovation_sd, dispersion, december_excess: :data:`JUDGEMENT_PRIORS`, monthly
  judgements, the same for every country and origin (the nowcast's are daily).

The pool's figures at a month are computed once per panel and month (cached), so a
cross-country run derives them once per origin; the panel is read once per process.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from models.inference.priors import ACTIVE_DEATHS, DAYS_PER_MONTH, MONTHLY_K, Prior
from models.inference.priors import _monthly_figures as rule_monthly_figures
from scenarios.distributions import Beta, LogNormal, Normal

__all__ = ["JUDGEMENT_PRIORS", "WEAK_PRIORS", "MonthlyPriorRule", "MonthlyPriors",
           "load_pool_panel", "persistence_prior", "window_slopes"]

JUDGEMENT_PRIORS: dict[str, Prior] = {
    "persistence": Prior(
        Beta(dist="beta", low=0.2, high=0.9),
        "Month-to-month AR(1) coefficient of deviations from the trend line: deviations that "
        "last from weeks to several months. Kept below ~0.95 on purpose: with persistence near "
        "1 the deviations become a second trend, the level and the deviations are not "
        "identified in a two-year window, and NUTS diverges (seen in trial fits). Judgement, "
        "the same for every country.",
    ),
    "innovation_sd": Prior(
        LogNormal(dist="lognormal", low=0.05, high=1.0),
        "sd of monthly log-intensity innovations: from months that resemble each other (5%) to "
        "months that differ by a factor 2.7. Judgement, wide, the same for every country (the "
        "pooled sd of month-on-month changes of log(1 + deaths), ~0.75, innovations and count "
        "noise together, lies inside it).",
    ),
    "dispersion": Prior(
        LogNormal(dist="lognormal", low=1.0, high=30.0),
        "Negative-binomial size of a month's count given its intensity: from strongly "
        "clustered months (size 1: a few mass-casualty events dominate) to near-Poisson noise "
        "around the intensity (size 30: ~18% sd for large counts). Judgement, wide.",
    ),
    "december_excess": Prior(
        Normal(dist="normal", mean=0.0, sd=1.0),
        "Log-ratio of a December's recorded deaths to the intensity (used with "
        "model.december_effect only, a data artefact of one series: deaths dated only to their "
        "year placed at its end; docs/backtest-tuning.md). sd 1 on the log scale: a year-end "
        "factor between 1/5 and 5 at 90%, either sign, so windows without it estimate ~0.",
    ),
}
"""Judgement priors of ``latent_nb`` at monthly resolution, the same for every country and
origin: nothing observed enters them."""

WEAK_PRIORS: dict[str, Prior] = {
    "intensity_at_origin": Prior(
        LogNormal(dist="lognormal", low=1.0, high=20_000.0),
        "Deaths per month on the trend line at the origin. Weak and data-free: 90% interval "
        "from a nearly quiet month (1) to the worst country-months in UCDP data (~20,000); "
        "log-scale sd 3.0, so the window's counts decide the level.",
    ),
    "trend": Prior(
        Normal(dist="normal", mean=0.0, sd=0.03),
        "Change of log-intensity per month. Weak and data-free: sd 0.03, a trend of 1 sd "
        "changes the level by a factor 2 in two years.",
    ),
}
"""The data-free level and trend priors (``model.priors: weak``, and the rule's last fallback)."""


def persistence_prior(low: float, high: float) -> Prior:
    """The persistence judgement with another 90% interval (config ``model.persistence``)."""
    return Prior(Beta(dist="beta", low=low, high=high),
                 f"Month-to-month AR(1) coefficient of deviations from the trend line, 90% in "
                 f"({low:g}, {high:g}): judgement set in the backtest config, the same for every "
                 "country.")


@lru_cache(maxsize=4)
def load_pool_panel(path: str) -> pd.DataFrame | None:
    """The all-country panel as ``iso3, month_id, ged_os, deaths`` (read once per path), or
    None if the file does not exist."""
    from models.data import load_views_country_month
    from scenarios.geography import countries

    if not Path(path).is_file():
        return None
    panel = load_views_country_month(path)
    iso_of = {c.views_id: c.iso3 for c in countries().values()}
    panel["iso3"] = panel["country_id"].map(iso_of).fillna(panel["country_id"].astype(str))
    return panel[["iso3", "month_id", "ged_os", "deaths"]].copy()


def window_slopes(months: pd.DataFrame, window: int, through: int) -> np.ndarray:
    """Least-squares slopes of ``log(1 + deaths)`` per month over non-overlapping blocks of
    ``window`` consecutive months counted back from month ``through`` (rows ``iso3, month_id,
    deaths``), per country, keeping complete blocks with at least one active month."""
    t = np.arange(window) - (window - 1) / 2
    out = []
    for _, g in months[months["month_id"] <= through].groupby("iso3", sort=False):
        series = g.set_index("month_id")["deaths"]
        end = int(series.index.max())
        while True:
            block = series.reindex(range(end - window + 1, end + 1))
            if block.isna().any():
                break
            y = block.to_numpy(dtype=float)
            if (y >= ACTIVE_DEATHS).any():
                out.append(float(t @ (np.log1p(y) - np.log1p(y).mean()) / (t @ t)))
            end -= window
    return np.asarray(out)


def _rms(x: np.ndarray) -> float | None:
    return float(np.sqrt(np.mean(np.square(x)))) if len(x) >= 2 else None


def _all_months_figures(months: pd.DataFrame, prefix: str = "") -> dict:
    """``level_months="all"``: the 5% and 95% quantiles of max(1, deaths) over every month of
    the countries with an active month (rows ``iso3, month_id, deaths``), in the keys of the
    rule's figures (per day) so that both readings share the pooling."""
    active = months.groupby("iso3")["deaths"].transform("max") >= ACTIVE_DEATHS
    x = np.maximum(1.0, months.loc[active, "deaths"].to_numpy(dtype=float)) / DAYS_PER_MONTH
    n = len(x)
    out = {"n_active": n, "daily_q05": float(np.quantile(x, 0.05)) if n else None,
           "daily_q95": float(np.quantile(x, 0.95)) if n else None}
    if prefix:
        out["n_countries"] = int(months.loc[active, "iso3"].nunique())
    return {prefix + k: v for k, v in out.items()}


@lru_cache(maxsize=512)
def _pool_figures(path: str, through: int, window: int,
                  level_months: str = "active") -> dict | None:
    """The pool's figures up to month ``through`` (None: no pool panel or no month of it)."""
    panel = load_pool_panel(path)
    if panel is None:
        return None
    upto = panel[panel["month_id"] <= through]
    if upto.empty:
        return None
    fig = (rule_monthly_figures(upto, prefix="pool_") if level_months == "active"
           else _all_months_figures(upto, prefix="pool_"))
    slopes = window_slopes(upto, window, through)
    fig |= {"pool_slope_rms": _rms(slopes), "pool_n_blocks": len(slopes)}
    return fig


@dataclass(frozen=True)
class MonthlyPriors:
    """The level and trend priors of one fit, with the figures, the source of each and the
    fallback messages."""

    priors: dict[str, Prior]
    figures: dict = field(default_factory=dict)
    source: dict[str, str] = field(default_factory=dict)
    messages: tuple[str, ...] = ()

    def record(self) -> dict:
        """Flat columns for the backtest's ``fits.csv``."""
        i, t = self.priors["intensity_at_origin"].spec, self.priors["trend"].spec
        return {"prior_intensity_low": i.low, "prior_intensity_high": i.high,
                "prior_trend_sd": t.sd, "prior_intensity_source": self.source.get("intensity"),
                "prior_trend_source": self.source.get("trend"),
                "prior_messages": "; ".join(self.messages)}


def _combine(own: tuple | None, pool: tuple | None, w: float) -> tuple[tuple | None, str]:
    """Partial pooling of figures on the log scale, ``exp(w log c + (1 - w) log p)`` for each
    pair, and how: the pool alone when the country has none (or ``w`` is 0), the country alone
    when the pool has none."""
    if pool is None:
        return own, "the country alone (no pool figure)"
    if own is None or w == 0:
        return pool, "the pool alone"
    return (tuple(math.exp(w * math.log(c) + (1 - w) * math.log(p))
                  for c, p in zip(own, pool, strict=True)),
            f"partial pooling, country weight {w:.2f}")


def _positive(*values) -> tuple | None:
    return values if all(v is not None and v > 0 for v in values) else None


class MonthlyPriorRule:
    """``rule(history)`` -> :class:`MonthlyPriors` at the origin ``history``'s last month.

    ``pool_path``: the all-country panel of the pool; ``unit``: the country's label (ISO code)
    in messages; ``window``: the model's window (the trend's block length); ``country_data``:
    the file the history comes from (for the bases)."""

    def __init__(self, pool_path: str | Path, *, unit: str, window: int,
                 country_data: str = "", level_months: str = "active"):
        if level_months not in ("active", "all"):
            raise ValueError(f"level_months must be 'active' or 'all', got {level_months!r}")
        self.level_months = level_months
        self.pool_path = str(pool_path)
        self.unit = str(unit)
        self.window = int(window)
        self.country_data = country_data or "the backtest's data"

    def __call__(self, history: pd.DataFrame) -> MonthlyPriors:
        from models.data import month_date

        through = int(history["month_id"].max())
        at = f"{month_date(through):%Y-%m}"
        own = history[["month_id", "deaths"]].assign(iso3=self.unit, ged_os=np.nan)
        own = own[own["month_id"] <= through]
        fig = {k: v for k, v in (rule_monthly_figures(own) if self.level_months == "active"
                                 else _all_months_figures(own)).items()
               if k in ("n_active", "daily_q05", "daily_q95")}
        slopes = window_slopes(own, self.window, through)
        fig |= {"n_blocks": len(slopes), "slope_rms": _rms(slopes)}
        pool = _pool_figures(self.pool_path, through, self.window, self.level_months)
        fig |= pool or {}
        n, nb = fig["n_active"], fig["n_blocks"]
        w_i = n / (n + MONTHLY_K) if n >= 1 else 0.0
        w_t = nb / (nb + MONTHLY_K) if nb >= 2 else 0.0
        pool = pool or {}
        messages = [] if pool else [
            f"{self.unit}: no month of the pool panel ({self.pool_path}) up to {at}: level and "
            "trend priors from the country's own data alone"]
        if pool and n == 0:
            messages.append(f"{self.unit}: no active month (>= {ACTIVE_DEATHS} deaths) up to {at} "
                            f"in {self.country_data}: the level prior from the cross-country "
                            "pool alone")
        month = lambda k: None if fig.get(k) is None else fig[k] * DAYS_PER_MONTH  # noqa: E731
        own_i = _positive(month("daily_q05"), month("daily_q95")) if n else None
        pool_i = _positive(month("pool_daily_q05"), month("pool_daily_q95"))
        (lo, hi), how_i = _combine(own_i, pool_i, w_i) if own_i or pool_i else ((0, 0), "weak")
        own_t = _positive(fig["slope_rms"]) if nb >= 2 else None
        (sd,), how_t = (_combine(own_t, _positive(pool.get("pool_slope_rms")), w_t)
                        if own_t or pool.get("pool_slope_rms") else ((0,), "weak"))
        source = {"intensity": how_i, "trend": how_t}
        what = (f"active months (>= {ACTIVE_DEATHS})" if self.level_months == "active" else
                f"all months (at least 1) of countries with an active month (>= {ACTIVE_DEATHS})")
        if not hi > lo > 0:
            messages.append(f"{self.unit}: no active months to derive a level prior from up to "
                            f"{at}: the weak data-free level prior")
            intensity, source["intensity"] = WEAK_PRIORS["intensity_at_origin"], "weak"
        else:
            intensity = Prior(LogNormal(dist="lognormal", low=lo, high=hi), (
                f"Deaths per month on the trend line at the origin {at}. Rule: 5% and 95% "
                f"quantiles of monthly deaths over {what} up to the origin; {self.unit}: {n} months; pool: {fig.get('pool_n_active', 0)} months of "
                f"{fig.get('pool_n_countries', 0)} countries; {how_i} (log scale, weight "
                f"n/(n+{MONTHLY_K})): {lo:.3g}-{hi:.3g}."))
        if not sd > 0:
            messages.append(f"{self.unit}: fewer than 2 blocks of {self.window} months up to "
                            f"{at}, here and in the pool: the weak data-free trend prior")
            trend, source["trend"] = WEAK_PRIORS["trend"], "weak"
        else:
            trend = Prior(Normal(dist="normal", mean=0.0, sd=sd), (
                f"Change of log-intensity per month at the origin {at}. Rule: root-mean-square "
                f"least-squares slope of log(1 + deaths) over blocks of {self.window} months "
                f"with an active month, up to the origin; {self.unit}: {nb} blocks; pool: "
                f"{fig.get('pool_n_blocks', 0)} blocks; {how_t} (log scale, weight "
                f"n/(n+{MONTHLY_K}), n >= 2): sd {sd:.3g}."))
        return MonthlyPriors({"intensity_at_origin": intensity, "trend": trend}, fig, source,
                             tuple(messages))
