"""Scenario weights that learn from new reports (``python -m models.run CONFIG --since RUN_DIR``).

An earlier run of the same episode is frozen: its forecast draws are stored. New reports arrive,
dated after its origin. For each scenario, the predictive probability of the new reports is

    p(new reports | scenario) = mean over forecast draws i of  prod_j p(report j | draw i)

where ``p(report j | draw i)`` is the nowcast's reporting model applied to draw i's true count in
the report's window (see :mod:`models.evaluation.update_likelihood`: binomial thinning for deaths,
the log-normal term for displacement; the reporting share and subset share of the nowcast draw
that forecast draw continues). The posterior scenario weights are the earlier run's weights times
that probability, normalised; a run with ``--since`` uses them for its mixture unless
``--weights`` is given, and records the likelihood of each report under each scenario.

Which reports are new: the new config's evidence whose ``reported_on`` or period end is after the
earlier origin. They enter as the nowcast sees them (:func:`scenarios.evidence.observations`: a
new running total that contains an old one counts only the days the old one did not). The part of
a window on or before the earlier origin comes from the earlier nowcast's draws, the same for
every scenario (scenarios share the nowcast), so it does not move the weights by itself; a report
only about those days is shown but cancels. A reporting profile or subset the earlier nowcast did
not have draws its share from the new config's prior (said in the messages).

Refused (:class:`UpdateError`, exit 2 on the command line): a run of another episode (name,
country or start differ), a new origin before the earlier one, a scenario the earlier run did not
forecast, and new reports impossible under every scenario. A report impossible under one
scenario gives that scenario weight 0, with a message.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from models.evaluation.update_likelihood import (
    RunDraws,
    effective_draws,
    log_likelihood,
    log_mean_exp,
    true_counts,
    window_parts,
)
from models.vocabulary import MIXTURE
from scenarios.compose import Comparison, compose
from scenarios.evidence import observations
from scenarios.loader import Loaded

__all__ = ["FEW_DRAWS", "ScenarioUpdate", "UpdateError", "scenario_evidence", "scenario_update",
           "update_lines"]

FEW_DRAWS = 20
"""Below this many effective draws a report's probability rests on few draws: said so."""


class UpdateError(ValueError):
    """The earlier run cannot be updated with these reports; ``str(err)`` says why."""


@dataclass
class StoredRun:
    """An earlier run as read from its directory."""

    path: Path
    idata: object
    run: dict
    config: dict
    """The primary scenario's resolved config (a mapping)."""

    @classmethod
    def read(cls, run_dir: str | Path) -> StoredRun:
        import yaml

        from models.outputs.store import RunIntegrityError, load_run

        path = Path(run_dir)
        try:
            idata, run = load_run(path)
        except (FileNotFoundError, RunIntegrityError) as e:
            raise UpdateError(f"--since {path}: {e}") from None
        if "scenario_forecast" not in idata.groups() or "posterior" not in idata.groups():
            raise UpdateError(f"--since {path}: the run has no stored forecast and posterior")
        return cls(path, idata, run, yaml.safe_load(idata.attrs["config_yaml"]))

    @property
    def origin(self) -> dt.date:
        return dt.date.fromisoformat(str(self.config["episode"]["origin"]))


