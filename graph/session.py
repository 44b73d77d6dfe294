"""Conversational sessions: a thin client of the graph over one checkpointed thread.

A session is one LangGraph thread (``thread_id`` = session id) in
``app_home()/sessions.sqlite`` (LangGraph's SqliteSaver), so ``--session ID``
resumes in a new process with the same history, result and user. Every line goes
to the graph as it is: new instructions and session commands ("a bit more", "only
the sky", "undo", "redo", "start over", "looks good", "save as out.jpg",
"compare", "history") are handled there (:mod:`pertouch.graph.nodes.converse`),
so the CLI, the API server and the web app answer a turn alike.

One writer at a time: each turn holds the session's lock file
(``sessions/<id>.lock``); a second process waits for the turn in progress (up to
:data:`LOCK_WAIT_S`) and then goes on from the state that turn left, so no turn is lost.
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pertouch.core.errors import InputError, NotFoundError, PertouchError
from pertouch.graph import runtime as rt
from pertouch.graph.context import RunContext
from pertouch.graph.turns import QUIT, normalise

#: How long a turn waits for another process's turn on the same session.
LOCK_WAIT_S = 300.0


@dataclass
class TurnOutcome:
    """What a turn did: ``kind`` (instruction, more, only, undo, redo, reset, accept, save,
    compare, history, quit, empty), the answer, the preview to show, the status and, for
    saves, the written file."""

    kind: str
    answer: str
    preview: str = ""
    status: str = "ok"
    saved: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def db_path() -> Path:
    from pertouch.core.home import app_home

    return app_home() / "sessions.sqlite"


def open_checkpointer() -> Any:
    """LangGraph's SqliteSaver over ``app_home()/sessions.sqlite`` (a clear error when it is unusable)."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    path = db_path()
    try:
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        # a damaged page past the header only shows when read: find it now, not mid-turn
        # (PRAGMA quick_check: ~0.1 s for a 50 MB store, measured)
        verdict = conn.execute("PRAGMA quick_check").fetchone()
        if verdict and verdict[0] != "ok":
            raise sqlite3.DatabaseError(str(verdict[0]))
        saver = SqliteSaver(conn)
        saver.setup()
    except sqlite3.DatabaseError as exc:
        raise PertouchError(f"the session store {path} is unreadable ({exc})",
                            hint="move it aside to start afresh (its sessions are lost)") from None
    return saver


class Session:
    """One conversational session over one photo. Use :meth:`turn` per line of input.

    ``user``: whose taste the session recalls and remembers; given once, the thread
    keeps it (a resumed session without it keeps its user; another user is refused).
    ``graph``: a compiled graph with a checkpointer to share (a server's sessions; e.g.
    ``build_graph(open_checkpointer(), anywhere=False)``, which saves only in the output
    folder); by default the session opens its own, which may save anywhere (the CLI).
    """

    def __init__(self, session_id: str | None = None, image_path: str | None = None,
                 ctx: RunContext | None = None, user: str | None = None, graph: Any = None) -> None:
        from pertouch.graph.builder import build_graph

        self.ctx = ctx or RunContext()
        if graph is None:
            graph = build_graph(open_checkpointer(), anywhere=True)
        elif graph.checkpointer is None:
            raise ValueError("a session's graph needs a checkpointer (build_graph(open_checkpointer(), …))")
        self.graph = graph
        self.id = session_id or uuid.uuid4().hex[:10]
        self.config = {"configurable": {"thread_id": self.id}}
        state = self.state
        self.resumed = bool(state.get("image"))
        self.user = user
        if self.resumed:
            if image_path is not None:
                ref = rt.open_photo(image_path, cache=self.ctx.cache)
                if ref["hash"] != state["image"]["hash"]:
                    raise InputError(f"session {self.id} is about {state['image']['path']}, not {image_path}",
                                     hint="leave out --session to start a new session for this photo")
            owner = state.get("user")
            if user and owner and user != owner:
                raise InputError(f"session {self.id} belongs to user {owner!r}, not {user!r}",
                                 hint="leave out --user to go on as its user, or start a new session")
            self.image_path = state["image"]["path"]
        else:
            if session_id is not None and image_path is None:
                raise NotFoundError(f"no session {session_id!r}", hint="give a photo to start a new session")
            if image_path is None:
                raise InputError("give a photo to start a session")
            self.image_path = str(rt.open_photo(image_path, cache=self.ctx.cache)["path"])

    # -- state -------------------------------------------------------------------
    @property
    def state(self) -> dict[str, Any]:
        return dict(self.graph.get_state(self.config).values or {})

    @property
    def stack(self) -> list[dict]:
        """Recipes of the turns that changed the photo, oldest first (top = current)."""
        return list(self.state.get("stack") or [])

    def history(self) -> list[dict[str, Any]]:
        return list(self.state.get("history") or [])

    # -- running -----------------------------------------------------------------
    def _lock(self) -> Any:
        from filelock import FileLock

        return FileLock(str(rt.session_dir(self.id) / "turn.lock"), timeout=LOCK_WAIT_S)

    def _run(self, inputs: dict[str, Any], on_step: Callable[[str, Any], None] | None) -> dict[str, Any]:
        if on_step is None:
            return self.graph.invoke(inputs, self.config, context=self.ctx)
        # what invoke does, with each node's update passed on as it finishes
        out: dict[str, Any] = {}
        for mode, chunk in self.graph.stream(inputs, self.config, context=self.ctx,
                                             stream_mode=["updates", "values"]):
            if mode == "values":
                out = chunk
                continue
            for node, update in chunk.items():
                if not node.startswith("__"):
                    on_step(node, update)
        return out

    def turn(self, line: str, on_step: Callable[[str, Any], None] | None = None) -> TurnOutcome:
        """Send one line to the graph; the answer comes back as a :class:`TurnOutcome`.

        ``on_step(node, update)``: called as each graph node finishes (its state update),
        in order, while the turn runs — e.g. a web page's progress
        (:func:`pertouch.graph.progress.step_event`). The outcome is the same with or without it.
        """
        from filelock import Timeout

        text = normalise(line)
        if not text:
            return TurnOutcome("empty", "")
        if text in QUIT:
            return TurnOutcome("quit", "bye")
        inputs: dict[str, Any] = {"image_path": self.image_path, "instruction": line.strip()}
        if self.user:
            inputs["user"] = self.user
        try:
            with self._lock():
                out = self._run(inputs, on_step)
        except Timeout:
            return TurnOutcome("busy", f"session {self.id} is busy with another process's turn for over "
                               f"{LOCK_WAIT_S:.0f} s; nothing was done — try again", status="nothing-done")
        turn = out.get("turn") or {}
        result = out.get("result") or {}
        mem = [e["message"] for e in out.get("errors") or [] if e.get("kind") == "memory"]
        return TurnOutcome(turn.get("kind") or "instruction", out.get("answer", ""),
                           turn.get("preview") or result.get("preview", ""), out.get("status", "ok"),
                           saved=(out.get("saved") or {}).get("path", ""),
                           extra={"remembered": bool(out.get("remembered")), "memory_note": "; ".join(mem),
                                  "problem": out.get("problem")})
