"""From reported facts to an observation table the models read.

Each piece of evidence becomes one row: which latent series it observes (quantity, the regions it
covers), which days (0 = the episode start), which reporting profile thins it (and which subset
share, for a figure that counts only part of the quantity), and the interval of reported counts
consistent with the text (exact: low == high; lower bound: high = inf).

Windows that start before the episode start. The model has no days before day 0, so the part of
a running total from before the start is not modelled. The figure still bounds what happened
from the start on: the count over the modelled days is at most the figure (its upper end), and
at least nothing. Such a figure enters as the interval [0, high] over the days from the start,
and its text says so; a lower bound that began before the start ("at least N since ...") then
carries no information about the modelled days and is kept only for the record.

Nested claims. Reporters often give a day's toll and a running total that includes it ("about 25
today", "56 since 27 November"). Treated as two independent observations they would count the same
deaths twice. Where one claim's window lies inside another's from the same reporting profile and
quantity, and they share their first or last day, the longer claim is replaced by the difference
over the remaining days, with interval arithmetic ([56 - 27, 56 - 23] = [29, 33] deaths over
27-30 November). Other overlaps are rejected with a message naming both claims.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pandas as pd

from scenarios.lexicon import parse_value
from scenarios.schema import Config


@dataclass(frozen=True)
class Observation:
    evidence_id: str
    quantity: str
    region: str
    """The regions covered, as a label: one region's id, ids joined by '+', or 'all'."""
    first_day: int
    """0-based day index from the episode start (inclusive)."""
    last_day: int
    """0-based day index (inclusive)."""
    reporting: str
    low: float
    """Smallest reported count consistent with the text."""
    high: float
    """Largest reported count consistent with the text (inf for a lower bound)."""
    text: str
    derived_from: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    """The region ids the figure covers (one or more; empty means just ``region``)."""
    subset: str | None = None
    """The subset (e.g. air-strike deaths) whose share of the quantity the figure counts."""
    before_start: bool = False
    """The figure's window began before the episode start (see the module docstring)."""

    @property
    def covered(self) -> tuple[str, ...]:
        return self.regions or (self.region,)

    @property
    def kind(self) -> str:
        if math.isinf(self.high):
            return "lower_bound"
        return "exact" if self.low == self.high else "interval"


class EvidenceError(ValueError):
    pass


def observations(config: Config) -> list[Observation]:
    """The config's evidence as disjoint-window observations (see module docstring)."""
    start = config.episode.start
    episode_regions = list(config.episode.regions)
    rows = []
    for eid, e in config.evidence.items():
        first, last = e.period.bounds
        low, high = parse_value(e.value, config.lexicon).count_bounds()
        covered = e.region_ids(episode_regions)
        label = ("all" if e.region == "all" and len(covered) > 1 else "+".join(covered))
        text = str(e.value)
        before = first < start
        if before:  # only the days from the start are modelled: an upper bound for them
            low, first = 0, start
            text += f" (since {e.period.bounds[0]}, before the episode start: at most this " \
                    f"from {start})"
        rows.append(Observation(eid, e.quantity, label, (first - start).days, (last - start).days,
                                e.reporting, float(low), float(high), text, regions=covered,
                                subset=e.subset, before_start=before))
    return _separate_nested(rows)


def _separate_nested(rows: list[Observation]) -> list[Observation]:
    rows = sorted(rows, key=lambda o: (o.last_day - o.first_day, o.evidence_id))
    out: list[Observation] = []
    for row in rows:
        for inner in out:
            same_series = (inner.quantity, inner.covered, inner.reporting, inner.subset) == (
                row.quantity, row.covered, row.reporting, row.subset)
            if not same_series or inner.last_day < row.first_day or inner.first_day > row.last_day:
                continue
            inside = row.first_day <= inner.first_day and inner.last_day <= row.last_day
            shares_end = inner.first_day == row.first_day or inner.last_day == row.last_day
            if not inside or not shares_end or (inner.first_day, inner.last_day) == (
                    row.first_day, row.last_day):
                raise EvidenceError(
                    f"evidence '{inner.evidence_id}' and '{row.evidence_id}' count overlapping days "
                    f"of the same {row.quantity} in {row.region} from the same reporting profile; "
                    "give the second as a separate window or drop one")
            if inner.first_day == row.first_day:
                first, last = inner.last_day + 1, row.last_day
            else:
                first, last = row.first_day, inner.first_day - 1
            low = max(row.low - (inner.high if not math.isinf(inner.high) else row.low), 0.0)
            high = row.high - inner.low
            row = replace(row, first_day=first, last_day=last, low=low, high=high,
                          text=f"{row.text} minus {inner.text}",
                          derived_from=(*row.derived_from, inner.evidence_id))
        out.append(row)
    return out


def observation_table(config: Config) -> pd.DataFrame:
    """Observations as a DataFrame with calendar dates (for reports and notebooks)."""
    start = config.episode.start
    df = pd.DataFrame([o.__dict__ | {"kind": o.kind} for o in observations(config)])
    df["first_date"] = [start + pd.Timedelta(days=d) for d in df["first_day"]]
    df["last_date"] = [start + pd.Timedelta(days=d) for d in df["last_day"]]
    return df
