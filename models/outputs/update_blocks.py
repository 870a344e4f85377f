"""Report blocks of a scenario-weight update (``--since``): the likelihood of each new report
under each scenario, and the weights before and after. Built from the JSON-able record that
:mod:`models.evaluation.update` leaves in ``result.extra["scenario_update"]`` (and run.json)."""

from __future__ import annotations

from models.outputs.blocks import Bullets, Heading, Para, Table, Warning_

__all__ = ["format_likelihood", "update_blocks"]


def format_likelihood(p: float) -> str:
    """A probability or density for a table: 3 significant digits, scientific below 0.001,
    and '0 (impossible)' for an exact zero.

    >>> format_likelihood(0.0123), format_likelihood(2.5e-7), format_likelihood(0.0)
    ('0.0123', '2.5e-07', '0 (impossible)')
    """
    if p == 0:
        return "0 (impossible)"
    return f"{p:.3g}" if p >= 1e-3 else f"{p:.2g}"


def update_blocks(record: dict | None) -> list:
    """Heading, explanation, the table (one row per new report, one column per scenario, a last
    row for all new reports together, then the weights before and after) and the messages."""
    if not record:
        return []
    since = record["since"]
    scenarios = record["scenarios"]
    used = {"posterior": "This run's mixture uses the weights after the reports.",
            "--weights": "This run's mixture uses the weights given with --weights, not these.",
            "none": "One scenario: no mixture to weight."}.get(record.get("weights_used"), "")
    blocks: list = [
        Heading(2, "What the new reports say about the scenarios"),
        Para(f"Reports dated after {since['origin']}, the origin of the earlier run "
             f"{since['run_id']}, scored against that run's frozen forecast: each cell is the "
             "probability the scenario's forecast gave to the report (for an exact displacement "
             "figure, a density of its logarithm), through the nowcast's reporting model "
             "(reporting shares from the earlier posterior). The part of a window before the "
             "earlier origin comes from the earlier nowcast and is the same in every scenario. "
             f"Weights after = weights before x the probability of all new reports together, "
             f"normalised. {used}")]
    if not record["reports"]:
        blocks.append(Para(f"No report dated after {since['origin']}: the weights are "
                           "unchanged."))
    else:
        rows = []
        for r in record["reports"]:
            window = (r["first_date"] if r["first_date"] == r["last_date"]
                      else f"{r['first_date']} to {r['last_date']}")
            rows.append([r["evidence"], f"{r['quantity'].replace('_', ' ')}, {r['region']}",
                         window, r["reported"],
                         *[format_likelihood(r["likelihood"][s]) for s in scenarios]])
        rows.append(["all new reports together", "", "", "",
                     *[format_likelihood(record["joint_likelihood"][s]) for s in scenarios]])
        rows.append(["weight before", "", "", "",
                     *[f"{record['prior_weights'][s]:.0%}" for s in scenarios]])
        rows.append(["weight after", "", "", "",
                     *[f"{record['posterior_weights'][s]:.0%}" for s in scenarios]])
        blocks.append(Table(["Report", "What, where", "Window", "Reported", *scenarios], rows))
    impossible = [m for m in record["messages"] if "impossible" in m]
    blocks += [Warning_(m) for m in impossible]
    others = [m for m in record["messages"] if m not in impossible]
    if others:
        blocks.append(Bullets(others))
    return blocks
