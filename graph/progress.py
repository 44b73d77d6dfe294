"""What a running turn is doing, one graph step at a time (for a progress display).

:meth:`pertouch.graph.session.Session.turn` with ``on_step`` streams the graph
(LangGraph's ``stream_mode="updates"``: one chunk per finished node) and calls
``on_step(node, update)``; :func:`step_event` turns such a chunk into a short,
JSON-able event a client can show as it happens::

    perceive → converse → classify → recall → plan → render (round 1) → critique (round 1)
    → plan → render (round 2) → critique (round 2) → respond → finish

>>> step_event("render", {"round": 2, "rounds": [{}, {}]}, 812.0)["label"]
'rendered round 2'
>>> step_event("critique", {"rounds": [{"round": 1, "critique": {"satisfied": False}}],
...                         "stop_reason": None})["label"]
'critique of round 1: not yet — planning another round'
"""

from __future__ import annotations

from typing import Any

#: What each node does, said as done (the label of a step with nothing more to say).
DONE: dict[str, str] = {
    "perceive": "looked at the photo",
    "converse": "read the message",
    "classify": "understood the request",
    "recall": "recalled your taste",
    "plan": "planned the edit",
    "render": "rendered the edit",
    "critique": "checked the result",
    "respond": "wrote the answer",
    "deliver": "wrote the full-resolution file",
    "remember": "remembered the result",
    "finish": "done",
}


def _round(update: dict[str, Any]) -> int | None:
    rounds = update.get("rounds") or []
    last = rounds[-1] if rounds and isinstance(rounds[-1], dict) else {}
    rnd = last.get("round") or update.get("round")
    return int(rnd) if isinstance(rnd, (int, float)) and rnd else None


def _label(node: str, update: dict[str, Any]) -> str:
    if node == "perceive":
        n = len(update.get("regions") or [])
        return f"looked at the photo ({n} region{'s' if n != 1 else ''})" if n else DONE[node]
    if node == "converse":
        kind = (update.get("turn") or {}).get("kind")
        return "a new instruction" if kind in (None, "instruction") else f"session command: {kind}"
    if node == "classify":
        kind = update.get("instruction_class")
        return f"understood the request ({kind})" if kind else DONE[node]
    if node == "plan":
        rnd = update.get("round")
        return f"planned round {rnd}" if rnd and "recipe" in update else "planning stopped"
    if node == "render":
        rnd = _round(update)
        return f"rendered round {rnd}" if rnd and update.get("rounds") else "rendering failed"
    if node == "critique":
        rnd = _round(update)
        crit = update.get("critique") or ((update.get("rounds") or [{}])[-1] or {}).get("critique") or {}
        verdict = "satisfied" if crit.get("satisfied") else "not yet"
        stop = update.get("stop_reason")
        then = f"stopping: {stop}" if stop else "planning another round"
        if crit.get("satisfied"):
            return f"critique of round {rnd}: satisfied"
        return f"critique of round {rnd}: {verdict} — {then}"
    if node == "remember":
        return DONE[node] if update.get("remembered") else "not remembered"
    return DONE.get(node, node)


def _next(node: str, update: dict[str, Any]) -> str:
    """What the graph most likely does after ``node`` (said while it works)."""
    if node == "perceive":
        return "answering" if update.get("problem") else "reading the message"
    if node == "converse":
        kind = (update.get("turn") or {}).get("kind")
        return "understanding the request" if kind == "instruction" else "carrying out the command"
    if node == "classify":
        return "recalling your taste" if update.get("instruction_class") in ("strong", "weak-optimize",
                                                                           "weak-style") else "answering"
    if node == "recall":
        return "planning round 1"
    if node == "plan":
        return f"rendering round {update.get('round')}" if "recipe" in update else "answering"
    if node == "render":
        return f"checking round {_round(update)}" if update.get("rounds") else "answering"
    if node == "critique":
        return "answering" if update.get("stop_reason") else f"planning round {(_round(update) or 0) + 1}"
    return "done" if node == "finish" else "finishing"


def step_event(node: str, update: Any, ms: float | None = None) -> dict[str, Any]:
    """``{"node", "label", "next", "round", "ms"}`` for one finished node: what it did, what
    comes next (most likely; the graph decides), ``ms``: time since the turn began."""
    upd = update if isinstance(update, dict) else {}
    out: dict[str, Any] = {"node": node, "label": _label(node, upd), "next": _next(node, upd), "round": None}
    if node in ("plan", "render", "critique"):
        out["round"] = _round(upd) if node != "plan" else upd.get("round")
    if ms is not None:
        out["ms"] = round(float(ms), 1)
    return out


def trail(events: list[dict[str, Any]]) -> str:
    """The steps in one line: ``perceive → classify → plan 1 → render 1 → critique 1 → respond``."""
    names = [e["node"] + (f" {e['round']}" if e.get("round") else "") for e in events
             if e.get("node") not in ("converse", "recall", "finish")]
    return " → ".join(names)
