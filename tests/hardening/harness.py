"""What every fault-injection case asserts (issue 16), in one place.

A refusal is: the exit code (2 unless said otherwise), exactly one line on stderr that names the
file, line, key or path, no "Traceback", within a time bound; earlier results byte-identical
(:func:`tree_digest` before and after) and no temporary files left (:func:`leftovers`).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"
TEMP_MARKERS = (".tmp-",)
"""Names of files and directories that only exist while something is being written."""


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    seconds: float


def cli(command: str, *args, timeout: float = 60, cwd: Path = ROOT, env: dict | None = None,
        stdin=subprocess.DEVNULL) -> Outcome:
    """``python -m models.<command> ARGS`` in a subprocess, with a time bound (a hang fails the
    test instead of blocking the suite)."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", f"models.{command}", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env={**os.environ, **(env or {})}, stdin=stdin)
    return Outcome(proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - t0)


def in_process(main, argv: list[str], capsys) -> Outcome:
    """A command line's ``main(argv)`` in this process (no interpreter start-up): an uncaught
    exception fails the test, which is the in-process form of "no traceback"."""
    t0 = time.perf_counter()
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return Outcome(code, out.out, out.err, time.perf_counter() - t0)


def assert_refused(outcome: Outcome, *names: str, code: int = 2, seconds: float = 60,
                   lines: int | None = 1) -> str:
    """Exit ``code``, no traceback, ``lines`` line(s) on stderr (None: any number, each
    checked), every one of ``names`` in it, within ``seconds``. Returns the message."""
    err = outcome.stderr
    assert "Traceback" not in err, err
    assert outcome.code == code, (outcome.code, err)
    message = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("warning:")]
    if lines is not None:
        assert len(message) == lines, err
    for name in names:
        assert str(name) in err, (name, err)
    assert outcome.seconds < seconds, f"took {outcome.seconds:.1f}s (bound {seconds}s)"
    return "\n".join(message)


def assert_one_line(error: Exception, *names: str) -> str:
    """A library refusal: a one-line message naming every one of ``names``."""
    text = str(error)
    assert "\n" not in text.strip(), text
    for name in names:
        assert str(name) in text, (name, text)
    return text


def tree_digest(path: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under ``path`` (directories as 'dir'): equal
    before and after means byte-identical."""
    path = Path(path)
    out = {}
    for p in sorted(path.rglob("*")):
        rel = str(p.relative_to(path))
        if p.is_symlink():
            out[rel] = "link:" + os.readlink(p)
        elif p.is_dir():
            out[rel] = "dir"
        elif p.is_file():
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def leftovers(*paths: Path) -> list[Path]:
    """Temporary files or directories under ``paths`` (none may survive a refusal or a fault)."""
    found = []
    for root in paths:
        root = Path(root)
        if root.exists():
            found += [p for p in root.rglob("*") if any(m in p.name for m in TEMP_MARKERS)]
    return found


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def over_baseline(path: Path, body: str = "") -> Path:
    """A config at ``path`` that extends the shipped baseline and adds ``body``."""
    return write(path, f"extends: {CONFIGS / 'baseline.yaml'}\n{body}")
