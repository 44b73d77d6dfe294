"""A chat turn's progress: ``POST /api/turn/stream`` sends each graph step as a Server-Sent
Event while the turn runs, then the answer (or the error, as a message)."""

from __future__ import annotations

import json
import threading

import httpx
import pytest
from starlette.testclient import TestClient

from pertouch.graph import runtime as rt


def events(lines) -> list[tuple[str, dict]]:
    """(event, data) pairs of an SSE body, in order."""
    out, event = [], "message"
    for line in lines:
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            out.append((event, json.loads(line[6:])))
    return out


@pytest.fixture(scope="module")
def client(server):
    app, url = server
    c = httpx.Client(base_url=url, timeout=120)
    assert c.get("/").status_code == 200
    r = c.post("/api/open/demo", json={"name": "flower"})
    assert r.status_code == 200, r.text
    yield c
    c.close()


def test_steps_arrive_while_the_turn_runs_then_the_answer(client, monkeypatch):
    # the render waits until the client has *received* the plan step: only a stream that
    # delivers steps while the turn runs lets this turn finish before the timeout
    planned, real = threading.Event(), rt.render
    waited: list[bool] = []

    def gated(*args, **kw):
        if not waited:
            waited.append(planned.wait(60))
        return real(*args, **kw)

    monkeypatch.setattr(rt, "render", gated)
    got = []
    with client.stream("POST", "/api/turn/stream", json={"text": "make the vegetation more colourful"}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        lines = []
        for line in r.iter_lines():
            lines.append(line)
            got = events(lines)
            if got and got[-1][1].get("node") == "plan":
                planned.set()
    assert waited == [True]
    kinds = [k for k, _ in got]
    assert kinds[-1] == "done" and set(kinds[:-1]) == {"step"}
    steps = [d for k, d in got if k == "step"]
    nodes = [s["node"] for s in steps]
    assert nodes[:5] == ["perceive", "converse", "classify", "recall", "plan"]
    assert nodes[5:7] == ["render", "critique"] and nodes[-2:] == ["respond", "finish"]
    assert [s["ms"] for s in steps] == sorted(s["ms"] for s in steps)
    assert steps[5]["label"] == "rendered round 1" and steps[5]["round"] == 1
    done = got[-1][1]
    assert done["message"]["status"] == "ok" and done["message"]["steps"].startswith("perceive → classify → plan 1")
    assert done["state"]["turns"] >= 1 and done["state"]["recipe"]


def test_a_command_streams_too_and_matches_the_plain_route(client):
    r = client.post("/api/turn/stream", json={"text": "undo"})
    got = events(r.text.splitlines())
    labels = [d["label"] for k, d in got if k == "step"]
    assert labels[0].startswith("looked at the photo (") and labels[1:3] == ["session command: undo",
                                                                             "rendered round 1"]
    streamed = got[-1][1]["message"]
    plain = client.post("/api/turn", json={"text": "redo"}).json()["message"]
    assert streamed["kind"] == "undo" and plain["kind"] == "redo" and plain["steps"].startswith("perceive")
    assert set(streamed) == set(plain)


def test_errors_are_messages_not_broken_streams(client, server, monkeypatch):
    app, _ = server
    # a bad line: a plain 400 answer before any event
    r = client.post("/api/turn/stream", json={"text": "   "})
    assert r.status_code == 400 and "say what to change" in r.json()["error"]
    # no photo open in this browser: 404, as for every route
    other = httpx.Client(base_url=str(client.base_url), timeout=30)
    other.get("/")
    assert other.post("/api/turn/stream", json={"text": "brighter"}).status_code == 404
    other.close()

    # a failure inside the turn: the stream's last event says so, without a traceback
    def broken(*args, **kw):
        raise RuntimeError("secret /internal/path")

    service = app.state.service
    entry = service.entry(client.cookies["pertouch_token"])
    monkeypatch.setattr(entry.session, "turn", broken)
    got = events(client.post("/api/turn/stream", json={"text": "brighter"}).text.splitlines())
    assert got == [("error", {"error": "an internal error (RuntimeError) stopped this request",
                              "hint": "please report it with the photo and what you did"})]
    monkeypatch.undo()
    # the session goes on
    assert client.post("/api/turn/stream", json={"text": "history"}).status_code == 200


def test_the_stream_is_served_by_the_test_client_too(server):
    app, _ = server
    c = TestClient(app)
    c.get("/")
    c.post("/api/open/demo", json={"name": "flower"})
    got = events(c.post("/api/turn/stream", json={"text": "compare"}).text.splitlines())
    assert got[0][1]["node"] == "perceive" and got[-1][0] == "done"
    assert got[-1][1]["message"]["kind"] == "compare"
