"""Priors of the nowcast for any country, derived from data before the forecast origin by one rule.

The rule. *Before the origin only*: a country-month counts if it ended before the origin (last
day < origin); an annual UNHCR / IDMC figure for year y if published before it (Global Trends
appears in June of y+1: y counts from 1 July y+1). *Deaths*: UCDP "best" deaths of all actors
(ged_sb + ged_os + ged_ns) from the ViEWS panel ``views_cm_ged_all_countries_2018_2024.csv``
(CC BY 4.0, cite UCDP), for every country alike, Syria included: country and pool then share one
window and one definition (the longer Syria file has no non-state deaths before 2018, so its
"all actors" changes meaning there), and a conflict's recent regime is the relevant one. A caller
may pass a country's own monthly series instead (``country_months``: a UCDP GED or ViEWS file
named in a config); the pool stays the panel. *Active*: >= 25 deaths in the month. *Pool*: all
active country-months of all countries before the origin (the country's own included).
*Partial pooling*: a country statistic c from n observations and the pool's p give
w c + (1 - w) p, w = n / (n + k), on the log scale for positive quantities, on the share scale
for shares; k = 24 for monthly statistics, 5 for annual ones; n = 0 (n < 2 for a spread): the
pool alone, with a message.

* intensity_at_origin (deaths/day in one region on the origin day; lognormal by 90% interval):
  5% and 95% quantiles of daily deaths (monthly / 30.4) over active months, pooled, the upper end
  times BURST_FACTOR = 3. Country-wide rates as the reference for one region: an offensive's
  region can carry the whole toll; and monthly averages spread a battle of days over a month (a
  month's toll in ten days runs at three times its average). The factor was set after the Goma
  episode's reported toll (700 deaths in five days, before its origin) fell outside the prior
  predictive's 99% interval under the monthly quantiles alone: evidence, not outcomes; the same
  factor for every country.
* trend (normal, mean 0): sd = 2.5 x sd of the month-on-month change of log(1 + deaths) over
  pairs of consecutive active months / 30.4; pooled with n = pairs.
* persistence, innovation_sd, dispersion: no daily series is in the data, so judgements (the
  same everywhere); the basis reports the country's monthly lag-1 autocorrelation of
  log(1 + deaths) and monthly negative-binomial size as checks.
* civilian_share (beta by 90% interval): one-sided deaths are civilians by definition; UCDP does
  not separate civilians among state-based and non-state deaths, so a share of the rest, judged
  0.1 (front-line fighting) to 0.6 (bombardment of towns), is added: low = q10 + 0.1 (1 - q10),
  high = q90 + 0.6 (1 - q90), q10 and q90 the pooled quantiles of the monthly one-sided share.
* displacement_per_death (lognormal by 90% interval): per country-year with >= 100 deaths (all
  12 months in the panel), (max(0, rise of the IDP stock + IDP returns) + new refugees + new
  asylum seekers) / deaths; IDP stock from IDMC where it has both years, else UNHCR idps;
  returns (returned_idps) and flows from UNHCR. A lower bound (stocks net out unrecorded returns
  and repeated flight; adding the recorded returns closes part of that gap): interval [q05,
  3 x q95] clipped to [5, 5000], pooled. 10 x q95 put the upper end at the cap for Syria, Sudan
  and the pool (the cap, not the data, would set it); the factor 3 is a judgement.
* return rate (a reference for the lever daily_return_rate; no nowcast parameter): per
  country-year with >= 10,000 UNHCR IDPs at the end of the year before, -ln(1 - returned_idps /
  idps of the year before) / 365; median over years with recorded returns (zeros are mostly
  missing records), pooled.

Entry point :func:`derive_priors`; stored figures in :data:`STORED`; the printout:
``python -m models.priors SDN 2024-12-01 [--previous]`` (:mod:`models.cli.priors`).
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from scenarios.distributions import Beta, LogNormal, Normal

PANEL, IDMC = ("views_cm_ged_all_countries_2018_2024.csv",
               "idmc_conflict_idps_by_country_1990_2025.csv")
UNHCR_STOCKS, UNHCR_FLOWS = ("unhcr_displacement_by_origin_1990_2025.csv",
                             "unhcr_new_displacement_flows_by_origin_1990_2025.csv")
ACTIVE_DEATHS, DAYS_PER_MONTH, YEAR_MIN_DEATHS, RETURN_MIN_IDPS = 25, 30.4, 100, 10_000
MONTHLY_K, ANNUAL_K = 24, 5
BURST_FACTOR = 3.0
"""The intensity prior's upper end over the monthly 95% quantile (see the module docstring)."""
TREND_WIDENING = 2.5
CIVILIAN_AMONG_OTHER_DEATHS = (0.1, 0.6)
DISPLACEMENT_HIGH_FACTOR, DISPLACEMENT_CLIP = 3.0, (5.0, 5000.0)
POOL = "pool"