@dataclass
class ScenarioUpdate:
    """What the new reports say about the scenarios (see the module docstring)."""

    since: dict
    scenarios: list[str]
    reports: list[dict]
    """One record per new report: evidence, quantity, region, window, reported value, and per
    scenario its log likelihood (None: impossible), likelihood and effective draws."""
    joint_log_likelihood: dict[str, float | None]
    prior_weights: dict[str, float]
    posterior_weights: dict[str, float]
    messages: list[str] = field(default_factory=list)

    @property
    def table(self):
        """One row per new report, a column ``likelihood__<scenario>`` per scenario, and a last
        row for all new reports together (a DataFrame)."""
        import pandas as pd

        rows = []
        for r in self.reports:
            row = {k: r[k] for k in ("evidence", "quantity", "region", "first_date",
                                     "last_date", "reported_on", "reported")}
            row |= {f"likelihood__{s}": r["likelihood"][s] for s in self.scenarios}
            rows.append(row)
        joint = {"evidence": "all new reports"}
        joint |= {f"likelihood__{s}": _exp(self.joint_log_likelihood[s]) for s in self.scenarios}
        return pd.DataFrame([*rows, joint])

    def record(self, weights_used: str) -> dict:
        """JSON-able record for run.json and the report; ``weights_used`` says which weights the
        mixture used ("posterior", "--weights" or "none")."""
        return {"since": self.since, "scenarios": self.scenarios, "reports": self.reports,
                "joint_log_likelihood": self.joint_log_likelihood,
                "joint_likelihood": {s: _exp(v) for s, v in self.joint_log_likelihood.items()},
                "prior_weights": self.prior_weights,
                "posterior_weights": self.posterior_weights,
                "weights_used": weights_used, "messages": self.messages}


def _exp(x: float | None) -> float:
    return 0.0 if x is None else math.exp(x)


def scenario_evidence(run_dir, new) -> tuple:
    """``(table, posterior_weights)``: each new report's likelihood under each scenario of the
    earlier run at ``run_dir``, and the scenario weights after them. ``new``: the new config
    path(s) or a :class:`~scenarios.compose.Comparison`. See :func:`scenario_update`."""
    update = scenario_update(run_dir, new)
    return update.table, update.posterior_weights


