"""The import layering of the packages, function-level imports included:

core ← engine ← tools ← memory ← graph ← batch ← evals ← web ← app

(memory needs only core and engine). Inside the engine, rooms by job (see ENGINE_RANK)::

    ops, measure.estimators, io ← schema ← measure ← base, interop ← parametric.fast
    ← parametric, diffusion ← engines ← train

a room imports only lower rooms (and itself), and no engine module takes part in an
import cycle. Library code never imports the app shell
(``pertouch.cli``, ``pertouch.commands``, the ``pertouch.errors``/``pertouch.home`` shims):
errors and the home folder live in ``pertouch.core``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: package folder → the packages it may import.
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "engine": {"core"},
    "tools": {"core", "engine"},
    "memory": {"core", "engine"},
    "graph": {"core", "engine", "tools", "memory"},
    "batch": {"core", "engine", "tools", "memory", "graph"},
    "evals": {"core", "engine", "tools", "memory", "graph", "batch"},
    "web": {"core", "engine", "tools", "memory", "graph", "batch", "evals"},
}
#: ``pertouch.X`` names that are the app shell (``app/``).
APP = {"cli", "commands", "errors", "home"}


def _imports(path: Path) -> set[str]:
    """Every ``pertouch.*`` module a file imports, anywhere in it."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("pertouch.")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "pertouch":
                out |= {f"pertouch.{a.name}" for a in node.names if a.name != "__version__"}
            elif node.module.startswith("pertouch."):
                out.add(node.module)
    return out


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_packages_import_only_the_layers_below(package):
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for mod in _imports(path):
            top = mod.split(".")[1]
            target = "app" if top in APP else top
            if target != package and target not in ALLOWED[package]:
                bad.append(f"{path.relative_to(ROOT)} imports {mod}")
    assert not bad, "\n".join(bad)


def test_the_layering_sees_function_level_imports(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from pertouch.commands._common import x\n    import pertouch.graph.session\n")
    assert _imports(probe) == {"pertouch.commands._common", "pertouch.graph.session"}


# --- inside the engine: rooms by job ---------------------------------------------------

#: engine room (``pertouch.engine.<room>``, the longest that matches) → rank; a room may
#: import itself and rooms of a LOWER rank only (so two rooms of one rank not each other).
ENGINE_RANK: dict[str, int] = {
    "ops": 0,                 # the pixel operators, colour maths, the numba switch
    "measure.estimators": 0,  # the formulas: they import nothing of the engine
    "io": 0,                  # photos and masks in and out
    "schema": 1,              # attributes, levels, recipes, regions
    "measure": 2,             # the label-sum pass, the artefact gate
    "base": 3,                # the Engine interface
    "interop": 3,             # editor sidecars
    "parametric.fast": 4,     # compiled kernels: never the engine around them
    "parametric": 5,
    "diffusion": 5,
    "engines": 6,             # the factory
    "train": 7,
}


def _engine_room(module: str) -> str | None:
    rest = module.removeprefix("pertouch.engine.") if module.startswith("pertouch.engine.") else ""
    return max((r for r in ENGINE_RANK if rest == r or rest.startswith(r + ".")), key=len, default=None)


def _engine_module(path: Path) -> str:
    parts = list(path.relative_to(ROOT / "engine").with_suffix("").parts)
    return ".".join(["pertouch", "engine", *(parts[:-1] if parts[-1] == "__init__" else parts)])


def _engine_imports(path: Path) -> set[str]:
    """The engine modules a file imports at run time (``if TYPE_CHECKING:`` blocks aside),
    function-level imports included; ``from pertouch.engine.ops import operators`` is
    ``pertouch.engine.ops.operators``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(n) for node in ast.walk(tree)
                   if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
                   for n in ast.walk(node)}
    out = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("pertouch.engine.")}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("pertouch.engine"):
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                rel = ROOT / "engine" / sub.removeprefix("pertouch.engine.").replace(".", "/")
                out.add(sub if rel.with_suffix(".py").exists() or rel.is_dir() else node.module)
    return out


def _engine_graph() -> dict[str, set[str]]:
    files = {_engine_module(p): p for p in sorted((ROOT / "engine").rglob("*.py"))}
    return {m: _engine_imports(p) - {m} for m, p in files.items()}


def test_every_engine_module_is_in_a_room():
    loose = [m for m in _engine_graph() if m != "pertouch.engine" and _engine_room(m) is None]
    assert not loose, f"give these a room in ENGINE_RANK: {loose}"


def test_engine_rooms_import_only_the_rooms_below():
    bad = []
    for mod, deps in sorted(_engine_graph().items()):
        here = _engine_room(mod)
        for dep in sorted(deps):
            there = _engine_room(dep)
            if here and there and there != here and ENGINE_RANK[there] >= ENGINE_RANK[here]:
                bad.append(f"{mod} ({here}) imports {dep} ({there})")
    assert not bad, "\n".join(bad)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = [stack.pop()]
            while comp[-1] != v:
                comp.append(stack.pop())
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_engine_has_no_import_cycle():
    assert not _cycles(_engine_graph())


def test_the_engine_checks_see_rooms_cycles_and_function_level_imports(tmp_path):
    assert _engine_room("pertouch.engine.parametric.fast.kernels") == "parametric.fast"
    assert _engine_room("pertouch.engine.measure.estimators") == "measure.estimators"
    assert _engine_room("pertouch.engine.measure.stats") == "measure"
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    probe = tmp_path / "probe.py"
    probe.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pertouch.engine.train.loop\n"
                     "def f():\n    from pertouch.engine.ops import operators\n")
    assert _engine_imports(probe) == {"pertouch.engine.ops.operators"}