JUDGEMENT = {
    "persistence": (Beta(dist="beta", low=0.5, high=0.97), "Day-to-day AR(1) coefficient of "
                    "log-intensity deviations: a wide prior favouring persistence."),
    "innovation_sd": (LogNormal(dist="lognormal", low=0.05, high=0.3), "sd of daily "
                      "log-intensity innovations: from days alike (0.05) to days whose expected "
                      "toll differs by a third (0.3); larger swings are the counts' noise."),
    "dispersion": (LogNormal(dist="lognormal", low=1.0, high=20.0), "Negative-binomial size of "
                   "daily deaths given the intensity: from clustered (mass-casualty strikes, "
                   "size 1) to near-Poisson (20)."),
}
"""Judgement priors (no daily data to derive them from), the same for every country."""

DISPLACEMENT_REPORT_LOG_SD = 0.3
"""sd of log(reported / expected displaced): counting error and the randomness of flight, on top
of the reporting share. Fixed (not learnt from one report)."""


@dataclass(frozen=True)
class Prior:
    spec: LogNormal | Beta | Normal
    basis: str


@dataclass(frozen=True)
class DerivedPriors:
    """Priors of one country at one origin, with the figures they come from.

    ``source`` per parameter: "pool", "partial pooling with weight w" (the country's weight) or
    "judgement"; ``data_through``: last month and year of data used."""

    iso3: str
    origin: dt.date
    priors: dict[str, Prior]
    figures: dict[str, float | int | str | None]
    source: dict[str, str]
    messages: tuple[str, ...] = ()
    data_through: dict[str, str] = field(default_factory=dict)


def _sig(x, digits=4):
    return None if x is None or not math.isfinite(x) else float(f"{x:.{digits}g}")


_r3 = partial(_sig, digits=3)


def _q(values, p: float):
    import numpy as np

    return _sig(float(np.quantile(values, p))) if len(values) else None


def _weight(n: int, k: int, minimum: int = 1) -> float:
    return n / (n + k) if n >= minimum else 0.0


def _log_pool(c, p, w):
    return p if w == 0 else math.exp(w * math.log(c) + (1 - w) * math.log(p))


def _source(w: float) -> str:
    return "pool" if w == 0 else f"partial pooling with weight {w:.2f}"


# --- figures from the data ----------------------------------------------------------------------

def shared_data_dir() -> Path:
    """``../shared/data`` relative to the project root."""
    return Path(__file__).resolve().parents[3] / "shared" / "data"


def annual_years_known(origin: dt.date) -> int:
    """Last year whose annual UNHCR/IDMC figure was published before ``origin`` (June of y+1).
    >>> annual_years_known(dt.date(2024, 12, 1)), annual_years_known(dt.date(2024, 6, 30))
    (2023, 2022)"""
    return origin.year - 1 if origin.month >= 7 else origin.year - 2


