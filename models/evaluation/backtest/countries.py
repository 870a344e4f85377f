"""The cross-country backtest's statistics and report: one row per country, the pooled
figures against the targets of issue 14, and the rule that picks the countries.

Per country (:func:`country_row`): CRPS ratio of ``latent_nb`` to conflictology at horizons 1,
2 and 3 (ratio of sums over origins, as in :func:`models.evaluation.backtest.scores.crps_ratios`)
and their mean, the mean h1-3 ratio to the other benchmarks, coverage of the central 90% and
50% intervals (all horizons pooled, and the range over horizons), and NUTS health (fits with
R-hat <= 1.01 and no divergence, worst R-hat, divergent transitions). Pooled
(:func:`pooled_figures`): median and maximum of the per-country mean h1-3 ratio to
conflictology, the range of 90% coverage, how many countries meet each target. numpy and pandas
only (plus the report blocks); the writer writes them
(:func:`models.evaluation.backtest.write.write_country_outputs`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.inference.diagnostics import RHAT_MAX
from models.inference.monthly import MODEL_NAME
from models.outputs.blocks import Bullets, Heading, Para, Table, to_markdown
from models.outputs.formatting import format_decimal as fmt

__all__ = ["TARGETS", "active_countries", "countries_markdown", "countries_table",
           "country_row", "pooled_figures"]

TARGETS = {"median_ratio": 0.90, "max_ratio": 1.05, "coverage_90": (0.85, 0.95)}
"""Issue 14: median CRPS ratio to conflictology at horizons 1-3 at most 0.90 across countries,
no country above 1.05, 90% coverage in [0.85, 0.95] in each country."""


def active_countries(panel: pd.DataFrame, before: int, *, months: int = 24, min_active: int = 12,
                     threshold: float = 25) -> list[str]:
    """The selection rule of the cross-country backtest: countries (``iso3``) with at least
    ``min_active`` months of ``threshold`` or more deaths (all actors) among the ``months``
    months before month ``before`` (the first origin), in order of active months, then mean
    deaths (both descending). ``panel``: rows ``iso3, month_id, deaths``; only months before
    ``before`` are read."""
    window = panel[(panel["month_id"] < before) & (panel["month_id"] >= before - months)]
    g = window.groupby("iso3")["deaths"]
    stats = pd.DataFrame({"active": g.apply(lambda x: int((x >= threshold).sum())),
                          "mean": g.mean()})
    stats = stats[stats["active"] >= min_active]
    return list(stats.sort_values(["active", "mean"], ascending=False).index)


def _ratio_by_horizon(fs: pd.DataFrame, reference: str) -> pd.Series:
    wide = fs.pivot_table(index=["origin", "horizon"], columns="model",
                          values="crps")[[MODEL_NAME, reference]].dropna()
    sums = wide.groupby(level="horizon").sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        return sums[MODEL_NAME] / sums[reference]


def country_row(label: str, forecast_scores: pd.DataFrame, fits: pd.DataFrame,
                benchmarks: list[str], name: str = "") -> dict:
    """The per-country figures of one backtest (its ``forecast_scores`` and ``fits``)."""
    fs = forecast_scores
    ours = fs[fs["model"] == MODEL_NAME]
    row: dict = {"country": label, "name": name, "origins": int(ours["origin"].nunique())}
    if "conflictology" in benchmarks:
        r = _ratio_by_horizon(fs, "conflictology").reindex([1, 2, 3])
        row |= {f"ratio_h{h}": float(r.loc[h]) for h in (1, 2, 3)}
        row["ratio_h1_3"] = float(r.mean())
    for b in benchmarks:
        if b != "conflictology":
            row[f"ratio_h1_3_{b}"] = float(_ratio_by_horizon(fs, b).reindex([1, 2, 3]).mean())
    by_h = ours.groupby("horizon")["coverage_90"].mean()
    row |= {"coverage_90": float(ours["coverage_90"].mean()),
            "coverage_90_min_h": float(by_h.min()), "coverage_90_max_h": float(by_h.max()),
            "coverage_50": float(ours["coverage_50"].mean()),
            "mean_observed": float(ours.loc[ours["horizon"] == 1, "observed"].mean())}
    if "max_rhat" in fits.columns:
        bad = (fits["max_rhat"] > RHAT_MAX) | (fits["divergences"] > 0)
        row |= {"fits": len(fits), "fits_clean": int((~bad).sum()),
                "max_rhat": float(fits["max_rhat"].max()),
                "divergences": int(fits["divergences"].sum())}
    if "prior_messages" in fits.columns:
        row["prior_fallbacks"] = int(fits["prior_messages"].fillna("").astype(bool).sum())
    return row


def countries_table(rows: list[dict]) -> pd.DataFrame:
    """The per-country rows as one table (the config's order)."""
    return pd.DataFrame(rows)


def pooled_figures(table: pd.DataFrame) -> dict:
    """Median and max of the mean h1-3 ratio to conflictology across countries, the 90%
    coverage range, and the countries that miss each target."""
    lo, hi = TARGETS["coverage_90"]
    r, cov = table.set_index("country")["ratio_h1_3"], table.set_index("country")["coverage_90"]
    out = {"countries": len(table), "median_ratio": float(r.median()),
           "max_ratio": float(r.max()), "max_ratio_country": str(r.idxmax()),
           "min_ratio": float(r.min()), "coverage_90_min": float(cov.min()),
           "coverage_90_max": float(cov.max()),
           "above_max_ratio": sorted(r[r > TARGETS["max_ratio"]].index),
           "coverage_outside": sorted(cov[(cov < lo) | (cov > hi)].index),
           "median_met": bool(r.median() <= TARGETS["median_ratio"])}
    if "fits" in table:
        out["fits_clean"] = int(table["fits_clean"].sum())
        out["fits"] = int(table["fits"].sum())
    return out


def _rows(table: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    others = [c for c in table.columns if c.startswith("ratio_h1_3_")]
    headers = ["country", "origins", "h1", "h2", "h3", "h1-3",
               *[f"h1-3 vs {c.removeprefix('ratio_h1_3_')}" for c in others],
               "cov90", "cov90 by h", "cov50", "NUTS clean", "max R-hat", "div."]
    rows = []
    for _, t in table.iterrows():
        nuts = ([f"{t['fits_clean']}/{t['fits']}", f"{t['max_rhat']:.3f}", str(t["divergences"])]
                if "fits" in t else ["n/a"] * 3)
        rows.append([f"{t['country']} {t['name']}".strip(), str(t["origins"]),
                     *[fmt(t[f"ratio_h{h}"], 2) for h in (1, 2, 3)], fmt(t["ratio_h1_3"], 3),
                     *[fmt(t[c], 2) for c in others], fmt(t["coverage_90"], 2),
                     f"{fmt(t['coverage_90_min_h'], 2)}-{fmt(t['coverage_90_max_h'], 2)}",
                     fmt(t["coverage_50"], 2), *nuts])
    return headers, rows


def countries_markdown(table: pd.DataFrame, pooled: dict, meta: dict) -> str:
    """``countries.md``: the per-country table and the pooled figures against the targets."""
    lo, hi = TARGETS["coverage_90"]
    headers, rows = _rows(table)
    miss_r = ", ".join(pooled["above_max_ratio"]) or "none"
    miss_c = ", ".join(pooled["coverage_outside"]) or "none"
    nuts = (f"; NUTS: {pooled['fits_clean']} of {pooled['fits']} fits clean (max R-hat <= "
            f"{RHAT_MAX}, no divergence)" if "fits" in pooled else "")
    t = meta.get("seconds", {})
    blocks = [
        Heading(1, f"Cross-country backtest: {meta['name']}"),
        Para(f"{pooled['countries']} countries; origins {meta['origins'][0]} to "
             f"{meta['origins'][-1]} ({len(meta['origins'])}){' (--quick)' if meta['quick'] else ''}"
             f"; horizons 1-{meta['horizons']}; model `{MODEL_NAME}` fitted to the last "
             f"{meta['window_months']} months, trend damping {meta['trend_damping']}, December "
             f"effect {'on' if meta['december_effect'] else 'off'}, innovations "
             f"{meta.get('innovations', 'normal')}, priors {meta['priors']}; "
             f"{meta['draws']} draws per forecast; seed {meta['seed']}."),
        Heading(2, "Per country"),
        Table(headers, rows),
        Para("h1, h2, h3: CRPS of latent_nb / CRPS of conflictology (sums over origins) at "
             "horizons 1-3; h1-3: their mean (< 1 = better); 'h1-3 vs': the same mean against "
             "the other ViEWS benchmarks; cov90, cov50: share of outcomes inside the central "
             "90% / 50% interval, all horizons pooled ('by h': range over horizons); NUTS "
             f"clean: fits with max R-hat <= {RHAT_MAX} and no divergence; div.: divergent "
             "transitions in all fits. Per-country outputs: `<ISO3>/`."),
        Heading(2, "Pooled, against the targets (issue 14)"),
        Bullets([
            f"median h1-3 ratio to conflictology across countries: "
            f"{fmt(pooled['median_ratio'], 3)} (target <= {TARGETS['median_ratio']}: "
            f"{'met' if pooled['median_met'] else 'not met'}); range "
            f"{fmt(pooled['min_ratio'], 3)}-{fmt(pooled['max_ratio'], 3)}",
            f"max h1-3 ratio: {fmt(pooled['max_ratio'], 3)} ({pooled['max_ratio_country']}); "
            f"countries above {TARGETS['max_ratio']}: {miss_r}",
            f"90% coverage range across countries: {fmt(pooled['coverage_90_min'], 3)}-"
            f"{fmt(pooled['coverage_90_max'], 3)}; countries outside [{lo}, {hi}]: {miss_c}"
            f"{nuts}",
            f"time: compile {fmt(t.get('compile', np.nan), 1)} s; fits and scoring "
            f"{fmt(t.get('origins', np.nan), 0)} s; whole run {fmt(t.get('total', np.nan), 0)} s"]),
    ]
    return to_markdown(blocks)
