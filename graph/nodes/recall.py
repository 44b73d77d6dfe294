"""recall: the user's remembered preferences for scenes like this one.

Weak instructions lean on them; strong ones still follow the words first (the
planner gets both). Memory that is off or unavailable is not fatal: the agent works
without it and the answer says so.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from pertouch.graph import runtime as rt
from pertouch.graph.context import RunContext
from pertouch.graph.nodes import user_of, dump, timed
from pertouch.graph.state import RetouchState, add_error, error

RECALL_K = 5
#: Only memories of scenes at least this similar count (memory's own floor is 0.4,
#: at which a portrait still recalls landscapes).
RECALL_MIN_SIMILARITY = 0.6


def scene_descriptor(state: RetouchState, ctx: RunContext) -> Any:
    """The memory's image descriptor of this photo (global stats + composition)."""
    from pertouch.memory.descriptors import image_descriptor

    ref = state["image"]
    regions = rt.scene(ref, ctx.segmenter, cache=ctx.cache).regions
    return image_descriptor(rt.proxy(ref, 512, cache=ctx.cache), regions)


@timed("recall")
def recall(state: RetouchState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Fetch preferences: ``{"preferences": {label: {attr: level}}, "weights", "evidence"}``."""
    ctx = runtime.context or RunContext()
    if not ctx.use_memory:
        return {"preferences": {}}
    mem, warning = rt.memory(ctx.memory, cache=ctx.cache)
    if mem is None:
        return {"preferences": {}, "errors": add_error(state, error("recall", "memory", warning or "memory is off"))}
    try:
        got = mem.recall(user_of(state, ctx), state.get("scene", {}).get("description", ""),
                         scene_descriptor(state, ctx), k=RECALL_K,
                         min_similarity=RECALL_MIN_SIMILARITY)
    except Exception as exc:  # a broken store must not stop the edit
        msg = f"memory recall failed, continuing without it: {type(exc).__name__}: {exc}"
        return {"preferences": {}, "errors": add_error(state, error("recall", "memory", msg))}
    prefs = dump(got)
    update: dict[str, Any] = {"preferences": prefs}
    locked = [label for label, attrs in (prefs.get("locks") or {}).items() if "*" in attrs]
    intent = dict(state.get("intent") or {})
    if locked and intent:  # "never touch skin tones": the planner must leave these alone
        intent["protected"] = sorted({*intent.get("protected", []), *locked})
        update["intent"] = intent
    return update
