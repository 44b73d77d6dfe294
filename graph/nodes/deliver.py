"""deliver: write the turn's result at full resolution (+ recipe sidecar) where the client asked.

Two ways in: a session's "save as out.jpg" and a run's ``save_to`` input. Where a run
may write is decided by :func:`pertouch.graph.output.resolve_output`: a bare name goes
to the output folder; a graph built for remote clients (``anywhere=False``, the API
server) writes nowhere else; an existing file needs the user's confirmation
("save as out.jpg, overwrite" / ``overwrite: true``). A refused or failed save is an
answer (status ``nothing-done`` for a save command, ``partial`` for a run's
``save_to``): nothing is accepted or remembered, and the conversation goes on.
"""

from __future__ import annotations

from typing import Any, Callable, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from pertouch.core.errors import PertouchError
from pertouch.graph.context import RunContext
from pertouch.graph.nodes import timed
from pertouch.graph.output import resolve_output, write_result
from pertouch.graph.state import RetouchState, add_error, error

Route = Literal["remember", "finish"]


def _recipe(state: RetouchState) -> dict[str, Any]:
    result = state.get("result") or {}
    if result.get("recipe"):
        return result["recipe"]
    stack = state.get("stack") or []
    return stack[-1] if stack else {"format": "pertouch-recipe", "version": 1, "global": {"attributes": {}},
                                    "regions": {}}


def _with_last_turn(state: RetouchState, answer: str, status: str) -> list[dict[str, Any]]:
    hist = [dict(h) for h in state.get("history") or []]
    if hist:
        hist[-1].update(answer=answer, status=status)
    return hist


def make_deliver(anywhere: bool) -> Callable[[RetouchState, Runtime[RunContext]], Command[Route]]:
    """The deliver node; ``anywhere``: the client may name any path (the CLI), else only
    paths inside the output folder (a server's clients)."""

    @timed("deliver")
    def deliver(state: RetouchState, runtime: Runtime[RunContext]) -> Command[Route]:
        ctx = runtime.context or RunContext()
        command = (state.get("turn") or {}).get("kind") == "save"
        try:
            out = resolve_output(str(state.get("save_to") or ""), state["image"], ctx, anywhere=anywhere,
                                 overwrite=bool(state.get("overwrite")))
            meta = {"instruction": state.get("instruction", ""), "vlm": ctx.vlm}
            if state.get("session"):
                meta["session"] = state["session"]
            written = write_result(state["image"], _recipe(state), out, ctx=ctx, meta=meta, overwrite=False)
        except (PertouchError, OSError) as exc:
            why = exc.one_line() if isinstance(exc, PertouchError) else f"{exc.strerror or exc} ({exc.filename})"
            if command:
                answer = f"Not saved: {why}."
                return Command(goto="finish", update={
                    "answer": answer, "status": "nothing-done", "accept": False, "result": None,
                    "history": _with_last_turn(state, answer, "nothing-done")})
            answer = f"{state.get('answer', '')} Not saved: {why}.".strip()
            return Command(goto="finish", update={
                "answer": answer, "status": "partial", "accept": False,
                "errors": add_error(state, error("deliver", "save", f"not saved: {why}")),
                "history": _with_last_turn(state, answer, "partial")})
        saved = {"path": str(written), "sidecar": f"{written}.pertouch.json"}
        note = f"Saved {written} (and its recipe {written}.pertouch.json)."
        answer = note if command else f"{state.get('answer', '')} {note}".strip()
        status = state.get("status") or "ok"
        goto: Route = "remember" if state.get("accept") and state.get("result") else "finish"
        return Command(goto=goto, update={"answer": answer, "saved": saved,
                                          "history": _with_last_turn(state, answer, status)})

    return deliver
