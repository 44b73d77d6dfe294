"""Dependencies that do not drift (issue 15 §7): a lock of tested versions used by the
README's install line and CI, and a script that refreshes it."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep and version.strip(), f"not an exact pin: {line!r}"
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version.strip()
    return pins


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)).lower()


def test_every_dependency_is_pinned_and_torch_matches_the_install_line():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    pins = _pins()
    assert not [r for r in wanted if _name(r) not in pins], "constraints.txt misses a dependency"
    assert "pertouch" not in pins
    line = (ROOT / ".ci" / "run").read_text()
    assert f"torch=={pins['torch']}" in line and f"torchvision=={pins['torchvision']}" in line


def test_readme_and_ci_install_with_the_constraints():
    from tests.test_readme import ci_commands, readme_commands

    assert readme_commands() == ci_commands()
    assert "-c constraints.txt" in readme_commands()[0]


def test_refresh_script_is_strict_bash_and_writes_the_lock_only_after_the_tests():
    script = ROOT / "scripts" / "refresh_lock.sh"
    text = script.read_text()
    assert text.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in text
    assert script.stat().st_mode & 0o111
    assert text.index("python -m pytest") < text.index('> "$root/constraints.txt.new"')
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
