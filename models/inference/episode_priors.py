"""The full prior set of one episode's nowcast: the priors derived from data for the episode's
country (:mod:`models.inference.priors`), the judgement priors of the event-model parameters that
no public table measures, and the config's own ``priors:`` overrides (each with its basis).

Judgement priors (the same for every episode, each with its reason):

* ``flight_hazard`` (per region, 1/day): the daily probability that a person still at risk flees
  for reasons other than that day's deaths (the front moving, fear, evacuation orders):
  displacement's own driver. 90% interval 1e-6 (almost nobody leaves without deaths) to 3e-2 (a
  city emptying by a few per cent a day under an advance, as Goma in January 2025).
* ``refugee_share`` (per region): share of newly displaced people who cross an international
  border. 90% interval 0.005 to 0.5: most people displaced by fighting stay in their country;
  near a border (or with a border crossing open) up to about half leave it.
* ``wounded_to_killed``: people wounded per person killed (all actors), used by injured counts.
  90% interval 1 to 6: tolls of bombardment of towns run nearer 1-3 wounded per death, battle
  casualties historically about 3 (and more where trauma care is good).
"""

from __future__ import annotations

from dataclasses import dataclass

from models.inference.priors import DerivedPriors, Prior, derive_priors
from scenarios.distributions import Beta, LogNormal
from scenarios.schema import Config

__all__ = ["EVENT_MODEL_PRIORS", "EpisodePriors", "episode_priors"]

EVENT_MODEL_PRIORS: dict[str, Prior] = {
    "flight_hazard": Prior(
        LogNormal(dist="lognormal", low=1e-6, high=3e-2),
        "Daily probability of fleeing without that day's deaths (front, fear, orders). "
        "Judgement: from almost nobody (1e-6/day) to a city emptying by a few per cent a day "
        "under an advance (3e-2/day: Goma, January 2025, hundreds of thousands of about two "
        "million fleeing within three days); no public table measures it. Displacement reports "
        "inform it; a region without one rests on this prior and is flagged 'prior only'."),
    "refugee_share": Prior(
        Beta(dist="beta", low=0.005, high=0.5),
        "Share of the newly displaced who cross an international border. Judgement: most people "
        "displaced by fighting stay in their country; near an open border up to about half "
        "leave it. Refugee reports inform it."),
    "wounded_to_killed": Prior(
        LogNormal(dist="lognormal", low=1.0, high=6.0),
        "People wounded per person killed (all actors). Judgement: bombardment tolls run nearer "
        "1-3 wounded per death, battle casualties about 3, more where trauma care is good. "
        "Injured counts inform the death intensity through it."),
}
"""Judgement priors of the event-model parameters (see the module docstring)."""


@dataclass(frozen=True)
class EpisodePriors:
    """The priors a nowcast uses, by parameter, and where they came from."""

    priors: dict[str, Prior]
    derived: DerivedPriors
    overridden: tuple[str, ...]

    @property
    def messages(self) -> tuple[str, ...]:
        return self.derived.messages

    def table(self) -> list[dict]:
        """One row per parameter: its distribution, its source and its basis (reports)."""
        rows = []
        for name, prior in self.priors.items():
            source = ("config" if name in self.overridden else
                      self.derived.source.get(name, "judgement"))
            rows.append({"parameter": name, "prior": repr(prior.spec), "source": source,
                         "basis": prior.basis})
        return rows


def episode_priors(config: Config) -> EpisodePriors:
    """Priors for the config's episode: derived for ``episode.country`` at ``episode.origin``,
    the event-model judgements, then the config's ``priors:`` overrides."""
    derived = derive_priors(config.episode.country, config.episode.origin)
    priors = dict(derived.priors) | EVENT_MODEL_PRIORS
    for name, override in config.priors.items():
        priors[name] = Prior(override.prior, f"Set in the config: {override.basis}")
    return EpisodePriors(priors, derived, tuple(config.priors))
