"""models.cli.entry_point: a Ctrl-C or SIGTERM that Python raises where it cannot propagate
(inside a callback from C, a ``__del__``) is delivered again instead of being printed and lost."""

import signal
import textwrap
import time

import pytest

from models.cli import entry_point

COMMAND = '''
import time

from models.cli import Terminated


class Finalised:
    def __del__(self):
        # what a signal raised inside llvmlite's callback looks like: Python can only print it
        raise {exc}


def main(argv):
    Finalised()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the rest of the run, which the signal must stop
        time.sleep(0.01)
    return 0
'''


@pytest.mark.parametrize(("exc", "code"), [("KeyboardInterrupt()", 130), ("Terminated()", 143)])
def test_a_signal_lost_in_a_finaliser_still_stops_the_command(exc, code, tmp_path, monkeypatch,
                                                              capsys):
    # a real Ctrl-C is raised only where Python's handler is installed; a test run started as a
    # background job inherits SIGINT ignored, and then nothing would be delivered again
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        check_lost_signal(exc, code, tmp_path, monkeypatch, capsys)
    finally:
        signal.signal(signal.SIGINT, previous)


def check_lost_signal(exc, code, tmp_path, monkeypatch, capsys):
    name = f"lost_signal_{code}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(COMMAND.format(exc=exc)))
    monkeypatch.syspath_prepend(str(tmp_path))
    t0 = time.perf_counter()
    assert entry_point(name)([]) == code
    assert time.perf_counter() - t0 < 3  # delivered again within 50 ms, not after the 10 s run
    err = capsys.readouterr().err
    assert "Exception ignored" not in err and err.startswith(("interrupted", "terminated"))


def test_other_unraisable_exceptions_reach_the_hook_in_place(tmp_path, monkeypatch):
    (tmp_path / "other_unraisable.py").write_text(textwrap.dedent('''
        class Finalised:
            def __del__(self):
                raise ValueError("not a signal")


        def main(argv):
            Finalised()
            return 0
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    seen = []
    monkeypatch.setattr("sys.unraisablehook", seen.append)
    assert entry_point("other_unraisable")([]) == 0
    assert [type(u.exc_value) for u in seen] == [ValueError]


@pytest.mark.parametrize(("exc", "code"), [("KeyboardInterrupt()", 130), ("Terminated()", 143)])
def test_a_signal_python_wrapped_in_another_exception_is_still_an_interrupt(exc, code, tmp_path,
                                                                            monkeypatch, capsys):
    # a Ctrl-C during a descriptor's __set_name__ (scipy.stats's dataclasses, at import) reaches
    # the command as "RuntimeError: Error calling __set_name__ ..." with the interrupt as cause
    name = f"wrapped_signal_{code}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(f'''
        from models.cli import Terminated


        class Field:
            def __set_name__(self, owner, name):
                raise {exc}


        def main(argv):
            class Method:
                rng = Field()
            return 0
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    assert entry_point(name)([]) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith(("interrupted", "terminated"))


def test_other_failures_are_not_taken_for_interrupts(tmp_path, monkeypatch):
    (tmp_path / "plain_failure.py").write_text(textwrap.dedent('''
        def main(argv):
            try:
                raise ValueError("inner")
            except ValueError:
                raise RuntimeError("outer")
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(RuntimeError, match="outer"):
        entry_point("plain_failure")([])
