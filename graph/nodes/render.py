"""render: the round's recipe → a preview file at working resolution + achieved levels.

The full-resolution output is rendered once, at the end, by whoever writes the
result (``pertouch retouch``, a session's "save as"), from the best round's recipe.
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from pertouch.graph import runtime as rt
from pertouch.graph.context import RunContext
from pertouch.graph.nodes import timed
from pertouch.graph.state import RetouchState, RoundRecord, add_error, error


def preview_paths(state: RetouchState, rnd: int) -> tuple[Any, Any]:
    """(before, this round's after) preview paths in the session folder."""
    d = rt.session_dir(state.get("session") or f"run-{state['image']['hash'][:12]}")
    turn = len(state.get("history") or []) + 1
    return d / "before.jpg", d / f"turn{turn:02d}-round{rnd}.jpg"


def clipping(before, after) -> dict[str, float]:
    """Increase in the fraction of clipped highlights / crushed shadows, before → after.

    ``before``/``after``: (h, w, 3) uint8 RGB of the same size.
    """
    def frac(px, hi):
        from pertouch.graph.vlm.builtin.critic import second_channel

        return float((second_channel(px) >= 254).mean()) if hi else float((px.max(axis=2) <= 2).mean())

    return {"highlights": round(frac(after, True) - frac(before, True), 4),
            "shadows": round(frac(after, False) - frac(before, False), 4)}


@timed("render")
def render(state: RetouchState, runtime: Runtime[RunContext]) -> Command[Literal["critique", "respond"]]:
    """Render the recipe on the working-resolution proxy and record the round."""
    ctx = runtime.context or RunContext()
    ref = state["image"]
    rnd = max(1, int(state.get("round") or 0))
    before, after = preview_paths(state, rnd)
    try:
        result = rt.render(ref, state["recipe"], segmenter=ctx.segmenter, engine=ctx.engine,
                           long_side=ctx.working_resolution, cache=ctx.cache)
        if not before.exists():
            rt.write_preview(rt.proxy(ref, ctx.working_resolution, cache=ctx.cache), before)
        rt.write_preview(result.image, after)
    except Exception as exc:  # RecipeError, engine failure: say so, keep the session
        errs = add_error(state, error("render", "render", f"rendering round {rnd} failed: {exc}",
                                      fatal=not state.get("rounds")))
        return Command(goto="respond", update={"errors": errs, "stop_reason": "rendering failed"})
    record: RoundRecord = {
        "round": rnd, "recipe": state["recipe"], "preview": str(after),
        "clipping": clipping(rt.proxy8(ref, ctx.working_resolution, cache=ctx.cache), rt.to8(result.image)),
        "achieved": [{"region": a.region, "attribute": a.attribute, "before": round(float(a.before), 4),
                      "target": round(float(a.target), 4), "achieved": round(float(a.achieved), 4)}
                     for a in result.report],
    }
    return Command(goto="critique", update={"rounds": [*state.get("rounds", []), record],
                                            "round": rnd, "before": str(before)})