def scenario_update(run, new) -> ScenarioUpdate:
    """The update of the earlier run's scenario weights by the reports of ``new`` dated after its
    origin. ``run``: a run directory (or a :class:`StoredRun`); ``new``: config path(s), a
    :class:`~scenarios.loader.Loaded` or a :class:`~scenarios.compose.Comparison` (its scenarios
    are the ones weighted). Raises :class:`UpdateError` (see the module docstring)."""
    stored = run if isinstance(run, StoredRun) else StoredRun.read(run)
    comparison = _comparison(new)
    primary = comparison.primary
    cfg = primary.config
    old_origin = stored.origin
    _check_episode(stored, primary)
    fc = stored.idata.scenario_forecast
    forecast_scenarios = [str(s) for s in fc["scenario"].values if str(s) != MIXTURE]
    scenarios = comparison.scenario_ids
    missing = [s for s in scenarios if s not in forecast_scenarios]
    if missing:
        raise UpdateError(f"--since {stored.path}: the earlier run has no forecast of scenario(s) "
                          f"{', '.join(missing)} (it forecast {', '.join(forecast_scenarios)}); "
                          "weights can only learn for scenarios it forecast")
    messages: list[str] = []
    prior = _prior_weights(stored.run.get("weights"), scenarios, messages)
    since = {"run_dir": str(stored.path), "run_id": stored.run.get("run_id"),
             "origin": old_origin.isoformat(), "new_origin": cfg.episode.origin.isoformat()}

    new_ids = [eid for eid, e in cfg.evidence.items()
               if e.reported_on > old_origin or e.period.bounds[1] > old_origin]
    _note_changed_evidence(stored.config.get("evidence", {}), primary.resolved.get("evidence", {}),
                           set(new_ids), messages)
    horizon = int(fc.sizes["day"])
    last_day = (old_origin - cfg.episode.start).days + horizon
    obs = []
    for o in observations(cfg):
        if o.evidence_id not in new_ids:
            continue
        outside = [r for r in o.covered if r not in stored.config["episode"]["regions"]]
        if outside:
            messages.append(f"report '{o.evidence_id}' left out: region(s) {', '.join(outside)} "
                            "were not in the earlier run")
        elif o.last_day > last_day:
            messages.append(f"report '{o.evidence_id}' left out: its window ends after the "
                            f"earlier run's {horizon}-day horizon")
        else:
            obs.append(o)
    if not obs:
        messages.append(f"no new reports after the earlier origin {old_origin}: scenario "
                        "weights unchanged")
        return ScenarioUpdate(since, scenarios, [], {s: 0.0 for s in scenarios}, prior,
                              dict(prior), messages)

    draws = run_draws(stored, cfg, obs, scenarios, messages)
    rng = np.random.default_rng([int(stored.run.get("seed") or 0), 17])
    start = cfg.episode.start
    reports, joint = [], {s: np.zeros(draws.intensity.shape[0]) for s in scenarios}
    for o in obs:
        counts = true_counts(draws, o, rng)
        pre, post = window_parts(o, draws.observed_days)
        rec = {"evidence": o.evidence_id, "quantity": o.quantity, "region": o.region,
               "first_date": (start + dt.timedelta(days=o.first_day)).isoformat(),
               "last_date": (start + dt.timedelta(days=o.last_day)).isoformat(),
               "reported_on": cfg.evidence[o.evidence_id].reported_on.isoformat(),
               "reported": o.text, "kind": o.kind, "days_before_origin": len(pre),
               "days_after_origin": 0 if post is None else post[1] - post[0] + 1,
               "log_likelihood": {}, "likelihood": {}, "effective_draws": {}}
        for s in scenarios:
            ll = log_likelihood(draws, o, counts[s])
            joint[s] = joint[s] + ll
            lml = log_mean_exp(ll)
            rec["log_likelihood"][s] = lml if math.isfinite(lml) else None
            rec["likelihood"][s] = math.exp(lml) if math.isfinite(lml) else 0.0
            n_eff = effective_draws(ll)
            rec["effective_draws"][s] = round(n_eff, 1)
            if not math.isfinite(lml):
                messages.append(f"report '{o.evidence_id}' ({o.text}) is impossible under "
                                f"scenario '{s}': none of its {len(ll):,} draws can produce it; "
                                "its weight becomes 0")
            elif n_eff < FEW_DRAWS:
                messages.append(f"report '{o.evidence_id}' under '{s}': its probability rests on "
                                f"about {n_eff:.0f} draws (Monte Carlo noise; more draws in the "
                                "earlier run would sharpen it)")
        reports.append(rec)
    joint_ll = {s: log_mean_exp(joint[s]) for s in scenarios}
    for s in scenarios:
        if not math.isfinite(joint_ll[s]) and all(
                r["log_likelihood"][s] is not None for r in reports):
            messages.append(f"no draw of scenario '{s}' produces all new reports together; its "
                            "weight becomes 0")
    posterior = _posterior(prior, joint_ll, stored.path, reports)
    return ScenarioUpdate(since, scenarios, reports,
                          {s: (v if math.isfinite(v) else None) for s, v in joint_ll.items()},
                          prior, posterior, messages)


def _comparison(new) -> Comparison:
    if isinstance(new, Comparison):
        return new
    if isinstance(new, Loaded):
        return Comparison((new,), None)
    paths = [new] if isinstance(new, (str, Path)) else list(new)
    return compose(paths)


def _check_episode(stored: StoredRun, primary: Loaded) -> None:
    old, new = stored.config["episode"], primary.config.episode
    what = []
    if old.get("name") != new.name:
        what.append(f"episode '{old.get('name')}' against '{new.name}'")
    if old.get("country") != new.country:
        what.append(f"country {old.get('country')} against {new.country}")
    if str(old.get("start")) != new.start.isoformat():
        what.append(f"start {old.get('start')} against {new.start}")
    if not set(old.get("regions", {})) & set(new.regions):
        what.append("no region in common")
    if what:
        raise UpdateError(f"--since {stored.path}: a run of another episode ({'; '.join(what)}); "
                          "give an earlier run of the same episode")
    if new.origin < stored.origin:
        raise UpdateError(f"--since {stored.path}: the earlier run's origin {stored.origin} is "
                          f"after this config's origin {new.origin}")


