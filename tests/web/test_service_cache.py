"""The web app owns one runtime cache (its context's): sessions, regions, renders and previews use it."""

from __future__ import annotations

from starlette.testclient import TestClient

from pertouch.graph import runtime as rt
from pertouch.graph.context import RunContext
from pertouch.web.app import create_app


def test_a_server_with_its_own_cache_never_touches_the_process_one(web_home):
    own = rt.RuntimeCache()
    app = create_app(web_home / "own", ctx=RunContext(use_memory=False, cache=own))
    service = app.state.service
    assert service.cache is own and service.views.cache is own and service.ctx.cache is own
    process = rt.process_cache()
    process.clear()
    c = TestClient(app)
    c.get("/")
    state = c.post("/api/open/demo", json={"name": "flower"}).json()
    assert state["regions"] and c.get("/api/image/before").status_code == 200
    rows = [{"region": state["regions"][0]["name"], "attribute": "brightness", "by": 0.5}]
    assert c.post("/api/sliders/preview", json={"rows": rows}).status_code == 200
    assert c.post("/api/settings", json={"engine": "reference"}).json()["state"]["settings"]["engine"] == "reference"
    assert c.post("/api/sliders/preview", json={"rows": rows}).status_code == 200  # a context made from the server's
    assert own.scenes and own.proxies and own.proxy_masks and own.perception.scenes and "builtin:" in own.perception.segmenters
    assert not (process.photos or process.scenes or process.proxies)
    assert not (process.perception.scenes or process.perception.segmenters)
    assert all(e.ctx.cache is own for e in service._entries.values())
    own.clear()
    assert not (own.photos or own.perception.scenes)
