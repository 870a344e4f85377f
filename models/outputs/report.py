"""The briefing report of a run: ``report.md`` and a self-contained ``report.html``.

Both are rendered from one list of blocks (heading, paragraph, table, list, image, warning), so
they say the same thing. The HTML embeds every plot as a base64 PNG data URI and carries its own
CSS: one file that opens in any browser, offline, and can be mailed.

The answer comes first: a one-paragraph summary (what the primary scenario puts deaths and
displacement at by the last headline horizon, against the other scenarios, paired draw by draw,
and the mixture) and the headline table (median and 90% interval per scenario, target and
headline horizon, all regions), then a table of contents, the charts, the evidence (reporters,
passages and what the fitted model implies each report would say; what informs each region's
nowcast), the assumptions (each scenario's narrative, each projection it encodes with the levers
that encode it and the passage it rests on, the mixture weights), the sampler diagnostics (loud
when they failed) and the limits of the model, written from the config (its documents, regions,
populations and targets), not for one episode.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from models.outputs.blocks import (
    Bullets,
    Contents,
    Heading,
    Image,
    Para,
    Table,
    Warning_,
    to_html,
    to_markdown,
)
from models.outputs.drivers import driver_blocks
from models.outputs.formatting import format_count as fmt_count
from models.outputs.formatting import format_interval90 as fmt_interval
from models.outputs.run_result import RunResult
from models.outputs.statistics import (
    ForecastSummary,
    baseline_scenario,
    evidence_fit,
    headline_horizons,
    information_sources,
    mixture_baseline_share,
    population_at_risk,
    prior_data_conflicts,
    summarise,
)
from models.outputs.update_blocks import update_blocks
from models.vocabulary import ALL, MIXTURE, TARGET_LABELS, TARGET_PHRASES, TARGET_PHRASES_SHORT
from scenarios.evidence import observations
from scenarios.loader import Loaded

# ---------------------------------------------------------------------------------------------
# Content


def headline_table(summary: ForecastSummary, scenario: str, horizons: list[int],
                   location: str = ALL) -> Table:
    """Rows: targets; columns: horizons; cells ``median (5%-95%)`` in people."""
    q = summary.quantiles.sel(scenario=scenario, region=location)
    rows = []
    for target in q["target"].values:
        cells = [TARGET_LABELS.get(str(target), str(target))]
        for h in horizons:
            lo, med, hi = (float(q.sel(target=target, day=h, quantile=level))
                           for level in (0.05, 0.5, 0.95))
            cells.append(f"{fmt_count(med)} ({fmt_count(lo)} to {fmt_count(hi)})")
        rows.append(cells)
    return Table(["Target (people, all regions)", *[f"day {h}" for h in horizons]], rows)


def _day_header(h: int, origin: dt.date | None) -> str:
    return f"day {h} ({origin + dt.timedelta(days=h):%-d %b})" if origin else f"day {h}"


def headline_overview(summary: ForecastSummary, scenarios: list[str], horizons: list[int],
                      origin: dt.date | None = None, location: str = ALL) -> Table:
    """The headline table at the top of the report: one row per scenario and target, one column
    per horizon (with its date), cells ``median (5% to 95%)`` in people."""
    q = summary.quantiles.sel(region=location)
    rows = []
    for s in scenarios:
        for target in q["target"].values:
            cells = [s, TARGET_LABELS.get(str(target), str(target))]
            for h in horizons:
                lo, med, hi = (float(q.sel(scenario=s, target=target, day=h, quantile=level))
                               for level in (0.05, 0.5, 0.95))
                cells.append(f"{fmt_count(med)} ({fmt_count(lo)} to {fmt_count(hi)})")
            rows.append(cells)
    where = "all regions" if location == ALL else location
    return Table(["Scenario", f"Target (people, {where})",
                  *[_day_header(h, origin) for h in horizons]], rows)




def answer_paragraph(result: RunResult, summary: ForecastSummary, horizons: list[int]) -> str:
    """The answer in one paragraph: the primary scenario's deaths and displacement at the last
    headline horizon, the other scenarios against it (paired draws), the mixture, and the
    caveats a reader must not miss (failed diagnostics, regions the prior alone informs)."""
    h = horizons[-1]
    end = result.origin + dt.timedelta(days=h)
    targets = [str(t) for t in summary.quantiles["target"].values]
    shown = [t for t in ("cum_deaths", "displaced") if t in targets] or targets[:1]
    q = summary.quantiles.sel(region=ALL, day=h)

    def cell(s: str, t: str) -> str:
        lo, med, hi = (float(q.sel(scenario=s, target=t, quantile=level))
                       for level in (0.05, 0.5, 0.95))
        return f"{fmt_count(med)} (90% interval {fmt_count(lo)} to {fmt_count(hi)})"

    scenarios = result.scenario_ids
    primary = result.scenario_id if result.scenario_id in scenarios else scenarios[0]
    text = []
    if not result.diagnostics.get("passed", False):
        text.append("Sampler diagnostics FAILED: treat every number here with suspicion.")
    text.append(
        f"As of {result.origin:%-d %B %Y}, the '{primary}' scenario puts "
        + " and ".join(f"{TARGET_PHRASES.get(t, TARGET_LABELS.get(t, t).lower())} at "
                       f"{cell(primary, t)}" for t in shown)
        + f" by {end:%-d %B %Y}, {h} days after the origin.")
    first = shown[0]
    draws = result.forecast["forecast"].sel(target=first, region=ALL, day=h)
    for s in [x for x in scenarios if x not in (primary, MIXTURE)]:
        higher = float((draws.sel(scenario=primary).values > draws.sel(scenario=s).values).mean())
        text.append(f"Under '{s}' {TARGET_PHRASES_SHORT.get(first, first)} are {cell(s, first)}; "
                    f"'{primary}' is higher in {higher:.0%} of paired draws.")
    if MIXTURE in scenarios and result.weights:
        total = sum(result.weights.values())
        weights = ", ".join(f"{k} {v / total:.0%}" for k, v in result.weights.items())
        text.append(f"The mixture of the scenarios ({weights}) puts "
                    f"{TARGET_PHRASES_SHORT.get(first, first)} at {cell(MIXTURE, first)}.")
    if "constant_data" in result.idata.groups() and \
            "evidence_quantity" in result.idata.constant_data:
        info = information_sources(result.idata)
        n = int((info["informed_by"] == "prior only").sum())
        if n:
            text.append(f"{n} of the {len(info)} regional nowcast quantities rest on the prior "
                        "alone (no report speaks for them; see 'What informs the nowcast').")
    text.append("Scenarios are conditional statements (if this happens, then this), not "
                "predictions of which will happen.")
    return " ".join(text)


def headline_numbers(summary: ForecastSummary, horizons: list[int],
                     location: str = ALL) -> list[dict]:
    """Machine-readable headline numbers: one dict per scenario, target and horizon."""
    q = summary.quantiles.sel(region=location, day=horizons, quantile=[0.05, 0.5, 0.95])
    out = []
    for s in q["scenario"].values:
        for t in q["target"].values:
            for h in horizons:
                v = q.sel(scenario=s, target=t, day=h).values
                out.append({"scenario": str(s), "target": str(t), "horizon": int(h),
                            "q05": float(v[0]), "median": float(v[1]), "q95": float(v[2])})
    return out


def _levers_by_projection(loaded: Loaded) -> dict[str, list[str]]:
    """projection id -> the levers (described in words, with their 90% intervals) encoding it."""
    a = loaded.config.assumptions
    out: dict[str, list[str]] = {}
    out.setdefault(a.encodes, []).append(
        f"trend half-life {fmt_interval(a.trend_half_life_days)} days; daily return rate "
        f"{fmt_interval(a.daily_return_rate)}")
    for name, r in a.regimes.items():
        if r.encodes:
            out.setdefault(r.encodes, []).append(
                f"regime '{name}': deaths x {fmt_interval(r.intensity_multiplier)}, displacement "
                f"x {fmt_interval(r.displacement_multiplier)}, returns x "
                f"{fmt_interval(r.return_multiplier)}")
    for src, tos in a.transitions.items():
        for dst, tr in tos.items():
            out.setdefault(tr.encodes, []).append(
                f"daily hazard {src} -> {dst}: {fmt_interval(tr.daily_hazard)}")
    for name, ev in a.events.items():
        moves = (f", moves the regime to at least '{ev.moves_to}'" if ev.moves_to else
                 f", lowers the regime to at most '{ev.lowers_to}'" if ev.lowers_to else "")
        where = f" in {', '.join(ev.regions)} only" if ev.regions else ""
        out.setdefault(ev.encodes, []).append(
            f"event '{name}' ({ev.description}): daily hazard {fmt_interval(ev.daily_hazard)}, "
            f"deaths x {fmt_interval(ev.intensity_multiplier)}{where}{moves}")
    for region, m in a.region_multipliers.items():
        parts = [f"deaths x {fmt_interval(m.intensity_multiplier)}"] * bool(m.intensity_multiplier)
        parts += [f"displacement x {fmt_interval(m.displacement_multiplier)}"] * bool(
            m.displacement_multiplier)
        out.setdefault(m.encodes, []).append(
            f"region '{region}' apart from the shared regime: {', '.join(parts)}")
    return out


def projection_table(loaded: Loaded) -> Table:
    cfg = loaded.config
    levers = _levers_by_projection(loaded)
    rows = []
    for pid, p in cfg.scenario.projections.items():
        doc = cfg.sources[p.source.document]
        rows.append([
            p.statement,
            "; ".join(levers.get(pid, [])) or "(no lever encodes it in this scenario)",
            f"{doc.title} ({doc.published:%-d %b %Y}, {doc.where})",
            f"\u201c{p.source.passage}\u201d",
        ])
    return Table(["Projection", "Encoded by", "Source document", "Passage"], rows)


def evidence_table(result: RunResult) -> Table:
    cfg = result.primary.config
    implied = {}
    if "constant_data" in result.idata.groups():
        fit = evidence_fit(result.idata)
        if "post_q50" in fit:
            implied = {row.evidence: f"{fmt_count(row.post_q50)} ({fmt_count(row.post_q05)} to "
                                     f"{fmt_count(row.post_q95)})"
                       for row in fit.itertuples(index=False)}
    derived = {}
    for o in observations(cfg):
        if o.derived_from:  # a running total fitted as the difference over the other days
            first = cfg.episode.start + dt.timedelta(days=o.first_day)
            last = cfg.episode.start + dt.timedelta(days=o.last_day)
            derived[o.evidence_id] = f" (fitted as {o.text}, {first:%-d %b} to {last:%-d %b})"
    rows = []
    for eid, e in cfg.evidence.items():
        first, last = e.period.bounds
        period = (f"{first:%-d %b %Y}" if first == last
                  else f"{first:%-d %b} to {last:%-d %b %Y}")
        doc = cfg.sources[e.source.document]
        rows.append([
            eid, f"{e.quantity.replace('_', ' ')}, {cfg.episode.regions[e.region].name}",
            period, str(e.value), e.source.reporter or "(not named)",
            f"{doc.title} ({doc.published:%-d %b %Y})", f"\u201c{e.source.passage}\u201d",
            implied.get(eid, "n/a") + derived.get(eid, ""),
        ])
    return Table(["Evidence", "What, where", "Period", "Reported", "Reporter", "Document",
                  "Passage", "Model-implied report: median (90%)"], rows)


def diagnostics_blocks(diagnostics: dict) -> list:
    d = diagnostics
    blocks = []
    if not d.get("passed", False):
        msgs = "; ".join(d.get("messages", [])) or "no details recorded"
        blocks.append(Warning_(
            f"SAMPLER DIAGNOSTICS FAILED ({msgs}). The posterior may not be trustworthy, and "
            "every number in this report inherits that. Refit (more tuning, higher "
            "target_accept, reparameterisation) before using these numbers."))
    rows = [[k.replace("_", " "), _fmt_diag(d[k])] for k in
            ("sampler", "target_accept", "max_rhat", "min_ess_bulk", "min_ess_tail",
             "divergences", "passed") if k in d]
    if d.get("retry"):
        rows.append(["automatic retry", f"{d['retry']['divergences']} divergent transitions at "
                     f"target_accept {d['retry']['target_accept']:g}; refitted once at "
                     f"{d.get('target_accept', 0.99):g} (the values above)"])
    blocks.append(Table(["Diagnostic", "Value"], rows))
    if d.get("messages"):
        blocks.append(Bullets(list(d["messages"])))
    return blocks


def _fmt_diag(v) -> str:
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if isinstance(v, float):
        return f"{v:.3f}" if v < 10 else f"{v:,.0f}"
    return str(v)


def _span(dates: list[dt.date]) -> str:
    first, last = min(dates), max(dates)
    if first == last:
        return f"on {first:%-d %b %Y}"
    return f"between {first:%-d %b} and {last:%-d %b %Y}"


def _days(a: int, b: int) -> str:
    def one(n: int) -> str:
        return f"{abs(n)} day{'s' * (abs(n) != 1)} {'after' if n >= 0 else 'before'}"
    return f"{one(a)}" if a == b else (f"{a} to {b} days after" if a >= 0 and b >= 0
                                       else f"{one(a)} to {one(b)}")


def _millions(x: float) -> str:
    return fmt_count(x, compact=True)


def limits(result: RunResult) -> list[str]:
    """The model's limits for this run, written from its config: the documents behind the
    nowcast and when they were published relative to the episode start and the origin, the
    regions and their populations at risk, the targets, the draws."""
    cfg = result.primary.config
    episode = cfg.episode
    used = list(dict.fromkeys(e.source.document for e in cfg.evidence.values()))
    published = [cfg.sources[d].published for d in used if d in cfg.sources]
    n_ev, n_docs = len(cfg.evidence), len(used)
    when = ""
    if published:
        a, b = ((min(published) - episode.start).days, (max(published) - episode.start).days)
        when = (f" published {_span(published)} ({_days(a, b)} the episode start on "
                f"{episode.start:%-d %b %Y})")
    few = (f"With {n_ev} figures over {episode.observed_days} observed days the posterior leans "
           "on the priors" if n_ev <= 10 else
           "Where a region or quantity has few figures (see 'What informs the nowcast') the "
           "posterior leans on the priors")
    profiles = ", ".join(str(p).replace("_", " ") for p in cfg.reporting) or "none"
    out = [
        f"The nowcast rests on {n_ev} reported figure{'s' * (n_ev != 1)} from {n_docs} "
        f"document{'s' * (n_docs != 1)}{when}. {few}, above all on the reporting-share priors "
        f"(profiles: {profiles}), which are analysts' judgments (their basis is stated in the "
        "config)."]
    levers = ("Scenario levers (regime multipliers, transition and event hazards, return rates) "
              "are judgments that encode the documents' projections; they are not estimated "
              "from data, and the documents give no probabilities. Read the scenarios as "
              "conditional statements")
    if result.weights:
        levers += (", and the mixture weights as one weighting among many possible ones (the "
                   "documents do not give them either)")
    out.append(levers + ".")
    names = {rid: r.name for rid, r in episode.regions.items()}
    short = {rid: name.split(" (")[0] for rid, name in names.items()}  # without its gloss
    apart = sorted({short.get(r, r) for c in result.configs
                    for r in c.config.assumptions.region_multipliers})
    populations = []
    for rid in episode.regions:
        low, high = population_at_risk(cfg, rid)
        populations.append(f"{short[rid]} {_millions(low)}" if low == high else
                           f"{short[rid]} {_millions(low)} to {_millions(high)}")
    regions = (f"The {len(names)} regions ({', '.join(names.values())}) are linked only through "
               "the shared conflict regime" if len(names) > 1 else
               f"The episode is modelled as one region ({', '.join(names.values())})")
    if apart:
        regions += f", with {', '.join(apart)} moved apart from it by a region multiplier"
    regions += ("; spread of the fighting to other areas and humanitarian access are not "
                "modelled. ")
    targets = [str(t) for t in result.forecast["target"].values]
    if "cum_refugees" in targets:
        regions += ("Border crossings are a share of the displaced (refugee_share), not a model "
                    "of the border or of the neighbours' policies. ")
    regions += (f"The population at risk ({'; '.join(populations)}) is an uncertain input and "
                "the ceiling of the people displaced at once; a person displaced twice counts "
                "twice in displacement movements, and returns follow a simple daily rate.")
    out.append(regions)
    if any(t in targets for t in ("cum_deaths", "cum_civilian_deaths")):
        out.append("Deaths are all actors since the episode start. Counts from monitors (e.g. "
                   "UCDP's state-based 'ged_sb' used by ViEWS) use narrower definitions; compare "
                   "like with like when scoring the exports.")
    out.append(f"Monte Carlo noise: {result.draws:,} draws per scenario; quantiles in the tails "
               "(5% and 95%) move by a few percent between seeds. Numbers are rounded to 3 "
               "significant digits.")
    latest = max(published) if published else None
    if latest and latest > result.origin:
        out.append(f"WARNING: a document is dated {latest:%-d %b %Y}, after the forecast origin "
                   f"({result.origin:%-d %b %Y}): this is not a forecast as of the origin.")
    else:
        out.append((f"The latest document is dated {latest:%-d %b %Y} and the forecast origin "
                    f"is {result.origin:%-d %b %Y}: nothing after the origin was used. "
                    if latest else "") +
                   f"There is no track record yet for this episode ({episode.name}): "
                   "calibration can only be judged once outcomes are known (python -m "
                   "models.score).")
    return out


def information_blocks(result: RunResult) -> list:
    """What informs each region's nowcast (evidence or the prior alone), and reports that
    contradict their prior (outside the prior predictive's 99% interval), loudly."""
    if "constant_data" not in result.idata.groups() or \
            "evidence_quantity" not in result.idata.constant_data:
        return []
    names = {rid: r.name for rid, r in result.primary.config.episode.regions.items()}
    table = information_sources(result.idata)
    rows = [[names.get(r.region, r.region), r.quantity.replace("_", " "), str(r.reports),
             r.informed_by] for r in table.itertuples(index=False)]
    blocks: list = [Heading(2, "What informs the nowcast"),
                    Para("Per region and quantity: reports that inform it directly. 'prior only' "
                         "means no report speaks for it: its numbers come from the prior and from "
                         "parameters shared with other regions, and should be read as such."),
                    Table(["Region", "Quantity", "Reports", "Informed by"], rows)]
    conflicts = prior_data_conflicts(result.idata)
    for c in conflicts.itertuples(index=False):
        blocks.append(Warning_(
            f"Prior-data conflict: report '{c.evidence}' ({fmt_count(c.low)} to "
            f"{fmt_count(c.high)}) lies {c.direction} the prior predictive's 99% interval "
            f"({fmt_count(c.prior_low)} to {fmt_count(c.prior_high)}); it contradicts the prior "
            f"on {c.prior}. Check the report, or the prior (see 'priors:' in the config)."))
    return blocks


def report_blocks(result: RunResult, plots: dict[str, Path], run_dir: Path,
                  summary: ForecastSummary | None = None,
                  screen: dict[str, bytes] | None = None) -> list:
    """The report, the answer first (see the module docstring). ``screen``: name -> the PNG to
    embed in the HTML for a plot (a screen-size rendering), else the file is embedded."""
    summary = summary or summarise(result.forecast)
    cfg = result.primary.config
    horizons = headline_horizons(result)
    blocks: list = [Heading(1, f"{cfg.scenario.title}")]
    if not result.diagnostics.get("passed", False):
        blocks.append(Warning_("Sampler diagnostics FAILED: see 'Diagnostics' below before "
                               "using any number in this report."))
    blocks.append(Heading(2, "Summary"))
    blocks.append(Para(answer_paragraph(result, summary, horizons)))
    blocks.append(headline_overview(summary, result.scenario_ids, horizons, result.origin))
    blocks.append(Para(
        f"Median and 90% interval (5% to 95%) over {result.draws:,} draws per scenario, all "
        f"regions, people; day N = N days after the origin ({result.origin:%-d %B %Y}); "
        f"cumulative targets count from the episode start ({cfg.episode.start:%-d %B %Y}). "
        f"{cfg.episode.name}, {result.horizon} days ahead, seed {result.seed}. Run "
        f"{result.run_id}, config hash {result.primary.config_hash[:12]}."))
    blocks.append(Contents())
    blocks += update_blocks(result.extra.get("scenario_update"))  # --since: reports vs scenarios
    if plots:
        blocks.append(Heading(2, "Charts"))
        captions = _captions(result)
        for name, path in plots.items():
            rel = Path(path).resolve().relative_to(Path(run_dir).resolve()).as_posix()
            blocks.append(Image(Path(path), rel, captions.get(name, name.replace("_", " ")),
                                embed=(screen or {}).get(name)))
    blocks += driver_blocks(result, run_dir)  # what drives the answer (models.outputs.drivers)
    blocks.append(Heading(2, "Evidence"))
    blocks.append(Para("Every reported figure the nowcast uses, who reported it, and what the "
                       "fitted model implies that report would say (posterior predictive). A "
                       "day's toll and a running total from the same reporter are combined into "
                       "disjoint windows before fitting."))
    blocks.append(evidence_table(result))
    blocks += information_blocks(result)
    blocks.append(Heading(2, "Assumptions: the scenarios and their sources"))
    for loaded in result.configs:
        c = loaded.config
        blocks.append(Heading(3, f"{c.scenario.id}: {c.scenario.title}"))
        blocks.append(Para(c.scenario.narrative))
        blocks.append(Para("What this scenario's assumptions encode, and where each claim comes "
                           "from:"))
        blocks.append(projection_table(loaded))
    if result.weights:
        total = sum(result.weights.values())
        share = ", ".join(f"{k} {v / total:.0%}" for k, v in result.weights.items())
        blocks.append(Para(f"The scenario '{MIXTURE}' draws each future from one scenario with "
                           f"these weights: {share}."))
    blocks.append(Heading(2, "Diagnostics"))
    blocks += diagnostics_blocks(result.diagnostics)
    blocks.append(Heading(2, "Limits of this model"))
    blocks.append(Bullets(limits(result)))
    return blocks


def _captions(result: RunResult) -> dict[str, str]:
    base = baseline_scenario(result.scenario_ids)
    share = mixture_baseline_share(result.weights, base) \
        if MIXTURE in result.scenario_ids else None
    left_out = (f" The mixture is left out: {share:.0%} of its draws are {base}'s own, so its "
                "difference is 0 there by construction." if share is not None else "")
    out = {"regime_occupancy": "Share of simulated futures in each conflict regime, by day.",
           "prior_posterior": "Key nowcast parameters: prior against posterior, in their units.",
           "evidence_fit": "Each reported figure against what the fitted model implies."}
    for t in [str(x) for x in result.forecast["target"].values]:
        label = TARGET_LABELS.get(t, t)
        ceiling = (" The grey band is the population at risk."
                   if t in ("displaced", "cum_displaced") else "")
        out[f"fan_{t}"] = (f"{label}: median, 50% and 90% intervals by day, per scenario; "
                           "figures reported from the episode start at the day they cover "
                           f"(dotted line: the origin).{ceiling}")
        out[f"fan_{t}_by_region"] = (f"{label}, per region (each on its own scale): median and "
                                     f"90% interval of each scenario, with the region's "
                                     f"reports.{ceiling}")
        out[f"distribution_{t}"] = (f"{label}: distribution at the headline horizons (one "
                                    "scale for every panel).")
        out[f"exceedance_{t}"] = f"{label}: probability of exceeding each level."
        out[f"difference_{t}"] = f"{label}: each scenario minus {base}, draw by draw.{left_out}"
    return out


def write_report(result: RunResult, run_dir: Path, plots: dict[str, Path], *,
                 summary: ForecastSummary | None = None,
                 screen: dict[str, bytes] | None = None) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` into ``run_dir``; return both paths. ``screen``:
    plot name -> the PNG the HTML embeds (see :func:`models.outputs.plots.write_plots`)."""
    run_dir = Path(run_dir)
    blocks = report_blocks(result, plots, run_dir, summary, screen)
    md, page = run_dir / "report.md", run_dir / "report.html"
    md.write_text(to_markdown(blocks), "utf-8")
    page.write_text(to_html(blocks, result.primary.config.scenario.title), "utf-8")
    return md, page

