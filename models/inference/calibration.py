"""Simulation-based calibration (SBC) of the nowcast (Talts et al. 2018, arXiv:1804.06788).

Repeat: draw parameters from the prior, simulate the evidence the config's reports would show
(same windows, reporters and quantities), coarsen it the way reports are coarsened (deaths to
intervals of width 10, displacement to log-spaced intervals of a factor 10^(1/4): a fixed
partition, so the coarsening is ignorable), refit the model, and record the rank of the true value
among thinned posterior draws. If the model and sampler are calibrated, ranks are uniform on
{0, ..., L}. The same compiled model is reused for every replicate (data containers).

Uniformity is tested per parameter with a chi-square test on ``bins`` equal bins; the family-wise
false-alarm rate over all parameters is ``alpha`` (Bonferroni).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from models.inference.nowcast import NowcastModel
from scenarios.schema import Config

SBC_PARAMETERS = ("intensity_at_origin", "trend", "civilian_share", "displacement_per_death",
                  "flight_hazard", "subset_share",
                  "reporting_share", "dispersion", "persistence", "innovation_sd",
                  "population_at_risk")
DEATH_BIN_WIDTH = 10
DISPLACEMENT_BINS_PER_DECADE = 4


@dataclass
class SBCResult:
    ranks: pd.DataFrame
    """One row per (replicate, parameter): rank of the truth among ``n_posterior`` draws."""
    n_posterior: int
    tests: pd.DataFrame
    """Per parameter: chi-square p-value of uniform ranks, 90%-interval coverage, pass/fail."""
    alpha: float
    divergent_fits: int

    @property
    def passed(self) -> bool:
        return bool(self.tests["uniform"].all())


def coarsen(model: NowcastModel, reports: np.ndarray):
    """Evidence arrays of the model's rows holding the simulated ``reports`` (one replicate),
    coarsened to the fixed partition described in the module docstring."""
    ev = model.evidence
    n_death = len(ev.death)
    deaths = np.floor(reports[:n_death] / DEATH_BIN_WIDTH) * DEATH_BIN_WIDTH
    disp = np.maximum(reports[n_death:], 1.0)
    k = np.floor(np.log10(disp) * DISPLACEMENT_BINS_PER_DECADE)
    return replace(ev, grid_start=deaths.astype("int64"),
                   grid_width=np.full(n_death, DEATH_BIN_WIDTH, dtype="int64"),
                   complement=np.zeros(n_death),
                   disp_log_low=np.log(10 ** (k / DISPLACEMENT_BINS_PER_DECADE)),
                   disp_log_high=np.log(10 ** ((k + 1) / DISPLACEMENT_BINS_PER_DECADE)))


def _flat(ds, names):
    """Scalars of the named variables per draw: {label: array(draws)}."""
    out = {}
    for name in names:
        v = ds[name]
        extra = [d for d in v.dims if d not in ("chain", "draw")]
        v = v.stack(sample=("chain", "draw"))
        if not extra:
            out[name] = v.values
        else:
            for label in v[extra[0]].values:
                out[f"{name}[{label}]"] = v.sel({extra[0]: label}).values
    return out


@dataclass
class SBCDesign:
    """What every replicate of an SBC run shares: the simulated reports and true values."""

    reports: np.ndarray
    """(replicate, evidence) reports simulated from the prior draws."""
    truths: dict
    """parameter label -> (replicate,) true values."""
    n_post: int
    """Thinned posterior draws a rank is counted among (``L``)."""

    def truth(self, i: int) -> dict:
        return {name: float(v[i]) for name, v in self.truths.items()}


def sbc_design(model: NowcastModel, n_replicates: int, *, seed: int = 0, chains: int = 2,
               draws: int = 250, thin: int = 5, bins: int = 10) -> SBCDesign:
    """Prior draws, the reports they would give, and ``L``: L thinned draws with L + 1 divisible
    by the bins, so each bin holds as many possible ranks."""
    prior = model.sample_prior(n_replicates, seed=seed)
    reports = model.simulate_reports(prior, np.random.default_rng([seed, 7]))[0]
    n_post = len(range(0, chains * draws, thin)) // bins * bins - 1
    return SBCDesign(reports, _flat(prior, SBC_PARAMETERS), n_post)


def sbc_replicate(model: NowcastModel, reports: np.ndarray, truth: dict, i: int, *, seed: int,
                  chains: int, tune: int, draws: int, thin: int,
                  n_post: int) -> tuple[list[dict], bool]:
    """Refit replicate ``i`` on its coarsened reports (seed ``seed * 100003 + i``): one row per
    parameter (rank of the truth, 90% coverage) and whether the fit had divergences. Leaves the
    replicate's evidence in the model."""
    model.set_evidence(coarsen(model, reports))
    idata = model.sample(seed=seed * 100_003 + i, chains=chains, tune=tune, draws=draws)
    divergent = bool(idata.sample_stats["diverging"].values.sum() > 0)
    rows = []
    for name, values in _flat(idata.posterior, SBC_PARAMETERS).items():
        thinned = values[::thin][:n_post]
        rows.append({"replicate": i, "parameter": name,
                     "rank": int((thinned < truth[name]).sum()),
                     "covered_90": bool(np.quantile(values, 0.05) <= truth[name]
                                        <= np.quantile(values, 0.95))})
    return rows, divergent


