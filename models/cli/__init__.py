"""Command lines: ``python -m models.run``, ``models.compare``, ``models.score``, ``models.priors``,
``models.backtest`` (each a thin parser around the library)."""

from __future__ import annotations

import _thread
import argparse
import functools
import importlib
import math
import os
import signal
import sys
import threading


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


class Terminated(SystemExit):
    """SIGTERM arrived: unwinds like Ctrl-C, so every ``finally`` and temporary-file cleanup
    runs, and the process exits 143 (128 + SIGTERM, what a shell reports for a terminated
    command)."""

    def __init__(self):
        super().__init__(128 + signal.SIGTERM)


def _terminate(signum, frame):
    # later SIGTERMs are ignored while the first one unwinds (cleanup must not be cut short)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated()


def _redeliver_signal(unraisable, fallback) -> None:
    """``sys.unraisablehook`` while a command runs: a Ctrl-C or SIGTERM that Python raised inside
    a callback from C (llvmlite's object-cache notification during a numba compile, a
    ``__del__``) cannot propagate and would be printed and lost, so the run went on to the end
    (measured: one SIGINT in about 25 sent during the compile window of a cached rerun). The
    signal is delivered again a moment later, from a timer thread: raised here, inside the hook,
    it would be lost the same way (Python acts on a pending signal at the next call it makes).
    If it lands in another callback it comes back here."""
    exc = unraisable.exc_value
    if isinstance(exc, KeyboardInterrupt):
        signum = signal.SIGINT
    elif isinstance(exc, Terminated):
        signum = signal.SIGTERM
        signal.signal(signal.SIGTERM, _terminate)  # _terminate ignored later SIGTERMs
    else:  # anything else goes to the hook that was in place
        fallback(unraisable)
        return
    timer = threading.Timer(REDELIVER_AFTER_S, _thread.interrupt_main, args=(signum,))
    timer.daemon = True
    _redeliveries.append(timer)
    timer.start()


REDELIVER_AFTER_S = 0.05
"""Delay before a lost signal is delivered again (s): long enough for the callback it was lost
in to return, short against the seconds a user waits."""
_redeliveries: list[threading.Timer] = []
"""Timers of signals being delivered again: cancelled and joined when the command ends, so none
fires into the caller's code or wakes up while the interpreter shuts down (a thread that does
aborts the process: "Fatal Python error ... finalizing", measured on a SIGTERM)."""


def _cancel_redeliveries() -> None:
    while _redeliveries:
        timer = _redeliveries.pop()
        timer.cancel()
        timer.join()


def _wrapped_signal(error: BaseException) -> BaseException | None:
    """The KeyboardInterrupt or :class:`Terminated` that ``error`` was raised from, if any: Python
    wraps an exception raised in some hooks into another one (a Ctrl-C during a class body's
    ``__set_name__``, as in scipy.stats's dataclasses at import, becomes "RuntimeError: Error
    calling __set_name__", caught once in about 40 Ctrl-Cs during imports), and that is still
    the user's interrupt, not a failure of the program."""
    seen: set[int] = set()
    cause = error.__cause__ or error.__context__
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt | Terminated):
            return cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return None


INTERRUPTED = ("interrupted: nothing half-written was kept (a run being written was removed); "
               "earlier results are untouched")


def entry_point(module: str):
    """The ``main(argv=None) -> int`` of the command line in ``module`` (``models.cli.run``, ...)
    run so that Ctrl-C and SIGTERM at any moment, imports included, are clean exits: one line
    on stderr, no traceback, exit 130 (Ctrl-C) or 143 (SIGTERM), temporary files removed by
    the cleanup they unwind through. The module is imported inside the guard, which is why
    ``python -m models.run`` and the console commands start here and not at ``module.main``.

    A signal that arrives while C or Rust code runs (a NUTS fit, a numba compile) is acted on
    when that call returns to Python, within seconds; one raised inside a callback from C is
    sent again (:func:`_redeliver_signal`). Run as a program (``argv=None``), an interrupted
    command ends without the interpreter's shutdown once its cleanup has run. A SIGINT the
    process inherited as ignored (``nohup``, ``cmd &`` in a script) stays ignored, as in any
    program."""

    def main(argv: list[str] | None = None) -> int:
        code = guarded(argv)
        if argv is None and code in (130, 128 + signal.SIGTERM):
            # A program that was interrupted has unwound its own cleanup (temporary files
            # removed, earlier results and caches untouched); the interpreter's shutdown is
            # skipped, because after an interrupt CPython may re-raise SIGINT at exit (exit -2
            # instead of 130, 1-2 in 25 Ctrl-Cs during imports) or abort in a thread a C library
            # left (exit -6 after a SIGTERM, seen once), and nothing of ours is left for it to do.
            rendering = sys.modules.get("models.outputs.rendering")
            if rendering is not None:  # its figure workers, which os._exit would leave
                rendering.stop_workers()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        return code

    def guarded(argv: list[str] | None) -> int:
        in_main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _terminate) if in_main_thread else None
        previous_hook = sys.unraisablehook
        if in_main_thread:  # signals (and interrupt_main) reach the main thread only
            sys.unraisablehook = functools.partial(_redeliver_signal, fallback=previous_hook)
        try:
            try:
                return importlib.import_module(module).main(argv)
            except Exception as error:  # a signal Python wrapped in another exception
                signalled = _wrapped_signal(error)
                if signalled is None:
                    raise
                raise signalled from None
        except KeyboardInterrupt:
            print(INTERRUPTED, file=sys.stderr)
            return 130
        except SystemExit as stop:  # Terminated, or the writer's own TerminatedDuringWrite
            if stop.code != 128 + signal.SIGTERM:
                raise
            print(INTERRUPTED.replace("interrupted", "terminated"), file=sys.stderr)
            return 128 + signal.SIGTERM
        finally:
            sys.unraisablehook = previous_hook
            _cancel_redeliveries()
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
                if argv is None:  # a program (python -m, a console command), about to exit:
                    # a signal now would kill the interpreter while it shuts down (exit -2 or
                    # -15 after the work is done and said); there is nothing left to stop
                    signal.signal(signal.SIGINT, signal.SIG_IGN)
                    signal.signal(signal.SIGTERM, signal.SIG_IGN)

    main.__doc__ = f"Run :func:`{module}.main` with Ctrl-C and SIGTERM as clean exits."
    return main
