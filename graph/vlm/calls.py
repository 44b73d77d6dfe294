"""A record of every model call: role, prompt, raw reply, tokens, latency, error.

A :class:`CallRecorder` travels in the run context (``RunContext.calls``); the graph
asks :func:`pertouch.graph.runtime.model` for a role's VLM, which wraps the cached
provider in :class:`RecordedVLM` when the context carries a recorder. The wrapper
records one entry per role call::

    {"role", "provider", "prompt", "prompt_digest", "reply", "tokens", "ms", "error", "attempts"}

A chat provider (``openai:``, ``hf:``) reports each request it sends — its prompt
(the user text; images as ``<image WxH>``; the system prompt by digest), the raw
reply, the tokens when the server says them, its latency and error — through
:func:`note_attempt`; those requests are the entry's ``attempts``. A provider with
no requests (``builtin``, ``fake:``) is recorded by its inputs and its typed answer.

The recorder is an object of the run, not a module global: two runs in two threads
keep apart, and a run without a recorder records nothing. The only module state is
a :class:`contextvars.ContextVar` that holds the attempts of the role call in
progress in this thread.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import threading
import time
from typing import Any, Iterable

from pertouch.graph.vlm.base import VLM, ImageRef, Preferences
from pertouch.graph.vlm.schemas import Critique, Intent, Plan, SceneDescription, SceneInfo

#: Longest prompt / reply text kept in an entry (the digest covers the whole prompt).
MAX_TEXT = 4000

_attempts: contextvars.ContextVar[list[dict[str, Any]] | None] = contextvars.ContextVar("pertouch_attempts",
                                                                                          default=None)


class Reply(str):
    """A provider's raw text that also carries the token counts the server reported."""

    tokens: dict[str, int] | None

    def __new__(cls, text: str, tokens: dict[str, int] | None = None) -> "Reply":
        obj = super().__new__(cls, text)
        obj.tokens = tokens
        return obj


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def clip(text: Any, limit: int = MAX_TEXT) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit} more characters]"


def messages_text(messages: list[dict[str, Any]]) -> tuple[str, str]:
    """(the prompt shown in the log, the digest of the whole conversation): the system
    message by digest, the other turns in full, images as ``<image WxH>``."""
    shown, whole = [], []
    for m in messages:
        pics = " ".join(f"<image {getattr(i, 'width', '?')}x{getattr(i, 'height', '?')}>" for i in m.get("images") or ())
        text = f"[{m['role']}] {pics + ' ' if pics else ''}{m['text']}"
        whole.append(text)
        shown.append(f"[system] (digest {digest(m['text'])})" if m["role"] == "system" else text)
    return "\n".join(shown), digest("\n".join(whole))


def usage_tokens(usage: Any) -> dict[str, int] | None:
    """``{"prompt", "completion", "total"}`` from an OpenAI-style usage object or dict (None when absent)."""
    if usage is None:
        return None
    get = usage.get if isinstance(usage, dict) else (lambda k: getattr(usage, k, None))
    out = {k: get(f"{k}_tokens") for k in ("prompt", "completion", "total")}
    out = {k: int(v) for k, v in out.items() if isinstance(v, (int, float))}
    return out or None


def note_attempt(messages: list[dict[str, Any]], reply: Any, ms: float, error: str | None = None) -> None:
    """Called by a chat provider for each request: kept when a recorded role call is in progress."""
    into = _attempts.get()
    if into is None:
        return
    prompt, dig = messages_text(messages)
    into.append({"prompt": clip(prompt), "prompt_digest": dig, "reply": clip(reply) if reply is not None else None,
                 "tokens": getattr(reply, "tokens", None), "ms": round(ms, 1), "error": error})


class CallRecorder:
    """The model calls of one run (thread-safe); :meth:`entries` returns them in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._entries]

    def __deepcopy__(self, memo: dict) -> "CallRecorder":  # a context copied for the log is not a second recorder
        return self

    def __len__(self) -> int:
        return len(self._entries)


def _json(obj: Any) -> str:
    if hasattr(obj, "model_dump"):
        obj = obj.model_dump(mode="json")
    return json.dumps(obj, default=str, ensure_ascii=False)


def sum_tokens(attempts: list[dict[str, Any]]) -> dict[str, int] | None:
    out: dict[str, int] = {}
    for a in attempts:
        for k, v in (a.get("tokens") or {}).items():
            out[k] = out.get(k, 0) + v
    return out or None


class RecordedVLM(VLM):
    """``vlm`` with every role call written to ``recorder`` (see the module docstring)."""

    def __init__(self, vlm: VLM, recorder: CallRecorder) -> None:
        self.inner, self.recorder, self.name = vlm, recorder, vlm.name

    def _call(self, role: str, inputs: str, fn: Any, *args: Any) -> Any:
        attempts: list[dict[str, Any]] = []
        token = _attempts.set(attempts)
        t0, result, error = time.perf_counter(), None, None
        try:
            result = fn(*args)
            return result
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            _attempts.reset(token)
            ms = round((time.perf_counter() - t0) * 1000.0, 1)
            last = attempts[-1] if attempts else {}
            self.recorder.record({
                "role": role, "provider": self.inner.name,
                "prompt": last.get("prompt") or clip(inputs), "prompt_digest": last.get("prompt_digest") or digest(inputs),
                "reply": last.get("reply") if attempts else (None if result is None else clip(_json(result))),
                "tokens": sum_tokens(attempts), "ms": ms, "error": error, "attempts": attempts})

    def describe(self, image_ref: ImageRef, scene: SceneInfo) -> SceneDescription:
        size = f"<image {getattr(image_ref, 'width', '?')}x{getattr(image_ref, 'height', '?')}>" \
            if hasattr(image_ref, "width") else f"<image {image_ref}>"
        regions = ", ".join(f"{r.name}:{r.label}" for r in scene.regions)
        return self._call("describe", f"{size} regions: {regions}", self.inner.describe, image_ref, scene)

    def classify(self, instruction: str, scene: SceneInfo | None = None) -> Intent:
        return self._call("classify", instruction, self.inner.classify, instruction, scene)

    def plan(self, intent: Intent, scene: SceneInfo, preferences: Preferences | None = None,
             critique: Critique | None = None) -> Plan:
        inputs = f"intent: {_json(intent)}\npreferences: {_json(dict(preferences or {}))}" + (
            f"\ncritique: {_json(critique)}" if critique is not None else "")
        return self._call("plan", inputs, self.inner.plan, intent, scene, preferences, critique)

    def critique(self, before_ref: ImageRef, after_ref: ImageRef, instruction: str, intent: Intent,
                 achieved: Iterable[Any], scene: SceneInfo | None = None) -> Critique:
        achieved = list(achieved or ())
        inputs = f"instruction: {instruction}\nachieved: " + _json([
            a.model_dump(mode="json") if hasattr(a, "model_dump") else getattr(a, "__dict__", a) for a in achieved])
        return self._call("critique", inputs, self.inner.critique, before_ref, after_ref, instruction, intent,
                          achieved, scene)
