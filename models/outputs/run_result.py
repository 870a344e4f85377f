"""What one run produced, in memory: :class:`RunResult`, its id and fingerprints."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr
import yaml

from scenarios.loader import Loaded

if TYPE_CHECKING:
    import arviz as az


@dataclass
class RunResult:
    """Everything one run produced, as handed to :func:`write_run`."""

    configs: list[Loaded]
    """Scenario configs, the primary (the one the user ran) first, then those compared with it."""
    idata: az.InferenceData
    """The Bayesian nowcast (posterior, prior, predictive, observed/constant data, sample stats)."""
    forecast: xr.Dataset
    """Monte Carlo forecast: ``forecast`` (scenario, draw, day, target, region) in people,
    ``regime`` (scenario, draw, day), ``event_day``, ``lever__*``, ``mixture_component``."""
    diagnostics: dict
    """Sampler diagnostics: max_rhat, min_ess_bulk, min_ess_tail, divergences, passed, sampler,
    messages."""
    timings: dict
    """Stage -> {"seconds", "peak_mb"}."""
    seed: int
    weights: dict | None
    origin: dt.date
    run_id: str
    extra: dict = field(default_factory=dict)
    """Anything else worth keeping in run.json (e.g. command line)."""

    @property
    def primary(self) -> Loaded:
        return self.configs[0]

    @property
    def scenario_id(self) -> str:
        return self.primary.config.scenario.id

    @property
    def scenario_ids(self) -> list[str]:
        """Scenarios in the forecast, in its order (includes ``mixture`` when weighted)."""
        return [str(s) for s in self.forecast["scenario"].values]

    @property
    def horizon(self) -> int:
        return int(self.forecast.sizes["day"])

    @property
    def draws(self) -> int:
        return int(self.forecast.sizes["draw"])

    @property
    def locations(self) -> dict[str, str]:
        """Region id -> hubverse location (the region's ISO 3166-2 code where the config gives
        one, else its id); ``all`` (the sum over the episode's regions) stays ``all``."""
        episode = self.primary.config.episode
        return {rid: episode.location(rid) for rid in episode.regions}

    @property
    def country(self) -> dict:
        """The episode's country: ISO alpha-3, Gleditsch-Ward and ViEWS ids, name."""
        return self.primary.config.episode.country_ids

    @property
    def config_hashes(self) -> dict[str, str]:
        return {c.config.scenario.id: c.config_hash for c in self.configs}


def config_yaml(loaded: Loaded) -> str:
    """The resolved config (after ``extends``) as YAML text; its hash is ``loaded.config_hash``."""
    return yaml.safe_dump(loaded.resolved, sort_keys=False, allow_unicode=True, width=100)


def new_run_id(config_hash_: str, now: dt.datetime | None = None) -> str:
    """``YYYYMMDDTHHMMSS.ffffffZ-<8 hex of the config hash>-<4 random hex>``: sorts by time, says
    which config, and stays unique for runs started in the same microsecond."""
    now = now or dt.datetime.now(dt.UTC)
    stamp = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"{stamp}-{config_hash_[:8]}-{secrets.token_hex(2)}"


def posterior_fingerprint(idata: az.InferenceData) -> str | None:
    """SHA-256 of the posterior draws (variables in name order): two runs with the same
    fingerprint and seed have paired Monte Carlo draws."""
    if idata is None or "posterior" not in idata.groups():
        return None
    digest = hashlib.sha256()
    post = idata.posterior
    for name in sorted(post.data_vars):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(post[name].values).tobytes())
    return digest.hexdigest()
