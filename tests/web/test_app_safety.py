"""The web app's safety: path traversal in every field that could become a path, uploads,
session isolation between browsers, serialised turns, errors without tracebacks."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from starlette.testclient import TestClient

from pertouch.web import uploads
from pertouch.web.app import COOKIE, create_app

TRAVERSAL = ["../../../../etc/passwd", "/etc/passwd", "..", "~/x", "a/../../b", "x\x00y", "..\\..\\x"]


@pytest.fixture(scope="module")
def app(web_home):
    mp = pytest.MonkeyPatch()
    mp.setenv("PERTOUCH_HOME", str(web_home))
    yield create_app()
    mp.undo()


def browser(app) -> TestClient:
    c = TestClient(app)
    c.get("/")
    return c


@pytest.fixture(scope="module")
def alice(app):
    c = browser(app)
    assert c.post("/api/open/demo", json={"name": "flower", "user": "alice"}).status_code == 200
    return c


def png(size=(48, 32)) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (size[1], size[0], 3), np.uint8)).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("bad", TRAVERSAL)
def test_traversal_in_every_path_like_field_is_refused(app, alice, web_home, bad):
    before = sorted(str(p) for p in Path(web_home).rglob("*"))
    answers = [
        alice.post("/api/open/demo", json={"name": bad}),
        alice.post("/api/open/session", json={"session": bad}),
        alice.post("/api/point", json={"name": bad, "box": [160, 80, 452, 362]}),
        alice.post("/api/sliders/preview", json={"rows": [{"region": bad, "attribute": "brightness", "by": 0.1}]}),
        alice.post("/api/sliders/preview", json={"rows": [{"region": "global", "attribute": bad, "by": 0.1}]}),
        alice.post("/api/open/demo", json={"name": "flower", "user": bad}),
        alice.post("/api/open/demo", json={"name": "flower", "settings": {"vlm": "hf:" + bad}}),
        alice.post("/api/open/demo", json={"name": "flower", "settings": {"segmenter": bad}}),
        alice.post("/api/open/upload?user=" + bad.replace("\x00", "%00"), content=png()),
    ]
    for r in answers:
        assert r.status_code in (400, 404), (r.request.url, r.text)
        assert set(r.json()) == {"error", "hint"} and "Traceback" not in r.text
    from urllib.parse import quote

    assert alice.get("/api/image/" + quote(bad, safe="")).status_code == 404
    assert sorted(str(p) for p in Path(web_home).rglob("*")) == before  # nothing written anywhere


@pytest.mark.parametrize("target", ["../../escaped.jpg", "/tmp/pertouch-escaped.jpg", "~/escaped.jpg"])
def test_save_as_in_the_chat_stays_in_the_output_folder(alice, target):
    r = alice.post("/api/turn", json={"text": f"save as {target}"}).json()["message"]
    assert r["status"] != "ok" and not r["saved"] and "outside the output folder" in r["answer"]
    assert not Path("/tmp/pertouch-escaped.jpg").exists()


def test_uploads_are_checked(app, monkeypatch):
    c = browser(app)
    r = c.post("/api/open/upload?user=bob", content=png())
    assert r.status_code == 200 and r.json()["photo"]["width"] == 48
    assert c.post("/api/open/upload", content=b"#!/bin/sh\nrm -rf /\n").json()["error"].startswith("that file is not")
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 1000)
    r = c.post("/api/open/upload", content=png((200, 200)))
    assert r.status_code == 413 and "MB" in r.json()["error"]


def test_another_browser_cannot_see_or_change_a_session(app, alice):
    sid = alice.get("/api/state").json()["session"]
    eve = browser(app)
    assert eve.get("/api/state").status_code == 404
    assert eve.get("/api/image/before").status_code == 404
    r = eve.post("/api/open/session", json={"session": sid})
    assert r.status_code == 404 and "no session" in r.json()["error"]
    eve.cookies.set(COOKIE, "0" * 32)  # a guessed token owns nothing
    assert eve.get("/api/state").status_code == 404
    assert alice.get("/api/state").json()["session"] == sid


def test_sessions_go_between_the_cli_and_the_browser(app, alice, web_home):
    from pertouch.graph.session import Session

    photo = app.state.service.ws.root / "demo" / "flower.png"
    cli = Session(None, str(photo), user="carol")
    assert cli.turn("make the photo a little brighter").status == "ok"
    c = browser(app)
    st = c.post("/api/open/session", json={"session": cli.id}).json()
    assert st["session"] == cli.id and st["user"] == "carol" and st["turns"] == 1 and st["can_undo"]
    assert c.post("/api/turn", json={"text": "undo"}).json()["message"]["kind"] == "undo"
    back = Session(cli.id)  # and back in the CLI: the browser's undo is there
    assert not back.stack and [h["instruction"] for h in back.history()][-1] == "undo"
    assert browser(app).post("/api/open/session", json={"session": cli.id}).status_code == 404  # now the browser's


def test_concurrent_requests_on_one_session_are_serialised(app):
    c = browser(app)
    c.post("/api/open/demo", json={"name": "flower"})
    entry = app.state.service.entry(c.cookies[COOKIE])
    spans, real = [], entry.session.turn

    def timed(text, **kw):
        t0 = time.perf_counter()
        out = real(text, **kw)
        spans.append((t0, time.perf_counter()))
        return out

    entry.session.turn = timed
    texts = ["make the photo brighter", "make the photo more colourful", "make the photo warmer"]
    answers = []
    routes = ["/api/turn", "/api/turn/stream", "/api/turn"]  # the streamed turn waits its turn too
    threads = [threading.Thread(target=lambda t=t, u=u: answers.append(c.post(u, json={"text": t})))
               for t, u in zip(texts, routes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in answers] == [200] * 3
    assert sum("event: done" in r.text for r in answers) == 1 and not any("event: error" in r.text for r in answers)
    spans.sort()
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), spans  # no overlap
    assert sorted(h["instruction"] for h in entry.session.history()) == sorted(texts)


def test_a_bug_is_a_message_without_a_traceback(app, alice, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("secret /internal/path")

    monkeypatch.setattr(app.state.service, "turn", boom)
    r = alice.post("/api/turn", json={"text": "brighter"})
    assert r.status_code == 500 and "RuntimeError" in r.json()["error"] and "secret" not in r.text
    assert alice.post("/api/turn", content=b"x" * 70_000).status_code == 400
    assert alice.post("/api/turn", json=[1, 2]).status_code == 400
