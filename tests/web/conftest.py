"""Web app fixtures: one app home per test module (the graph, perception and memory stay warm)."""

from __future__ import annotations

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