def _monthly_figures(months, prefix: str = "") -> dict:
    """Statistics of a set of country-months (rows: iso3, month_id, ged_os, deaths) as
    ``{prefix + name: value}``; ``months`` are the months before the origin."""
    import numpy as np

    act = months[months["deaths"] >= ACTIVE_DEATHS].sort_values(["iso3", "month_id"])
    daily = act["deaths"].to_numpy() / DAYS_PER_MONTH
    changes = []
    for _, g in act.groupby("iso3"):
        x, m = np.log1p(g["deaths"].to_numpy()), g["month_id"].to_numpy()
        changes.extend(np.diff(x)[np.diff(m) == 1])
    share = (act["ged_os"] / act["deaths"]).to_numpy()
    n = len(act)
    out = {"n_active": n, "daily_q05": _q(daily, 0.05), "daily_q95": _q(daily, 0.95),
           "n_changes": len(changes),
           "log_change_sd": _sig(float(np.std(changes))) if len(changes) >= 2 else None,
           "os_share_q10": _q(share, 0.10), "os_share_q90": _q(share, 0.90)}
    if prefix:
        out["n_countries"] = int(act["iso3"].nunique())
    else:  # checks of the judgement priors, the country alone
        x = np.log1p(months.sort_values("month_id")["deaths"].to_numpy())
        ac = np.corrcoef(x[:-1], x[1:])[0, 1] if len(x) > 2 and x.std() > 0 else math.nan
        mean, var = (act["deaths"].mean(), act["deaths"].var()) if n >= 2 else (0, 0)
        out["lag1_autocorrelation"] = _sig(float(ac), 3)
        out["monthly_nb_size"] = _sig(mean**2 / (var - mean), 3) if var > mean > 0 else None
    return {prefix + k: v for k, v in out.items()}


def _annual_figures(stocks, flows, idmc, deaths, prefix: str = "") -> dict:
    """Displaced per death and return rates from annual frames (already cut to known years)."""
    import numpy as np

    s = stocks.set_index(["iso3", "year"])
    f = flows.set_index(["iso3", "year"])
    i = idmc.set_index(["iso3", "year"])["conflict_idps"]
    ratios, iso_ratio = [], set()
    for (iso3, year), d in deaths.items():
        now, before = (iso3, year), (iso3, year - 1)
        if d < YEAR_MIN_DEATHS:
            continue
        if now in i.index and before in i.index:
            rise = i[now] - i[before]
        elif now in s.index and before in s.index:
            rise = s.at[now, "idps"] - s.at[before, "idps"]
        else:
            continue
        returns = s.at[now, "returned_idps"] if now in s.index else 0.0
        new = float(np.nansum(f.loc[now].to_numpy())) if now in f.index else 0.0
        ratios.append((max(0.0, rise + np.nan_to_num(returns)) + new) / d)
        iso_ratio.add(iso3)
    iso, yr = s.index.get_level_values("iso3"), s.index.get_level_values("year")
    before = s["idps"].reindex(list(zip(iso, yr - 1, strict=True))).to_numpy()
    back = s["returned_idps"].to_numpy()
    ok = (before >= RETURN_MIN_IDPS) & (back > 0)
    rates = -np.log1p(-np.minimum(0.99, back[ok] / before[ok])) / 365
    out = {"n_years": len(ratios), "ratio_q05": _q(ratios, 0.05), "ratio_q95": _q(ratios, 0.95),
           "n_return_years": len(rates), "return_rate": _q(rates, 0.5)}
    if prefix:
        out |= {"n_countries_years": len(iso_ratio), "return_rate_q10": _q(rates, 0.1),
                "return_rate_q90": _q(rates, 0.9)}
    return {prefix + k: v for k, v in out.items()}


def derive_figures(iso3: str | None, origin: dt.date, data_dir: Path | None = None, *,
                   country_months=None) -> dict:
    """The figures of the rule for ``iso3`` (None: the pool only) at ``origin``, from the data.

    ``country_months``: the country's own monthly deaths (columns ``month_id, ged_sb, ged_os,
    ged_ns``, as :func:`models.data.load_views_country_month` or
    :func:`models.data.load_ucdp_ged_events` return them) in place of its panel rows."""
    from models import data as md
    from scenarios.geography import countries, resolve_country

    d = Path(data_dir) if data_dir is not None else shared_data_dir()
    last_month = md.month_id(origin) - 1  # the last month that ended before the origin
    panel = md.load_views_country_month(d / PANEL)
    iso_of = {c.views_id: c.iso3 for c in countries().values()}
    panel["iso3"] = panel["country_id"].map(iso_of)
    panel = panel[panel["month_id"] <= last_month]
    if panel.empty:
        raise ValueError(f"no month of {PANEL} ended before {origin}: the rule needs the panel's "
                         "months before the origin (from 2018-01)")
    figures = {"months_through": f"{md.month_date(int(panel['month_id'].max())):%Y-%m}"}
    figures |= _monthly_figures(panel, prefix="pool_")
    own = None
    if iso3 is not None:
        country = resolve_country(iso3)
        if country_months is not None:
            own = country_months.assign(iso3=country.iso3)
            own = own[own["month_id"] <= last_month]
            if "deaths" not in own:
                own = own.assign(deaths=own["ged_sb"] + own["ged_os"] + own["ged_ns"])
        else:
            own = panel[panel["country_id"] == country.views_id]
        figures |= _monthly_figures(own)
    known = annual_years_known(origin)
    annual_deaths = _annual_deaths(panel, known)
    stocks, flows, idmc = (t[t["year"] <= known] for t in (
        md.load_unhcr_by_origin(d / UNHCR_STOCKS), md.load_unhcr_flows_by_origin(d / UNHCR_FLOWS),
        md.load_idmc_by_country(d / IDMC)))
    flows = flows[["iso3", "year", "new_refugees", "new_asylum_seekers"]]
    figures["years_through"] = int(stocks["year"].max())
    figures |= _annual_figures(stocks, flows, idmc, annual_deaths, prefix="pool_")
    if not figures["pool_n_years"]:
        raise ValueError(f"no full year of {PANEL} published before {origin} (origins from "
                         "2019-07-01): displacement per death needs a year's deaths")
    if iso3 is not None:
        figures |= _annual_figures(*(t[t["iso3"] == country.iso3] for t in (stocks, flows, idmc)),
                                   _annual_deaths(own, known))
    return figures


