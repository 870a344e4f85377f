"""The run's summary as terminal text: the headline table (median and 90% interval per
scenario, target and headline horizon, columns sized to their contents) and the lines saying
which quantities rest on the prior alone and which reports contradict the prior. The command
line prints these; they live here, with the other output formats, so the CLI stays thin."""

from __future__ import annotations

__all__ = ["headline", "information_lines"]


def headline(forecast, horizons: list[int], origin=None, start=None,
             location: str = "all", by_region: bool = False) -> str:
    """Median and 90% interval per scenario and target at the headline horizons (text table),
    columns sized to the longest scenario id, target and cell. ``by_region``: a row per region
    too (each region, then 'all', their sum), with a region column."""
    import numpy as np

    from models.outputs.formatting import format_count
    from models.vocabulary import ALL, TARGETS

    days = [h for h in horizons if h <= int(forecast["day"].max())]
    regions = ([str(r) for r in forecast["region"].values if str(r) != ALL] + [ALL]
               if by_region else [location])
    rows = []
    for scen in forecast["scenario"].values:
        for region in regions:
            for target in TARGETS:
                x = forecast["forecast"].sel(scenario=scen, target=target, region=region)
                cells = []
                for h in days:
                    q05, q50, q95 = np.quantile(x.sel(day=h).values, [0.05, 0.5, 0.95])
                    cells.append(f"{format_count(q50, digits=None)} "
                                 f"[{format_count(q05, digits=None)}"
                                 f"–{format_count(q95, digits=None)}]")
                rows.append((str(scen), region, target, cells))
    ws = max(len("scenario"), *(len(r[0]) for r in rows)) + 2
    wr = max(len("region"), *(len(r[1]) for r in rows)) + 2 if by_region else 0
    wt = max(len("target"), *(len(r[2]) for r in rows)) + 2
    wc = max(12, *(len(c) for r in rows for c in r[3])) + 2
    when = (f"; day N = N days after the origin {origin}" if origin else "")
    since = (f"; cumulative targets count from the episode start {start}" if start else "")
    where = "per region (all = their sum)" if by_region else (
        "all regions" if location == ALL else f"region {location}")
    region_head = f"{'region':<{wr}}" if by_region else ""
    lines = [f"median [5%–95%], people, {where}{when}{since}",
             f"{'scenario':<{ws}}{region_head}{'target':<{wt}}"
             + "".join(f"{f'day {h}':>{wc}}" for h in days)]
    lines += [f"{s:<{ws}}{(r if by_region else ''):<{wr}}{t:<{wt}}"
              + "".join(f"{c:>{wc}}" for c in cells) for s, r, t, cells in rows]
    return "\n".join(lines)


def information_lines(result) -> list[str]:
    """Which regions' quantities rest on the prior alone; reports that contradict the prior."""
    from models.outputs.statistics import information_sources, prior_data_conflicts

    idata = result.idata
    if "constant_data" not in idata.groups() or "evidence_quantity" not in idata.constant_data:
        return []
    table = information_sources(idata)
    prior_only = table[table["informed_by"] == "prior only"]
    lines = []
    if len(prior_only):
        lines.append("informed by the prior alone (no report): " + ", ".join(
            f"{r.region} {r.quantity.replace('_', ' ')}" for r in prior_only.itertuples()))
    for c in prior_data_conflicts(idata).itertuples():
        lines.append(f"WARNING: prior-data conflict: {c.evidence} ({c.low:,.0f}-{c.high:,.0f}) "
                     f"is {c.direction} the prior predictive 99% interval "
                     f"({c.prior_low:,.0f}-{c.prior_high:,.0f}); prior on {c.prior}")
    return lines
