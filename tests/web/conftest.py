"""Web app fixtures: one app home per test module (the graph, perception and memory stay warm), and the
app served by uvicorn on a free local port (``server``: the browser and streaming tests)."""

from __future__ import annotations

import socket
import threading
import time

import pytest


@pytest.fixture(scope="module")
def web_home(tmp_path_factory):
    return tmp_path_factory.mktemp("web_home")


@pytest.fixture(autouse=True)
def _isolated_home(web_home, monkeypatch):
    monkeypatch.setenv("PERTOUCH_HOME", str(web_home))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("PERTOUCH_OUTPUT_DIR", raising=False)
    return web_home


@pytest.fixture(scope="module")
def server(web_home):
    import uvicorn

    from pertouch.web.app import create_app

    mp = pytest.MonkeyPatch()
    mp.setenv("PERTOUCH_HOME", str(web_home))
    app = create_app()
    app.state.service.warm_up().join(120)  # as `pertouch serve` does (the first turn's times as a user sees them)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    yield app, f"http://127.0.0.1:{port}"
    srv.should_exit = True
    t.join(10)
    mp.undo()