def _annual_deaths(months, known: int) -> dict:
    """``{(iso3, year): deaths}`` over years with all 12 months, up to year ``known``."""
    from models.data import month_date

    years = month_date(months["month_id"].to_numpy()).year
    g = months.assign(year=years).groupby(["iso3", "year"])["deaths"]
    total = g.sum()[(g.size() == 12)]
    return total[total.index.get_level_values("year") <= known].to_dict()


# --- priors from the figures ---------------------------------------------------------------------

def _fmt(x) -> str:
    return "n/a" if x is None else f"{x:.3g}"


def priors_from_figures(iso3: str | None, origin: dt.date, fig: dict,
                        country_data: str = PANEL) -> DerivedPriors:
    """Apply the rule to derived figures (from :func:`derive_figures`, or stored); ``iso3``
    None: the pool's priors."""
    f = fig if iso3 else {}
    months = f"active months (>= {ACTIVE_DEATHS} deaths) ended before {origin}"
    panel = f"{PANEL} (UCDP via ViEWS, through {fig['months_through']})"
    years = f"years to {fig['years_through']} (published before {origin})"
    n, nc, ny, nr = (f.get(k, 0) for k in ("n_active", "n_changes", "n_years", "n_return_years"))
    w_m, w_t, w_y, w_r = (_weight(n, MONTHLY_K), _weight(nc, MONTHLY_K, 2),
                          _weight(ny, ANNUAL_K), _weight(nr, ANNUAL_K))
    who = iso3 if country_data == PANEL else f"{iso3} ({country_data})"

    def mine(text: str, *keys: str) -> str:
        """The country's part of a basis: ``text`` with the figures ``keys`` filled in."""
        return f"{who}: {text.format(*(_fmt(f.get(k)) for k in keys))}; " if iso3 else ""

    messages = [m for m, when in (
        (f"{iso3}: no active month before {origin} in {country_data}; intensity, trend and "
         "civilian share from the cross-country pool alone", iso3 and n == 0),
        (f"{iso3}: {n} active months before {origin}; intensity, trend and civilian share lean "
         f"on the cross-country pool (country weight {w_m:.2f})", iso3 and 0 < w_m < 0.5),
        (f"{iso3}: no country-year with >= {YEAR_MIN_DEATHS} deaths and displacement figures in "
         f"{years}; displacement per death from the cross-country pool alone",
         iso3 and ny == 0)) if when]

    def pooled(name, w, log=True):
        c, p = f.get(name), fig[f"pool_{name}"]
        if w == 0 or c is None:
            return p
        return _log_pool(c, p, w) if log else w * c + (1 - w) * p

    def how(w, k, scale):
        return ("the pool alone" if w == 0 else
                f"partially pooled ({scale}), country weight n/(n+{k}) = {w:.2f}")

    def pool(a, b):  # the pool's figures a-b
        return f"{_fmt(fig['pool_' + a])}-{_fmt(fig['pool_' + b])}"

    lo = _r3(pooled("daily_q05", w_m))
    hi = _r3(BURST_FACTOR * pooled("daily_q95", w_m))
    intensity = Prior(LogNormal(dist="lognormal", low=lo, high=hi), (
        "All-actor deaths per day in one region on the origin day. Rule: 5% and 95% quantiles "
        f"of daily deaths (monthly ged_sb+ged_os+ged_ns / {DAYS_PER_MONTH}) over {months}, "
        f"from {panel}. Cross-country pool of {fig['pool_n_active']} active months of "
        f"{fig['pool_n_countries']} countries: {pool('daily_q05', 'daily_q95')}; "
        f"{mine(f'{n} months, {{}}-{{}}', 'daily_q05', 'daily_q95')}"
        f"{how(w_m, MONTHLY_K, 'log scale')}; the upper end x {BURST_FACTOR:g} for an "
        f"offensive's burst: {lo:g}-{hi:g}. Country-wide daily rates as the reference for one "
        "region: an offensive's region can carry the country's toll; a month's average spreads "
        "a battle of days over thirty, so an offensive's days run above it (a month's toll in "
        f"ten days is {BURST_FACTOR:g} times its daily average)."))
    sd_month = pooled("log_change_sd", w_t)
    sd = _r3(TREND_WIDENING * sd_month / DAYS_PER_MONTH)
    trend = Prior(Normal(dist="normal", mean=0.0, sd=sd), (
        f"Daily change of log-intensity on the origin day. Rule: sd = {TREND_WIDENING} x sd of "
        f"month-on-month change of log(1 + deaths) over pairs of consecutive {months} "
        f"({panel}), / {DAYS_PER_MONTH} days; wider since an offensive's first days move faster "
        f"than a month's average. {mine(f'sd {{}} over {nc} pairs', 'log_change_sd')}pool: "
        f"{_fmt(fig['pool_log_change_sd'])} over {fig['pool_n_changes']} pairs; "
        f"{how(w_t, MONTHLY_K, 'log scale, n = pairs')}: {sd_month:.3g}/month -> {sd:g}/day."))
    checks = ("Check, not used: " + (mine(
        "monthly log(1 + deaths) has lag-1 autocorrelation {}, active months a negative-binomial "
        "size by moments of {} (changes of level included: a floor for the size given the "
        "intensity)", "lag1_autocorrelation", "monthly_nb_size") or "none for the pool; ") +
        f"{panel}. No daily series is in the data: a judgement, the same for every country.")
    judged = {k: Prior(spec, f"{text} {checks}") for k, (spec, text) in JUDGEMENT.items()}
    q10, q90 = pooled("os_share_q10", w_m, log=False), pooled("os_share_q90", w_m, log=False)
    c_lo, c_hi = CIVILIAN_AMONG_OTHER_DEATHS
    clo, chi = _r3(q10 + c_lo * (1 - q10)), _r3(q90 + c_hi * (1 - q90))
    civilian = Prior(Beta(dist="beta", low=clo, high=chi), (
        "Share of deaths that are civilians. Rule: one-sided deaths (ged_os) are civilians; "
        "UCDP does not separate the civilians among state-based and non-state deaths, so a "
        f"share of {c_lo} (front-line fighting) to {c_hi} (bombardment of towns) of the rest is "
        f"added (judgement): low = q10 + {c_lo} (1 - q10), high = q90 + {c_hi} (1 - q90), with "
        f"q10, q90 the 10% and 90% quantiles of the monthly one-sided share over {months} "
        f"({panel}). {mine('{}-{}', 'os_share_q10', 'os_share_q90')}"
        f"pool: {pool('os_share_q10', 'os_share_q90')}; {how(w_m, MONTHLY_K, 'share scale')}: "
        f"{q10:.3g}-{q90:.3g} -> {clo:g}-{chi:g}."))
    cl, ch = DISPLACEMENT_CLIP

    def ends(src: dict, prefix=""):
        q05, q95 = src.get(prefix + "ratio_q05"), src.get(prefix + "ratio_q95")
        return None if q05 is None else (
            min(ch, max(cl, q05)), min(ch, max(cl, DISPLACEMENT_HIGH_FACTOR * q95)))

    p_ends, c_ends = ends(fig, "pool_"), ends(f)
    dlo, dhi = (_r3(p if w_y == 0 else _log_pool(c, p, w_y))
                for c, p in zip(c_ends or (None, None), p_ends, strict=True))
    displacement = Prior(LogNormal(dist="lognormal", low=dlo, high=dhi), (
        "People displaced per death while the population is still at risk. Rule: per "
        f"country-year with >= {YEAR_MIN_DEATHS} deaths, (max(0, rise of the IDP stock + IDP "
        "returns) + new refugees + new asylum seekers) / deaths, the IDP stock from "
        f"{IDMC} where it has both years, else UNHCR idps, returns and flows from "
        f"{UNHCR_STOCKS} and {UNHCR_FLOWS}, deaths from {panel}; {years}. A lower bound "
        "(stocks net out unrecorded returns and repeated flight), so the interval is [q05, "
        f"{DISPLACEMENT_HIGH_FACTOR:g} x q95] clipped to [{cl:g}, {ch:g}] (the factor a "
        f"judgement). {mine(f'{ny} years, ratios q05-q95 {{}}-{{}}', 'ratio_q05', 'ratio_q95')}"
        f"pool of {fig['pool_n_years']} years of {fig['pool_n_countries_years']} countries: "
        f"{pool('ratio_q05', 'ratio_q95')}; {how(w_y, ANNUAL_K, 'log scale')}: {dlo:g}-{dhi:g}."))
    rate = _sig(pooled("return_rate", w_r), 3)
    figures = dict(fig) | {"return_rate_pooled": rate, "return_rate_basis": (
        "Daily IDP return rate (a reference for daily_return_rate; no nowcast parameter): per "
        f"country-year with >= {RETURN_MIN_IDPS:,} UNHCR IDPs at the end of the year before, "
        f"-ln(1 - returned_idps / idps of the year before) / 365 ({UNHCR_STOCKS}, {years}); "
        f"median over years with recorded returns. {mine(f'{{}} over {nr} years', 'return_rate')}"
        f"pool: {_fmt(fig['pool_return_rate'])} over {fig['pool_n_return_years']} years (10-90%: "
        f"{pool('return_rate_q10', 'return_rate_q90')}); {how(w_r, ANNUAL_K, 'log scale')}: "
        f"{rate:.3g}/day. Annual rates of long-displaced stocks: far below the return of people "
        "who fled an offensive days before.")}
    priors = {"intensity_at_origin": intensity, "trend": trend, **judged,
              "civilian_share": civilian, "displacement_per_death": displacement}
    source = {"intensity_at_origin": _source(w_m), "trend": _source(w_t),
              **dict.fromkeys(JUDGEMENT, "judgement"), "civilian_share": _source(w_m),
              "displacement_per_death": _source(w_y), "return_rate": _source(w_r)}
    return DerivedPriors(iso3 or POOL, origin, priors, figures, source, tuple(messages),
                         {"months": fig["months_through"], "years": str(fig["years_through"])})


