"""Conversational sessions: each turn builds on the last result, checkpointed in SQLite.

A session is one LangGraph thread (``thread_id`` = session id) in
``app_home()/sessions.sqlite`` (LangGraph's SqliteSaver), so ``--session ID``
resumes in a new process with the same history and result. Besides new
instructions (planned on top of the current recipe), a turn may be a session
command that changes the recipe directly and is rendered through the graph as a
follow-up: "a bit more" / "less" (scale the last change), "less on the face" /
"more on the sky" (only there), "only the sky", "undo", "start over". "looks good"
accepts (→ remember), "save as out.jpg" writes the full-resolution result (and
accepts), "compare" writes a before/after side-by-side.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pertouch.errors import InputError, NotFoundError
from pertouch.graph import recipes
from pertouch.graph import runtime as rt
from pertouch.graph.context import RunContext

#: words → region labels they mean in session commands.
REGION_WORDS = {
    "face": {"face", "skin", "person"}, "faces": {"face", "skin", "person"}, "skin": {"skin", "face", "person"},
    "person": {"person", "skin", "face", "hair"}, "people": {"person", "skin", "face", "hair"},
    "her": {"person", "skin", "face", "hair"}, "him": {"person", "skin", "face", "hair"},
    "portrait": {"person", "skin", "face", "hair"}, "sky": {"sky", "clouds"}, "clouds": {"clouds"},
    "trees": {"vegetation"}, "tree": {"vegetation"}, "grass": {"vegetation"}, "greenery": {"vegetation"},
    "plants": {"vegetation"}, "water": {"water"}, "sea": {"water"}, "lake": {"water"},
    "buildings": {"building"}, "building": {"building"}, "ground": {"ground"}, "road": {"ground"},
}

_MORE = r"(?:a\s+(?:bit|touch|little)\s+|slightly\s+|even\s+|much\s+|a\s+lot\s+|way\s+)?(more|stronger|less|weaker|softer)"
_SCALE = re.compile(rf"^{_MORE}(?:\s+(?:on|for|in)\s+(?:the\s+)?(\w+))?[.!]*$")
_ONLY = re.compile(r"^(?:only|just)\s+(?:the\s+)?(\w+)[.!]*$")
_SAVE = re.compile(r"^save(?:\s+(?:it|this))?(?:\s+(?:as|to))?\s+(.+)$", re.I)
ACCEPT = {"looks good", "look good", "good", "perfect", "accept", "i like it", "great", "yes", "done", "nice",
          "love it", "ok", "okay"}
UNDO = {"undo", "go back", "back", "revert"}
RESET = {"start over", "reset", "restart", "from scratch", "original"}
QUIT = {"quit", "exit", "bye", "q"}


@dataclass
class TurnOutcome:
    """What a turn did: ``kind`` (instruction, more, only, undo, reset, accept, save, compare,
    history, quit), the answer text, the preview file and, for saves, the written file."""

    kind: str
    answer: str
    preview: str = ""
    status: str = "ok"
    saved: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def db_path() -> Path:
    from pertouch.home import app_home

    return app_home() / "sessions.sqlite"


def open_checkpointer() -> Any:
    """LangGraph's SqliteSaver over ``app_home()/sessions.sqlite``."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    conn = sqlite3.connect(str(db_path()), check_same_thread=False)
    return SqliteSaver(conn)


def _scale_factor(word: str, text: str) -> float:
    size = 1.0 if re.search(r"\b(much|a lot|way)\b", text) else 0.5
    return size if word in ("more", "stronger") else -size


