"""The README's first block is what .ci/run runs, word for word."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0].startswith("# "), "the README opens with a title line"
    block = re.search(r"```(?:sh|bash|console)?\n(.*?)```", text, re.S)
    assert block and text.index(block.group(0)) < text.index("\n\n", len(lines[0]) + 1) + 3, \
        "the first block follows the title directly"
    return [ln.strip() for ln in block.group(1).splitlines() if ln.strip() and not ln.strip().startswith("#")]


def ci_commands() -> list[str]:
    text = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    body = text.split("# --- README commands ---\n", 1)[1].split("# --- end of README commands ---", 1)[0]
    return [ln.strip() for ln in body.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def test_ci_runs_exactly_the_readme_block():
    assert readme_commands() == ci_commands()


def test_block_sets_up_runs_the_main_job_and_the_tests():
    cmds = readme_commands()
    assert "python3 -m venv" in cmds[0] and "pip install -e '.[dev]'" in cmds[0]
    assert "torch==2.14.1" in cmds[0] and "torchvision==0.29.1" in cmds[0]
    assert any("pertouch retouch" in c for c in cmds)
    assert "pytest" in cmds[-1]


def test_ci_script_is_strict_bash():
    text = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in text


def test_example_recipe_and_mask_exist():
    from pertouch.engine.schema.recipe import load_recipe

    recipe = load_recipe(ROOT / "examples" / "warm-sky.json")
    for edit in recipe.regions.values():
        assert edit.mask and (ROOT / "examples" / edit.mask).is_file()
