"""What the web app does for a browser: open a photo, chat, point, slide, download.

Each photo is one conversation :class:`~pertouch.graph.session.Session` — the same
graph, SQLite checkpointer (``app_home()/sessions.sqlite``) and memory as ``pertouch
chat``, so a session started here resumes with ``pertouch chat --session ID`` and the
other way round. The web app's graph writes "save as" files only in the output
folder (``anywhere=False``), like the API server.

Every operation on a session holds the session's lock (a thread lock here, plus the
session's lock file inside :meth:`Session.turn`), so two requests on one session
run one after the other. A browser (token) sees only the sessions it owns
(:class:`~pertouch.web.workspace.Workspace`).

The service owns one runtime cache (:attr:`WebService.cache`, the one its run context
carries: ``pertouch serve`` gives it the process's): every session's runs, the regions,
the renders and the previews (:class:`~pertouch.web.views.Views`) go through it.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import threading
import time
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from pertouch.core.errors import InputError, NotFoundError
from pertouch.graph import runtime as rt
from pertouch.graph.context import RunContext, load_context
from pertouch.web import recipes, views
from pertouch.web import settings as models
from pertouch.web.workspace import Workspace, safe_name

_USER = re.compile(r"^[A-Za-z][A-Za-z0-9 _.-]{0,39}$")
#: A pointed region's name (it becomes a mask file name in the sidecar): the CLI's rule.
_REGION = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
#: Longest chat line accepted.
MAX_TEXT = 2000


@dataclass
class Entry:
    """One open session and what the web app keeps beside it."""

    session: Any
    ctx: RunContext
    lock: threading.Lock = field(default_factory=threading.Lock)
    messages: list[dict[str, Any]] = field(default_factory=list)


class WebService:
    """The web app's logic, independent of HTTP (the routes in :mod:`pertouch.web.app` are thin).

    ``ctx``: the server's run settings (default :func:`~pertouch.graph.context.load_context`);
    its ``cache`` is the service's runtime cache, passed into every run and view it makes."""

    def __init__(self, ws: Workspace, ctx: RunContext | None = None,
                 offer: Mapping[str, Sequence[str]] | None = None) -> None:
        from pertouch.graph.builder import build_graph
        from pertouch.graph.session import open_checkpointer

        self.ws = ws
        self.ctx = ctx or load_context()
        #: The one :class:`~pertouch.graph.runtime.RuntimeCache` of this service (the contexts of
        #: its sessions are made from :attr:`ctx`, so their runs carry it too).
        self.cache: rt.RuntimeCache = self.ctx.cache
        self.views = views.Views(self.cache)
        self.offer = dict(offer or {})
        self._entries: dict[str, Entry] = {}
        self._current: dict[str, str] = {}
        self._lock = threading.Lock()
        self._graph = build_graph(open_checkpointer(), anywhere=False)

    def warm_up(self) -> threading.Thread:
        """Load in the background what a first turn would wait for: the memory and its text
        embedder (measured: ~10 s on a busy 2-core machine, the first turn's "recalled your taste"
        step). A failure is left for that turn to report."""
        def work() -> None:
            try:
                mem, _ = rt.memory(self.ctx.memory, cache=self.cache)
                if mem is not None and self.ctx.use_memory:
                    mem.vector_for("a photo", None)
            except Exception:  # the turn says what is wrong with the memory
                pass

        t = threading.Thread(target=work, name="pertouch-warm-up", daemon=True)
        t.start()
        return t

    # -- settings ---------------------------------------------------------------
    def choices(self) -> dict[str, list[str]]:
        """The models a browser may pick (:func:`pertouch.web.settings.choices`)."""
        return models.choices(self.ctx, self.offer)

    def _context(self, picked: Any, current: RunContext | None = None) -> RunContext:
        return models.pick(self.ctx, self.choices(), picked, current)

    def change_settings(self, token: str, picked: Any) -> dict[str, Any]:
        """Other models for the open photo: the VLM and the engine from the next turn on; another
        segmenter finds the regions anew, so it starts a new session on the same photo (the old
        one can still be resumed)."""
        entry = self.entry(token)
        ctx = self._context(picked, entry.ctx)
        if ctx == entry.ctx:
            return {"state": self.view_state(token)}
        if ctx.segmenter != entry.ctx.segmenter:
            old, user = entry.session.id, entry.session.state.get("user") or entry.session.user
            self.open_photo(token, Path(entry.session.image_path), user,
                            {k: getattr(ctx, k) for k in models.KEYS})
            entry = self.entry(token)
            answer = (f"The segmenter {ctx.segmenter} finds the regions anew: this is a new session on the same "
                      f"photo ({models.describe(ctx)}); resume the old one with its id {old}.")
        else:
            with entry.lock:
                entry.ctx = entry.session.ctx = ctx
            answer = f"From the next turn on: {models.describe(ctx)}."
        msg = {"text": "", "kind": "settings", "status": "ok", "answer": answer}
        entry.messages.append(msg)
        return {"message": msg, "state": self.view_state(token)}

    # -- sessions ---------------------------------------------------------------
    def _adopt(self, token: str, session: Any, ctx: RunContext) -> Entry:
        self.ws.claim(session.id, token)
        entry = Entry(session, ctx)
        with self._lock:
            self._entries[session.id] = entry
            self._current[token] = session.id
        return entry

    def check_open(self, user: Any, settings: Any) -> RunContext:
        """The run settings for a new session, after checking the user name and the settings."""
        if user not in (None, "") and (not isinstance(user, str) or not _USER.match(user)):
            raise InputError("the user name must start with a letter and have at most 40 letters, digits, "
                             "spaces, '_', '-' or '.'")
        return self._context(settings)

    def open_photo(self, token: str, path: Path, user: Any = None, settings: Any = None) -> dict[str, Any]:
        """Start a new session on ``path`` (a file inside the workspace)."""
        from pertouch.graph.session import Session

        ctx = self.check_open(user, settings)
        entry = self._adopt(token, Session(None, str(path), ctx, user=user or None, graph=self._graph), ctx)
        ref = self.ref(entry)
        rt.scene(ref, ctx.segmenter, cache=self.cache)  # perceive now: the overlay and sliders need the regions
        return self.view_state(token)

    def resume(self, token: str, session_id: Any, picked: Any = None) -> dict[str, Any]:
        """Open an existing session (one this browser owns, or one started by ``pertouch chat``),
        with the picked VLM and engine; its segmenter stays the one that found its regions."""
        from pertouch.graph.session import Session

        sid = safe_name(session_id, "session id")
        ctx = self._context(picked)
        self.ws.claim(sid, token) if self.ws.owner(sid) is None else self.ws.check_owner(sid, token)
        with self._lock:
            known = sid in self._entries
            if known:
                self._current[token] = sid
        if known:  # already open here (view_state takes the lock itself)
            return self.view_state(token)
        session = Session(sid, None, ctx, graph=self._graph)  # confined: saves only in the output folder
        seg = (session.state.get("scene") or {}).get("segmenter")
        if seg and seg != ctx.segmenter:
            ctx = session.ctx = replace(ctx, segmenter=seg)
        self._adopt(token, session, ctx)
        return self.view_state(token)

    def entry(self, token: str) -> Entry:
        with self._lock:
            sid = self._current.get(token)
            entry = self._entries.get(sid) if sid else None
        if entry is None:
            raise NotFoundError("no photo is open in this browser", hint="open a photo or a demo photo first")
        self.ws.check_owner(entry.session.id, token)
        return entry

    def ref(self, entry: Entry) -> dict[str, Any]:
        return rt.open_photo(entry.session.image_path, cache=self.cache)

    def regions(self, entry: Entry) -> list[Any]:
        """The photo's regions: the scene's and those the user pointed at (full-size masks)."""
        ref, seg = self.ref(entry), entry.ctx.segmenter
        out = list(rt.scene(ref, seg, cache=self.cache).regions)
        pointers = [p for p in entry.session.state.get("pointers") or [] if p.get("photo") == ref["hash"]]
        names = {r.name for r in out}
        for r in rt.add_pointed(ref, seg, pointers, cache=self.cache) if pointers else []:
            if r.name not in names:
                out.append(r)
        return out

    # -- turns --------------------------------------------------------------------
    def check_turn(self, token: str, text: Any) -> Entry:
        """The open session a chat line goes to, after checking the line."""
        if not isinstance(text, str) or not text.strip():
            raise InputError("say what to change, or a command such as 'undo'")
        if len(text) > MAX_TEXT:
            raise InputError(f"the message is {len(text)} characters long", hint=f"use at most {MAX_TEXT}")
        return self.entry(token)

    def turn(self, token: str, text: Any, on_step: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
        """One chat line through the graph; the answer with what was understood, the recipe,
        the rounds and the critique's verdict. ``on_step``: called with each graph step's
        event (:func:`pertouch.graph.progress.step_event`) as it finishes."""
        from pertouch.graph.progress import step_event, trail

        entry = self.check_turn(token, text)
        steps: list[dict[str, Any]] = []

        def step(node: str, update: Any) -> None:
            steps.append(step_event(node, update, (time.perf_counter() - t0) * 1000))
            if on_step is not None:
                on_step(steps[-1])

        with entry.lock:
            t0 = time.perf_counter()
            out = entry.session.turn(text, on_step=step)
            state = entry.session.state
        answer = out.answer.replace(out.preview, Path(out.preview).name) if out.preview else out.answer  # no server paths
        msg = {"text": text.strip(), "kind": out.kind, "answer": answer, "status": out.status,
               "problem": out.extra.get("problem"), "remembered": out.extra.get("remembered", False),
               "saved": bool(out.saved), "steps": trail(steps),
               "seconds": round(steps[-1]["ms"] / 1000, 2) if steps else 0.0}
        if out.kind in ("instruction", "more", "less", "only") and state.get("rounds"):
            msg["understood"] = (state.get("intent") or {}).get("explanation", "")
            msg["rounds"] = [{"round": r.get("round"), "score": r.get("score"),
                              "verdict": (r.get("critique") or {}).get("explanation", ""),
                              "satisfied": (r.get("critique") or {}).get("satisfied")}
                             for r in state.get("rounds") or []]
            msg["stop_reason"] = state.get("stop_reason")
            msg["verdict"] = ((state.get("result") or {}).get("critique") or {}).get("explanation", "")
            msg["recipe"] = recipes.describe((state.get("result") or {}).get("recipe") or {})
        entry.messages.append(msg)
        return {"message": msg, "state": self.view_state(token)}

    def point(self, token: str, name: Any, box: Any = None, point: Any = None) -> dict[str, Any]:
        """A box or a click on the photo (photo pixels) → a region named ``name``, usable in the chat."""
        from pertouch.tools.pointing import Pointer

        entry = self.entry(token)
        ref = self.ref(entry)
        if not isinstance(name, str) or not _REGION.match(name):
            raise InputError(f"the region name {str(name)[:40]!r} is not usable",
                             hint="use 1-40 lower-case letters, digits, '_' or '-', starting with a letter")
        try:
            p = Pointer.from_json({"name": name, "box": box, "points": [point] if point is not None else []})
        except (TypeError, ValueError, KeyError):
            raise InputError("a pointer is a name and a box [x0, y0, x1, y1] or a point [x, y] in photo pixels")
        p.check(ref["width"], ref["height"])
        with entry.lock:
            regions = rt.add_pointed(ref, entry.ctx.segmenter, [p.to_json()], cache=self.cache)
            state = entry.session.state
            kept = [q for q in state.get("pointers") or [] if q.get("name") != p.name]
            update = {"pointers": [*kept, {**p.to_json(), "photo": ref["hash"]}]}
            entry.session.graph.update_state(entry.session.config, update, as_node="finish")
        reg = regions[0]
        msg = {"text": f"(pointed: {p.text()})", "kind": "point", "status": "ok",
               "answer": f"Region {p.name!r} selected ({reg.area_fraction * 100:.1f}% of the photo); "
                         f"name it in the chat, e.g. 'make the {p.name} brighter'."}
        entry.messages.append(msg)
        return {"message": msg, "state": self.view_state(token)}

    # -- sliders ------------------------------------------------------------------
    def _labels(self, entry: Entry) -> dict[str, str]:
        return {r.name: r.label for r in self.regions(entry)}

    def slider_preview(self, token: str, entries: Any) -> bytes:
        """The preview of the recipe the sliders describe (view size, cached)."""
        entry = self.entry(token)
        recipe = recipes.recipe_from(entries, self._labels(entry))
        return self.views.preview(self.ref(entry), recipe, segmenter=entry.ctx.segmenter, engine=entry.ctx.engine)

    def apply_sliders(self, token: str, entries: Any) -> dict[str, Any]:
        """Make the sliders' recipe the session's current result (undo takes it back)."""
        entry = self.entry(token)
        recipe = recipes.recipe_from(entries, self._labels(entry))
        ref = self.ref(entry)
        with entry.lock:
            s = entry.session
            state = s.state
            if not state.get("image"):
                raise InputError("send a first instruction before applying sliders",
                                 hint="e.g. 'brighten the photo a little', then adjust it here")
            stack = list(state.get("stack") or [])
            n = len(state.get("history") or []) + 1
            rendered = rt.render(ref, recipe, segmenter=entry.ctx.segmenter, engine=entry.ctx.engine,
                                 long_side=entry.ctx.working_resolution, cache=self.cache)
            preview = rt.write_preview(rendered.image, rt.session_dir(s.id) / f"turn{n:02d}-sliders.jpg")
            text = f"sliders: {recipes.describe(recipe)}"
            answer = f"Set by the sliders: {recipes.describe(recipe)}."
            record = {"instruction": text, "kind": "sliders", "recipe": recipe, "result": preview,
                      "achieved": [], "answer": answer, "status": "ok"}
            result = {"round": 1, "recipe": recipe, "preview": preview, "achieved": [], "critique": {}}
            s.graph.update_state(s.config, {"stack": [*stack, recipe], "redo": [], "result": result,
                                            "history": [*(state.get("history") or []), record],
                                            "turn": {"kind": "sliders", "preview": preview},
                                            "answer": answer, "status": "ok", "accept": False}, as_node="finish")
        msg = {"text": "(sliders applied)", "kind": "sliders", "status": "ok", "answer": answer}
        entry.messages.append(msg)
        return {"message": msg, "state": self.view_state(token)}

    # -- pictures and files ---------------------------------------------------------
    def current_recipe(self, entry: Entry) -> dict[str, Any]:
        stack = entry.session.state.get("stack") or []
        return stack[-1] if stack else recipes.empty_recipe()

    def image(self, token: str, kind: str) -> tuple[bytes, str]:
        """``before`` | ``after`` | ``overlay`` | ``turn`` (the last turn's own picture, e.g. compare)."""
        entry = self.entry(token)
        ref = self.ref(entry)
        if kind == "before":
            return self.views.before(ref), "image/jpeg"
        if kind == "after":
            return self.views.preview(ref, self.current_recipe(entry), segmenter=entry.ctx.segmenter,
                                 engine=entry.ctx.engine), "image/jpeg"
        if kind == "overlay":
            return views.overlay(ref, self.regions(entry)), "image/png"
        if kind == "turn":
            path = Path((entry.session.state.get("turn") or {}).get("preview") or "")
            folder = rt.session_dir(entry.session.id).resolve()
            if path.name and path.resolve().is_relative_to(folder) and path.is_file():
                return views.file_view(str(path)), "image/jpeg"
            raise NotFoundError("this turn showed no picture of its own")
        raise NotFoundError(f"no picture {kind[:30]!r}", hint="before, after, overlay or turn")

    def download(self, token: str) -> tuple[bytes, str]:
        """A zip with the full-resolution result, its recipe sidecar and masks (``pertouch apply
        PHOTO --recipe result.EXT.pertouch.json`` reproduces the result)."""
        from pertouch.graph.output import write_result

        entry = self.entry(token)
        ref = self.ref(entry)
        suffix = Path(ref["path"]).suffix.lower()
        suffix = suffix if suffix in (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp") else ".png"
        with entry.lock:
            folder = self.ws.inside("downloads", entry.session.id)
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            out = folder / f"result{suffix}"
            write_result(ref, self.current_recipe(entry), out, ctx=entry.ctx, overwrite=True,
                         meta={"session": entry.session.id})
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
            for f in sorted(folder.rglob("*")):
                if f.is_file():
                    z.write(f, f.relative_to(folder).as_posix())
        return buf.getvalue(), f"pertouch-{entry.session.id}.zip"

    # -- what the page shows --------------------------------------------------------
    def view_state(self, token: str) -> dict[str, Any]:
        entry = self.entry(token)
        s, ref = entry.session, self.ref(entry)
        state = s.state
        regs = self.regions(entry)
        levels = {r.name: {k: float(v) for k, v in r.levels.items()} for r in regs}
        scene_levels = state.get("global_levels") or {}
        levels[recipes.GLOBAL] = {k: float(v) for k, v in scene_levels.items()}
        recipe = self.current_recipe(entry)
        vw, vh = views.view_size(ref)
        return {
            "session": s.id, "user": state.get("user") or s.user or "", "started": bool(state.get("image")),
            "photo": {"name": Path(ref["path"]).name, "width": ref["width"], "height": ref["height"],
                      "view_width": vw, "view_height": vh},
            "regions": [{"name": r.name, "label": r.label, "confidence": round(float(r.confidence), 3),
                         "area": round(float(r.area_fraction), 4), "colour": views.PALETTE[i % len(views.PALETTE)],
                         "levels": {k: round(v, 3) for k, v in levels[r.name].items()}}
                        for i, r in enumerate(regs)],
            "recipe": recipes.rows(recipe, levels), "recipe_text": recipes.describe(recipe),
            "version": json.dumps(recipe, sort_keys=True).__hash__() & 0xFFFFFFF,
            "can_undo": bool(state.get("stack")), "can_redo": bool(state.get("redo")),
            "turns": len(state.get("history") or []), "messages": entry.messages[-50:],
            "settings": {"vlm": entry.ctx.vlm, "segmenter": entry.ctx.segmenter, "engine": entry.ctx.engine},
            "resume": f"pertouch chat --session {s.id}",
        }
