"""`pertouch chat` through the CLI runner (turns measured on the previews), and
kill-and-resume across real processes from the SQLite checkpoint."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from pertouch.cli import app

from .conftest import luma, warmth


def _chat(args, lines):
    return CliRunner().invoke(app, ["chat", *map(str, args)], input="\n".join(lines) + "\n")


def _session_id(output: str) -> str:
    return re.search(r"session (\w+) \((?:new|resumed)\)", output).group(1)


def _px(path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), np.float32)


def _sky(path) -> np.ndarray:
    from pertouch.engine.io.read import load_image
    from pertouch.tools.perception import perceive

    return perceive(load_image(path)).find("sky").mask


def test_turns_build_on_each_other(rocket_png, tmp_path):
    out = tmp_path / "out.jpg"
    turns = ["brighter sky", "a bit more", "undo", "warmer", "only the sky", "start over", "brighter sky",
             f"save as {out}", "looks good"]
    res = _chat([rocket_png, "--user", "ana"], turns)
    assert res.exit_code == 0, res.output
    p = re.findall(r"preview: (\S+)", res.stdout)
    assert len(p) == 9, res.stdout
    orig, sky = _px(rocket_png), _sky(rocket_png)
    ins, outs = sky > 0.9, sky < 0.02
    img = [_px(x) for x in p]
    sky_l = [luma(x)[ins].mean() for x in [orig, *img]]
    assert sky_l[1] > sky_l[0] + 2              # brighter sky
    assert sky_l[2] > sky_l[1] + 1              # a bit more
    assert abs(sky_l[3] - sky_l[1]) < 1.0       # undo → back to turn 1
    assert warmth(img[3])[outs].mean() > warmth(orig)[outs].mean() + 2  # warmer: everywhere
    diff = [float(np.abs(x - orig)[outs].mean()) for x in img]  # previews are JPEGs: ~2.5 noise
    assert diff[4] < diff[3] - 1.5 and diff[4] < diff[5] + 1.0           # only the sky: rest back
    assert abs(warmth(img[4])[outs].mean() - warmth(orig)[outs].mean()) < 1.0
    assert warmth(img[4])[ins].mean() > warmth(orig)[ins].mean() + 1     # … sky keeps it
    assert np.abs(img[5] - orig).mean() < 3.0   # start over (JPEG noise only)
    assert out.is_file() and Path(f"{out}.pertouch.json").is_file()
    assert _px(out).shape == orig.shape and luma(_px(out))[ins].mean() > sky_l[0] + 2
    assert "Undid the last change" in res.stdout and "Back to the original photo" in res.stdout
    assert "Remembered." in res.stdout  # the save accepted the result …
    assert "Already accepted; nothing new to remember." in res.stdout  # … so "looks good" stores nothing twice


def test_unknown_session_is_a_clear_error():
    res = _chat(["--session", "nope"], [])
    assert res.exit_code == 2 and "no session 'nope'" in res.stderr


def _start(args, home):
    env = {**os.environ, "PERTOUCH_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "pertouch.cli", "chat", *map(str, args)], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def test_kill_and_resume_keeps_history_and_result(rocket_png, tmp_path):
    home = Path(os.environ["PERTOUCH_HOME"])
    proc = _start([rocket_png, "--no-memory"], home)
    proc.stdin.write("make the sky warmer\na bit more\n")
    proc.stdin.flush()
    lines, deadline = [], time.time() + 120
    while sum("preview:" in x for x in lines) < 2 and time.time() < deadline:
        lines.append(proc.stdout.readline())
    proc.kill()  # no clean exit: the checkpoint must already be on disk
    proc.wait(10)
    text = "".join(lines)
    sid, last = _session_id(text), re.findall(r"preview: (\S+)", text)[-1]
    out = tmp_path / "resumed.png"
    env = {**os.environ, "PERTOUCH_HOME": str(home)}
    res = subprocess.run([sys.executable, "-m", "pertouch.cli", "chat", "--session", sid, "--no-memory"],
                         input=f"history\nsave as {out}\n", capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 0, res.stderr
    assert f"session {sid} (resumed)" in res.stdout
    assert "2 earlier turn(s)" in res.stdout and f"current result: {last}" in res.stdout
    assert "1. make the sky warmer" in res.stdout and "2. a bit more" in res.stdout
    # the same result: the full-resolution save after resuming matches the last preview
    assert np.abs(_px(out) - _px(last)).mean() < 2.0
    sky = _sky(rocket_png) > 0.9
    assert warmth(_px(out))[sky].mean() > warmth(_px(rocket_png))[sky].mean() + 2


def test_two_processes_on_one_session_take_turns_and_lose_nothing(rocket_png, tmp_path):
    home = Path(os.environ["PERTOUCH_HOME"])
    env = {**os.environ, "PERTOUCH_HOME": str(home)}
    cmd = [sys.executable, "-m", "pertouch.cli", "chat"]
    first = subprocess.run([*cmd, str(rocket_png), "--no-memory"], input="make the sky brighter\n",
                           capture_output=True, text=True, timeout=120, env=env)
    sid = _session_id(first.stdout)
    procs = [subprocess.Popen([*cmd, "--session", sid, "--no-memory"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
             for _ in range(2)]
    outs = [p.communicate(lines, timeout=180)[0] for p, lines in zip(procs, ("warmer\na bit more\n",
                                                                            "more contrast\nless\n"))]
    assert all(p.returncode == 0 for p in procs), outs
    res = subprocess.run([*cmd, "--session", sid, "--no-memory"], input="history\n", capture_output=True,
                         text=True, timeout=120, env=env)
    hist = re.findall(r"^\d+\. (.+) → ", res.stdout, re.M)
    assert len(hist) == 5 and sorted(hist[1:]) == sorted(["warmer", "a bit more", "more contrast", "less"])
    previews = re.findall(r"preview: (\S+)", "".join(outs))
    assert len(previews) == len(set(previews)) == 4  # no turn wrote over another's preview


def test_a_refused_save_keeps_the_chat_going(rocket_png, tmp_path):
    res = _chat([rocket_png, "--no-memory"], ["brighter sky", f"save as {tmp_path}/missing/x.jpg", "a bit more",
                                              "history"])
    assert res.exit_code == 0, res.output
    assert "Not saved: output folder" in res.stdout and "3. a bit more → ok" in res.stdout
    assert "2. save as" in res.stdout and "→ nothing-done" in res.stdout
