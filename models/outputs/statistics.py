"""Statistics of a forecast for tables, plots and reports (numpy and xarray only: this module
never imports matplotlib, so the numbers behind every figure can be computed and tested alone)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from models.outputs.run_result import RunResult
from models.vocabulary import ALL, MIXTURE
from scenarios.levers import REGIMES

if TYPE_CHECKING:
    import arviz as az

    from scenarios.schema import Config


QUANTILE_LEVELS: tuple[float, ...] = (
    0.01, 0.025, *(round(0.05 * k, 2) for k in range(1, 20)), 0.975, 0.99)
"""The 23 standard hubverse quantile levels."""


@dataclass(frozen=True)
class ForecastSummary:
    """Quantiles and means over draws of a forecast."""

    quantiles: xr.DataArray
    """(scenario, quantile, day, target, region), people."""
    mean: xr.DataArray
    """(scenario, day, target, region), people."""


def summarise(forecast: xr.Dataset, levels=QUANTILE_LEVELS) -> ForecastSummary:
    """Quantiles (numpy's default linear interpolation) and means over the ``draw`` dimension."""
    da = forecast["forecast"].transpose("scenario", "draw", "day", "target", "region")
    # float64: the engine stores float32 counts, and interpolating between large float32 counts
    # in float32 would round to the nearest 0.125 people above a million.
    values = da.values.astype(np.float64)
    q = np.quantile(values, np.asarray(levels), axis=1)  # (quantile, scenario, day, ...)
    coords = {k: da.coords[k].values for k in ("scenario", "day", "target", "region")}
    quantiles = xr.DataArray(
        np.moveaxis(q, 0, 1), dims=("scenario", "quantile", "day", "target", "region"),
        coords={**coords, "quantile": np.asarray(levels)})
    mean = xr.DataArray(values.mean(axis=1), dims=("scenario", "day", "target", "region"),
                        coords=coords)
    return ForecastSummary(quantiles=quantiles, mean=mean)


FAN_LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Quantile levels of the fan charts: 90% band, 50% band, median."""


def wide_range(values: np.ndarray) -> bool:
    """Log scale when the bulk of positive values spans more than a factor of 30."""
    v = values[np.isfinite(values)]
    if v.size == 0 or v.min() <= 0:
        return False
    lo, hi = np.quantile(v, [0.005, 0.995])
    return hi / max(lo, 1e-12) > 30


def fan_statistics(summary: ForecastSummary, target: str, location: str = ALL) -> xr.DataArray:
    """(scenario, quantile, day): the :data:`FAN_LEVELS` quantiles over draws, people."""
    return summary.quantiles.sel(quantile=list(FAN_LEVELS), target=target, region=location)


def region_fan_statistics(summary: ForecastSummary, target: str) -> xr.DataArray:
    """(scenario, quantile, day, region): the :data:`FAN_LEVELS` quantiles of each region (the
    all-regions sum left out), people."""
    regions = [r for r in summary.quantiles["region"].values if str(r) != ALL]
    return summary.quantiles.sel(quantile=list(FAN_LEVELS), target=target, region=regions)


def horizon_draws(forecast: xr.Dataset, target: str, horizons: Sequence[int],
                  location: str = ALL) -> xr.DataArray:
    """(scenario, draw, day) draws of ``target`` at the given days after the origin, people."""
    return forecast["forecast"].sel(target=target, region=location, day=list(horizons)) \
        .transpose("scenario", "draw", "day")


def distribution_bins(values: np.ndarray, n: int = 40) -> tuple[np.ndarray, bool]:
    """Bin edges covering the central 99.5% of ``values`` (log-spaced for wide ranges)."""
    v = values[np.isfinite(values)]
    log = wide_range(v)
    lo, hi = np.quantile(v, [0.0025, 0.9975])
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    return (np.geomspace(lo, hi, n + 1) if log else np.linspace(lo, hi, n + 1)), log


def exceedance_curve(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted values x and the share of draws strictly above each, P(X > x) (ties handled)."""
    x = np.sort(np.asarray(values, dtype=float).ravel())
    p = 1.0 - np.searchsorted(x, x, side="right") / x.size
    return x, p


def baseline_scenario(scenarios: Sequence[str]) -> str:
    """``baseline`` if the run has it, else its first scenario."""
    return "baseline" if "baseline" in scenarios else scenarios[0]


def paired_differences(forecast: xr.Dataset, target: str, baseline: str,
                       location: str = ALL) -> xr.DataArray:
    """(scenario, draw, day): scenario minus baseline, draw by draw (draws are paired: the same
    draw index shares posterior draw and random numbers across scenarios). Excludes the
    baseline itself; empty scenario dim when there is nothing to compare."""
    da = forecast["forecast"].sel(target=target, region=location).transpose(
        "scenario", "draw", "day")
    others = [s for s in da["scenario"].values if s != baseline]
    return da.sel(scenario=others) - da.sel(scenario=baseline)


def mixture_baseline_share(weights: dict | None, baseline: str) -> float | None:
    """Share of the mixture's draws that are the baseline's own draw (its weight), or None when
    the run has no mixture. In those draws mixture minus baseline is 0 by construction, so with
    a weight of a half or more its median difference is 0 whatever the other scenarios say."""
    if not weights:
        return None
    total = sum(weights.values())
    return float(weights.get(baseline, 0.0)) / total if total else None


def without_mixture(diff: xr.DataArray) -> xr.DataArray:
    """Paired differences without the mixture (see :func:`mixture_baseline_share`)."""
    return diff.sel(scenario=[s for s in diff["scenario"].values if str(s) != MIXTURE])


def difference_statistics(diff: xr.DataArray) -> xr.Dataset:
    """Quantiles (:data:`FAN_LEVELS`) over draws of the paired differences, and P(diff > 0)."""
    diff = diff.transpose("scenario", "draw", "day")
    values = diff.values
    q = np.moveaxis(np.quantile(values, list(FAN_LEVELS), axis=1), 0, 1) if values.size else \
        np.empty((values.shape[0], len(FAN_LEVELS), values.shape[2]))
    coords = {"scenario": diff["scenario"].values, "quantile": list(FAN_LEVELS),
              "day": diff["day"].values}
    return xr.Dataset({"quantiles": (("scenario", "quantile", "day"), q),
                       "p_above": (("scenario", "day"), (values > 0).mean(axis=1))},
                      coords=coords)


def regime_occupancy(forecast: xr.Dataset) -> xr.DataArray:
    """(scenario, regime, day): share of draws in each regime on each day."""
    regime = forecast["regime"].transpose("scenario", "draw", "day")
    names = list(regime.attrs.get("regimes", REGIMES))
    codes = regime.values
    shares = np.stack([(codes == k).mean(axis=1) for k in range(len(names))], axis=1)
    return xr.DataArray(shares, dims=("scenario", "regime", "day"),
                        coords={"scenario": regime["scenario"].values, "regime": names,
                                "day": regime["day"].values})


def prior_posterior_draws(idata: az.InferenceData) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(label, prior draws, posterior draws) for each key parameter (``idata.attrs
    ["key_parameters"]``) and each coordinate of its extra dims, e.g. ``civilian_share[idlib]``.
    Parameters missing from the prior or posterior are skipped."""
    keys = list((idata.attrs or {}).get("key_parameters", []))
    if isinstance(keys, str):
        keys = [keys]
    out = []
    groups = idata.groups()
    if "prior" not in groups or "posterior" not in groups:
        return out
    for name in keys:
        if name not in idata.prior or name not in idata.posterior:
            continue
        prior = idata.prior[name].stack(sample=("chain", "draw"))
        post = idata.posterior[name].stack(sample=("chain", "draw"))
        extra = [d for d in post.dims if d != "sample"]
        if not extra:
            out.append((name, prior.values.ravel(), post.values.ravel()))
            continue
        flat_post = post.stack(cell=extra).transpose("cell", "sample")
        flat_prior = prior.stack(cell=extra).transpose("cell", "sample")
        for k, cell in enumerate(flat_post["cell"].values):
            cell = cell if isinstance(cell, tuple) else (cell,)
            label = f"{name}[{', '.join(str(c) for c in cell)}]"
            out.append((label, flat_prior.values[k], flat_post.values[k]))
    return out


PARAMETER_LABELS: dict[str, tuple[str, str]] = {
    "intensity_at_origin": ("Deaths per day at the origin", "deaths per day, all actors"),
    "log_intensity_origin": ("Log deaths per day at the origin", "log(deaths per day)"),
    "trend": ("Trend of daily deaths", "change in log deaths per day"),
    "civilian_share": ("Civilian share of deaths", "share, 0 to 1"),
    "displacement_per_death": ("People displaced per death", "people per death"),
    "flight_hazard": ("Daily flight hazard of its own", "share of people per day"),
    "refugee_share": ("Share of the displaced who cross a border", "share, 0 to 1"),
    "reporting_share": ("Share of the true count reported", "share, 0 to 1"),
    "dispersion": ("Dispersion of daily deaths", "negative-binomial size, no unit"),
    "population_at_risk": ("Population at risk", "people"),
    "wounded_to_killed": ("Wounded per death", "injured per death"),
    "subset_share": ("Share of the quantity in the subset", "share, 0 to 1"),
}
"""Nowcast parameter -> (what it is, in words; its unit) for the prior-vs-posterior chart."""


def parameter_label(label: str) -> tuple[str, str]:
    """``civilian_share[idlib]`` -> ("Civilian share of deaths: idlib", "share, 0 to 1"); a
    parameter not in :data:`PARAMETER_LABELS` keeps its name and gets "parameter units"."""
    name, _, cell = label.partition("[")
    words, unit = PARAMETER_LABELS.get(name, (name.replace("_", " "), "parameter units"))
    cell = cell.rstrip("]").replace("_", " ")
    return (f"{words}: {cell}" if cell else words), unit


def histogram_edges(prior: np.ndarray, post: np.ndarray, n: int = 40) -> tuple[np.ndarray, bool]:
    """Shared bin edges for a prior/posterior pair: central 99% of both pooled."""
    pooled = np.concatenate([prior, post])
    pooled = pooled[np.isfinite(pooled)]
    log = wide_range(pooled)
    lo, hi = np.quantile(pooled, [0.005, 0.995])
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    return (np.geomspace(lo, hi, n + 1) if log else np.linspace(lo, hi, n + 1)), log


def evidence_fit(idata: az.InferenceData) -> pd.DataFrame:
    """One row per evidence id: the reported interval (``low``, ``high``; high may be inf) and the
    5/50/95% quantiles of what the model implies each report would say, from the posterior
    predictive (``post_*``) and, when present, the prior predictive (``prior_*``)."""
    cd = idata.constant_data
    ids = [str(e) for e in cd["evidence"].values]
    table = pd.DataFrame({"evidence": ids, "low": cd["evidence_low"].values.astype(float),
                          "high": cd["evidence_high"].values.astype(float)})
    if "evidence_text" in cd:
        table["text"] = [str(t) for t in cd["evidence_text"].values]
    for group, prefix in (("posterior_predictive", "post"), ("prior_predictive", "prior")):
        if group in idata.groups() and "reported" in idata[group]:
            rep = idata[group]["reported"].sel(evidence=ids).stack(sample=("chain", "draw"))
            q = np.quantile(rep.transpose("evidence", "sample").values, [0.05, 0.5, 0.95], axis=1)
            for k, level in enumerate((5, 50, 95)):
                table[f"{prefix}_q{level:02d}"] = q[k]
    return table


REPORTED_TARGETS = {"deaths": ("cum_deaths",), "civilian_deaths": ("cum_civilian_deaths",),
                    "displaced": ("cum_displaced", "displaced"), "refugees": ("cum_refugees",)}
"""Evidence quantity -> the targets a figure counted from the episode start can be set against.
A displacement figure sits on the stock too: the nowcast assumes no returns before the origin."""


def reported_figures(config: Config, target: str, location: str = ALL) -> pd.DataFrame:
    """The config's reported figures that count ``target`` from the episode start, as drawn on
    its fan chart: ``day`` (days after the origin of the figure's last day: 0 or less for the
    evidence of a nowcast), ``low``, ``high`` (inf for a lower bound) and ``part``: the figure
    counts only part of what the chart shows (a subset such as killed in air strikes, or some
    of the regions of an all-regions chart), so it is a lower bound of it. Figures over a window
    that starts after the episode start (a day's toll) or before it are left out: they do not
    count the same thing as a cumulative target."""
    from scenarios.lexicon import parse_value

    episode = config.episode
    regions = list(episode.regions)
    rows = []
    for eid, e in config.evidence.items():
        if target not in REPORTED_TARGETS.get(e.quantity, ()):
            continue
        first, last = e.period.bounds
        if first != episode.start:
            continue
        covered = tuple(e.region_ids(regions))
        if location == ALL:
            part_of_regions = set(covered) != set(regions)
        elif covered == (location,):
            part_of_regions = False
        else:
            continue
        low, high = parse_value(e.value, config.lexicon).count_bounds()
        rows.append({"evidence": eid, "day": (last - episode.origin).days, "low": float(low),
                     "high": float(high), "part": bool(e.subset) or part_of_regions,
                     "text": str(e.value)})
    return pd.DataFrame(rows, columns=["evidence", "day", "low", "high", "part", "text"])


def population_at_risk(config: Config, location: str = ALL) -> tuple[float, float]:
    """The stated population at risk (low, high; people) of a region, or summed over the
    episode's regions for ``all``: the ceiling of the people displaced at once."""
    from scenarios.lexicon import parse_value

    regions = config.episode.regions
    ids = list(regions) if location == ALL else [location]
    low = high = 0.0
    for rid in ids:
        v = parse_value(regions[rid].population_at_risk.value, config.lexicon)
        low, high = low + float(v.low), high + float(v.high)
    return low, high


def headline_horizons(result: RunResult) -> list[int]:
    """The primary config's headline horizons that lie within the forecast (else the last day)."""
    days = [h for h in result.primary.config.output.headline_horizons if 1 <= h <= result.horizon]
    return days or [result.horizon]


# ---------------------------------------------------------------------------------------------
# What informs the nowcast: evidence or the prior alone; reports the prior did not expect

INFORMED_BY = {
    "deaths": ("deaths", "civilian_deaths", "combatant_deaths", "injured"),
    "civilian_deaths": ("civilian_deaths",),
    "displaced": ("displaced", "refugees"),
}
"""Nowcast quantity -> evidence quantities that inform it directly in the same region."""
PRIOR_CONTRADICTED = {
    "deaths": "intensity_at_origin",
    "civilian_deaths": "intensity_at_origin x civilian_share",
    "combatant_deaths": "intensity_at_origin x (1 - civilian_share)",
    "injured": "intensity_at_origin x wounded_to_killed",
    "displaced": "displacement_per_death (with intensity_at_origin) and flight_hazard",
    "refugees": "refugee_share x displacement (displacement_per_death, flight_hazard)",
}
"""Evidence quantity -> the priors that set its prior predictive (with the reporting share)."""
CONFLICT_LEVEL = 0.99
"""A report is in conflict with the prior when its interval lies outside the prior predictive's
central 99% interval."""


def information_sources(idata: az.InferenceData) -> pd.DataFrame:
    """One row per region and nowcast quantity (deaths, civilian deaths, displaced): how many
    reports inform it directly, and ``informed_by`` = "evidence" or "prior only" (then only the
    shared parameters and the prior speak for it)."""
    cd = idata.constant_data
    quantity = [str(q) for q in cd["evidence_quantity"].values]
    regions = [str(r) for r in idata.posterior["region"].values]
    # a figure over several regions ('a+b', or 'all') informs each of them (their sum)
    covers = [regions if str(r) == "all" else str(r).split("+")
              for r in cd["evidence_region"].values]
    rows = []
    for r in regions:
        for q, sources in INFORMED_BY.items():
            n = sum(1 for qq, cc in zip(quantity, covers, strict=True) if r in cc and qq in sources)
            rows.append({"region": r, "quantity": q, "reports": n,
                         "informed_by": "evidence" if n else "prior only"})
    return pd.DataFrame(rows)


def prior_data_conflicts(idata: az.InferenceData, level: float = CONFLICT_LEVEL) -> pd.DataFrame:
    """Reports whose interval (``low``-``high``) lies wholly outside the prior predictive's
    central ``level`` interval of what that report would say: ``direction`` "above" or
    "below", and ``prior``, the priors that interval rests on. Empty when none (or no prior
    predictive is stored)."""
    columns = ["evidence", "quantity", "region", "low", "high", "prior_low", "prior_high",
               "direction", "prior"]
    if "prior_predictive" not in idata.groups() or "reported" not in idata.prior_predictive:
        return pd.DataFrame(columns=columns)
    cd = idata.constant_data
    ids = [str(e) for e in cd["evidence"].values]
    rep = idata.prior_predictive["reported"].sel(evidence=ids).stack(sample=("chain", "draw"))
    tail = (1 - level) / 2
    lo, hi = np.quantile(rep.transpose("evidence", "sample").values, [tail, 1 - tail], axis=1)
    rows = []
    for k, eid in enumerate(ids):
        low, high = float(cd["evidence_low"].values[k]), float(cd["evidence_high"].values[k])
        direction = "above" if low > hi[k] else ("below" if high < lo[k] else None)
        if direction:
            q = str(cd["evidence_quantity"].values[k])
            rows.append({"evidence": eid, "quantity": q,
                         "region": str(cd["evidence_region"].values[k]), "low": low,
                         "high": high, "prior_low": float(lo[k]), "prior_high": float(hi[k]),
                         "direction": direction, "prior": PRIOR_CONTRADICTED.get(q, q)})
    return pd.DataFrame(rows, columns=columns)