# --- stored figures, the entry point, the printout -------------------------------------------

STORED: dict[str, dict[str, dict]] = {"2024-12-01": {
    POOL: {"months_through": "2024-04", "years_through": 2023, "pool_n_active": 1638,
           "pool_n_countries": 50, "pool_daily_q05": 0.9539, "pool_daily_q95": 62.28,
           "pool_n_changes": 1362, "pool_log_change_sd": 0.7966, "pool_os_share_q10": 0.0,
           "pool_os_share_q90": 0.5473, "pool_n_years": 192, "pool_n_countries_years": 42,
           "pool_ratio_q05": 3.06, "pool_ratio_q95": 836.9, "pool_n_return_years": 318,
           "pool_return_rate": 0.000401, "pool_return_rate_q10": 1.046e-05,
           "pool_return_rate_q90": 0.002742},
    "SYR": {"n_active": 76, "daily_q05": 2.919, "daily_q95": 52.75, "n_changes": 75,
            "log_change_sd": 0.5657, "os_share_q10": 0.003875, "os_share_q90": 0.08597,
            "lag1_autocorrelation": 0.852, "monthly_nb_size": 0.61, "n_years": 6,
            "ratio_q05": 31.18, "ratio_q95": 372.4, "n_return_years": 7, "return_rate": 0.0001037},
    "SDN": {"n_active": 49, "daily_q05": 1.171, "daily_q95": 21.93, "n_changes": 31,
            "log_change_sd": 0.8285, "os_share_q10": 0.004061, "os_share_q90": 0.4008,
            "lag1_autocorrelation": 0.359, "monthly_nb_size": 0.405, "n_years": 6,
            "ratio_q05": 145.8, "ratio_q95": 1012.0, "n_return_years": 11,
            "return_rate": 0.0001812},
}}
"""Figures of :func:`derive_figures` by origin and country (``pool``: the cross-country pool),
from ``../shared/data``; ``tests/inference/test_priors.py`` recomputes them."""


