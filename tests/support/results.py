"""A small synthetic :class:`models.outputs.results.RunResult` for tests of results, plots, report and
comparison, built without a NUTS fit or the Monte Carlo engine.

The numbers are plausible, not fitted: per region a few tens of deaths per day, times a regime
multiplier that follows a random walk over the four regimes; civilians a share of deaths; people
displaced per death a few hundred; a small daily return rate. The shapes and meanings follow the
contracts of ``models.simulation.engine`` (the ``forecast`` Dataset) and ``models.inference.nowcast`` (the
InferenceData groups). Draws are paired across scenarios (common random numbers), as the engine's
are: the same draw index uses the same underlying random numbers in every scenario.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import xarray as xr

from models.outputs.run_result import RunResult, new_run_id
from models.runtime import import_arviz
from models.vocabulary import ALL, MIXTURE, TARGETS
from scenarios.evidence import observations
from scenarios.levers import REGIMES
from scenarios.loader import Loaded, load_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
SHIPPED = ("baseline", "escalation", "deescalation", "displacement")
"""Shipped scenario configs (configs/<id>.yaml)."""

REGIME_INTENSITY = np.array([0.3, 1.0, 2.5, 6.0])
"""Daily deaths relative to the origin intensity in each regime (contained .. regional_war)."""
ESCALATION_HAZARD = {"deescalation": 0.004, "baseline": 0.015, "displacement": 0.018,
                     "escalation": 0.04}
"""Daily chance of moving up one regime, by scenario (synthetic)."""


def load_with_compared(scenario_id: str) -> list[Loaded]:
    """The scenario's config followed by those it is compared with (``scenario.compare_with``)."""
    primary = load_config(CONFIGS / f"{scenario_id}.yaml")
    compared = [load_config(primary.path.parent / f) for f in primary.config.scenario.compare_with]
    return [primary, *compared]


def synthetic_forecast(
    scenarios: list[str],
    *,
    draws: int = 200,
    horizon: int = 40,
    regions: tuple[str, ...] = ("aleppo", "idlib"),
    weights: dict[str, float] | None = None,
    events: tuple[str, ...] = (),
    seed: int = 0,
) -> xr.Dataset:
    """A forecast Dataset as ``models.simulation.engine`` returns it (see the module docstring)."""
    rng = np.random.default_rng(seed)
    s, n, h, r = len(scenarios), draws, horizon, len(regions)
    # Common random numbers: one set of uniforms per draw, shared by all scenarios; scenarios
    # differ only in how likely they are to move up a regime.
    base_intensity = np.exp(np.log(30) + rng.normal(0, 0.4, (n, r)))
    moves = rng.uniform(size=(n, h))
    civilian_share = rng.beta(4, 6, (n, r))
    per_death = np.exp(np.log(300) + rng.normal(0, 0.5, (n, r)))
    deaths_to_origin = rng.poisson(60, (n, r)).astype(float)
    displaced_at_origin = np.round(rng.uniform(2e4, 8e4, (n, r)))
    daily_noise = rng.gamma(5.0, 1 / 5.0, (n, h, r))
    escalation = np.array([ESCALATION_HAZARD.get(k, 0.02) for k in scenarios])

    regime = np.empty((s, n, h), dtype=np.int8)
    current = np.full((s, n), REGIMES.index("prolonged"))
    for day in range(h):
        up = moves[None, :, day] < escalation[:, None]
        down = moves[None, :, day] > 0.985 - 0.04 * (escalation[:, None] < 0.01)
        current = np.clip(current + up - down, 0, len(REGIMES) - 1)
        regime[:, :, day] = current

    # Counts are whole people, as the engine's negative-binomial and binomial draws are.
    expected = (base_intensity[None, :, None, :] * REGIME_INTENSITY[regime][..., None]
                * daily_noise[None])  # (s, n, h, r)
    deaths = rng.poisson(expected).astype(float)
    civilian = rng.binomial(deaths.astype(np.int64),
                            civilian_share[None, :, None, :]).astype(float)
    flow = np.round(deaths * per_death[None, :, None, :])
    stock = np.empty_like(flow)
    current_stock = np.broadcast_to(displaced_at_origin, (s, n, r)).copy()
    for day in range(h):
        current_stock = np.round(current_stock * (1 - 0.005)) + flow[:, :, day]
        stock[:, :, day] = current_stock

    by_target = np.stack([
        deaths_to_origin[None, :, None, :] + np.cumsum(deaths, axis=2),
        np.floor(0.5 * deaths_to_origin[None, :, None, :]) + np.cumsum(civilian, axis=2),
        stock,
        displaced_at_origin[None, :, None, :] + np.cumsum(flow, axis=2),
        np.round(0.1 * (displaced_at_origin[None, :, None, :] + np.cumsum(flow, axis=2))),
    ][:len(TARGETS)], axis=3)  # (s, n, h, target, r); refugees: a tenth of the movements
    forecast = np.concatenate([by_target, by_target.sum(axis=4, keepdims=True)], axis=4)

    names = list(scenarios)
    component = None
    if weights:
        w = np.array([weights.get(k, 0.0) for k in names], dtype=float)
        component = rng.choice(len(names), size=n, p=w / w.sum())
        mixed = forecast[component, np.arange(n)][None]
        forecast = np.concatenate([forecast, mixed], axis=0)
        regime = np.concatenate([regime, regime[component, np.arange(n)][None]], axis=0)
        names.append(MIXTURE)

    event_day = rng.integers(1, 3 * h, (len(names), n, len(events))).astype(float)
    event_day[event_day > h] = np.nan  # the event did not happen within the horizon
    coords = {"scenario": names, "draw": np.arange(n), "day": np.arange(1, h + 1),
              "target": list(TARGETS), "region": [*regions, ALL], "event": list(events)}
    ds = xr.Dataset(
        {
            # float32, as the engine stores counts (exact below 2**24 people)
            "forecast": (("scenario", "draw", "day", "target", "region"),
                         forecast.astype(np.float32)),
            "regime": (("scenario", "draw", "day"), regime),
            "cum_deaths_at_origin": (("draw", "region"), np.concatenate(
                [deaths_to_origin, deaths_to_origin.sum(axis=1, keepdims=True)],
                axis=1).astype(np.float32)),
            "event_day": (("scenario", "draw", "event"), event_day),
            "lever__trend_half_life_days": (("scenario", "draw"),
                                            rng.lognormal(np.log(10), 0.7, (len(names), n))),
        },
        coords=coords,
    )
    ds["regime"].attrs["regimes"] = list(REGIMES)
    if component is not None:
        ds["mixture_component"] = ("draw", component.astype(np.int16))
    return ds


