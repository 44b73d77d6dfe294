"""The conversation suite: scripts scored per turn on a checkpointed thread."""

from __future__ import annotations

import json

import pytest

from pertouch.core.errors import InputError
from pertouch.evals import runner
from pertouch.evals.conversation import ConversationTask, load_scripts

SCRIPT = {"id": "s", "photo": "skimage:rocket", "turns": [
    {"say": "make the sky brighter", "expect": {"turn": "instruction", "changes": [
        {"region": "sky", "attribute": "brightness", "direction": "up"}]}},
    {"say": "undo", "expect": {"turn": "undo", "same_as": 0}}]}


def _write(tmp_path, *scripts):
    p = tmp_path / "conv.jsonl"
    p.write_text("\n".join(json.dumps(s) for s in scripts) + "\n")
    return p


def test_bundled_scripts_load_and_cover_refine_undo_accept():
    kinds = {t.expect.turn for s in load_scripts() for t in s.turns}
    assert {"instruction", "more", "undo", "redo", "reset", "accept"} <= kinds


def test_per_turn_scores_on_a_recorded_output(tmp_path):
    task = ConversationTask(_write(tmp_path, SCRIPT))
    orig = {"sky": {"brightness": 0.1}, "global": {"brightness": 0.2}}
    brighter = {"sky": {"brightness": 0.2}, "global": {"brightness": 0.25}}
    good = {"original": orig, "turns": [{"turn": "instruction", "status": "ok", "recipe": {"x": 1}, "levels": brighter},
                                        {"turn": "undo", "status": "ok", "recipe": {}, "levels": orig}]}
    s = task.score(SCRIPT, good)
    assert all(v["value"] == 1.0 for v in s.values()) and set(s) == {"t1.turn", "t1.changes", "t2.turn", "t2.same_as"}
    bad = {"original": orig, "turns": [{"turn": "instruction", "status": "ok", "recipe": {}, "levels": orig},
                                       {"turn": "instruction", "status": "ok", "recipe": {}, "levels": brighter}]}
    s = task.score(SCRIPT, bad)
    assert s["t1.changes"]["value"] == 0.0 and "want up" in s["t1.changes"]["explanation"]
    assert s["t2.turn"]["value"] == 0.0 and s["t2.same_as"]["value"] == 0.0
    assert task.score(SCRIPT, {"original": orig, "turns": []})["t1.ran"]["value"] == 0.0


def test_a_real_script_runs_on_a_thread(tmp_path):
    task = ConversationTask(_write(tmp_path, SCRIPT))
    summary = runner.run(task, configs=[{"vlm": "builtin"}], out=tmp_path / "run")
    c = summary["configs"]["builtin"]
    assert (c["passed"], c["errors"]) == (1, 0), (tmp_path / "run" / "report.md").read_text()
    row = json.loads((tmp_path / "run" / "log.jsonl").read_text().splitlines()[0])
    assert row["answer"].startswith("1. make the sky brighter → ") and "2. undo → Undid" in row["answer"]
    assert (tmp_path / "run" / row["image"]).is_file() and any(k.startswith("t1.") for k in row["timings_ms"])


def test_a_bad_script_names_the_line(tmp_path):
    p = tmp_path / "conv.jsonl"
    p.write_text('{"id": "x", "photo": "skimage:rocket"}\n')
    with pytest.raises(InputError, match=":1: not a conversation script"):
        load_scripts(p)
