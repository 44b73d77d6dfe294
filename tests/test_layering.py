"""The import layering of the packages, function-level imports included:

core ← engine ← tools ← memory ← graph ← batch ← evals ← web ← app

(memory needs only core and engine). Library code never imports the app shell
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
