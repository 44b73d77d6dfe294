"""Serving the graph with ``langgraph dev``: make its in-memory run queue pick runs up promptly.

``langgraph dev`` runs on ``langgraph-runtime-inmem``, whose scheduler looks for pending runs
every 0.5 s and only takes runs created before its previous look, so every run waited
0.5–1.0 s in the queue before it started (``run_queue_ms`` ≈ 1 s in ``bench_api.py``) — ten
times what the rest of the server adds. The production runtimes wake their workers on each
new run instead.

:func:`prompt_queue` wraps the scheduler's ``Runs.next`` so that it looks every
``poll_s`` (default 20 ms) instead. It does not copy or change the scheduler: the wrapper
waits itself and asks the original not to wait. It applies only in a process where the
in-memory runtime is already loaded (the server imports the graph after the runtime), only
once, and only while ``Runs.next`` still has the signature it was written for; otherwise it
does nothing and says why. ``PERTOUCH_QUEUE_POLL_MS=500`` restores the runtime's own pace;
``0`` leaves the runtime untouched.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import sys

#: Default look interval, in seconds: a few idle looks at a small in-memory list each second.
DEFAULT_POLL_S = 0.02
_MARK = "__pertouch_prompt_queue__"


def poll_seconds(env: dict[str, str] | None = None) -> float | None:
    """The poll interval asked for by ``PERTOUCH_QUEUE_POLL_MS`` (None: leave the runtime alone)."""
    raw = (os.environ if env is None else env).get("PERTOUCH_QUEUE_POLL_MS", "")
    if not raw.strip():
        return DEFAULT_POLL_S
    try:
        ms = float(raw)
    except ValueError:
        return DEFAULT_POLL_S
    return None if ms <= 0 else ms / 1000.0


def prompt_queue(poll_s: float | None = DEFAULT_POLL_S) -> str:
    """Make a loaded ``langgraph-runtime-inmem`` scheduler look for runs every ``poll_s``.

    Returns what was done, in words (for the server log and tests)."""
    if poll_s is None:
        return "left the in-memory run queue as it is (PERTOUCH_QUEUE_POLL_MS=0)"
    ops = sys.modules.get("langgraph_runtime_inmem.ops")
    if ops is None:
        return "no in-memory LangGraph runtime in this process"
    runs = getattr(ops, "Runs", None)
    original = getattr(runs, "next", None)
    if original is None:
        return "langgraph-runtime-inmem has no Runs.next; queue left as it is"
    if getattr(original, _MARK, False):
        return "the in-memory run queue already polls promptly"
    params = list(inspect.signature(original).parameters)
    if params[:2] != ["wait", "limit"] or not inspect.isasyncgenfunction(original):
        return f"langgraph-runtime-inmem's Runs.next{inspect.signature(original)} is not the one expected; queue left as it is"

    async def next_run(wait: bool, limit: int = 1):
        if wait:
            await asyncio.sleep(poll_s)
        async for item in original(wait=False, limit=limit):
            yield item

    setattr(next_run, _MARK, True)
    next_run.__doc__ = original.__doc__
    runs.next = staticmethod(next_run)
    return f"the in-memory run queue now looks for runs every {poll_s * 1000:.0f} ms"
