"""respond: pick the best round, say what was understood and done, and why it stopped.

Failures show up here as words and a status, never as a silent success:
``ok`` (done), ``partial`` (done, but something named was missing or a check
failed), ``nothing-done`` (nothing could be done: out of scope, nothing found,
model failure). Routes to remember when the result was accepted.

Requests answered in words (no result, nothing remembered) are ``ok``: no-op
("Nothing changed: you asked to keep the photo as it is."), a question (the answer
and suggestions from the measured levels, :mod:`~pertouch.graph.vlm.builtin.advice`)
and undo ("There is nothing to undo in a one-shot run; the photo is unchanged.").
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from pertouch.graph.context import RunContext
from pertouch.graph.nodes import timed
from pertouch.graph.state import ONE_TURN_INPUTS, RetouchState, TurnRecord

#: error kinds that make a finished edit "partial" (memory warnings do not).
PARTIAL_KINDS = {"not-found", "vlm", "render", "impossible"}
NO_OP_ANSWER = "Nothing changed: you asked to keep the photo as it is."
UNDO_ANSWER = "There is nothing to undo in a one-shot run; the photo is unchanged."
#: In a session, an undo the session commands did not catch ("go back to the original").
SESSION_UNDO_ANSWER = ("Nothing changed: say 'undo' to undo the last change or 'start over' to go back to the "
                       "original photo.")


def answer_only(state: RetouchState) -> str | None:
    """The answer to a no-op, question or undo request (None for any other class)."""
    kind = state.get("instruction_class")
    if kind == "no-op":
        kept = (state.get("intent") or {}).get("protected") or []
        return NO_OP_ANSWER + (f" Left alone, as asked: {', '.join(kept)}." if kept else "")
    if kind == "undo":
        return SESSION_UNDO_ANSWER if (state.get("turn") or {}).get("conversation") else UNDO_ANSWER
    if kind == "question":
        from pertouch.graph.nodes import scene_info
        from pertouch.graph.vlm.builtin.advice import answer_question

        return answer_question(state.get("instruction", ""), scene_info(state))
    return None


def _understood(state: RetouchState) -> str:
    intent = state.get("intent") or {}
    kind = state.get("instruction_class") or "unknown"
    if kind == "strong":
        parts = []
        for t in intent.get("targets") or []:
            what = f"{t.get('region', 'global')} {t.get('attribute')}"
            if t.get("like"):  # "as bright as the water", "darker than the sky"
                how = (f"as the {t['like']}" if t.get("direction") == "set"
                       else f"{t.get('direction')} past the {t['like']}")
            else:
                how = f"set to {t['level']:+.2f}" if t.get("direction") == "set" else f"{t.get('direction')}"
            if t.get("magnitude"):
                how += f" ({t['magnitude']})"
            parts.append(f"{what} {how}")
        return "strong — " + ("; ".join(parts) or "no targets")
    if kind == "follow-up":
        return "a change to the session's current result"
    if kind == "weak-style":
        return f"weak-style — look: {intent.get('style')}"
    return kind


def _regions_used(state: RetouchState, best: dict | None) -> str:
    """The regions the result edits, each with how sure perception is and how it was found."""
    recipe = (best or {}).get("recipe") or {}
    names = list((recipe.get("regions") or {}).keys())
    by_name = {r["name"]: r for r in state.get("regions") or []}
    out = []
    for n in names:
        r = by_name.get(n)
        if r is None:
            continue
        note = f"; {r['note']}" if r.get("note") else ""
        out.append(f"{n} (confidence {float(r.get('confidence', 1.0)):.2f}{note})")
    return ", ".join(out)


def summarize(state: RetouchState) -> tuple[str, str, dict[str, Any] | None]:
    """(status, answer text, result) of the finished run."""
    words = answer_only(state)
    if words is not None:
        return "ok", words, None
    errors = state.get("errors") or []
    rounds = state.get("rounds") or []
    best = next((r for r in rounds if r["round"] == state.get("best_round")), rounds[-1] if rounds else None)
    lines = [f"Understood: {_understood(state)}."]
    from pertouch.tools.perception import FIND_MIN_CONFIDENCE

    sure = {r["label"] for r in state.get("regions") or [] if r.get("confidence", 1.0) >= FIND_MIN_CONFIDENCE}
    labels = sorted(sure | {f"{r['label']} (unsure)" for r in state.get("regions") or [] if r["label"] not in sure})
    lines.append(f"Regions found: {', '.join(labels) or 'none'}.")
    used = _regions_used(state, best)
    if used:
        lines.append(f"Regions used: {used}.")
    if best is None:
        status = "nothing-done"
        fatal = [e for e in errors if e.get("fatal")] or errors
        why = fatal[0]["message"] if fatal else (state.get("stop_reason") or "nothing to do")
        lines.append(f"Nothing was changed: {why.rstrip('.')}.")
        result = None
    else:
        status = "partial" if any(e.get("kind") in PARTIAL_KINDS for e in errors) else "ok"
        n = len(rounds)
        lines.append(f"Rendered {n} round{'s' if n != 1 else ''}; stopped: {state.get('stop_reason') or 'done'}; "
                     f"result is round {best['round']}.")
        result = {"round": best["round"], "recipe": best["recipe"], "preview": best["preview"],
                  "achieved": best.get("achieved", []), "critique": best.get("critique", {})}
        notes = (state.get("plan") or {}).get("notes")
        if notes and any(t.get("like") for t in (state.get("intent") or {}).get("targets") or []):
            lines.append(f"Plan: {notes.rstrip('.')}.")  # what "as bright as the water" became
        expl = (best.get("critique") or {}).get("explanation")
        if expl:
            lines.append(expl if expl.endswith(".") else expl + ".")
    notes = [e["message"] for e in errors if not (best is None and e.get("fatal"))]
    if notes:
        lines.append("Note: " + "; ".join(dict.fromkeys(n.rstrip(".") for n in notes)) + ".")
    return status, " ".join(lines), result


def _problem_answer(problem: dict[str, Any]) -> str:
    hint = f" — {problem['hint']}" if problem.get("hint") else ""
    return f"Nothing was done: {problem['message'].rstrip('.')}{hint}."


def _route(state: RetouchState, result: dict[str, Any] | None) -> str:
    if state.get("save_to") and (result is not None or (state.get("turn") or {}).get("kind") == "save"):
        return "deliver"
    return "remember" if state.get("accept") and result is not None else "finish"


@timed("respond")
def respond(state: RetouchState, runtime: Runtime[RunContext]) -> Command[Literal["deliver", "remember", "finish"]]:
    """Write the answer, the result, the turn's history entry and the session stack."""
    turn = dict(state.get("turn") or {})
    problem = state.get("problem")
    if problem:
        # a model that failed is "nothing could be done"; bad input or settings: the turn failed
        status = "nothing-done" if problem.get("kind") == "model" else "failed"
        answer, result = _problem_answer(problem), None
    elif "answer" in turn:  # a session command answered in words (accept/save carry the shown result)
        status, answer, result = turn.get("status", "ok"), turn["answer"], state.get("result")
    else:
        status, answer, result = summarize(state)
        if turn.get("prefix"):
            answer = f"{turn['prefix']} {answer}"
    rendered = result is not None and "answer" not in turn
    record: TurnRecord = {"instruction": state.get("instruction", ""),
                          "kind": (state.get("instruction_class") if turn.get("kind", "instruction") == "instruction"
                                   else turn["kind"]) or "",
                          "recipe": (result or {}).get("recipe") or state.get("base_recipe") or {},
                          "result": (result or {}).get("preview", "") if rendered else "",
                          "achieved": (result or {}).get("achieved", []) if rendered else [],
                          "answer": answer, "status": status}
    update: dict[str, Any] = {"status": status, "answer": answer, "result": result,
                              "history": [*(state.get("history") or []), record]}
    if rendered and turn.get("push"):  # a new edit, "a bit more", "only the sky": the new current result
        update.update(stack=[*(state.get("stack") or []), result["recipe"]], redo=[])
    return Command(goto=_route(state, result), update=update)


def finish(state: RetouchState) -> dict[str, Any]:
    """End the turn: inputs that hold for one turn only are cleared, so a checkpointed
    thread does not carry "accept" or "save_to" into the next turn."""
    return dict(ONE_TURN_INPUTS)
