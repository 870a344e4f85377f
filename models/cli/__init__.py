"""Command lines: ``python -m models.run``, ``models.compare``, ``models.score``, ``models.priors``,
``models.backtest`` (each a thin parser around the library)."""

from __future__ import annotations

import argparse
import math


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` with each option's default said once: appended as "(default: X)" unless the
    help already says its default, or there is none to say (an unset option, a flag)."""

    def _get_help_string(self, action):
        text = action.help or ""
        # identity, not equality: a default of 0 is a default to say (0 == False)
        nothing = any(action.default is v for v in (None, False, argparse.SUPPRESS)) or (
            isinstance(action.default, list | tuple | str) and not action.default)
        if "default" in text or nothing:
            return text
        return super()._get_help_string(action)


def positive_int(text: str) -> int:
    """argparse type of counts (draws, workers, replicates): a whole number of at least 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return int(text)


def acceptance_rate(text: str) -> float:
    """argparse type of a NUTS target acceptance rate (``--target-accept``): a number strictly
    between 0.5 and 1, the range the config's ``sampler.target_accept`` admits."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.5 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number between 0.5 and 1 (exclusive), "
                                         f"got {text!r}")
    return value