def _as_date(origin) -> dt.date:
    return origin if isinstance(origin, dt.date) else dt.date.fromisoformat(str(origin))


def derive_priors(iso3: str | None, origin: dt.date | str, data_dir: Path | None = None, *,
                  country_months=None, country_data: str | None = None) -> DerivedPriors:
    """The nowcast's priors for country ``iso3`` (ISO alpha-3; None: the pool) at ``origin``.

    With ``data_dir`` (or ``country_months``, the country's own monthly deaths, named
    ``country_data`` in the bases), the figures are computed from the data. Without: the stored
    figures for (``iso3``, ``origin``) if any, else the shared data where present, else the
    pool's stored priors, with a message saying so."""
    from scenarios.geography import resolve_country

    origin = _as_date(origin)
    iso3 = None if iso3 is None else resolve_country(iso3).iso3
    key = iso3 or POOL
    stored = STORED.get(origin.isoformat(), {})
    if data_dir is None and country_months is None:  # stored, else shared data, else the pool
        if key in stored:
            d = priors_from_figures(iso3, origin, stored[POOL] | stored[key])
            return _with(d, f"{key} at {origin}: figures stored in models/inference/priors.py "
                            "(the tests recompute them from the shared data)")
        if not shared_data_dir().exists():
            at = max(STORED)
            d = priors_from_figures(None, _as_date(at), STORED[at][POOL])
            note = (f"; they include data after {origin}" if _as_date(at) > origin else "")
            return _with(d, f"{key}: no data directory ({shared_data_dir()} not found) and no "
                            f"stored figures at {origin}: the cross-country pool's stored priors "
                            f"at origin {at} (data through {d.data_through['months']} and "
                            f"{d.data_through['years']}){note}", iso3=key, origin=origin)
    fig = derive_figures(iso3, origin, data_dir, country_months=country_months)
    return priors_from_figures(iso3, origin, fig, country_data or PANEL)


