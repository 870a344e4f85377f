"""Scenario weights of a mixture, validated in one place (configs, command lines, compare)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

__all__ = ["validate_weights"]


def validate_weights(weights: Mapping[str, float],
                     scenario_ids: Sequence[str] | None = None) -> dict[str, float]:
    """Weights each finite and >= 0, not all 0, and (when ``scenario_ids`` is given) naming
    exactly the scenarios run. Raises ValueError saying what is wrong.

    >>> validate_weights({"baseline": 3, "escalation": 1}, ["baseline", "escalation"])
    {'baseline': 3.0, 'escalation': 1.0}
    """
    if scenario_ids is None:
        scenario_ids = list(weights)
    unknown = sorted(set(weights) - set(scenario_ids))
    missing = sorted(set(scenario_ids) - set(weights))
    if unknown or missing:
        raise ValueError(f"scenario weights must name exactly the scenarios run "
                         f"({', '.join(scenario_ids)}); "
                         + "; ".join([f"unknown: {', '.join(unknown)}"] * bool(unknown)
                                     + [f"missing: {', '.join(missing)}"] * bool(missing)))
    values = [float(w) for w in weights.values()]
    if any(not math.isfinite(w) or w < 0 for w in values) or not sum(values) > 0:
        raise ValueError("scenario weights must be finite, >= 0 and not all 0")
    return {k: float(w) for k, w in weights.items()}
