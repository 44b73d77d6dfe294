"""A conversation is a thread of the graph: session commands, accept, save and problems
are handled in the graph itself (converse/deliver), so every client gets the same answers."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from pertouch.graph import runtime as rt
from pertouch.graph.builder import build_graph
from pertouch.graph.context import RunContext, load_context


class Recorder:
    """A memory store that keeps what it is asked to remember."""

    def __init__(self):
        self.records = []

    def remember(self, record):
        self.records.append(record)

    def recall(self, *a, **k):
        from pertouch.memory.records import Preferences

        return Preferences()


@pytest.fixture()
def memory(monkeypatch):
    rec = Recorder()
    monkeypatch.setattr(rt, "memory", lambda spec, cache=None: (rec, None))
    return rec


class Chat:
    def __init__(self, photo, anywhere=True, **ctx):
        self.graph = build_graph(InMemorySaver(), anywhere=anywhere)
        self.config = {"configurable": {"thread_id": uuid.uuid4().hex[:8]}}
        self.ctx = load_context(**ctx)
        self.photo = str(photo)

    def __call__(self, instruction, **inputs):
        payload = {"instruction": instruction, **inputs}
        if self.photo:
            payload["image_path"], self.photo = self.photo, ""  # the thread keeps the photo
        return self.graph.invoke(payload, self.config, context=self.ctx)

    @property
    def state(self):
        return self.graph.get_state(self.config).values


def test_more_undo_redo_and_start_over(rocket_png):
    chat = Chat(rocket_png, use_memory=False)
    first = chat("make the sky brighter")
    assert first["status"] == "ok" and first["turn"]["kind"] == "instruction"
    more = chat("a bit more")
    assert more["turn"]["kind"] == "more" and more["result"]["recipe"] != first["result"]["recipe"]
    assert len(chat.state["stack"]) == 2
    undo = chat("undo")
    assert undo["answer"].startswith("Undid the last change.") and chat.state["stack"] == [first["result"]["recipe"]]
    assert undo["result"]["recipe"] == first["result"]["recipe"]
    redo = chat("redo")
    assert redo["result"]["recipe"] == more["result"]["recipe"] and len(chat.state["stack"]) == 2
    assert chat("redo")["status"] == "nothing-done"  # nothing left to redo
    reset = chat("start over")
    assert reset["answer"].startswith("Back to the original photo.") and chat.state["stack"] == []
    hist = chat("history")["answer"].splitlines()
    assert hist[0] == "1. make the sky brighter → ok" and len(hist) == 6


def test_accept_remembers_exactly_the_result_shown(rocket_png, memory):
    chat = Chat(rocket_png, user="ana")
    assert chat("looks good")["status"] == "nothing-done" and memory.records == []  # nothing shown yet
    shown = chat("make the sky brighter")
    accepted = chat("looks good")
    assert accepted["answer"] == "Accepted and remembered." and accepted["rounds"] == []  # no new edit
    assert accepted["result"]["recipe"] == shown["result"]["recipe"]
    (rec,) = memory.records
    achieved = {a["attribute"]: a["achieved"] for a in shown["result"]["achieved"] if a["region"] != "global"}
    sky = rec.levels["sky"]
    assert all(sky[k] == pytest.approx(v, abs=1e-3) for k, v in achieved.items())
    assert rec.instruction == "make the sky brighter" and rec.user == "ana"
    assert chat.state["accept"] is False  # one-turn inputs do not carry into the next turn
    assert chat("looks good")["answer"].startswith("Already accepted") and len(memory.records) == 1


def test_the_thread_keeps_its_user(rocket_png, memory):
    chat = Chat(rocket_png)
    chat("make the sky brighter", user="ana")
    chat("looks good")  # no user given: the thread's
    assert [r.user for r in memory.records] == ["ana"]


def test_a_refused_save_is_an_answer_and_records_nothing(rocket_png, memory, tmp_path):
    chat = Chat(rocket_png)
    chat("make the sky brighter")
    for bad in (f"save as {tmp_path}/missing/out.jpg", "save as out.gif", f"save as {'x' * 300}.jpg",
                f"save as {rocket_png}"):
        out = chat(bad)
        assert out["status"] == "nothing-done" and out["answer"].startswith("Not saved:"), out["answer"]
        assert out["saved"] is None and not out["remembered"]
    assert memory.records == []
    assert chat("a bit more")["status"] == "ok"  # the conversation goes on
    assert [h["status"] for h in chat.state["history"]][1:5] == ["nothing-done"] * 4


def test_saving_over_a_file_needs_confirmation(rocket_png, memory, tmp_path):
    chat = Chat(rocket_png)
    chat("make the sky brighter")
    other = tmp_path / "other.png"
    other.write_bytes(b"not yours")
    out = chat(f"save as {other}")
    assert out["status"] == "nothing-done" and "already exists" in out["answer"] and "overwrite" in out["answer"]
    assert other.read_bytes() == b"not yours" and memory.records == []
    out = chat(f"save as {other}, overwrite")
    assert out["saved"]["path"] == str(other) and Path(out["saved"]["sidecar"]).is_file()
    assert other.read_bytes() != b"not yours" and len(memory.records) == 1


def test_a_server_graph_writes_only_in_its_output_folder(rocket_png, memory, tmp_path, monkeypatch):
    outdir = tmp_path / "outputs"
    monkeypatch.setenv("PERTOUCH_OUTPUT_DIR", str(outdir))  # the server's setting
    chat = Chat(rocket_png, anywhere=False, output_dir=str(tmp_path))  # a client's context cannot widen it
    chat("make the sky brighter")
    for elsewhere in (tmp_path / "elsewhere.jpg", "../elsewhere.jpg"):
        out = chat(f"save as {elsewhere}")
        assert out["status"] == "nothing-done" and "outside the output folder" in out["answer"]
    assert not (tmp_path / "elsewhere.jpg").exists()
    out = chat("save as result.jpg")
    assert out["saved"]["path"] == str(outdir.resolve() / "result.jpg") and (outdir / "result.jpg").is_file()


def test_a_one_shot_run_can_ask_for_the_full_resolution_result(rocket_png, tmp_path, monkeypatch):
    monkeypatch.setenv("PERTOUCH_OUTPUT_DIR", str(tmp_path))
    out = build_graph().invoke({"image_path": str(rocket_png), "instruction": "make the sky brighter",
                                "save_to": "full.png"}, context=RunContext(use_memory=False))
    assert out["status"] == "ok" and out["saved"]["path"] == str(tmp_path.resolve() / "full.png")
    from PIL import Image

    with Image.open(out["saved"]["path"]) as im, Image.open(rocket_png) as src:
        assert im.size == src.size
    assert Path(out["saved"]["sidecar"]).is_file()


@pytest.mark.parametrize("inputs, context, kind, words", [
    ({"image_path": "/nope/missing.jpg"}, {}, "input", "missing.jpg"),
    ({}, {}, "input", "no photo given"),
    ({"image_path": "PHOTO"}, {"max_rounds": 0}, "settings", "max_rounds"),
    ({"image_path": "PHOTO"}, {"vlm": "hf:/nope/model"}, "settings", "/nope/model"),
])
def test_problems_are_answers(rocket_png, inputs, context, kind, words):
    inputs = {k: (str(rocket_png) if v == "PHOTO" else v) for k, v in inputs.items()}
    out = build_graph().invoke({"instruction": "brighter sky", **inputs},
                               context=RunContext(**{"use_memory": False, **context}))
    assert out["status"] == "failed" and out["problem"]["kind"] == kind and words in out["problem"]["message"]
    assert out["answer"].startswith("Nothing was done:") and "Traceback" not in out["answer"]
    assert out["result"] is None and out["saved"] is None


def test_a_conversation_stays_on_its_photo(rocket_png, coffee_png):
    chat = Chat(rocket_png, use_memory=False)
    chat("make the sky brighter")
    out = chat("warmer", image_path=str(coffee_png))
    assert out["problem"]["kind"] == "input" and "this conversation is about" in out["problem"]["message"]
