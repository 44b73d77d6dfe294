"""pertouch.graph.nodes: one module per node; each a small function state → update.

:func:`timed` wraps a node so its wall time is added to ``timings_ms`` (rounds
accumulate), which is what ``pertouch retouch`` reports per node.
"""

from __future__ import annotations

import functools
import time
from typing import Any, Callable

from langgraph.types import Command

from pertouch.graph.state import add_timing


def timed(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add the node's wall time (ms) under ``name`` to the update it returns."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def node(state: Any, runtime: Any) -> Any:
            t0 = time.perf_counter()
            out = fn(state, runtime)
            ms = (time.perf_counter() - t0) * 1000.0
            update = (out.update if isinstance(out, Command) else out) or {}
            timings = add_timing({"timings_ms": update.get("timings_ms", state.get("timings_ms", {}))}, name, ms)
            if isinstance(out, Command):
                return Command(goto=out.goto, update={**update, "timings_ms": timings})
            return {**update, "timings_ms": timings}

        return node

    return wrap


def dump(obj: Any) -> dict[str, Any]:
    """A pydantic model or mapping as a JSON dict (``{}`` for None)."""
    if obj is None:
        return {}
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if hasattr(obj, "to_json"):
        return obj.to_json()
    return dict(obj)


def scene_info(state: Any, levels: dict[str, dict[str, float]] | None = None) -> Any:
    """The VLM :class:`SceneInfo` of the state; ``levels`` overrides measured levels
    (``{region name | "global": {attr: level}}``, e.g. the levels after earlier turns)."""
    from pertouch.graph.vlm.schemas import SceneInfo

    regions = [dict(r) for r in state.get("regions") or []]
    glob = dict(state.get("global_levels") or {})
    if levels:
        for r in regions:
            r["levels"] = {**r.get("levels", {}), **levels.get(r["name"], {})}
        glob.update(levels.get("global", {}))
    sc = state.get("scene") or {}
    return SceneInfo.from_regions(regions, glob, image_path=(state.get("image") or {}).get("path"),
                                  tags=list(sc.get("tags") or [])[:8], description=sc.get("description", ""))


def measured_levels(state: Any) -> dict[str, dict[str, float]]:
    """``{region name: levels, "global": levels}`` measured on the input photo."""
    out = {r["name"]: dict(r.get("levels") or {}) for r in state.get("regions") or []}
    out["global"] = dict(state.get("global_levels") or {})
    return out


def user_of(state: Any, ctx: Any) -> str:
    """Whose memory a run uses: its ``user`` input (a thread keeps it once given), else the context's."""
    return str(state.get("user") or ctx.user)
