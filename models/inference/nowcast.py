"""Bayesian nowcast: the state of the conflict on the origin day, from a handful of reported figures.

Model (days t = 0 .. T-1 from the episode start to the origin; regions r)::

    log lambda[r, t] = a[r] + trend[r] * (t - (T-1)) + eps[r, t]          all-actor deaths/day
    eps[r, t]        = persistence * eps[r, t-1] + innovation_sd * z[r, t]  (AR(1))
    mu_civ = civilian_share[r] * lambda,   mu_comb = (1 - civilian_share[r]) * lambda
    deaths on day t | lambda  ~ NegBin(mean mu, size = dispersion)
    injured on day t | lambda ~ NegBin(mean wounded_to_killed * lambda, size = dispersion)

    H[r, t]          = sum_{s<=t} (displacement_per_death * lambda[r, s] / P[r] + flight_hazard[r])
    displaced by t   = P[r] * (1 - exp(-H[r, t]))
    refugees by t    = refugee_share[r] * displaced by t

Displacement has two drivers, the same in the Monte Carlo engine: flight caused by the day's
deaths (``displacement_per_death``, shared by the regions: the country's data set its prior) and
flight of its own (``flight_hazard`` per region: the front moving, fear, evacuation orders). The
daily hazard applies to the people not yet displaced, so displacement is bounded by the population
P. Deaths evidence informs the intensity; displacement evidence informs the flight hazard and
displacement per death; both inform the shared parts (displacement per death, through the
deaths). A large displacement with few deaths is explained by the flight hazard rather than by
invented deaths. No returns are assumed inside the observed days (the engine adds them).

Observation model, per piece of evidence (``scenarios.evidence``, nested claims already separated):

* deaths reported over a window W by reporting profile p: reported ~ share[p] x true count
  (binomial thinning). The true window count is a sum of negative binomials; it is approximated by
  one negative binomial with the same mean and variance (size = dispersion (sum mu)^2 / sum mu^2),
  and binomial thinning of a negative binomial keeps its size, so
  ``reported ~ NegBin(share[p] * sum_W mu, size_W)`` exactly under that approximation.
  Exact values use the pmf, intervals ("dozens", "approximately 25") the summed pmf over the
  interval, lower bounds ("at least") one minus the cdf below the bound (float64 resolves that
  down to a probability of 1e-12: a bound less likely than that is scored as 1e-12);
* displacement and refugees: ``log(reported) ~ Normal(log(share[p] * expected in W), 0.3)``,
  interval-censored likewise (counts of tens of thousands: the count noise is negligible);
* a figure over several regions observes the sum of their series (the window count's variance
  sums over regions and days); a figure for a subset (``subset:``, e.g. killed in air strikes)
  is thinned by that subset's share of the quantity as well as by the reporting share;
* injured counts are negative binomial like deaths, with mean ``wounded_to_killed`` times the
  deaths of the window (the same size: an approximation, stated).

Assumptions stated: different reports are conditionally independent given the latent intensity;
the population at risk is uncertain only within its stated range; reporting shares are fixed over
the episode. Priors and their bases: :mod:`models.inference.episode_priors` (derived from the
country's data by :mod:`models.inference.priors`, event-model judgements, config overrides).
"""

from __future__ import annotations

import json
import logging
import math
import time
import warnings
from dataclasses import dataclass, field

import arviz as az
import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from models.inference.diagnostics import diagnose
from models.inference.episode_priors import episode_priors
from models.inference.latent import beta_rv as _beta
from models.inference.latent import latent_intensity, nb_logpmf
from models.inference.latent import lognormal_rv as _lognormal
from models.inference.priors import DISPLACEMENT_REPORT_LOG_SD
from models.inference.sampling import (
    compile_for_nutpie,
    complete_posterior,
    sample_nutpie,
    sample_retrying,
    sampler_record,
)
from models.state import NowcastState
from scenarios.evidence import Observation, observations
from scenarios.lexicon import parse_value
from scenarios.schema import DEATH_QUANTITIES, Config

QUANTITY_CODE = {"civilian_deaths": 0, "combatant_deaths": 1, "deaths": 2, "injured": 3}
"""Row of the per-region factor (civilian share, its complement, 1, wounded per killed) that
turns all-actor deaths/day into the quantity counted."""
MAX_GRID = 20_000
"""Largest interval of reported deaths summed term by term (wider intervals are rejected)."""
KEY_PARAMETERS = ("intensity_at_origin", "trend", "civilian_share", "displacement_per_death",
                  "flight_hazard", "refugee_share", "reporting_share", "dispersion",
                  "population_at_risk")



