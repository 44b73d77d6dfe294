"""The in-memory runtime's run queue, made prompt (graph/devserver.py), on a stand-in runtime."""

from __future__ import annotations

import asyncio
import sys
import time
import types

import pytest

from pertouch.graph import devserver


def _fake_runtime(monkeypatch, calls):
    class Runs:
        @staticmethod
        async def next(wait: bool, limit: int = 1):
            calls.append((wait, limit))
            if wait:
                await asyncio.sleep(0.5)
            yield {"run_id": "r1"}, 1

    module = types.ModuleType("langgraph_runtime_inmem.ops")
    module.Runs = Runs
    monkeypatch.setitem(sys.modules, "langgraph_runtime_inmem.ops", module)
    return Runs


async def _take(runs, wait):
    return [item async for item in runs.next(wait=wait, limit=3)]


def test_the_queue_looks_every_poll_and_never_waits_the_runtimes_half_second(monkeypatch):
    calls = []
    runs = _fake_runtime(monkeypatch, calls)
    assert "every 20 ms" in devserver.prompt_queue(0.02)
    t0 = time.perf_counter()
    got = asyncio.run(_take(runs, wait=True))
    took = time.perf_counter() - t0
    assert got == [({"run_id": "r1"}, 1)]
    assert calls == [(False, 3)], "the original must be asked not to wait"
    assert 0.015 <= took < 0.3
    assert "already" in devserver.prompt_queue(0.02)  # applied once, not stacked


def test_no_runtime_or_an_unexpected_one_is_left_alone(monkeypatch):
    monkeypatch.delitem(sys.modules, "langgraph_runtime_inmem.ops", raising=False)
    assert "no in-memory" in devserver.prompt_queue(0.02)

    class Runs:
        @staticmethod
        async def next(limit: int, block: bool):  # a future signature
            yield None

    module = types.ModuleType("langgraph_runtime_inmem.ops")
    module.Runs = Runs
    monkeypatch.setitem(sys.modules, "langgraph_runtime_inmem.ops", module)
    original = Runs.next
    assert "not the one expected" in devserver.prompt_queue(0.02)
    assert Runs.next is original


@pytest.mark.parametrize("raw, poll", [("", 0.02), ("5", 0.005), ("500", 0.5), ("0", None), ("x", 0.02)])
def test_the_poll_comes_from_the_environment(raw, poll):
    assert devserver.poll_seconds({"PERTOUCH_QUEUE_POLL_MS": raw}) == poll


def test_the_installed_runtime_still_has_the_expected_scheduler():
    ops = pytest.importorskip("langgraph_runtime_inmem.ops")
    import inspect

    params = list(inspect.signature(ops.Runs.next).parameters)
    assert params[:2] == ["wait", "limit"] and inspect.isasyncgenfunction(ops.Runs.next)
