"""The briefing report of a run: ``report.md`` and a self-contained ``report.html``.

Both are rendered from one list of blocks (heading, paragraph, table, list, image, warning), so
they say the same thing. The HTML embeds every plot as a base64 PNG data URI and carries its own
CSS: one file that opens in any browser, offline, and can be mailed.

Contents: the scenario narrative; each projection a scenario encodes, with the levers that encode
it and the document passage it rests on; the evidence with its reporters and what the fitted model
implies each report would say; headline numbers per scenario (median and 90% interval at the
configured horizons, all regions); the plots; sampler diagnostics (loud when they failed); the
limits of the model.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from models.outputs.blocks import (
    Bullets,
    Heading,
    Image,
    Para,
    Table,
    Warning_,
    to_html,
    to_markdown,
)
from models.outputs.formatting import format_count as fmt_count
from models.outputs.formatting import format_interval90 as fmt_interval
from models.outputs.run_result import RunResult
from models.outputs.statistics import (
    ForecastSummary,
    evidence_fit,
    headline_horizons,
    information_sources,
    prior_data_conflicts,
    summarise,
)
from models.vocabulary import ALL, MIXTURE, TARGET_LABELS
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
            ("sampler", "max_rhat", "min_ess_bulk", "min_ess_tail", "divergences", "passed")
            if k in d]
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


def limits(result: RunResult) -> list[str]:
    cfg = result.primary.config
    n_ev, n_docs = len(cfg.evidence), len(cfg.sources)
    return [
        f"The nowcast rests on {n_ev} reported figures from {n_docs} documents published within "
        "days of the start of the episode. With so little data the posterior leans on the "
        "priors, above all on the reporting-share priors, which are analysts' judgments (their "
        "basis is stated in the config).",
        "Scenario levers (regime multipliers, transition and event hazards, return rates) and "
        "the mixture weights are judgments that encode the documents' projections; they are not "
        "estimated from data, and the documents give no probabilities. Read the scenarios as "
        "conditional statements, and the mixture as one weighting among many possible ones.",
        "Regions are linked only through the shared conflict regime; spread of fighting to other "
        "areas, cross-border flight and humanitarian access are not modelled. Population at "
        "risk is an uncertain input; displacement counts movements (a person displaced twice "
        "counts twice in cumulative displacement), and returns follow a simple daily rate.",
        "Deaths are all actors. Counts from monitors (e.g. UCDP's state-based 'ged_sb' used by "
        "ViEWS) use narrower definitions; compare like with like when scoring the exports.",
        f"Monte Carlo noise: {result.draws:,} draws per scenario; quantiles in the tails (5% and "
        "95%) move by a few percent between seeds. Numbers are rounded to 3 significant digits.",
        "Nothing after the forecast origin was used, and there is no track record yet for this "
        "episode: calibration can only be judged once outcomes are known.",
    ]


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
                  summary: ForecastSummary | None = None) -> list:
    summary = summary or summarise(result.forecast)
    cfg = result.primary.config
    horizons = headline_horizons(result)
    blocks: list = [Heading(1, f"{cfg.scenario.title}")]
    if not result.diagnostics.get("passed", False):
        blocks.append(Warning_("Sampler diagnostics FAILED: see 'Diagnostics' below before "
                               "using any number in this report."))
    blocks.append(Para(
        f"{cfg.episode.name}. Forecast as of {result.origin:%-d %B %Y} (episode start "
        f"{cfg.episode.start:%-d %B %Y}), {result.horizon} days ahead, {result.draws:,} draws per "
        f"scenario, seed {result.seed}. Run {result.run_id}, config hash "
        f"{result.primary.config_hash[:12]}."))
    blocks.append(Heading(2, "Scenarios"))
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
    blocks.append(Heading(2, "Headline numbers"))
    blocks.append(Para("Median and 90% interval (5% to 95%) over draws, all regions, at "
                       f"{', '.join(str(h) for h in horizons)} days after the origin. People."))
    for s in result.scenario_ids:
        blocks.append(Heading(3, s))
        blocks.append(headline_table(summary, s, horizons))
    blocks.append(Heading(2, "Evidence"))
    blocks.append(Para("Every reported figure the nowcast uses, who reported it, and what the "
                       "fitted model implies that report would say (posterior predictive). A "
                       "day's toll and a running total from the same reporter are combined into "
                       "disjoint windows before fitting."))
    blocks.append(evidence_table(result))
    blocks += information_blocks(result)
    blocks.append(Heading(2, "Diagnostics"))
    blocks += diagnostics_blocks(result.diagnostics)
    blocks.append(Heading(2, "Plots"))
    captions = _captions(result)
    for name, path in plots.items():
        rel = Path(path).resolve().relative_to(Path(run_dir).resolve()).as_posix()
        blocks.append(Image(Path(path), rel, captions.get(name, name.replace("_", " "))))
    blocks.append(Heading(2, "Limits of this model"))
    blocks.append(Bullets(limits(result)))
    return blocks


def _captions(result: RunResult) -> dict[str, str]:
    from models.outputs.statistics import baseline_scenario

    base = baseline_scenario(result.scenario_ids)
    out = {"regime_occupancy": "Share of simulated futures in each conflict regime, by day.",
           "prior_posterior": "Key nowcast parameters: prior against posterior.",
           "evidence_fit": "Each reported figure against what the fitted model implies."}
    for t in [str(x) for x in result.forecast["target"].values]:
        label = TARGET_LABELS.get(t, t)
        out[f"fan_{t}"] = f"{label}: median, 50% and 90% intervals by day, per scenario."
        out[f"distribution_{t}"] = f"{label}: distribution at the headline horizons."
        out[f"exceedance_{t}"] = f"{label}: probability of exceeding each level."
        out[f"difference_{t}"] = f"{label}: each scenario minus {base}, draw by draw."
    return out


def write_report(result: RunResult, run_dir: Path, plots: dict[str, Path], *,
                 summary: ForecastSummary | None = None) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` into ``run_dir``; return both paths."""
    run_dir = Path(run_dir)
    blocks = report_blocks(result, plots, run_dir, summary)
    md, page = run_dir / "report.md", run_dir / "report.html"
    md.write_text(to_markdown(blocks), "utf-8")
    page.write_text(to_html(blocks, result.primary.config.scenario.title), "utf-8")
    return md, page

