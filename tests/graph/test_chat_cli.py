"""`pertouch chat` through the CLI runner, including kill-and-resume from SQLite."""

from __future__ import annotations

import pytest

pytest.importorskip("pertouch.engine.engines", reason="engine registry (helper A) not landed yet")
pytest.importorskip("pertouch.graph.vlm.registry", reason="VLM registry (helper D) not landed yet")

import re
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from pertouch.cli import app


def _chat(args, lines):
    return CliRunner().invoke(app, ["chat", *map(str, args)], input="\n".join(lines) + "\n")


def _session_id(output: str) -> str:
    return re.search(r"session (\w+) \((?:new|resumed)\)", output).group(1)


def test_turns_write_previews_and_commands_work(astronaut_png, tmp_path):
    res = _chat([astronaut_png], ["a bit brighter", "a bit more", "compare", "undo", "start over", "quit"])
    assert res.exit_code == 0, res.output
    previews = re.findall(r"preview: (\S+)", res.stdout)
    assert len(previews) >= 4 and all(Path(p).is_file() for p in previews)
    assert "Before | after" in res.stdout and "Undid the last change" in res.stdout
    assert "Back to the original photo" in res.stdout


def test_save_writes_full_resolution_and_sidecar(astronaut_png, tmp_path):
    out = tmp_path / "saved.jpg"
    res = _chat([astronaut_png], ["warmer", f"save as {out}"])
    assert res.exit_code == 0, res.output
    assert out.is_file() and Path(f"{out}.pertouch.json").is_file()
    from PIL import Image

    with Image.open(out) as a, Image.open(astronaut_png) as b:
        assert a.size == b.size


def test_kill_and_resume_keeps_history_and_result(astronaut_png, tmp_path):
    # first process: one instruction, then the process ends (EOF)
    env_home = {}
    res = _chat([astronaut_png], ["make the sky warmer", "a bit more"])
    assert res.exit_code == 0, res.output
    sid = _session_id(res.stdout)
    last = re.findall(r"preview: (\S+)", res.stdout)[-1]
    # a new process resumes from the SQLite checkpoint
    code = ("import sys; from pertouch.cli import main; sys.argv=['pertouch','chat','--session',%r]; main()" % sid)
    proc = subprocess.run([sys.executable, "-c", code], input="history\n", capture_output=True, text=True,
                          timeout=120, env={**__import__('os').environ, **env_home})
    assert proc.returncode == 0, proc.stderr
    assert f"session {sid} (resumed)" in proc.stdout
    assert "2 earlier turn(s)" in proc.stdout and f"current result: {last}" in proc.stdout
    assert "1. make the sky warmer" in proc.stdout and "2. a bit more" in proc.stdout


def test_unknown_session_is_a_clear_error():
    res = _chat(["--session", "nope"], [])
    assert res.exit_code == 2 and "no session 'nope'" in res.stderr