@dataclass
class EvidenceArrays:
    """Evidence as the arrays the model reads. ``death_*`` rows are reported deaths, ``disp_*``
    rows reported displacement; grids hold the counts summed for interval evidence."""

    death: list[Observation]
    disp: list[Observation]
    grid_start: np.ndarray = field(repr=False)
    grid_width: np.ndarray = field(repr=False)
    complement: np.ndarray = field(repr=False)
    disp_log_low: np.ndarray = field(repr=False)
    disp_log_high: np.ndarray = field(repr=False)

    @classmethod
    def from_observations(cls, obs: list[Observation]) -> EvidenceArrays:
        death = [o for o in obs if o.quantity in DEATH_QUANTITIES]
        disp = [o for o in obs if o.quantity not in DEATH_QUANTITIES]
        start, width, comp = [], [], []
        for o in death:
            if math.isinf(o.high):  # P(Y >= low) = 1 - P(Y <= low - 1)
                s, w, c = 0, int(o.low), 1.0
            else:
                s, w, c = int(o.low), int(o.high - o.low) + 1, 0.0
            if w > MAX_GRID:
                raise ValueError(f"evidence '{o.evidence_id}': reported deaths interval "
                                 f"[{o.low:g}, {o.high:g}] is wider than {MAX_GRID:,}")
            start.append(s), width.append(w), comp.append(c)
        return cls(
            death, disp,
            grid_start=np.array(start, dtype="int64"), grid_width=np.array(width, dtype="int64"),
            complement=np.array(comp, dtype="float64"),
            disp_log_low=np.log(np.maximum([o.low for o in disp], 0.5)),
            disp_log_high=np.log(np.minimum([o.high for o in disp], 1e12)),
        )

    def grid(self, width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(values, mask) of shape (n_death, J): the counts summed for each death observation."""
        j = max(int(self.grid_width.max(initial=1)), 1) if width is None else width
        values = self.grid_start[:, None] + np.arange(j)[None, :]
        mask = np.arange(j)[None, :] < self.grid_width[:, None]
        return values.astype("float64"), mask.astype("float64")

    @property
    def ids(self) -> list[str]:
        return [o.evidence_id for o in self.death + self.disp]


def _population_prior(config: Config, lexicon) -> tuple[np.ndarray, np.ndarray]:
    """(mu, sigma) of log population per region from the stated figure: its interval is the 90%
    interval; an exact figure gets +-2%."""
    mu, sigma = [], []
    for region in config.episode.regions.values():
        v = parse_value(region.population_at_risk.value, lexicon)
        low, high = (v.low * 0.98, v.high * 1.02) if v.kind == "exact" else (v.low, v.high)
        if math.isinf(high) or low <= 0:
            raise ValueError(f"population of {region.name}: need a finite range, got {v.text!r}")
        mu.append((math.log(low) + math.log(high)) / 2)
        sigma.append((math.log(high) - math.log(low)) / (2 * 1.6448536))
    return np.array(mu), np.array(sigma)


def _normal_logcdf(z):
    """log Phi(z), written with erfc only (no erfcx: every NUTS backend compiles it)."""
    return pt.log(pt.maximum(0.5 * pt.erfc(-z / np.sqrt(2.0)), 1e-300))


class NowcastModel:
    """The PyMC model of one config's episode and evidence, compiled once and refitted with new
    evidence values through data containers (SBC, sweeps, several scenarios sharing evidence)."""

    def __init__(self, config: Config):
        self.config = config
        self.regions = list(config.episode.regions)
        self.n_days = config.episode.observed_days
        self.reporting = list(config.reporting)
        self.evidence = EvidenceArrays.from_observations(observations(config))
        self.episode_priors = episode_priors(config)
        self.priors = self.episode_priors.priors
        ev = self.evidence
        self.subsets = sorted({o.subset for o in ev.death + ev.disp if o.subset})
        self.has_injured = any(o.quantity == "injured" for o in ev.death)
        self.model = self._build()
        self._compiled = None

    # -- model ---------------------------------------------------------------------------------
    def _membership(self, obs: list[Observation]) -> np.ndarray:
        """(obs, region) 1 where the figure covers the region."""
        return np.array([[r in o.covered for r in self.regions] for o in obs], dtype="float64")

    def _build(self) -> pm.Model:
        cfg, ev, T, priors = self.config, self.evidence, self.n_days, self.priors
        coords = {"region": self.regions, "day": np.arange(T), "reporting": self.reporting,
                  "evidence": ev.ids, "death_evidence": [o.evidence_id for o in ev.death],
                  "displacement_evidence": [o.evidence_id for o in ev.disp],
                  "subset": self.subsets}
        pop_mu, pop_sigma = _population_prior(cfg, cfg.lexicon)
        with pm.Model(coords=coords) as model:
            lam, _ = latent_intensity(T, priors, series_dim="region", time_dim="day")
            pm.Deterministic("intensity_at_origin", lam[:, -1], dims="region")
            civ = _beta("civilian_share", priors["civilian_share"].spec, dims="region")
            size = _lognormal("dispersion", priors["dispersion"])
            ratio = _lognormal("displacement_per_death", priors["displacement_per_death"])
            flight = _lognormal("flight_hazard", priors["flight_hazard"], dims="region")
            refugee = _beta("refugee_share", priors["refugee_share"].spec, dims="region")
            wounded = (_lognormal("wounded_to_killed", priors["wounded_to_killed"])
                       if self.has_injured else pt.as_tensor_variable(1.0))
            pop = pm.LogNormal("population_at_risk", mu=pop_mu, sigma=pop_sigma, dims="region")
            share = pm.Beta("reporting_share",
                            alpha=[cfg.reporting[p].share.alpha_beta[0] for p in self.reporting],
                            beta=[cfg.reporting[p].share.alpha_beta[1] for p in self.reporting],
                            dims="reporting")
            subset_share = (pm.Beta("subset_share",
                                    alpha=[cfg.subsets[s].share.alpha_beta[0] for s in self.subsets],
                                    beta=[cfg.subsets[s].share.alpha_beta[1] for s in self.subsets],
                                    dims="subset")
                            if self.subsets else None)
            # Cumulative displacement hazard by the end of each day: deaths-driven and own flight.
            hazard = ratio * lam / pop[:, None] + flight[:, None]
            cum_hazard = pt.cumsum(hazard, axis=1)
            displaced = pm.Deterministic("displaced_at_origin",
                                         pop * (1 - pt.exp(-cum_hazard[:, -1])), dims="region")
            pm.Deterministic("refugees_at_origin", refugee * displaced, dims="region")

            def thinning(obs):
                p_idx = np.array([self.reporting.index(o.reporting) for o in obs])
                out = share[p_idx]
                if subset_share is not None:
                    s_idx = np.array([self.subsets.index(o.subset) if o.subset else 0
                                      for o in obs])
                    has = np.array([o.subset is not None for o in obs], dtype="float64")
                    out = out * (has * subset_share[s_idx] + (1 - has))
                return out

            expected = []
            if ev.death:
                member = self._membership(ev.death)
                q_idx = np.array([QUANTITY_CODE[o.quantity] for o in ev.death])
                window = np.array([[o.first_day <= t <= o.last_day for t in range(T)]
                                   for o in ev.death], dtype="float64")
                cat = pt.stack([civ, 1 - civ, pt.ones_like(civ), wounded * pt.ones_like(civ)])
                coef = member * cat[q_idx]  # (obs, region): the quantity per all-actor death
                true_mean = (window * pt.dot(coef, lam)).sum(axis=1)
                # Variance of a sum of independent negative binomials over regions and days.
                true_sq = (window * pt.dot(coef**2, lam**2)).sum(axis=1)
                obs_size = size * true_mean**2 / true_sq
                rep_mean = thinning(ev.death) * true_mean
                values, mask = ev.grid()
                grid = pm.Data("death_grid", values)
                grid_mask = pm.Data("death_grid_mask", mask)
                complement = pm.Data("death_complement", ev.complement)
                terms = nb_logpmf(grid, rep_mean[:, None], obs_size[:, None])
                lse = pt.logsumexp(pt.switch(grid_mask > 0, terms, -np.inf), axis=1)
                lse = pt.minimum(lse, -1e-12)  # a cdf below 1, so log1mexp stays finite
                death_logp = pt.switch(complement > 0, pt.log1mexp(lse), lse)
                pm.Potential("death_evidence_loglik", death_logp.sum())
                expected.append(true_mean)
            if ev.disp:
                member = self._membership(ev.disp)
                is_refugees = np.array([o.quantity == "refugees" for o in ev.disp],
                                       dtype="float64")[:, None]
                first_day = np.array([o.first_day for o in ev.disp])
                last_day = np.array([o.last_day for o in ev.disp])
                padded = pt.concatenate([pt.zeros((len(self.regions), 1)), cum_hazard], axis=1)
                before = padded[:, first_day].T  # (obs, region)
                through = padded[:, last_day + 1].T
                per_region = pop[None, :] * (pt.exp(-before) - pt.exp(-through))
                counted = member * (is_refugees * refugee[None, :] + (1 - is_refugees))
                true_disp = (counted * per_region).sum(axis=1)
                loc = pt.log(thinning(ev.disp) * true_disp)
                log_low = pm.Data("disp_log_low", ev.disp_log_low)
                log_high = pm.Data("disp_log_high", ev.disp_log_high)
                s = DISPLACEMENT_REPORT_LOG_SD
                z_lo, z_hi = (log_low - loc) / s, (log_high - loc) / s
                # P(z_lo < Z < z_hi) from the tail the interval lies in, so two numbers near 1
                # are never subtracted (the interval may sit far in either tail while sampling).
                upper = z_lo > 0
                big = pt.switch(upper, _normal_logcdf(-z_lo), _normal_logcdf(z_hi))
                small = pt.switch(upper, _normal_logcdf(-z_hi), _normal_logcdf(z_lo))
                interval = pm.math.logdiffexp(big, pt.minimum(small, big - 1e-12))
                point = -0.5 * z_lo**2 - np.log(s * np.sqrt(2 * np.pi))
                exact = np.isclose(ev.disp_log_low, ev.disp_log_high)
                disp_logp = pt.switch(exact, point, interval)
                pm.Potential("displacement_evidence_loglik", disp_logp.sum())
                expected.append(true_disp)
            pm.Deterministic("expected_true_count", pt.concatenate(expected), dims="evidence")
        return model

    # -- sampling --------------------------------------------------------------------------------
    def set_evidence(self, evidence: EvidenceArrays, grid_width: int | None = None) -> None:
        """Replace the evidence values (same rows and windows) without rebuilding the model."""
        values, mask = evidence.grid(grid_width)
        data = {}
        if evidence.death:
            data |= {"death_grid": values, "death_grid_mask": mask,
                     "death_complement": evidence.complement}
        if evidence.disp:
            data |= {"disp_log_low": evidence.disp_log_low, "disp_log_high": evidence.disp_log_high}
        self._data = data
        with self.model:
            pm.set_data(data)

    def compiled(self):
        """The nutpie-compiled model (compiled once per process and reused)."""
        if self._compiled is None:
            self._compiled = compile_for_nutpie(self.model)
        return self._compiled

    def sample(self, *, seed: int, sampler: str = "nutpie", chains: int = 4, tune: int = 1000,
               draws: int = 1000, target_accept: float = 0.95, progress: bool = False) -> az.InferenceData:
        """Posterior draws (chains x draws) with sample stats."""
        if sampler == "nutpie":
            compiled = self.compiled()
            if getattr(self, "_data", None):
                compiled = compiled.with_data(**self._data)
            return sample_nutpie(compiled, draws=draws, tune=tune, chains=chains, seed=seed,
                                 target_accept=target_accept, progress_bar=progress,
                                 save_warmup=False, cores=min(chains, 2))
        if sampler == "pymc":
            with self.model, warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                return complete_posterior(pm.sample(draws=draws, tune=tune, chains=chains,
                                           cores=min(chains, 2), random_seed=seed,
                                           target_accept=target_accept, progressbar=progress,
                                           compute_convergence_checks=False), chains, draws)
        raise ValueError(f"unknown sampler {sampler!r} (nutpie or pymc)")

    def sample_prior(self, draws: int, seed: int) -> xr.Dataset:
        # The potentials (the evidence) are deliberately left out: this is the prior.
        pymc_log = logging.getLogger("pymc")
        level = pymc_log.level
        pymc_log.setLevel(logging.WARNING)  # no "Sampling: [...]" line on every call
        try:
            with self.model, warnings.catch_warnings():
                warnings.filterwarnings("ignore", "The effect of Potentials", UserWarning)
                # PyTensor's Python linker: with an empty compile cache the default C linker
                # spends ~15 s compiling code that 1,000 draws run for under a second (measured:
                # 1.9 s against 15.8 s cold, 1.1 s against 0.9 s warm, same draws to 1e-15).
                return pm.sample_prior_predictive(draws=draws, random_seed=seed,
                                                  compile_kwargs={"mode": "FAST_COMPILE"}).prior
        finally:
            pymc_log.setLevel(level)

    # -- predictive --------------------------------------------------------------------------------
    def simulate_reports(self, params: xr.Dataset, rng: np.random.Generator) -> np.ndarray:
        """Reported values each piece of evidence would show, for each draw in ``params``
        (dims chain, draw): shape (chain, draw, evidence). The same observation model as the
        likelihood (see the module docstring)."""
        ev = self.evidence
        expected = params["expected_true_count"].values  # (c, d, evidence)
        share = params["reporting_share"].values
        subset = params["subset_share"].values if self.subsets else None

        def thin(o):
            out = share[..., self.reporting.index(o.reporting)]
            if o.subset is not None:
                out = out * subset[..., self.subsets.index(o.subset)]
            return out

        out = np.empty(expected.shape)
        n_death = len(ev.death)
        if n_death:
            T = self.n_days
            lam = params["intensity"].values  # (c, d, region, day)
            civ = params["civilian_share"].values
            size = params["dispersion"].values
            wounded = (params["wounded_to_killed"].values[..., None] if self.has_injured
                       else np.ones_like(civ))
            factors = np.stack([civ, 1 - civ, np.ones_like(civ), wounded * np.ones_like(civ)])
            member = self._membership(ev.death)
            for i, o in enumerate(ev.death):
                coef = member[i] * factors[QUANTITY_CODE[o.quantity]]  # (c, d, region)
                w = (np.arange(T) >= o.first_day) & (np.arange(T) <= o.last_day)
                series = coef[..., None] * lam * w  # (c, d, region, day)
                m = series.sum((-1, -2))
                k = size * m**2 / (series**2).sum((-1, -2))
                mean = thin(o) * m
                out[..., i] = rng.negative_binomial(k, k / (k + mean))
        for j, o in enumerate(ev.disp):
            mean = thin(o) * expected[..., n_death + j]
            out[..., n_death + j] = np.round(mean * rng.lognormal(0, DISPLACEMENT_REPORT_LOG_SD,
                                                                  mean.shape))
        return out

    def state_for_seed(self, posterior: xr.Dataset, seed: int) -> NowcastState:
        """:meth:`state` with its own random stream, so a fit and its cached copy give the same
        state (and so the same forecast) for the same seed."""
        state = self.state(posterior, np.random.default_rng([seed, 2]))
        state.validate()
        return state

    def state(self, posterior: xr.Dataset, rng: np.random.Generator) -> NowcastState:
        """The :class:`NowcastState` for every posterior draw (chains stacked)."""
        post = posterior.stack(sample=("chain", "draw")).transpose("sample", ...)
        lam = post["intensity"].values  # (n, R, T)
        eps = post["ar_deviation_path"].values
        civ = post["civilian_share"].values
        size = post["dispersion"].values
        R = lam.shape[1]
        # Deaths from the start to the origin: a draw of the latent counts given the intensity.
        civ_mean = lam * civ[:, :, None]
        k = size[:, None, None]
        civ_deaths = rng.negative_binomial(k, k / (k + civ_mean)).sum(-1)
        comb_mean = lam * (1 - civ[:, :, None])
        comb_deaths = rng.negative_binomial(k, k / (k + comb_mean)).sum(-1)
        return NowcastState(
            regions=tuple(self.regions),
            log_intensity=np.log(lam[:, :, -1]),
            ar_deviation=eps[:, :, -1],
            trend=post["trend"].values,
            persistence=post["persistence"].values,
            innovation_sd=post["innovation_sd"].values,
            dispersion=size,
            civilian_share=civ,
            displacement_per_death=np.repeat(post["displacement_per_death"].values[:, None], R, axis=1),
            population_at_risk=post["population_at_risk"].values,
            displaced_at_origin=post["displaced_at_origin"].values,
            deaths_to_origin=np.stack([civ_deaths, comb_deaths], axis=-1).astype("float64"),
            flight_hazard=post["flight_hazard"].values,
            refugee_share=post["refugee_share"].values,
            refugees_at_origin=post["refugees_at_origin"].values,
        )


def _add_groups(idata: az.InferenceData, **groups: xr.Dataset) -> None:
    """Add groups, merging into any the sampler already wrote (PyMC writes constant_data)."""
    for name, ds in groups.items():
        if name in idata.groups():
            getattr(idata, name).update(ds)
        else:
            idata.add_groups({name: ds})


@dataclass
class NowcastFit:
    idata: az.InferenceData
    state: NowcastState
    diagnostics: dict
    seconds: dict


def fit_nowcast(config: Config, *, seed: int | None = None, sampler: str | None = None,
                model: NowcastModel | None = None, progress: bool = False,
                target_accept: float | None = None) -> NowcastFit:
    """Fit the nowcast for a config: prior draws, posterior (NUTS), predictive reports, diagnostics,
    and the :class:`NowcastState` handed to the Monte Carlo engine.

    ``target_accept``: NUTS target acceptance instead of ``sampler.target_accept``. A fit with
    divergent transitions is retried once at the higher
    :data:`~models.inference.diagnostics.RETRY_TARGET_ACCEPT` (:func:`~models.inference.sampling.sample_retrying`);
    the diagnostics record the value used (``target_accept``) and the retry (``retry``: the
    first attempt's target and divergences, or None), and so does the InferenceData (attribute
    ``sampler_record``), so a cached fit reports them too."""
    f = config.sampler
    seed = config.forecast.seed if seed is None else seed
    sampler = sampler or f.backend
    times = {}
    t0 = time.perf_counter()
    model = model or NowcastModel(config)
    if sampler == "nutpie":
        model.compiled()
    times["compile"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    idata, record = sample_retrying(model, seed=seed, sampler=sampler, settings=f,
                                    target_accept=target_accept, progress=progress)
    times["sample"] = time.perf_counter() - t0
    rng = np.random.default_rng([seed, 1])
    prior = model.sample_prior(draws=1000, seed=seed + 1)
    ev = model.evidence
    reported_dims = ("chain", "draw", "evidence")
    post_rep = model.simulate_reports(idata.posterior, rng)
    prior_rep = model.simulate_reports(prior, rng)
    lows = np.array([o.low for o in ev.death + ev.disp])
    highs = np.array([o.high for o in ev.death + ev.disp])
    coords = {"evidence": ev.ids}
    _add_groups(
        idata,
        prior=prior,
        posterior_predictive=xr.Dataset({"reported": (reported_dims, post_rep)},
                                        coords=coords | {"chain": idata.posterior.chain,
                                                         "draw": idata.posterior.draw}),
        prior_predictive=xr.Dataset({"reported": (reported_dims, prior_rep)},
                                    coords=coords | {"chain": prior.chain, "draw": prior.draw}),
        observed_data=xr.Dataset({"reported_low": ("evidence", lows),
                                  "reported_high": ("evidence", highs)}, coords=coords),
        constant_data=xr.Dataset({
            "evidence_low": ("evidence", lows), "evidence_high": ("evidence", highs),
            "evidence_first_day": ("evidence", [o.first_day for o in ev.death + ev.disp]),
            "evidence_last_day": ("evidence", [o.last_day for o in ev.death + ev.disp]),
            "evidence_quantity": ("evidence", [o.quantity for o in ev.death + ev.disp]),
            "evidence_region": ("evidence", [o.region for o in ev.death + ev.disp]),
            "evidence_text": ("evidence", [o.text for o in ev.death + ev.disp]),
        }, coords=coords),
    )
    idata.attrs["key_parameters"] = list(KEY_PARAMETERS)
    # JSON text: netCDF attributes hold strings and numbers, not records
    idata.attrs["priors"] = json.dumps(model.episode_priors.table())
    idata.attrs["prior_messages"] = json.dumps(list(model.episode_priors.messages))
    idata.attrs["sampler_record"] = json.dumps({k: record[k] for k in ("target_accept", "retry")})
    diagnostics = diagnose(idata.posterior, idata.sample_stats, sampler) | sampler_record(idata)
    state = model.state_for_seed(idata.posterior, seed)
    return NowcastFit(idata=idata, state=state, diagnostics=diagnostics, seconds=times)