def synthetic_idata(loaded: Loaded, *, chains: int = 2, draws: int = 100, seed: int = 1):
    """An InferenceData shaped like the nowcast's: parameters, predictive ``reported`` per evidence,
    evidence intervals in constant_data, sample stats."""
    rng = np.random.default_rng(seed)
    regions = loaded.config.region_ids
    obs = observations(loaded.config)
    ids = [o.evidence_id for o in obs]
    low = np.array([o.low for o in obs])
    high = np.array([o.high for o in obs])
    centre = np.where(np.isfinite(high), (low + high) / 2, 2 * low)

    def params(size, spread):
        return {
            "log_intensity_origin": np.log(30) + rng.normal(0, 0.4 * spread, (*size, len(regions))),
            "civilian_share": rng.beta(4 / spread, 6 / spread, (*size, len(regions))),
            "dispersion": rng.lognormal(np.log(5), 0.3 * spread, size),
        }

    def predictive(size, spread):
        return {"reported": np.round(centre * rng.lognormal(0, 0.3 * spread, (*size, len(ids))))}

    size = (chains, draws)
    dims = {"log_intensity_origin": ["region"], "civilian_share": ["region"],
            "reported": ["evidence"], "evidence_low": ["evidence"], "evidence_high": ["evidence"],
            "evidence_quantity": ["evidence"], "evidence_region": ["evidence"]}
    idata = import_arviz().from_dict(
        posterior=params(size, 1.0),
        prior=params((1, 4 * draws), 2.0),
        posterior_predictive=predictive(size, 1.0),
        prior_predictive=predictive((1, 4 * draws), 3.0),
        observed_data={"reported": np.where(np.isfinite(high), centre, low)},
        constant_data={"evidence_low": low, "evidence_high": high,
                       "evidence_quantity": np.array([o.quantity for o in obs]),
                       "evidence_region": np.array([o.region for o in obs])},
        sample_stats={"diverging": np.zeros(size, dtype=bool),
                      "lp": rng.normal(-50, 3, size)},
        coords={"region": regions, "evidence": ids},
        dims=dims,
    )
    idata.attrs["key_parameters"] = ["log_intensity_origin", "civilian_share", "dispersion"]
    return idata


def synthetic_run(
    scenario_id: str = "escalation",
    *,
    draws: int = 200,
    horizon: int = 40,
    regions: tuple[str, ...] | None = None,
    seed: int = 7,
    diagnostics_passed: bool = True,
    extra_scenarios: tuple[str, ...] = (),
    with_nowcast: bool = True,
) -> RunResult:
    """A complete synthetic run of a shipped config (and the configs it is compared with).

    ``extra_scenarios`` adds shipped configs to the comparison (for benchmarks with more
    scenarios than the shipped configs compare). ``with_nowcast=False`` leaves ``idata`` None
    (no ArviZ import: for subprocesses that only write CSV or parquet)."""
    configs = load_with_compared(scenario_id)
    for extra in extra_scenarios:
        if extra not in [c.config.scenario.id for c in configs]:
            configs.append(load_config(CONFIGS / f"{extra}.yaml"))
    primary = configs[0].config
    ids = [c.config.scenario.id for c in configs]
    weights = primary.forecast.scenario_weights
    if weights is not None:
        weights = {k: v for k, v in weights.items() if k in ids}
        for extra in extra_scenarios:
            weights.setdefault(extra, 0.1)
    events = tuple(dict.fromkeys(e for c in configs for e in c.config.assumptions.events))
    forecast = synthetic_forecast(
        ids, draws=draws, horizon=horizon, regions=tuple(regions or primary.region_ids),
        weights=weights, events=events, seed=seed)
    diagnostics = {
        "max_rhat": 1.004 if diagnostics_passed else 1.09,
        "min_ess_bulk": 812.0 if diagnostics_passed else 95.0,
        "min_ess_tail": 640.0 if diagnostics_passed else 80.0,
        "divergences": 0 if diagnostics_passed else 12,
        "passed": diagnostics_passed,
        "sampler": "nutpie",
        "messages": [] if diagnostics_passed else ["12 divergent transitions after tuning",
                                                   "max R-hat 1.09 > 1.01"],
    }
    return RunResult(
        configs=configs,
        idata=synthetic_idata(configs[0]) if with_nowcast else None,
        forecast=forecast,
        diagnostics=diagnostics,
        timings={"fit": {"seconds": 12.5, "peak_mb": 410.0},
                 "simulate": {"seconds": 3.1, "peak_mb": 520.0}},
        seed=seed,
        weights=weights,
        origin=primary.episode.origin,
        run_id=new_run_id(configs[0].config_hash, now=dt.datetime.now(dt.UTC)),
    )
