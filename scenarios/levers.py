"""The scenario levers of a config (``assumptions:``): regimes, transitions between them, events
and region multipliers. Every lever is a distribution tied to the projection it encodes.

The regime is the conflict-wide phase, shared by all regions; local differences are region
multipliers and region-scoped events. Events move the conflict up (``moves_to``: at least that
regime) or down (``lowers_to``: at most that regime) from the day they happen.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from scenarios.distributions import Beta, Distribution, Fixed, LogNormal

REGIMES = ("contained", "prolonged", "escalated", "regional_war")
"""Closed, ordered set of conflict regimes (least to most intense)."""


Id = str


class Strict(BaseModel):
    """Base of every config section: unknown keys are errors, and no float field takes a
    non-finite number (``allow_inf_nan=False``; the document-wide rule is
    :func:`scenarios.limits.number_problems`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Regime(Strict):
    intensity_multiplier: Distribution = Field(
        description="daily deaths relative to the intensity nowcast at the origin (x)"
    )
    displacement_multiplier: Distribution = Field(
        description="displacement per death relative to the nowcast (x)"
    )
    return_multiplier: Distribution = Field(description="return rate relative to the base (x)")
    encodes: Id | None = Field(default=None, description="projection this regime's levers encode")


class Transition(Strict):
    daily_hazard: Distribution = Field(description="probability per day of moving to this regime")
    encodes: Id


class InterventionEvent(Strict):
    """Happens at most once, on a day drawn from a daily hazard (an outside actor enters, a front
    opens, a ceasefire, a side withdraws). From that day on, intensity in its ``regions`` (default
    all) is multiplied by ``intensity_multiplier`` (below 1 calms); on that day the shared regime
    becomes at least ``moves_to`` or at most ``lowers_to`` (later transitions may move it again).
    The regime is the conflict-wide phase: a region-scoped event is a local change, not a move."""

    description: str
    daily_hazard: Distribution
    intensity_multiplier: Distribution
    moves_to: Literal[REGIMES] | None = None  # type: ignore[valid-type]
    lowers_to: Literal[REGIMES] | None = None  # type: ignore[valid-type]
    regions: list[Id] | None = Field(default=None, min_length=1, description="default: all")
    encodes: Id

    @model_validator(mode="after")
    def _regime_change(self):
        key = "moves_to" if self.moves_to is not None else "lowers_to"
        if self.moves_to is not None and self.lowers_to is not None:
            raise ValueError("an event has 'moves_to' (the regime becomes at least this) or "
                             "'lowers_to' (at most this), not both; write two events")
        if self.regions is not None and getattr(self, key) is not None:
            raise ValueError(f"a region-scoped event (regions: {self.regions}) cannot set '{key}': "
                             "the regime is shared by all regions. Drop 'regions' if the event "
                             f"changes the whole conflict, or drop '{key}' (a local change)")
        return self


class RegionMultipliers(Strict):
    """A region's departure from the shared regime, drawn once per draw (not given: 1)."""

    intensity_multiplier: Distribution | None = None
    displacement_multiplier: Distribution | None = None
    encodes: Id | None = None


class Assumptions(Strict):
    regimes: dict[Literal[REGIMES], Regime]  # type: ignore[valid-type]
    initial_regime: Literal[REGIMES]  # type: ignore[valid-type]
    transitions: dict[Literal[REGIMES], dict[Literal[REGIMES], Transition]] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="from regime -> to regime -> daily hazard"
    )
    events: dict[Id, InterventionEvent] = Field(default_factory=dict)
    region_multipliers: dict[Id, RegionMultipliers] = Field(default_factory=dict)
    trend_half_life_days: Annotated[LogNormal | Fixed, Field(discriminator="dist")] = Field(
        description="days over which the nowcast's current trend in intensity halves"
    )
    daily_return_rate: Annotated[Beta | Fixed, Field(discriminator="dist")] = Field(
        description="share of the currently displaced returning per day")
    encodes: Id = Field(description="projection the trend/return levers encode")

    @model_validator(mode="after")
    def _regimes_known(self):
        if set(self.regimes) != set(REGIMES):
            missing = [r for r in REGIMES if r not in self.regimes]
            raise ValueError(f"all regimes need levers; missing: {', '.join(missing)}")
        for src, tos in self.transitions.items():
            if src in tos:
                raise ValueError(f"transition from '{src}' to itself")
        return self