def _prior_weights(weights: dict | None, scenarios: list[str], messages: list[str]) -> dict:
    if not weights:
        messages.append("the earlier run had no mixture weights: equal prior weights")
        return {s: 1 / len(scenarios) for s in scenarios}
    absent = [s for s in scenarios if s not in weights]
    if absent:
        raise UpdateError(f"the earlier run's weights do not name {', '.join(absent)}; give "
                          "--weights")
    dropped = [s for s in weights if s not in scenarios]
    if dropped:
        messages.append(f"the earlier run's scenario(s) {', '.join(dropped)} are not in this run: "
                        "the others' weights renormalised")
    total = sum(float(weights[s]) for s in scenarios)
    if not total > 0:
        raise UpdateError("the earlier run's weights of these scenarios are all 0")
    return {s: float(weights[s]) / total for s in scenarios}


def _posterior(prior: dict, joint_ll: dict, path: Path, reports: list[dict]) -> dict:
    logw = {s: (math.log(prior[s]) if prior[s] > 0 else -math.inf) + joint_ll[s] for s in prior}
    top = max(logw.values())
    if not math.isfinite(top):
        names = ", ".join(r["evidence"] for r in reports)
        raise UpdateError(f"the new reports ({names}) are impossible under every scenario of the "
                          f"earlier run {path} (weighted above 0): no scenario's forecast "
                          "produces them; check the reports' values, windows and reporting "
                          "profiles, or run without --since")
    w = {s: math.exp(v - top) for s, v in logw.items()}
    total = sum(w.values())
    return {s: v / total for s, v in w.items()}


def _note_changed_evidence(old: dict, new: dict, new_ids: set[str], messages: list[str]) -> None:
    for eid, e in old.items():
        if eid not in new:
            messages.append(f"evidence '{eid}' of the earlier run is not in the new config")
        elif json.dumps(new[eid], sort_keys=True, default=str) != json.dumps(
                e, sort_keys=True, default=str):
            messages.append(f"evidence '{eid}' differs from the earlier run's (the earlier "
                            "forecast was made with its old form)")
    for eid in new:
        if eid not in old and eid not in new_ids:
            messages.append(f"evidence '{eid}' is not in the earlier run but dated no later than "
                            "its origin: not counted as a new report")


