import pytest
from typer.testing import CliRunner

from pertouch.cli import app
from pertouch.commands import serve


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
