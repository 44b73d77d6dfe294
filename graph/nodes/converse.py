"""converse: a turn that is a session command is carried out here; anything else goes on to classify.

The conversation lives in the thread's checkpointed state — ``stack`` (the recipes
of the turns that changed the photo; top = the current result), ``redo`` and
``history`` — so every client (``pertouch chat``, LangGraph's API server, the web
app) gets the same answers for the same turns:

* "a bit more" / "less" / "much more on the sky" → the last change scaled, rendered;
* "only the sky" → the current recipe limited to those regions, rendered;
* "undo" / "redo" / "start over" → the stack moves, the recipe now on top is rendered;
* "looks good" → the result the user last saw is accepted (remember stores exactly it);
* "save as out.jpg[, overwrite]" → accepted and written at full resolution (deliver);
* "compare" (before | after side by side), "history" → answered in words.

A new instruction is planned on top of the current result (``base_recipe``). A
one-shot run (no thread) has no result to act on: every line goes to the classifier.
Commands that cannot be done ("undo" with nothing to undo, "less on the face" on a
photo without a face) are answered, never raised: the conversation goes on.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from pertouch.graph import recipes
from pertouch.graph import runtime as rt
from pertouch.graph.context import RunContext
from pertouch.graph.nodes import measured_levels, timed
from pertouch.graph.state import RetouchState
from pertouch.graph.turns import TurnCommand, labels_for, parse_turn

Route = Literal["classify", "render", "respond"]
EMPTY_RECIPE: dict[str, Any] = {"format": "pertouch-recipe", "version": 1, "global": {"attributes": {}}, "regions": {}}


def thread_id() -> str | None:
    """The thread id of the run in progress (None: a one-shot run without a checkpointer)."""
    try:
        from langgraph.config import get_config

        tid = (get_config().get("configurable") or {}).get("thread_id")
    except RuntimeError:  # called outside a run
        tid = None
    return str(tid) if tid else None


def session_id(state: RetouchState) -> str:
    """The state's session, else the thread id, else a fresh one-shot id (its own preview folder)."""
    if state.get("session"):
        return str(state["session"])
    return thread_id() or f"run-{state['image']['hash'][:12]}-{uuid.uuid4().hex[:6]}"


def last_shown(state: RetouchState) -> dict[str, Any] | None:
    """The result the user last saw (the latest turn that rendered): recipe, preview, achieved."""
    for h in reversed(state.get("history") or []):
        if h.get("result"):
            return {"round": 0, "recipe": h.get("recipe") or EMPTY_RECIPE, "preview": h["result"],
                    "achieved": list(h.get("achieved") or []), "critique": {}}
    return None


def already_accepted(state: RetouchState) -> bool:
    """Was the result last shown accepted (or saved) already? Then it is not remembered twice."""
    for h in reversed(state.get("history") or []):
        if h.get("result"):
            return False
        if h.get("kind") in ("accept", "save") and h.get("status") == "ok":
            return True
    return False


def _answer(turn: dict[str, Any], text: str, status: str = "ok", **update: Any) -> Command[Route]:
    return Command(goto="respond", update={"turn": {**turn, "answer": text, "status": status}, **update})


def _render(turn: dict[str, Any], recipe: dict, **update: Any) -> Command[Route]:
    return Command(goto="render", update={
        "turn": turn, "instruction_class": "follow-up", "intent": {"kind": "follow-up"}, "plan": {},
        "recipe": recipe if not recipes.is_empty(recipe) else EMPTY_RECIPE, **update})


def _region_names(state: RetouchState, word: str) -> set[str]:
    labels = labels_for(word)
    return {r["name"] for r in state.get("regions") or [] if r["label"] in labels or r["name"] == word}


def _labels(state: RetouchState) -> dict[str, str]:
    return {r["name"]: r["label"] for r in state.get("regions") or []}


def _scale(state: RetouchState, cmd: TurnCommand, turn: dict[str, Any]) -> Command[Route]:
    stack = list(state.get("stack") or [])
    if not stack:
        return _answer(turn, "There is no change yet to make stronger or weaker; say what to change.",
                       "nothing-done")
    names = None
    if cmd.where:
        names = _region_names(state, cmd.where)
        if not names:
            return _answer(turn, f"There is no {cmd.where} in this photo; nothing to scale.", "nothing-done")
    levels = measured_levels(state)
    prev = stack[-2] if len(stack) > 1 else {}
    new = recipes.scale_change(prev, stack[-1], cmd.factor, levels, names, labels=_labels(state))
    if recipes.targets(new, levels) == recipes.targets(stack[-1], levels):
        where = f" on the {cmd.where}" if cmd.where else ""
        return _answer(turn, f"The last change did not touch anything{where}; nothing to scale.", "nothing-done")
    return _render({**turn, "push": True}, new)


