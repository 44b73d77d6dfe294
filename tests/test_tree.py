"""The test tree imports cleanly: no two test files get the same module name under pytest's
default ("prepend") import mode, which would make a clean checkout fail to collect one of
them ("import file mismatch") while a warm one with a stale ``__pycache__`` may not."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def module_name(path: Path) -> str:
    """What pytest imports ``path`` as: its basename, prefixed by the packages it sits in."""
    parts = [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts)


def test_every_test_module_has_its_own_name():
    seen: dict[str, list[str]] = defaultdict(list)
    for path in TESTS.rglob("test_*.py"):
        seen[module_name(path)].append(str(path.relative_to(TESTS)))
    clashes = {name: paths for name, paths in seen.items() if len(paths) > 1}
    assert not clashes, f"rename one of each (pytest imports both as the same module): {clashes}"
