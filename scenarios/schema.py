"""The scenario config format (``schema_version: 1``), as pydantic models.

A config has these sections (unknown keys are errors everywhere):

``sources``     the documents figures come from (id -> file, title, publication date)
``scenario``    id, title, narrative, and the projections it encodes, each citing a document passage
``episode``     country (ISO alpha-3), start date, forecast origin, regions with their ISO 3166-2
                code and population at risk (and its source)
``reporting``   reporting profiles: what share of the true count a reporter's figure captures
``evidence``    reported facts: quantity, region, period, value (number, range, bound or phrase)
``lexicon``     extra vague phrases -> [low, high] (extends :data:`scenarios.lexicon.DEFAULT_LEXICON`)
``assumptions`` the scenario levers: regimes, transition hazards, events, trend decay, returns
``forecast``    Monte Carlo: horizon, draws, seed, scenario weights for a mixture
``sampler``     NUTS settings of the nowcast: backend (nutpie or pymc), chains, tune, posterior draws
``priors``      overrides of the nowcast priors derived from data, each with its basis
``output``      directory, formats, horizons for headline tables

Collections are mappings keyed by id (not lists) so ``extends`` can add or replace one entry.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from scenarios.distributions import Beta, Distribution
from scenarios.geography import check_region_code, resolve_country
from scenarios.levers import Assumptions, Strict
from scenarios.lexicon import ReportedValue, VaguePhraseError, parse_value
from scenarios.limits import (
    MAX_NUMBER,
    MAX_OBSERVED_DAYS,
    MAX_SCENARIO_ID,
    MAX_SEED,
    number_problems,
)
from scenarios.weights import validate_weights
from scenarios.yaml_source import did_you_mean

QUANTITIES = ("civilian_deaths", "combatant_deaths", "deaths", "injured", "displaced", "refugees")
"""What a piece of evidence counts. ``deaths`` is all actors; ``injured`` people wounded (all
actors; informs the death intensity through the wounded-to-killed ratio); ``displaced`` people
newly displaced (ever displaced since the episode start, within the period); ``refugees`` the
displaced who crossed an international border."""
DEATH_QUANTITIES = ("civilian_deaths", "combatant_deaths", "deaths", "injured")
"""Counts of people killed or wounded, each day a negative-binomial draw given the intensity."""
ALL_REGIONS = "all"
"""``region: all`` in evidence: a figure over every region of the episode."""

DRAWS_RANGE = (100, 1_000_000)
"""Monte Carlo draws a run accepts, from a config or a command line."""
OUTPUT_FORMATS = ("netcdf", "csv", "parquet", "plots", "report")
SAMPLERS = ("nutpie", "pymc")
Id = str


class Source(Strict):
    """A document figures come from: a file beside the project (``../shared/sources``) or a
    public page (``url``), or both."""

    file: str | None = Field(default=None, description="file name of the document (in "
                             "../shared/sources)")
    url: str | None = Field(default=None, pattern=r"^https?://\S+$", description="public address")
    title: str
    published: dt.date
    publisher: str | None = None

    @model_validator(mode="after")
    def _locatable(self):
        if self.file is None and self.url is None:
            raise ValueError("a source needs a 'file' or a 'url' (where a reader finds it)")
        return self

    @property
    def where(self) -> str:
        """The file name or the address, for citations."""
        return self.file or self.url or ""


class Citation(Strict):
    document: Id = Field(description="key into 'sources'")
    passage: str = Field(min_length=3, description="the sentence the figure or claim paraphrases")
    reporter: str | None = Field(default=None, description="who reported it (organisation)")


class Projection(Strict):
    statement: str = Field(min_length=3, description="the projection, in our words")
    source: Citation


class Scenario(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=MAX_SCENARIO_ID)
    title: str
    narrative: str
    projections: dict[Id, Projection] = Field(min_length=1)
    compare_with: list[str] = Field(
        default_factory=list, description="other config files (relative to this one) run alongside"
    )


class FigureWithSource(Strict):
    value: float | int | str | list[float] | dict[str, float]
    source: Citation | None = None
    basis: str | None = Field(default=None, description="why this figure, when no document states it")

    @model_validator(mode="after")
    def _has_provenance(self):
        if self.source is None and not self.basis:
            raise ValueError("every figure needs a 'source' (document citation) or a 'basis'")
        return self

    def parsed(self, lexicon=None) -> ReportedValue:
        return parse_value(self.value, lexicon)


class Region(Strict):
    name: str
    code: str | None = Field(default=None, description="ISO 3166-2 subdivision code (e.g. SY-AL) "
                             "where one exists: the region's hubverse location")
    population_at_risk: FigureWithSource


class CountryCodes(Strict):
    """Ids of the episode's country in other code lists, for a country the shipped code table
    lacks (or to override it)."""

    gleditsch_ward: int | None = Field(default=None, ge=2, le=999, description="UCDP/GW code")
    views: int | None = Field(default=None, ge=1, le=9999, description="ViEWS country_id")


class Episode(Strict):
    name: str
    country: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 3166-1 alpha-3 code of the "
                         "country the episode is in: selects its data, priors and ids")
    country_codes: CountryCodes | None = None
    start: dt.date = Field(description="first day of the episode (day 1)")
    origin: dt.date = Field(description="forecast origin: last day whose information is used")
    regions: dict[Id, Region] = Field(min_length=1)

    @model_validator(mode="after")
    def _dates(self):
        if self.origin < self.start:
            raise ValueError(f"origin {self.origin} is before the episode start {self.start}")
        if self.observed_days > MAX_OBSERVED_DAYS:
            raise ValueError(
                f"{self.observed_days:,} days from the start {self.start} to the origin "
                f"{self.origin}; the nowcast fits at most {MAX_OBSERVED_DAYS} (its cost "
                "grows with the square of the days; scenarios.limits.MAX_OBSERVED_DAYS): start "
                "the episode where its reports start")
        return self

    @model_validator(mode="after")
    def _geography(self):
        problems = []
        try:
            country = resolve_country(self.country)
        except ValueError as e:
            if self.country_codes is None or None in (self.country_codes.gleditsch_ward,
                                                      self.country_codes.views):
                problems.append(f"episode.country: {e}; or give episode.country_codes "
                                "(gleditsch_ward and views)")
            country = None
        for rid, region in self.regions.items():
            if region.code is not None and country is not None:
                try:
                    check_region_code(region.code, country.iso3)
                except ValueError as e:
                    problems.append(f"episode.regions.{rid}.code: {e}")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def country_ids(self) -> dict[str, int | str | None]:
        """ISO alpha-3, Gleditsch-Ward and ViEWS ids of the country (``country_codes`` win)."""
        try:
            c = resolve_country(self.country)
            ids = {"iso3": c.iso3, "gleditsch_ward": c.gw, "views": c.views_id, "name": c.name}
        except ValueError:
            ids = {"iso3": self.country, "gleditsch_ward": None, "views": None, "name": self.country}
        if self.country_codes is not None:
            ids.update({k: v for k, v in self.country_codes.model_dump().items() if v is not None})
        return ids

    def location(self, region_id: str) -> str:
        """The hubverse location of a region: its ISO 3166-2 code where given, else its id."""
        return self.regions[region_id].code or region_id

    @property
    def observed_days(self) -> int:
        """Days from the start to the origin, both included."""
        return (self.origin - self.start).days + 1


class ReportingProfile(Strict):
    """How a reporter's figure relates to the true count: reported ~ share x true count (binomial
    thinning). ``share`` covers both under-counting and the figure covering only part of the
    quantity (e.g. deaths from air strikes only, or one side's soldiers only)."""

    description: str
    share: Beta
    basis: str = Field(min_length=3, description="what the share prior is based on")


class Period(Strict):
    """One of: ``day: D``; ``from: D1, to: D2`` (a window, both days included);
    ``since: D1, as_of: D2`` (a cumulative total since D1 as reported on D2)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              allow_inf_nan=False)
    day: dt.date | None = None
    from_: dt.date | None = Field(default=None, alias="from")
    to: dt.date | None = None
    since: dt.date | None = None
    as_of: dt.date | None = None

    @model_validator(mode="after")
    def _one_form(self):
        forms = [self.day is not None, self.from_ is not None or self.to is not None,
                 self.since is not None or self.as_of is not None]
        if sum(forms) != 1:
            raise ValueError("give exactly one of 'day', 'from'+'to', or 'since'+'as_of'")
        if forms[1] and (self.from_ is None or self.to is None):
            raise ValueError("a window needs both 'from' and 'to'")
        if forms[2] and (self.since is None or self.as_of is None):
            raise ValueError("a cumulative figure needs both 'since' and 'as_of'")
        first, last = self.bounds
        if last < first:
            raise ValueError(f"period ends ({last}) before it starts ({first})")
        return self

    @property
    def bounds(self) -> tuple[dt.date, dt.date]:
        if self.day is not None:
            return self.day, self.day
        if self.from_ is not None:
            return self.from_, self.to
        return self.since, self.as_of

    @property
    def kind(self) -> str:
        return "day" if self.day else ("window" if self.from_ else "cumulative")


class Subset(Strict):
    """A part of a quantity a report counts (e.g. deaths from air strikes among all deaths):
    its share of the whole is unknown, with a prior and its basis."""

    description: str
    share: Beta = Field(description="share of the whole quantity this part is (0..1)")
    basis: str = Field(min_length=3, description="what the share prior is based on")


class Evidence(Strict):
    quantity: Literal[QUANTITIES]  # type: ignore[valid-type]
    region: Id | list[Id] = Field(description="a region id, a list of them (a figure over "
                                  "several regions) or 'all'")
    period: Period
    value: float | int | str | list[float] | dict[str, float]
    reporting: Id = Field(description="key into 'reporting' (the share-of-truth prior)")
    subset: Id | None = Field(default=None, description="key into 'subsets' when the figure "
                              "counts only part of the quantity (e.g. killed in air strikes)")
    source: Citation
    reported_on: dt.date

    def region_ids(self, episode_regions) -> tuple[str, ...]:
        """The regions the figure covers, in the episode's order."""
        if self.region == ALL_REGIONS:
            return tuple(episode_regions)
        wanted = [self.region] if isinstance(self.region, str) else list(self.region)
        return tuple(r for r in episode_regions if r in wanted)

    @field_validator("value")
    @classmethod
    def _parses(cls, v):
        # Syntax only; phrases are resolved against the config's lexicon in Config validation.
        return v


class Sampler(Strict):
    """NUTS settings of the nowcast fit (``sampler:``). Monte Carlo settings live in ``forecast:``."""

    backend: Literal[SAMPLERS] = Field(  # type: ignore[valid-type]
        default="nutpie", description="NUTS implementation: nutpie (default) or PyMC's own")
    chains: int = Field(default=4, ge=1, le=16)
    tune: int = Field(default=1000, ge=100, le=100_000, description="warm-up draws per chain")
    posterior_draws: int = Field(default=1000, ge=100, le=100_000,
                                 description="NUTS draws kept per chain")
    target_accept: float = Field(default=0.95, gt=0.5, lt=1)


MOVED_KEYS = {("forecast", k): ("sampler", "backend" if k == "sampler" else k)
              for k in ("sampler", "chains", "tune", "posterior_draws", "target_accept")}
"""Keys of schema 1's first layout -> where they live now (an old config gets told where)."""


class Forecast(Strict):
    """Monte Carlo settings (``forecast:``): ``draws`` always means Monte Carlo draws."""

    horizon_days: int = Field(ge=1, le=730)
    draws: int = Field(ge=DRAWS_RANGE[0], le=DRAWS_RANGE[1],
                       description="Monte Carlo draws per scenario")
    seed: int = Field(ge=0, le=MAX_SEED)
    scenario_weights: dict[Id, float] | None = None

    @field_validator("scenario_weights")
    @classmethod
    def _weights(cls, w):
        return w if w is None else validate_weights(w)


PRIOR_FAMILIES = {"intensity_at_origin": "lognormal", "trend": "normal", "persistence": "beta",
                  "innovation_sd": "lognormal", "dispersion": "lognormal",
                  "civilian_share": "beta", "displacement_per_death": "lognormal",
                  "flight_hazard": "lognormal", "refugee_share": "beta",
                  "wounded_to_killed": "lognormal"}
"""The nowcast parameters whose priors a config may override (``priors:``), with the family
each must have (the model's parameterisation: positive, real, or a share)."""
PRIOR_PARAMETERS = tuple(PRIOR_FAMILIES)


class PriorOverride(Strict):
    """A prior the analyst sets instead of the one derived from data: a distribution (by its
    90% interval, like every lever) and why."""

    prior: Distribution = Field(description="the prior distribution")
    basis: str = Field(min_length=10, description="what the prior rests on (data, source, rule)")


class Output(Strict):
    directory: str = "results"
    formats: list[Literal[OUTPUT_FORMATS]] = Field(default_factory=lambda: list(OUTPUT_FORMATS))  # type: ignore[valid-type]
    headline_horizons: list[int] = Field(default_factory=lambda: [7, 30, 90])


class Config(Strict):
    schema_version: Literal[1]
    sources: dict[Id, Source]
    scenario: Scenario
    episode: Episode
    reporting: dict[Id, ReportingProfile]
    evidence: dict[Id, Evidence]
    subsets: dict[Id, Subset] = Field(default_factory=dict)
    lexicon: dict[str, tuple[float, float]] = Field(default_factory=dict)
    assumptions: Assumptions
    forecast: Forecast
    sampler: Sampler = Field(default_factory=Sampler)
    priors: dict[str, PriorOverride] = Field(
        default_factory=dict, description="nowcast parameter -> prior replacing the derived one")
    output: Output = Field(default_factory=Output)

    @field_validator("priors")
    @classmethod
    def _known_parameters(cls, priors):
        unknown = [k for k in priors if k not in PRIOR_PARAMETERS]
        problems = [f"priors.{k}: unknown nowcast parameter '{k}'."
                    f"{did_you_mean(k, list(PRIOR_PARAMETERS))} Known: {', '.join(PRIOR_PARAMETERS)}"
                    for k in unknown]
        problems += [f"priors.{k}.prior: {k} needs a {PRIOR_FAMILIES[k]} prior, got {o.prior.dist}"
                     for k, o in priors.items() if k in PRIOR_FAMILIES
                     and o.prior.dist != PRIOR_FAMILIES[k]]
        if problems:
            raise ValueError("\n".join(problems))
        return priors

    @model_validator(mode="before")
    @classmethod
    def _finite_numbers(cls, data):
        """One rule for every number in a config, wherever it is read (populations, evidence,
        distribution parameters, lexicon intervals, weights, seeds): finite and at most
        :data:`~scenarios.limits.MAX_NUMBER` in magnitude."""
        problems = number_problems(data) if isinstance(data, dict) else []
        if problems:
            raise ValueError("\n".join(f"{'.'.join(map(str, path))}: {msg}"
                                        for path, msg in problems))
        return data

    @model_validator(mode="before")
    @classmethod
    def _moved_keys(cls, data):
        if isinstance(data, dict):
            moved = [f"{'.'.join(old)}: moved to '{' -> '.join(new)}' (NUTS settings have their "
                     "own 'sampler:' section; 'forecast:' holds the Monte Carlo settings)"
                     for old, new in MOVED_KEYS.items()
                     if isinstance(data.get(old[0]), dict) and old[1] in data[old[0]]]
            if moved:
                raise ValueError("\n".join(moved))
        return data

    @field_validator("lexicon")
    @classmethod
    def _lexicon_intervals(cls, lex):
        bad = [f"'{phrase}': [{lo:g}, {hi:g}]" for phrase, (lo, hi) in lex.items()
               if not 0 <= lo <= hi]
        if bad:
            raise ValueError("a phrase maps to an interval [low, high] with 0 <= low <= high; "
                             "got " + "; ".join(bad))
        return lex

    @model_validator(mode="after")
    def _cross_references(self):
        errors = []
        docs, projections = set(self.sources), set(self.scenario.projections)
        for pid, p in self.scenario.projections.items():
            if p.source.document not in docs:
                errors.append(f"scenario.projections.{pid}.source.document: unknown document "
                              f"'{p.source.document}' (known: {', '.join(sorted(docs))})")
        for rid, r in self.episode.regions.items():
            fig = r.population_at_risk
            if fig.source and fig.source.document not in docs:
                errors.append(f"episode.regions.{rid}.population_at_risk.source.document: unknown "
                              f"document '{fig.source.document}'")
            try:
                errors += _too_large(fig.parsed(self.lexicon),
                                     f"episode.regions.{rid}.population_at_risk.value")
            except VaguePhraseError as e:
                errors.append(f"episode.regions.{rid}.population_at_risk.value: {e}")
        for eid, e in self.evidence.items():
            where = f"evidence.{eid}"
            named = [] if e.region == ALL_REGIONS else (
                [e.region] if isinstance(e.region, str) else list(e.region))
            for r in named:
                if r not in self.episode.regions:
                    errors.append(f"{where}.region: unknown region '{r}' (known: "
                                  f"{', '.join(self.episode.regions)}, or 'all')")
            if not isinstance(e.region, str) and len(set(named)) != len(named):
                errors.append(f"{where}.region: a region is listed twice")
            if e.subset is not None and e.subset not in self.subsets:
                errors.append(f"{where}.subset: unknown subset '{e.subset}' (known: "
                              f"{', '.join(sorted(self.subsets)) or 'none: add a subsets: section'})")
            if e.reporting not in self.reporting:
                errors.append(f"{where}.reporting: unknown reporting profile '{e.reporting}' "
                              f"(known: {', '.join(sorted(self.reporting))})")
            if e.source.document not in docs:
                errors.append(f"{where}.source.document: unknown document '{e.source.document}'")
            last = e.period.bounds[1]
            if last < self.episode.start:
                errors.append(f"{where}.period: ends {last}, before the episode start "
                              f"{self.episode.start}; the model has no days to fit it to")
            if last > self.episode.origin or e.reported_on > self.episode.origin:
                errors.append(f"{where}: dated after the forecast origin {self.episode.origin}; "
                              "no information after the origin may enter a forecast")
            try:
                errors += _too_large(parse_value(e.value, self.lexicon), f"{where}.value")
            except VaguePhraseError as err:
                errors.append(f"{where}.value: {err}")
        for doc_id, s in self.sources.items():
            if s.published > self.episode.origin:
                errors.append(f"sources.{doc_id}.published: {s.published} is after the forecast "
                              f"origin {self.episode.origin}")
        a = self.assumptions
        refs = [("assumptions.encodes", a.encodes)]
        refs += [(f"assumptions.regimes.{k}.encodes", r.encodes) for k, r in a.regimes.items()]
        refs += [(f"assumptions.transitions.{s}.{t}.encodes", tr.encodes)
                 for s, tos in a.transitions.items() for t, tr in tos.items()]
        refs += [(f"assumptions.events.{k}.encodes", ev.encodes) for k, ev in a.events.items()]
        refs += [(f"assumptions.region_multipliers.{k}.encodes", m.encodes)
                 for k, m in a.region_multipliers.items()]
        known_regions = set(self.episode.regions)
        for k, ev in a.events.items():
            for r in ev.regions or []:
                if r not in known_regions:
                    errors.append(f"assumptions.events.{k}.regions: unknown region '{r}' (known: "
                                  f"{', '.join(self.episode.regions)})")
        for r in a.region_multipliers:
            if r not in known_regions:
                errors.append(f"assumptions.region_multipliers.{r}: unknown region '{r}' (known: "
                              f"{', '.join(self.episode.regions)})")
        for where, ref in refs:
            if ref is not None and ref not in projections:
                errors.append(f"{where}: unknown projection '{ref}' (known: "
                              f"{', '.join(sorted(projections))})")
        horizon = self.forecast.horizon_days
        bad = [h for h in self.output.headline_horizons if not 1 <= h <= horizon]
        if bad:
            errors.append(f"output.headline_horizons: {', '.join(map(str, bad))} outside the "
                          f"forecast horizon (1 to {horizon} days, forecast.horizon_days)")
        if errors:
            raise ValueError("\n".join(errors))
        return self

    @property
    def region_ids(self) -> list[str]:
        return list(self.episode.regions)


def _too_large(value: ReportedValue, where: str) -> list[str]:
    """A figure whose phrase reads as a number beyond :data:`~scenarios.limits.MAX_NUMBER`."""
    ends = [value.low] + ([] if value.kind == "lower_bound" else [value.high])
    if all(math.isfinite(x) and abs(x) <= MAX_NUMBER for x in ends):
        return []
    return [f"{where}: {value.text!r} reads as more than {MAX_NUMBER:.0e} people "
            "(scenarios.limits.MAX_NUMBER); a figure must be a finite count"]
