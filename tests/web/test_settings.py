"""Choosing the VLM, the segmenter and the engine among those the server offers: at open,
mid-session (``POST /api/settings``) and on resume; each choice reaches the model it names."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from pertouch.graph import runtime as rt
from pertouch.graph.context import RunContext
from pertouch.web import settings as models
from pertouch.web.app import create_app


@pytest.fixture(scope="module")
def script(tmp_path_factory):
    path = tmp_path_factory.mktemp("vlm") / "script.json"
    path.write_text(json.dumps({"fallback": "builtin"}))  # every answer by the builtin model, every call recorded
    return f"fake:{path}"


@pytest.fixture(scope="module")
def app(web_home, script):
    mp = pytest.MonkeyPatch()
    mp.setenv("PERTOUCH_HOME", str(web_home))
    yield create_app(offer={"vlm": [script], "segmenter": ["builtin+builtin"]})
    mp.undo()


@pytest.fixture()
def used(monkeypatch):
    """The segmenters perception ran with and the engines renders used, in order."""
    from pertouch.engine import engines
    from pertouch.tools import perception

    seen = {"segmenter": [], "engine": []}
    perceive, get_engine = perception.perceive, engines.get_engine

    def spy_perceive(photo, *a, segmenter="builtin", **kw):
        seen["segmenter"].append(segmenter)
        return perceive(photo, *a, segmenter=segmenter, **kw)

    def spy_engine(spec="parametric", **kw):
        seen["engine"].append(spec)
        return get_engine(spec, **kw)

    monkeypatch.setattr(perception, "perceive", spy_perceive)
    monkeypatch.setattr(engines, "get_engine", spy_engine)
    rt.process_cache().clear()
    return seen


def browser(app) -> TestClient:
    c = TestClient(app)
    c.get("/")
    return c


def test_choices_and_picks():
    ctx = RunContext(vlm="fake:/a.json")
    offered = models.choices(ctx, {"vlm": ["builtin", "hf:/m"], "engine": ["diffusion:/d"]})
    assert offered == {"vlm": ["fake:/a.json", "builtin", "hf:/m"], "segmenter": ["builtin"],
                       "engine": ["parametric", "diffusion:/d", "reference"]}
    assert models.pick(ctx, offered, {}).vlm == "fake:/a.json"
    mine = models.pick(ctx, offered, {"vlm": "hf:/m", "engine": "reference"})
    assert (mine.vlm, mine.segmenter, mine.engine) == ("hf:/m", "builtin", "reference")
    kept = RunContext(segmenter="sam:/from/the/cli.pth")  # a resumed session keeps what found its regions
    assert models.pick(ctx, offered, {"engine": "parametric"}, kept).segmenter == "sam:/from/the/cli.pth"
    for bad in ({"vlm": "hf:/etc"}, {"engine": ["reference"]}, {"segmenter": "sam:/x.pth"}):
        with pytest.raises(Exception, match="not offered by this server"):
            models.pick(ctx, offered, bad)
    assert models.describe(mine) == "VLM hf:/m, segmenter builtin, engine reference"


def test_each_choice_reaches_its_model(app, script, used):
    c = browser(app)
    cfg = c.get("/api/config").json()["choices"]
    assert cfg == {"vlm": ["builtin", script], "segmenter": ["builtin", "builtin+builtin"],
                   "engine": ["parametric", "reference"]}
    r = c.post("/api/open/demo", json={"name": "flower", "settings": {"vlm": script, "engine": "reference"}})
    assert r.json()["settings"] == {"vlm": script, "segmenter": "builtin", "engine": "reference"}
    first = r.json()["session"]
    assert c.post("/api/turn", json={"text": "make the vegetation more colourful"}).json()["message"]["status"] == "ok"
    assert used["engine"] and set(used["engine"]) == {"reference"} and used["segmenter"] == ["builtin"]
    assert {role for role, _ in rt.vlm(script).calls} >= {"classify", "plan", "critique"}
    # the engine, mid-session: the same session, the next turn renders with it
    used["engine"].clear()
    r = c.post("/api/settings", json={"engine": "parametric"}).json()
    assert r["state"]["session"] == first and r["state"]["settings"]["engine"] == "parametric"
    assert r["message"]["answer"].startswith("From the next turn on:")
    c.post("/api/turn", json={"text": "a bit more"})
    c.get("/api/image/after")
    assert used["engine"] and set(used["engine"]) == {"parametric"}
    # the segmenter, mid-session: a new session on the same photo, perceived with it
    r = c.post("/api/settings", json={"segmenter": "builtin+builtin"}).json()
    second = r["state"]["session"]
    assert second != first and r["state"]["photo"]["name"] == "flower.png" and f"id {first}" in r["message"]["answer"]
    assert used["segmenter"][-1] == "builtin+builtin" and r["state"]["settings"]["vlm"] == script
    assert {x["name"] for x in r["state"]["regions"]} >= {"vegetation"}
    c.post("/api/turn", json={"text": "make the vegetation more colourful"})
    assert c.post("/api/turn", json={"text": "history"}).json()["state"]["turns"] == 2
    # the first session resumes with its own segmenter, whatever the browser picks
    r = browser(app).post("/api/open/session", json={"session": first, "settings": {"segmenter": "builtin+builtin"}})
    assert r.status_code == 404  # another browser: not its session
    # (a session still open in this server: once a deadlock that hung every request)
    r = c.post("/api/open/session", json={"session": first, "settings": {"engine": "reference"}}).json()
    assert r["session"] == first and r["settings"]["segmenter"] == "builtin"


def test_a_choice_the_server_does_not_offer_is_a_message(app):
    c = browser(app)
    r = c.post("/api/settings", json={"engine": "reference"})
    assert r.status_code == 404 and "open a photo" in r.json()["hint"]
    c.post("/api/open/demo", json={"name": "flower"})
    for bad in ({"engine": "diffusion:/etc/passwd"}, {"vlm": "openai:gpt-4o"}, {"segmenter": 3}, [1]):
        r = c.post("/api/settings", json=bad)
        assert r.status_code == 400 and set(r.json()) == {"error", "hint"}, r.text
    assert c.get("/api/state").json()["settings"] == {"vlm": "builtin", "segmenter": "builtin", "engine": "parametric"}
    assert c.post("/api/settings", json={}).json()["state"]["settings"]["engine"] == "parametric"  # nothing to change
