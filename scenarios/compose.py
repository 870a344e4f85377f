"""A comparison: the scenario configs run together, the nowcast sections they must share, and the
scenario weights of their mixture (validated here, once, for configs and command lines alike).

Several configs (and each config's ``scenario.compare_with``) run as one comparison: one nowcast
shared by all of them (their episode and evidence must agree), paired Monte Carlo draws, and a
weighted mixture when weights are given. The first config is the primary: its ``forecast``,
``sampler`` and ``output`` settings apply to the whole comparison.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from scenarios.loader import Loaded, allowed_roots, check_reference, load_config
from scenarios.weights import validate_weights
from scenarios.yaml_source import ConfigError

__all__ = ["NOWCAST_SECTIONS", "Comparison", "compose", "parse_weights", "validate_weights"]

NOWCAST_SECTIONS = ("episode", "evidence", "reporting", "subsets", "lexicon", "priors")
"""Config sections the nowcast reads: scenarios that agree on them share one fit."""


@dataclass(frozen=True)
class Comparison:
    """The configs of one run, the primary first, and the weights of their mixture (or None)."""

    configs: tuple[Loaded, ...]
    weights: dict[str, float] | None

    @property
    def primary(self) -> Loaded:
        return self.configs[0]

    @property
    def scenario_ids(self) -> list[str]:
        return [c.config.scenario.id for c in self.configs]


def parse_weights(text: str) -> dict[str, float]:
    """``id=w,id=w`` (as typed on a command line) -> mapping; ValueError when malformed."""
    weights = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        try:
            weights[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"expected id=number pairs, got {part!r}") from None
    return weights


def collect_configs(paths: Sequence[str | Path]) -> list[Loaded]:
    """The configs named plus those they ask to be compared with, primary first, no repeats.
    Refuses two configs with one scenario id but different contents, and configs that do not
    share the nowcast sections."""
    loaded: list[Loaded] = []
    errors: list[str] = []
    queue = [Path(p) for p in paths]
    for p in paths:
        try:
            first = load_config(p)
        except ConfigError as e:
            errors.extend(e.messages)
            continue
        roots = allowed_roots(Path(p))
        for i, other in enumerate(first.config.scenario.compare_with):
            try:  # the same places as 'extends' (scenarios.loader.allowed_roots)
                check_reference(first.path.parent / other, roots,
                                first.where("scenario", "compare_with", i), "compare_with")
            except ConfigError as e:
                errors.extend(e.messages)
                continue
            queue.append(first.path.parent / other)
    if errors:
        raise ConfigError(errors)
    by_id: dict[str, Loaded] = {}
    for p in queue:
        cfg = load_config(p)
        sid = cfg.config.scenario.id
        if sid in by_id:
            if by_id[sid].config_hash != cfg.config_hash:
                raise ConfigError([f"{cfg.path}: scenario id '{sid}' is also the id of "
                                   f"{by_id[sid].path}, with different contents; give each "
                                   "scenario its own id"])
            continue
        by_id[sid] = cfg
        loaded.append(cfg)
    base = {k: loaded[0].resolved.get(k) for k in NOWCAST_SECTIONS}
    for other in loaded[1:]:
        diff = [k for k in NOWCAST_SECTIONS if other.resolved.get(k) != base[k]]
        if diff:
            raise ConfigError([f"{other.path}: section(s) {', '.join(diff)} differ from "
                               f"{loaded[0].path}; scenarios compared in one run must share their "
                               "episode and evidence (run them separately)"])
    return loaded


def compose(paths: Sequence[str | Path], weights: Mapping[str, float] | None = None, *,
            weights_given: bool = False) -> Comparison:
    """Load the comparison and settle its weights: ``weights`` if given (e.g. ``--weights``), else
    the primary config's ``forecast.scenario_weights`` when more than one scenario runs. A
    config's weights that do not cover the scenarios run are a config error at their line."""
    loaded = collect_configs(paths)
    ids = [c.config.scenario.id for c in loaded]
    primary = loaded[0]
    if weights is not None:
        try:
            return Comparison(tuple(loaded), validate_weights(weights, ids))
        except ValueError as e:
            raise ConfigError([f"{'--weights' if weights_given else 'weights'}: {e}"]) from None
    own = primary.config.forecast.scenario_weights
    if own is None:
        return Comparison(tuple(loaded), None)
    try:
        checked = validate_weights(own, ids)
    except ValueError as e:
        # More configs on the command line than the config's weights know of: the user has to
        # say how to weight them.
        hint = ("; with several configs on the command line, give --weights for all of them"
                if len(paths) > 1 else "")
        raise ConfigError([f"{primary.where('forecast', 'scenario_weights')}: forecast -> "
                           f"scenario_weights: {e}{hint}"]) from None
    return Comparison(tuple(loaded), checked if len(loaded) > 1 else None)
