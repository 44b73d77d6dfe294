"""``fake:FILE``: scripted replies for tests, chosen by the same string as real models.

The file is JSON or JSONL:

- JSON: ``{"classify": [reply, ...], "plan": [...], "critique": [...], "describe": [...],
  "fallback": "builtin"}``
- JSONL: one ``{"role": "plan", "reply": {...}}`` (or ``"error": "..."``) per line; a
  line ``{"fallback": "builtin"}`` sets the fallback.

Replies are used per role, in order. A reply is the role's JSON object, a string
(raw model text: parsed and validated like a real model's answer), or
``{"error": "message"}`` which raises :class:`VLMError`. When a role's script runs
out, the ``fallback`` provider answers (e.g. ``builtin``); without one, VLMError.
Every call is recorded in :attr:`FakeVLM.calls` as ``(role, summary)``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

from pydantic import ValidationError

from pertouch.core.errors import ModelError
from pertouch.graph.vlm.base import VLM, ImageRef, Preferences, VLMError
from pertouch.graph.vlm.base import ROLES
from pertouch.graph.vlm.chat_base import extract_json, validation_message
from pertouch.graph.vlm.schemas import ROLE_SCHEMAS, Critique, Intent, Plan, SceneDescription, SceneInfo


def load_script(path: str | Path) -> tuple[dict[str, list[Any]], str | None]:
    """``(replies per role, fallback spec)`` from a script file; a clear error if malformed."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError(f"cannot read fake VLM script {p}: {exc.strerror or exc}",
                         hint="fake:FILE needs a JSON or JSONL script") from None
    replies: dict[str, list[Any]] = defaultdict(list)
    fallback = None
    try:
        if p.suffix == ".jsonl":
            for n, line in enumerate(text.splitlines(), 1):
                if not line.strip():
                    continue
                row = json.loads(line)
                if "fallback" in row:
                    fallback = row["fallback"]
                    continue
                if row.get("role") not in ROLES:
                    raise ValueError(f"line {n}: 'role' must be one of {', '.join(ROLES)}")
                replies[row["role"]].append({"error": row["error"]} if "error" in row else row.get("reply"))
        else:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("the script must be a JSON object of role → list of replies")
            fallback = data.pop("fallback", None)
            for role, items in data.items():
                if role not in ROLES or not isinstance(items, list):
                    raise ValueError(f"{role!r}: keys must be roles ({', '.join(ROLES)}) with a list of replies")
                replies[role].extend(items)
    except (json.JSONDecodeError, ValueError) as exc:
        raise ModelError(f"bad fake VLM script {p}: {exc}") from None
    return dict(replies), fallback


class FakeVLM(VLM):
    """Answers from a script (see the module docstring)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.name = f"fake:{self.path.name}"
        self.replies, fallback = load_script(self.path)
        self.fallback: VLM | None = None
        if fallback:
            from pertouch.graph.vlm.registry import get_vlm

            self.fallback = get_vlm(fallback)
        self.calls: list[tuple[str, str]] = []

    def remaining(self, role: str) -> int:
        return len(self.replies.get(role, []))

    def _next(self, role: str, summary: str, delegate) -> Any:
        self.calls.append((role, summary))
        queue = self.replies.get(role, [])
        if not queue:
            if self.fallback is not None:
                return delegate(self.fallback)
            raise VLMError(f"script has no more {role} replies", role=role, provider=self.name,
                           hint=f"add replies for {role!r} or a 'fallback' to {self.path}")
        reply = queue.pop(0)
        if isinstance(reply, dict) and set(reply) == {"error"}:
            raise VLMError(str(reply["error"]), role=role, provider=self.name)
        try:
            data = extract_json(reply) if isinstance(reply, str) else reply
            return ROLE_SCHEMAS[role].model_validate(data)
        except (ValidationError, ValueError) as exc:
            raise VLMError(f"invalid scripted answer: {validation_message(exc)}", role=role,
                           provider=self.name) from None

    def describe(self, image_ref: ImageRef, scene: SceneInfo) -> SceneDescription:
        return self._next("describe", str(image_ref)[:80], lambda v: v.describe(image_ref, scene))

    def classify(self, instruction: str, scene: SceneInfo | None = None) -> Intent:
        return self._next("classify", instruction, lambda v: v.classify(instruction, scene))

    def plan(self, intent: Intent, scene: SceneInfo, preferences: Preferences | None = None,
             critique: Critique | None = None) -> Plan:
        return self._next("plan", intent.kind, lambda v: v.plan(intent, scene, preferences, critique))

    def critique(self, before_ref: ImageRef, after_ref: ImageRef, instruction: str, intent: Intent,
                 achieved: Iterable[Any], scene: SceneInfo | None = None) -> Critique:
        achieved = list(achieved or [])
        return self._next("critique", instruction,
                          lambda v: v.critique(before_ref, after_ref, instruction, intent, achieved, scene))
