"""A session turn's steps, streamed as they happen (``Session.turn(..., on_step=...)``),
and their labels (:mod:`pertouch.graph.progress`). Two rounds are scripted with the
``fake:FILE`` provider; renders are real."""

from __future__ import annotations

import json

from pertouch.graph.builder import build_graph
from pertouch.graph.context import load_context
from pertouch.graph.progress import step_event, trail
from pertouch.graph.session import Session, open_checkpointer

INTENT = {"kind": "strong", "targets": [{"region": "sky", "attribute": "brightness", "direction": "up",
                                         "shift": 0.3, "magnitude": "much"}]}


def _script(path, rounds: int):
    crit = [{"satisfied": False, "explanation": "not enough",
             "targets": [{"region": "sky", "attribute": "brightness", "verdict": "not_enough",
                          "size_fits_wording": False}]}] * (rounds - 1)
    crit.append({"satisfied": True, "explanation": "changed enough",
                 "targets": [{"region": "sky", "attribute": "brightness", "verdict": "changed_enough",
                              "size_fits_wording": True}]})
    plans = [{"edits": [{"region": "sky", "attribute": "brightness", "by": 0.05 + 0.25 * i}]} for i in range(rounds)]
    path.write_text(json.dumps({"describe": [{"tags": ["outdoor"], "description": "a rocket under a sky"}],
                                "classify": [INTENT], "plan": plans, "critique": crit}))
    return f"fake:{path}"


def test_steps_arrive_in_graph_order_while_the_turn_runs(rocket_png, tmp_path):
    ctx = load_context(vlm=_script(tmp_path / "s.json", 2), use_memory=False)
    session = Session(None, str(rocket_png), ctx)
    seen: list[tuple[str, dict]] = []
    out = session.turn("much brighter sky", on_step=lambda node, update: seen.append((node, update)))
    nodes = [n for n, _ in seen]
    assert nodes == ["perceive", "converse", "classify", "recall", "plan", "render", "critique",
                     "plan", "render", "critique", "respond", "finish"]
    events = [step_event(n, u) for n, u in seen]
    assert [e["round"] for e in events if e["node"] in ("plan", "render", "critique")] == [1, 1, 1, 2, 2, 2]
    labels = [e["label"] for e in events]
    assert labels[0].startswith("looked at the photo (") and "understood the request (strong)" in labels
    assert "critique of round 1: not yet — planning another round" in labels
    assert "rendered round 2" in labels and "critique of round 2: satisfied" in labels
    assert [e["next"] for e in events] == ["reading the message", "understanding the request",
                                           "recalling your taste", "planning round 1", "rendering round 1",
                                           "checking round 1", "planning round 2", "rendering round 2",
                                           "checking round 2", "answering", "finishing", "done"]
    assert trail(events) == ("perceive → classify → plan 1 → render 1 → critique 1 → plan 2 → render 2 → "
                             "critique 2 → respond")
    # the same outcome as a turn without on_step (a second session on the same script)
    other = Session(None, str(rocket_png), load_context(vlm=_script(tmp_path / "t.json", 2), use_memory=False),
                    graph=build_graph(open_checkpointer(), anywhere=True))
    plain = other.turn("much brighter sky")
    assert (out.kind, out.status, out.answer.replace(session.id, "")) == \
        (plain.kind, plain.status, plain.answer.replace(other.id, ""))
    assert out.preview.endswith("round2.jpg") and len(session.stack) == 1


def test_a_session_command_streams_its_own_steps(rocket_png, tmp_path):
    ctx = load_context(vlm=_script(tmp_path / "s.json", 1), use_memory=False)
    session = Session(None, str(rocket_png), ctx)
    session.turn("much brighter sky")
    seen: list[str] = []
    out = session.turn("undo", on_step=lambda node, update: seen.append(step_event(node, update)["label"]))
    assert out.kind == "undo" and seen[1] == "session command: undo"
    assert seen[2].startswith("rendered round") and seen[-1] == "done"


def test_labels_say_why_a_step_stopped():
    assert step_event("plan", {"round": 1, "stop_reason": "nothing to change"})["label"] == "planning stopped"
    assert step_event("render", {"errors": [], "stop_reason": "rendering failed"})["label"] == "rendering failed"
    crit = step_event("critique", {"rounds": [{"round": 3, "critique": {"satisfied": False}}],
                                   "stop_reason": "reached the maximum of 3 rounds"})
    assert crit == {"node": "critique", "round": 3, "next": "answering",
                    "label": "critique of round 3: not yet — stopping: reached the maximum of 3 rounds"}
    assert step_event("perceive", None, 12.345) == {"node": "perceive", "label": "looked at the photo",
                                                    "next": "reading the message", "round": None, "ms": 12.3}
