"""Resource limits of the config layer, in one place, each with why it is where it is.

Every limit is checked before the work it bounds (a YAML file is measured before it is read, its
alias expansion before it is walked, an episode's length before the nowcast is built) and a
refusal names the file, line and key, and the constant here that sets it. To raise a limit,
change the constant (and say why in its docstring); nothing else depends on the values.
"""

from __future__ import annotations

import math

__all__ = ["MAX_CONFIG_BYTES", "MAX_EXTENDS_DEPTH", "MAX_NUMBER", "MAX_OBSERVED_DAYS",
           "MAX_SCENARIO_ID", "MAX_SEED", "MAX_YAML_DEPTH", "MAX_YAML_NODES",
           "number_problems"]

MAX_CONFIG_BYTES = 1_000_000
"""Largest YAML file read (config, evidence file, a run's stored ``config.resolved.yaml``): the
shipped files are at most 13 kB; 1 MB is ~75 times that and parses in about a second."""
MAX_YAML_NODES = 100_000
"""Largest YAML document counted with every alias expanded (scalars, sequences, mappings): the
shipped configs have at most 320 nodes. An alias bomb (nested anchors, 1 kB expanding to
billions of nodes) is refused from this count, computed on the composed graph without expanding
anything."""
MAX_YAML_DEPTH = 64
"""Deepest nesting of mappings and sequences: the shipped configs nest 6 deep; Python's
recursion limit (1000) would be reached by PyYAML's composer at a few hundred."""
MAX_EXTENDS_DEPTH = 32
"""Longest ``extends`` chain (the shipped chains are 3 files: scenario -> baseline -> evidence)."""
MAX_OBSERVED_DAYS = 366
"""Longest episode the nowcast fits (``episode.start`` to ``episode.origin``, both included).
The nowcast's latent path is a (region, day) array multiplied by a day x day weight matrix, so
its cost per gradient grows with the square of the days and NUTS needs more steps for more
latent days: the shipped episodes are 5 and 6 days; a year fits, slowly; decades (a start in
1900: a 15 GB matrix) cannot. A longer history belongs in the priors (``python -m
models.priors``), not in the observed window: start the episode where the reports start."""
MAX_NUMBER = 1e10
"""Largest magnitude of any number in a config: more people than live on Earth; every hazard,
multiplier, share, count, horizon and seed is far below it. Non-finite numbers (``.nan``,
``.inf``) are refused everywhere."""
MAX_SEED = 2**32 - 1
"""Largest seed: the range every random number generator the run seeds accepts (NumPy's
legacy ``RandomState``, PyMC, nutpie)."""
MAX_SCENARIO_ID = 64
"""Longest scenario id: it names directories and files (``config.<id>.resolved.yaml``, the
temporary run directory ``.tmp-<host>-<pid>-<run id>``), which must stay within the 255 bytes a
file name may have."""


def number_problems(data, prefix: tuple = ()) -> list[tuple[tuple, str]]:
    """``(key path, message)`` for every number in ``data`` (nested mappings and lists, as read
    from YAML) that is not finite or exceeds :data:`MAX_NUMBER` in magnitude.

    >>> number_problems({"a": [1, float("nan")], "b": {"c": 10**400}})[0]
    (('a', 1), "'.nan' is not a finite number; every number in a config must be finite")
    """
    out: list[tuple[tuple, str]] = []
    todo = [(prefix, data)]
    while todo:  # iterative: the depth is bounded by the reader, but no recursion is needed
        path, value = todo.pop()
        if isinstance(value, dict):
            todo += [((*path, k), v) for k, v in reversed(value.items())]
        elif isinstance(value, list | tuple):
            todo += [((*path, i), v) for i, v in reversed(list(enumerate(value)))]
        elif isinstance(value, bool):
            continue
        elif isinstance(value, float) and not math.isfinite(value):
            text = ".nan" if math.isnan(value) else ("-.inf" if value < 0 else ".inf")
            out.append((path, f"'{text}' is not a finite number; every number in a config must "
                        "be finite"))
        elif isinstance(value, int | float) and abs(value) > MAX_NUMBER:
            shown = f"{value:.3g}" if isinstance(value, float) or value < 10**20 else \
                f"a {len(str(abs(value)))}-digit number"
            out.append((path, f"{shown} is too large: numbers in a config are at most "
                        f"{MAX_NUMBER:.0e} in magnitude (scenarios.limits.MAX_NUMBER)"))
    return out