def _with(d: DerivedPriors, message: str, **changes) -> DerivedPriors:
    return replace(d, messages=(*d.messages, message), **changes)


# The Syria-only constants these replace, for the comparison printout (--previous).
PREVIOUS_PRIORS = {"intensity_at_origin": "3.3 - 200.1", "trend": "sd 0.05",
                   "persistence": "0.5 - 0.97", "innovation_sd": "0.05 - 0.3",
                   "dispersion": "1 - 20", "civilian_share": "0.15 - 0.7",
                   "displacement_per_death": "20 - 1500"}
"""The hand-set priors before the rule (Syria 2012-2023 figures and judgement), 90% intervals,
for comparison in :func:`describe` only."""


def _interval(spec) -> str:
    if isinstance(spec, Normal):
        return f"normal, sd {spec.sd:g}"
    return f"{spec.dist} {spec.low:g} - {spec.high:g}"


def describe(d: DerivedPriors, previous: dict | None = None) -> str:
    """A printable table of the priors (90% intervals), their sources and bases."""
    lines = [f"Priors for {d.iso3} at origin {d.origin} (data through "
             f"{d.data_through['months']} monthly, {d.data_through['years']} annual)", ""]
    lines += [f"note: {m}" for m in d.messages]
    for name, p in d.priors.items():
        before = previous.get(name) if previous else None
        was = "" if before is None else f"   (before: {before})"
        lines += ["", f"{name}: {_interval(p.spec)}   [{d.source[name]}]{was}",
                  textwrap.indent(textwrap.fill(p.basis, 92), "    ")]
    lines += ["", f"return_rate (reference): {d.figures['return_rate_pooled']:g}/day   "
              f"[{d.source['return_rate']}]",
              textwrap.indent(textwrap.fill(d.figures["return_rate_basis"], 92), "    ")]
    return "\n".join(lines)