class Session:
    """One conversational session over one photo. Use :meth:`turn` per line of input."""

    def __init__(self, session_id: str | None = None, image_path: str | None = None,
                 ctx: RunContext | None = None) -> None:
        from pertouch.graph.builder import build_graph

        self.ctx = ctx or RunContext()
        self.checkpointer = open_checkpointer()
        self.graph = build_graph(self.checkpointer)
        self.id = session_id or uuid.uuid4().hex[:10]
        self.config = {"configurable": {"thread_id": self.id}}
        state = self.state
        self.resumed = bool(state.get("image"))
        if self.resumed:
            if image_path is not None:
                ref = rt.open_photo(image_path)
                if ref["hash"] != state["image"]["hash"]:
                    raise InputError(f"session {self.id} is about {state['image']['path']}, not {image_path}",
                                     hint="leave out --session to start a new session for this photo")
            self.image_path = state["image"]["path"]
        else:
            if session_id is not None and image_path is None:
                raise NotFoundError(f"no session {session_id!r}", hint="give a photo to start a new session")
            if image_path is None:
                raise InputError("give a photo to start a session")
            self.image_path = str(rt.open_photo(image_path)["path"])

    # -- state -------------------------------------------------------------------
    @property
    def state(self) -> dict[str, Any]:
        return dict(self.graph.get_state(self.config).values or {})

    @property
    def stack(self) -> list[dict]:
        """Recipes of the turns that changed the photo, oldest first (top = current)."""
        return list(self.state.get("stack") or [])

    @property
    def current(self) -> dict:
        st = self.stack
        return st[-1] if st else {}

    def history(self) -> list[dict[str, Any]]:
        return list(self.state.get("history") or [])

    def _levels(self) -> dict[str, dict[str, float]]:
        from pertouch.graph.nodes import measured_levels

        return measured_levels(self.state)

    def _set_stack(self, stack: list[dict]) -> None:
        self.graph.update_state(self.config, {"stack": stack}, as_node="respond")

    # -- running -----------------------------------------------------------------
    def _run(self, instruction: str, **inputs: Any) -> dict[str, Any]:
        payload = {"image_path": self.image_path, "instruction": instruction, "session": self.id,
                   "base_recipe": None, "followup_recipe": None, "accept": False, **inputs}
        return self.graph.invoke(payload, self.config, context=self.ctx)

    def _outcome(self, kind: str, out: dict[str, Any], push: bool) -> TurnOutcome:
        result = out.get("result")
        if push and result:
            self._set_stack([*self.stack, result["recipe"]])
        mem = [e["message"] for e in out.get("errors") or [] if e.get("kind") == "memory"]
        return TurnOutcome(kind, out.get("answer", ""), (result or {}).get("preview", ""), out.get("status", "ok"),
                           extra={"remembered": out.get("remembered", False), "memory_note": "; ".join(mem)})

    def _followup(self, kind: str, text: str, recipe: dict, push: bool, accept: bool = False) -> TurnOutcome:
        if recipes.is_empty(recipe):
            recipe = {"format": "pertouch-recipe", "version": 1, "global": {"attributes": {}}, "regions": {}}
        out = self._run(text, followup_recipe=recipe, accept=accept)
        return self._outcome(kind, out, push)

    def _regions_for(self, word: str) -> set[str]:
        labels = REGION_WORDS.get(word, {word.rstrip("s"), word})
        names = {r["name"] for r in self.state.get("regions") or [] if r["label"] in labels}
        if not names:
            raise NotFoundError(f"no {word} in this photo")
        return names

    def turn(self, line: str) -> TurnOutcome:
        """Handle one line of input. Session commands never raise for missing
        regions; they answer with what went wrong."""
        text = " ".join(line.strip().lower().split())
        if not text:
            return TurnOutcome("empty", "")
        if text in QUIT:
            return TurnOutcome("quit", "bye")
        try:
            return self._dispatch(line.strip(), text)
        except NotFoundError as exc:
            return TurnOutcome("error", exc.one_line(), status="nothing-done")

    def _dispatch(self, line: str, text: str) -> TurnOutcome:
        if text in ("history", "show history"):
            lines = [f"{i}. {h['instruction']} → {h['status']}" for i, h in enumerate(self.history(), 1)]
            return TurnOutcome("history", "\n".join(lines) or "no turns yet")
        if text in ("compare", "before/after", "before and after", "side by side"):
            return self.compare()
        if text in UNDO:
            stack = self.stack[:-1]
            self._set_stack(stack)
            o = self._followup("undo", line, stack[-1] if stack else {}, push=False)
            o.answer = "Undid the last change. " + o.answer
            return o
        if text in RESET:
            self._set_stack([])
            o = self._followup("reset", line, {}, push=False)
            o.answer = "Back to the original photo."
            return o
        if text.rstrip(".!") in ACCEPT:
            o = self._followup("accept", line, self.current, push=False, accept=True)
            o.answer = ("Accepted and remembered." if o.extra.get("remembered")
                        else f"Accepted, but {o.extra.get('memory_note') or 'not remembered'}.")
            return o
        m = _SAVE.match(line.strip())
        if m:
            return self.save(m.group(1).strip().strip("'\""))
        m = _SCALE.match(text)
        if m:
            return self._scale(line, text, m.group(1), m.group(2))
        m = _ONLY.match(text)
        if m and m.group(1) in set(REGION_WORDS) | {r["label"] for r in self.state.get("regions") or []}:
            names = self._regions_for(m.group(1))
            cur, levels = self.current, self._levels()
            tg = {k: v for k, v in recipes.effective_targets(cur, levels, names).items() if k[0] in names}
            return self._followup("only", line, recipes.from_targets(tg, levels, self._labels()), push=True)
        out = self._run(line, base_recipe=self.current or None)
        return self._outcome("instruction", out, push=True)

    def _labels(self) -> dict[str, str]:
        return {r["name"]: r["label"] for r in self.state.get("regions") or []}

    def _scale(self, line: str, text: str, word: str, where: str | None) -> TurnOutcome:
        stack = self.stack
        if not stack:
            return TurnOutcome("more", "There is no change yet to make stronger or weaker; say what to change.",
                               status="nothing-done")
        names = self._regions_for(where) if where else None
        prev = stack[-2] if len(stack) > 1 else {}
        levels = self._levels()
        new = recipes.scale_change(prev, stack[-1], _scale_factor(word, text), levels, names,
                                   labels=self._labels())
        if recipes.targets(new, levels) == recipes.targets(stack[-1], levels):
            where_text = f" on the {where}" if where else ""
            return TurnOutcome("more", f"The last change did not touch anything{where_text}; nothing to scale.",
                               status="nothing-done")
        return self._followup("more", line, new, push=True)

    # -- outputs -------------------------------------------------------------------
    def save(self, path: str) -> TurnOutcome:
        """Accept the current result and write it at full resolution (+ sidecar)."""
        from pertouch.graph.output import write_result

        accepted = self._followup("save", "save", self.current, push=False, accept=True)
        st = self.state
        written = write_result(st["image"], self.current, path, ctx=self.ctx, meta={"session": self.id})
        note = "remembered" if accepted.extra.get("remembered") else (accepted.extra.get("memory_note") or "not remembered")
        return TurnOutcome("save", f"Saved {written} (and its recipe {written}.pertouch.json); {note}.",
                           accepted.preview, saved=str(written))

    def compare(self) -> TurnOutcome:
        """Write before | after side by side (working resolution); returns its path."""
        import numpy as np
        from PIL import Image

        st = self.state
        hist = [h for h in st.get("history") or [] if h.get("result")]
        if not hist:
            return TurnOutcome("compare", "Nothing to compare yet.", status="nothing-done")
        before = rt.proxy8(st["image"], self.ctx.working_resolution)
        with Image.open(hist[-1]["result"]) as im:
            after = np.asarray(im.convert("RGB").resize((before.shape[1], before.shape[0])))
        gap = np.full((before.shape[0], 8, 3), 255, np.uint8)
        path = rt.session_dir(self.id) / f"compare-{len(hist):02d}.jpg"
        rt.write_preview(np.concatenate([before, gap, after], axis=1), path)
        return TurnOutcome("compare", f"Before | after: {path}", str(path))