def sbc_result(rows: list[dict], n_post: int, *, bins: int = 10, alpha: float = 0.01,
               divergent: int = 0) -> SBCResult:
    ranks = pd.DataFrame(rows).sort_values(["replicate"], kind="stable").reset_index(drop=True)
    return SBCResult(ranks, n_post, rank_uniformity_tests(ranks, n_post, bins, alpha), alpha,
                     divergent)


def run_sbc(config: Config, n_replicates: int, *, seed: int = 0, chains: int = 2, tune: int = 300,
            draws: int = 250, thin: int = 5, bins: int = 10, alpha: float = 0.01,
            model: NowcastModel | None = None) -> SBCResult:
    """SBC of the config's nowcast, replicates one after another on one compiled model
    (:func:`models.evaluation.distributed.sbc_distributed` runs them on a cluster)."""
    model = model or NowcastModel(config)
    design = sbc_design(model, n_replicates, seed=seed, chains=chains, draws=draws, thin=thin,
                        bins=bins)
    rows, divergent = [], 0
    for i in range(n_replicates):
        r, d = sbc_replicate(model, design.reports[i], design.truth(i), i, seed=seed,
                             chains=chains, tune=tune, draws=draws, thin=thin,
                             n_post=design.n_post)
        rows += r
        divergent += int(d)
    model.set_evidence(model.evidence)  # back to the config's own evidence
    return sbc_result(rows, design.n_post, bins=bins, alpha=alpha, divergent=divergent)


def rank_uniformity_tests(ranks: pd.DataFrame, n_post: int, bins: int = 10,
                          alpha: float = 0.01) -> pd.DataFrame:
    """Per parameter: chi-square test that ``rank`` (0..n_post) is uniform, on ``bins`` equal
    bins, at level ``alpha`` / number of parameters (Bonferroni, family-wise ``alpha``); and the
    90%-interval coverage from ``covered_90`` when present."""
    per_param_alpha = alpha / ranks["parameter"].nunique()
    tests = []
    for name, g in ranks.groupby("parameter", sort=False):
        counts = np.histogram(g["rank"], bins=bins, range=(-0.5, n_post + 0.5))[0]
        p = stats.chisquare(counts).pvalue
        tests.append({"parameter": name, "p_value": p,
                      "coverage_90": g["covered_90"].mean() if "covered_90" in g else np.nan,
                      "uniform": p > per_param_alpha})
    return pd.DataFrame(tests)
