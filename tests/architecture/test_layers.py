"""The layer rules, read from the code: every import of every module (module level and inside
functions) of ``models/`` and ``scenarios/``.

Rooms, bottom to top: ``scenarios`` (the config layer) -> base modules of ``models`` (vocabulary,
state, data, runtime, progress) -> ``inference`` | ``simulation`` (they meet at the state, never
import each other) -> ``outputs`` -> ``evaluation`` -> ``pipeline`` -> ``cli``; the
``python -m models.<command>`` shims sit above everything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("models", "scenarios")
SHIMS = {"models.run", "models.compare", "models.score", "models.backtest", "models.priors",
         "models.timeline", "models.sbc", "models.sweep"}
MAX_LINES = 500
LONG_ALLOWED = {
    "models.simulation.engine": "the Monte Carlo hot loop; its 57-line module docstring is the "
                                "process specification the naive reference is checked against",
}
"""Files allowed past :data:`MAX_LINES`, each with its reason."""


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


MODULES = modules()


def imports_of(path: Path) -> set[str]:
    """Project modules a file imports, anywhere in it (``from a import b`` counts ``a.b`` when
    that is a module, else ``a``)."""
    out = set()
    tree = ast.parse(path.read_text("utf-8"))
    me = module_name(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                pkg = me.split(".")[: -node.level] if path.name != "__init__.py" else \
                    me.split(".")[: len(me.split(".")) - node.level + 1]
                base = ".".join([*pkg, base] if base else pkg)
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                     for a in node.names]
        else:
            continue
        for n in names:
            while n and n not in MODULES and "." in n:
                n = n.rsplit(".", 1)[0]
            if n in MODULES and n.split(".")[0] in PACKAGES and n != me:
                out.add(n)
    return out


GRAPH = {m: imports_of(p) for m, p in MODULES.items()}


def room(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "scenarios":
        return "scenarios"
    if module in SHIMS:
        return "shim"
    if len(parts) == 1:
        return "models"
    if parts[1] in ("inference", "simulation", "outputs", "evaluation", "cli", "pipeline"):
        return parts[1]
    return "base"


RANK = {"scenarios": 0, "base": 1, "inference": 2, "simulation": 2, "outputs": 3,
        "evaluation": 4, "pipeline": 5, "cli": 6, "models": 7, "shim": 8}
"""A module may import only rooms of lower rank (and its own room)."""


def test_the_rooms_exist():
    rooms = {room(m) for m in MODULES}
    assert {"scenarios", "base", "inference", "simulation", "outputs", "evaluation", "pipeline",
            "cli", "shim"} <= rooms


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module):
    mine = room(module)
    upward = sorted(dep for dep in GRAPH[module]
                    if room(dep) != mine and RANK[room(dep)] >= RANK[mine])
    assert not upward, f"{module} ({mine}) imports upward or sideways: {upward}"


def test_scenarios_import_nothing_from_models():
    bad = {m: sorted(d for d in deps if d.startswith("models"))
           for m, deps in GRAPH.items() if m.startswith("scenarios")}
    assert not {m: d for m, d in bad.items() if d}


def test_inference_and_simulation_never_meet_but_at_the_state():
    bad = [(m, d) for m, deps in GRAPH.items() for d in deps
           if {room(m), room(d)} == {"inference", "simulation"}]
    assert not bad


def test_nothing_imports_the_command_lines_but_the_shims():
    bad = [(m, d) for m, deps in GRAPH.items() for d in deps
           if room(d) == "cli" and room(m) not in ("cli", "shim")]
    assert not bad


def test_only_the_writer_imports_plots_and_report():
    drawn = {"models.outputs.plots", "models.outputs.report"}
    bad = [(m, d) for m, deps in GRAPH.items() for d in deps
           if d in drawn and room(m) == "outputs" and m not in drawn | {"models.outputs.write"}]
    assert not bad


def test_statistics_never_import_matplotlib():
    for name in ("models.outputs.statistics", "models.evaluation.backtest.scores"):
        if name in MODULES:
            tree = ast.parse(MODULES[name].read_text("utf-8"))
            imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
            imported += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
            assert not [m for m in imported if m.startswith("matplotlib")], name


def test_no_import_circles():
    """Tarjan's strongly connected components over every import: none has two modules."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    circles = [sorted(c) for c in out if len(c) > 1]
    assert not circles, f"import circles: {circles}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_file_over_500_lines(module):
    n = len(MODULES[module].read_text("utf-8").splitlines())
    limit = MAX_LINES + 60 if module in LONG_ALLOWED else MAX_LINES
    assert n <= limit, f"{MODULES[module].relative_to(ROOT)}: {n} lines (at most {MAX_LINES})"


def test_importing_models_has_no_side_effects():
    import subprocess
    import sys

    code = ("import warnings, sys; before = list(warnings.filters); import models, scenarios; "
            "assert warnings.filters == before, 'warnings filter changed'; "
            "heavy = [m for m in ('pymc', 'arviz', 'matplotlib', 'pytensor') if m in sys.modules]; "
            "assert not heavy, heavy; print(sorted(models.__all__))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_command_lines_stay_thin():
    """Each command-line module is parse, call, print, exit code: well under 200 lines (what
    it formats lives in models/outputs, what it computes in the library)."""
    from pathlib import Path

    cli = Path(__file__).resolve().parents[2] / "models" / "cli"
    long = {p.name: n for p in cli.glob("*.py")
            if (n := len(p.read_text("utf-8").splitlines())) >= 200}
    assert not long, long
