"""Priors of the nowcast, each with the figure it is derived from and the source of that figure.

The derived figures are kept here as numbers (the data stay in ``../shared/data``);
:func:`derive_base_rates` recomputes them from the data and ``tests/test_priors.py`` checks that
the numbers below still follow from it. Only data dated before the forecast origin (1 Dec 2024)
enter: UCDP monthly deaths end in April 2024, annual displacement figures are used up to 2023.

Sources
-------
* UCDP GED via the ViEWS country-month file ``views_syria_monthly_ged_1990_2024.csv`` (CC BY 4.0):
  Syria's monthly deaths, all violence types (state-based + one-sided + non-state).
* UNHCR Refugee Population Statistics ``unhcr_syria_displacement_by_year.csv`` (CC BY 4.0) and
  UCDP annual deaths via Our World in Data ``owid_ucdp_conflict_deaths_by_year_...csv``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scenarios.distributions import Beta, LogNormal, Normal


@dataclass(frozen=True)
class Prior:
    spec: LogNormal | Beta | Normal
    basis: str


# --- Figures derived from ../shared/data (see derive_base_rates) --------------------------------
SYRIA_DAILY_DEATHS_2012_2023_P05_P95 = (3.3, 200.1)
"""5% and 95% quantiles of Syria's daily deaths (monthly UCDP deaths / 30.4), 2012-2023."""
SYRIA_MONTHLY_LOG_CHANGE_SD_2012_2023 = 0.62
"""sd of month-on-month change of log(1 + monthly deaths), Syria 2012-2023."""
SYRIA_DISPLACED_PER_DEATH_2012_2014 = (34.0, 88.0)
"""Range over 2012-2014 of (net rise in the IDP stock + new refugees) / UCDP deaths: a lower
bound of people displaced per death, since stocks net out returns and repeated flight."""

PRIORS: dict[str, Prior] = {
    "intensity_at_origin": Prior(
        LogNormal(dist="lognormal", low=SYRIA_DAILY_DEATHS_2012_2023_P05_P95[0],
                  high=SYRIA_DAILY_DEATHS_2012_2023_P05_P95[1]),
        "All-actor deaths per day in one region on the origin day. 90% interval = 5-95% range of "
        "Syria-wide daily deaths 2012-2023 (UCDP): a region in an active offensive can reach the "
        "country-wide rate of the war's worst months.",
    ),
    "trend": Prior(
        Normal(dist="normal", mean=0.0, sd=0.05),
        "Daily change of log-intensity on the origin day. Monthly log changes in Syria have sd "
        f"{SYRIA_MONTHLY_LOG_CHANGE_SD_2012_2023} (~0.02/day if sustained over a month); an "
        "offensive's first days move faster, so two and a half times wider: sd 0.05/day "
        "(a doubling or halving within two weeks is inside the 90% range).",
    ),
    "persistence": Prior(
        Beta(dist="beta", low=0.5, high=0.97),
        "Day-to-day AR(1) coefficient of log-intensity deviations. Monthly log deaths in Syria "
        "have lag-1 autocorrelation 0.91; daily data are not in the sources, so a wide prior "
        "favouring persistence.",
    ),
    "innovation_sd": Prior(
        LogNormal(dist="lognormal", low=0.05, high=0.3),
        "sd of daily log-intensity innovations: from days that resemble each other (0.05) to "
        "days whose expected toll differs by a third (0.3); day-to-day swings beyond that are "
        "carried by the negative-binomial counts. Judgement; not identifiable from 5 days.",
    ),
    "dispersion": Prior(
        LogNormal(dist="lognormal", low=1.0, high=20.0),
        "Negative-binomial size of daily death counts given the intensity: from strongly "
        "clustered (mass-casualty strikes, size 1) to near-Poisson (size 20). Judgement.",
    ),
    "civilian_share": Prior(
        Beta(dist="beta", low=0.15, high=0.7),
        "Share of deaths that are civilians. Monitors' totals for Syria's war put civilians at "
        "roughly a third of deaths; air campaigns on populated areas raise it, front-line "
        "offensives lower it. Wide.",
    ),
    "displacement_per_death": Prior(
        LogNormal(dist="lognormal", low=20.0, high=1500.0),
        "People displaced per death while the population is still at risk. Syria 2012-2014: "
        f"{SYRIA_DISPLACED_PER_DEATH_2012_2014[0]:.0f}-{SYRIA_DISPLACED_PER_DEATH_2012_2014[1]:.0f} "
        "(net, a lower bound; UNHCR + UCDP); offensives on dense areas such as Idlib in "
        "2019-20 displaced hundreds per death. 90% interval 20-1500.",
    ),
}
"""The nowcast's priors by parameter name (population priors come from each config's episode)."""

DISPLACEMENT_REPORT_LOG_SD = 0.3
"""sd of log(reported / expected displaced): counting error and the randomness of flight, on top
of the reporting share. Fixed (not learnt from one report)."""


def shared_data_dir() -> Path:
    """``../shared/data`` relative to the project root."""
    return Path(__file__).resolve().parents[3] / "shared" / "data"


def derive_base_rates(data_dir: Path | None = None) -> dict[str, object]:
    """Recompute the derived figures above from the public data (nothing after 2023 is used)."""
    import pandas as pd

    d = Path(data_dir) if data_dir else shared_data_dir()
    m = pd.read_csv(d / "views_syria_monthly_ged_1990_2024.csv")
    m["deaths"] = m["ged_sb"] + m["ged_os"].fillna(0) + m["ged_ns"].fillna(0)
    war = m[(m["year"] >= 2012) & (m["year"] <= 2023)]
    daily = war["deaths"] / 30.4
    log_changes = np.diff(np.log1p(war["deaths"].to_numpy()))

    unhcr = pd.read_csv(d / "unhcr_syria_displacement_by_year.csv").set_index("year")
    owid = pd.read_csv(d / "owid_ucdp_conflict_deaths_by_year_syria_neighbours_1989_2024.csv")
    deaths = owid[owid["entity"] == "Syria"].set_index("year")["deaths_best_all_conflict_types"]
    ratios = []
    for year in (2012, 2013, 2014):
        idp_rise = unhcr.loc[year, "idps"] - unhcr.loc[year - 1, "idps"]
        ratios.append((idp_rise + unhcr.loc[year, "flows_refugees"]) / deaths.loc[year])
    return {
        "SYRIA_DAILY_DEATHS_2012_2023_P05_P95": tuple(np.quantile(daily, [0.05, 0.95]).round(1)),
        "SYRIA_MONTHLY_LOG_CHANGE_SD_2012_2023": round(float(log_changes.std()), 2),
        "SYRIA_DISPLACED_PER_DEATH_2012_2014": (round(min(ratios)), round(max(ratios))),
        "last_month_used": str(war["date"].max()),
    }
