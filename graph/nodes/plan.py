"""plan: intent (+ preferences, + the last critique) → the recipe to render.

The planner sees the levels as they stand after earlier turns of a session
(``base_recipe``), and its recipe is composed on top of that base. Each call starts
a new round of the rethinking loop. A failed model call or a plan that names
regions the photo lacks is recorded; with nothing left to render, the route goes
to respond, which says so.
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from pertouch.graph import recipes
from pertouch.graph import runtime as rt
from pertouch.graph.context import RunContext
from pertouch.graph.nodes import dump, measured_levels, scene_info, timed
from pertouch.graph.state import RetouchState, add_error, error


def weighted_preferences(recalled: dict | None) -> dict | None:
    """Recall JSON → the planner's ``{label: {attr: {"level", "weight"}}}`` (weights
    clipped to [0, 1]: thin evidence pulls less), or None when nothing was recalled."""
    prefs = (recalled or {}).get("preferences") or {}
    weights = (recalled or {}).get("weights") or {}
    out = {lab: {a: {"level": float(v), "weight": max(0.0, min(1.0, float(weights.get(lab, {}).get(a, 1.0))))}
                 for a, v in attrs.items()} for lab, attrs in prefs.items()}
    return {lab: attrs for lab, attrs in out.items() if attrs} or None


def _call_planner(state: RetouchState, ctx: RunContext, levels: dict) -> Any:
    from pertouch.graph.vlm.base import plan_to_recipe
    from pertouch.graph.vlm.schemas import Critique, Intent

    info = scene_info(state, recipes.current_levels(state.get("base_recipe"), levels))
    critique = Critique.model_validate(state["critique"]) if state.get("critique") else None
    prefs = weighted_preferences(state.get("preferences"))
    plan = rt.model(ctx, "planner").plan(Intent.model_validate(state["intent"]), info, prefs, critique)
    return plan, plan_to_recipe(plan, info).to_json()


@timed("plan")
def plan(state: RetouchState, runtime: Runtime[RunContext]) -> Command[Literal["render", "respond"]]:
    """Plan the next round's recipe, or stop with the reason recorded."""
    ctx = runtime.context or RunContext()
    rnd = int(state.get("round") or 0) + 1
    levels = measured_levels(state)
    try:
        made, new = _call_planner(state, ctx, levels)
    except Exception as exc:  # VLMError, NotFoundError from plan_to_recipe, invalid plan
        fatal = not state.get("rounds")
        errs = add_error(state, error("plan", "vlm", f"planning round {rnd} failed: {exc}", fatal=fatal))
        return Command(goto="respond", update={
            "errors": errs, "stop_reason": "planning failed" if fatal else "re-planning failed; kept the best round"})
    errs = list(state.get("errors", []))
    have = {r["label"] for r in state.get("regions", [])}
    for name in made.missing:
        if name not in have and not any(e.get("message", "").startswith(f"no {name} in this photo") for e in errs):
            errs.append(error("plan", "not-found", f"no {name} in this photo"))
    recipe = recipes.compose(state.get("base_recipe"), new, levels)
    update: dict[str, Any] = {"plan": dump(made), "round": rnd, "errors": errs}
    if recipes.is_empty(new):
        errs.append(error("plan", "impossible", made.notes or "nothing in the request could be turned into an edit",
                          fatal=not state.get("rounds")))
        update["stop_reason"] = "nothing to change" if not state.get("rounds") else "planner had nothing to add"
        return Command(goto="respond", update=update)
    update["recipe"] = recipe
    return Command(goto="render", update=update)
