import threading

import pytest
from typer.testing import CliRunner

from pertouch.cli import app
from pertouch.commands import serve


@pytest.fixture(autouse=True)
def _no_memory(monkeypatch):
    """``serve`` warms the memory up in the background: not the real one in these tests."""
    from pertouch.graph import runtime as rt

    monkeypatch.setattr(rt, "memory", lambda spec, cache=None: (None, "memory is off in this test"))


@pytest.mark.parametrize("host,local", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                        ("0.0.0.0", False), ("192.168.1.4", False), ("example.org", False)])
def test_loopback(host, local):
    assert serve.is_loopback(host) is local


def test_serve_binds_loopback_by_default_and_warns_otherwise(monkeypatch):
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    r = CliRunner().invoke(app, ["serve"])
    assert r.exit_code == 0, r.output
    assert calls[-1]["host"] == "127.0.0.1" and calls[-1]["port"] == 7860 and "warning" not in r.output
    r = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--port", "8123"])
    assert r.exit_code == 0 and calls[-1] == {"host": "0.0.0.0", "port": 8123, "log_level": "warning"}
    assert "warning: binding 0.0.0.0" in r.output


def test_serve_offers_every_model_it_is_given(monkeypatch):
    import uvicorn

    apps = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: apps.append(app))
    r = CliRunner().invoke(app, ["serve", "--vlm", "fake:/s.json", "--vlm", "builtin", "--segmenter", "builtin",
                                 "--segmenter", "builtin+builtin", "--engine", "reference"])
    assert r.exit_code == 0, r.output
    service = apps[-1].state.service
    assert (service.ctx.vlm, service.ctx.segmenter, service.ctx.engine) == ("fake:/s.json", "builtin", "reference")
    assert service.choices() == {"vlm": ["fake:/s.json", "builtin"], "segmenter": ["builtin", "builtin+builtin"],
                                 "engine": ["reference", "parametric"]}


def test_serve_warms_the_memory_up_in_the_background(monkeypatch):
    import uvicorn

    from pertouch.graph import runtime as rt

    calls = []

    class Memory:
        def vector_for(self, text, descriptor):
            calls.append(text)

    def run(app, **kw):  # the server "runs" once the warm-up is done
        for t in threading.enumerate():
            if t.name == "pertouch-warm-up":
                t.join(10)

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr(rt, "memory", lambda spec, cache=None: (Memory(), None))
    assert CliRunner().invoke(app, ["serve"]).exit_code == 0
    assert calls == ["a photo"]

    def broken(spec, cache=None):
        raise RuntimeError("no store")

    monkeypatch.setattr(rt, "memory", broken)  # a broken memory: the server starts, the turn will say why
    assert CliRunner().invoke(app, ["serve"]).exit_code == 0