def run_draws(stored: StoredRun, cfg, obs, scenarios: Sequence[str],
              messages: list[str]) -> RunDraws:
    """The earlier run's draws the likelihood needs, aligned to its forecast draws."""
    from models.inference.nowcast import NowcastModel

    fc = stored.idata.scenario_forecast
    post = stored.idata.posterior.stack(sample=("chain", "draw")).transpose("sample", ...)
    regions = [str(r) for r in post["region"].values]
    if "posterior_draw" not in fc:
        raise UpdateError(f"--since {stored.path}: the forecast does not record which posterior "
                          "draw each draw continues")
    rows = fc["posterior_draw"].values.astype(np.int64)
    seed = int(stored.run.get("seed") or 0)
    # The nowcast's own state (its code, not a copy): the deaths to the origin the forecast's
    # cumulative targets start from, drawn from the fit's seed.
    me = types.SimpleNamespace(regions=regions)
    me.state = lambda posterior, generator: NowcastModel.state(me, posterior, generator)
    state = NowcastModel.state_for_seed(me, stored.idata.posterior, seed)
    origin_deaths = state.deaths_to_origin[rows]
    stored_origin = fc["cum_deaths_at_origin"].sel(region=regions).values
    if not np.allclose(origin_deaths.sum(-1), stored_origin):
        raise UpdateError(f"--since {stored.path}: the stored posterior does not reproduce the "
                          "forecast's deaths to the origin (a run written by other code?)")
    lam = post["intensity"].values[rows]
    pop = post["population_at_risk"].values[rows]
    hazard = (post["displacement_per_death"].values[rows][:, None, None] * lam / pop[..., None]
              + post["flight_hazard"].values[rows][..., None])
    d0 = np.clip(np.round(post["displaced_at_origin"].values[rows]), 0, np.round(pop))
    b0 = np.clip(np.round(post["refugees_at_origin"].values[rows]), 0, d0)
    rng = np.random.default_rng([seed, 18])
    shares = _share_draws(post, "reporting_share", "reporting", {o.reporting for o in obs},
                          cfg.reporting, rows, rng, "reporting profile", messages)
    subsets = _share_draws(post, "subset_share", "subset", {o.subset for o in obs if o.subset},
                           cfg.subsets, rows, rng, "subset", messages)
    wounded = None
    if any(o.quantity == "injured" for o in obs):
        if "wounded_to_killed" in post:
            wounded = post["wounded_to_killed"].values[rows]
        else:
            from models.inference.episode_priors import EVENT_MODEL_PRIORS

            spec = cfg.priors["wounded_to_killed"].prior if "wounded_to_killed" in cfg.priors \
                else EVENT_MODEL_PRIORS["wounded_to_killed"].spec
            wounded = spec.ppf(rng.uniform(size=len(rows)))
            messages.append("the earlier nowcast had no injured counts: wounded per killed "
                            "drawn from its prior")
    values = fc["forecast"].transpose("scenario", "draw", "day", "target", "region")
    region_idx = [list(map(str, fc["region"].values)).index(r) for r in regions]
    forecast = {s: values.sel(scenario=s).values[..., region_idx].astype(np.float64)
                for s in scenarios}
    return RunDraws(
        regions=regions, observed_days=post.sizes["day"], horizon=int(fc.sizes["day"]),
        intensity=lam, civilian_share=post["civilian_share"].values[rows],
        dispersion=post["dispersion"].values[rows], origin_deaths=origin_deaths,
        cum_hazard=np.cumsum(hazard, axis=-1), population=pop,
        refugee_share=post["refugee_share"].values[rows], displaced_at_origin=d0,
        refugees_at_origin=b0, shares=shares, subsets=subsets, wounded_to_killed=wounded,
        forecast=forecast, targets=[str(t) for t in fc["target"].values])


def _share_draws(post, var, dim, wanted, specs, rows, rng, what, messages) -> dict:
    out = {}
    known = [str(x) for x in post[dim].values] if var in post else []
    for name in sorted(wanted):
        if name in known:
            out[name] = post[var].sel({dim: name}).values[rows]
        else:
            out[name] = specs[name].share.ppf(rng.uniform(size=len(rows)))
            messages.append(f"{what} '{name}' is new since the earlier run: its share drawn "
                            "from its prior in the new config")
    return out


def update_lines(record: dict) -> list[str]:
    """Lines for the command line: the weights before and after, and the messages."""
    if not record:
        return []
    since = record["since"]
    pairs = ", ".join(f"{s} {record['prior_weights'][s]:.2f} -> {record['posterior_weights'][s]:.2f}"
                      for s in record["scenarios"])
    n = len(record["reports"])
    lines = [f"scenario weights after {n} report(s) dated after {since['origin']} (run "
             f"{since['run_id']}): {pairs}"
             + {"posterior": "", "--weights": "; not used: --weights given",
                "none": "; one scenario, no mixture"}.get(record["weights_used"], "")]
    for r in record["reports"]:
        cells = ", ".join(f"{s} {r['likelihood'][s]:.3g}" for s in record["scenarios"])
        lines.append(f"  {r['evidence']} ({r['reported']}, {r['first_date']} to "
                     f"{r['last_date']}): likelihood {cells}")
    lines += [f"note: {m}" for m in record["messages"]]
    return lines