def _only(state: RetouchState, cmd: TurnCommand, turn: dict[str, Any]) -> Command[Route]:
    names = _region_names(state, cmd.where)
    if not names:
        return _answer(turn, f"There is no {cmd.where} in this photo.", "nothing-done")
    stack = list(state.get("stack") or [])
    if not stack:
        return _answer(turn, f"There is no change yet to limit to the {cmd.where}; say what to change.",
                       "nothing-done")
    levels = measured_levels(state)
    tg = {k: v for k, v in recipes.effective_targets(stack[-1], levels, names).items() if k[0] in names}
    return _render({**turn, "push": True}, recipes.from_targets(tg, levels, _labels(state)))


def _compare(state: RetouchState, ctx: RunContext, turn: dict[str, Any], session: str) -> Command[Route]:
    import numpy as np
    from PIL import Image

    shown = last_shown(state)
    if shown is None:
        return _answer(turn, "Nothing to compare yet.", "nothing-done")
    before = rt.proxy8(state["image"], ctx.working_resolution, cache=ctx.cache)
    with Image.open(shown["preview"]) as im:
        after = np.asarray(im.convert("RGB").resize((before.shape[1], before.shape[0])))
    gap = np.full((before.shape[0], 8, 3), 255, np.uint8)
    n = len(state.get("history") or []) + 1
    path = rt.session_dir(session) / f"compare-{n:02d}.jpg"
    rt.write_preview(np.concatenate([before, gap, after], axis=1), path)
    return _answer({**turn, "preview": str(path)}, f"Before | after: {path}")


@timed("converse")
def converse(state: RetouchState, runtime: Runtime[RunContext]) -> Command[Route]:
    """Carry out a session command, or send a new instruction on to classify."""
    ctx = runtime.context or RunContext()
    session = session_id(state)
    labels = {r["label"] for r in state.get("regions") or []}
    conversation = thread_id() is not None
    # a one-shot run has no result to act on: its "undo" or "a bit more" goes to the classifier
    cmd = parse_turn(state.get("instruction") or "", labels) if conversation else None
    update: dict[str, Any] = {"session": session}
    if cmd is None:
        stack = state.get("stack") or []
        turn = {"kind": "instruction", "push": True, "conversation": conversation}
        return Command(goto="classify", update={**update, "turn": turn,
                                                "base_recipe": stack[-1] if stack else None})
    turn: dict[str, Any] = {"kind": cmd.kind}
    stack, redo = list(state.get("stack") or []), list(state.get("redo") or [])
    if cmd.kind in ("more", "only"):
        out = (_scale if cmd.kind == "more" else _only)(state, cmd, turn)
        return Command(goto=out.goto, update={**update, **out.update})
    if cmd.kind == "history":
        lines = [f"{i}. {h['instruction']} → {h['status']}" for i, h in enumerate(state.get("history") or [], 1)]
        return _answer(turn, "\n".join(lines) or "no turns yet", **update)
    if cmd.kind == "compare":
        out = _compare(state, ctx, turn, session)
        return Command(goto=out.goto, update={**update, **out.update})
    if cmd.kind == "undo":
        if not stack:
            return _answer(turn, "There is nothing to undo yet.", "nothing-done", **update)
        return _render({**turn, "prefix": "Undid the last change."}, stack[-2] if len(stack) > 1 else EMPTY_RECIPE,
                       stack=stack[:-1], redo=[*redo, stack[-1]], **update)
    if cmd.kind == "redo":
        if not redo:
            return _answer(turn, "There is nothing to redo.", "nothing-done", **update)
        return _render({**turn, "prefix": "Redid the change."}, redo[-1], stack=[*stack, redo[-1]],
                       redo=redo[:-1], **update)
    if cmd.kind == "reset":
        return _render({**turn, "prefix": "Back to the original photo."}, EMPTY_RECIPE, stack=[], redo=[], **update)
    shown = last_shown(state)
    if cmd.kind == "accept":
        if shown is None:
            return _answer(turn, "Nothing to accept yet: no change has been made.", "nothing-done", **update)
        if already_accepted(state):
            return _answer(turn, "Already accepted; nothing new to remember.", result=shown, **update)
        return _answer(turn, "Accepted.", result=shown, accept=True, **update)
    # save: the current result at full resolution (deliver writes it; counts as accepting)
    turn.update(path=cmd.path, overwrite=cmd.overwrite)
    return _answer(turn, "", result=shown, save_to=cmd.path, overwrite=cmd.overwrite,
                   accept=shown is not None and not already_accepted(state), **update)
