"""What model-backed providers share: prompts per role, JSON parsing, validation retry.

A subclass implements :meth:`ChatVLM.complete` — one chat turn: provider-neutral
messages ``[{"role": "system"|"user"|"assistant", "text": str, "images": [PIL]}]``
plus the role's pydantic schema → the model's text. Everything else is here: the
four roles build their messages from :mod:`pertouch.graph.vlm.prompts`, the answer
is parsed as JSON (a fenced or embedded object is accepted) and validated; an
invalid answer is retried ONCE with the validation error shown to the model; what
still fails raises :class:`VLMError`.
"""

from __future__ import annotations

import abc
import json
import re
import time
from typing import Any, Iterable

from pydantic import BaseModel, ValidationError

from pertouch.graph.vlm import prompts
from pertouch.graph.vlm.base import VLM, ImageRef, Preferences, VLMError, load_image, to_measured
from pertouch.graph.vlm.calls import note_attempt
from pertouch.graph.vlm.schemas import ROLE_SCHEMAS, Critique, Intent, Plan, SceneDescription, SceneInfo

#: Longest side of images sent to a model.
IMAGE_MAX_SIDE = 768


def extract_json(text: str) -> Any:
    """The JSON object in a model's text: the whole text, a ```json fence, or the outermost {...}."""
    text = (text or "").strip()
    fence = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    candidates = [text] + ([fence.group(1)] if fence else [])
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start:end + 1])
    for c in candidates:
        try:
            return json.loads(c)
        except (json.JSONDecodeError, ValueError):
            continue
    raise ValueError("the answer contains no JSON object")


def validation_message(exc: Exception) -> str:
    """A compact, model-readable description of why an answer was rejected."""
    if isinstance(exc, ValidationError):
        errs = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()[:6]]
        return "; ".join(errs)
    return str(exc)


class ChatVLM(VLM):
    """Base of ``openai:`` and ``hf:`` providers (see the module docstring)."""

    #: Attempts for one role call: the first answer and one retry with the error shown.
    validation_attempts = 2

    @abc.abstractmethod
    def complete(self, messages: list[dict[str, Any]], schema: type[BaseModel], role: str) -> str:
        """One chat turn → the model's raw text. Raise :class:`VLMError` on transport failure."""

    def redact(self, text: str) -> str:
        """Remove secrets from text that may reach logs or errors (providers with keys override)."""
        return text

    def ask(self, role: str, user: str, images: Iterable[ImageRef] = ()) -> BaseModel:
        """Ask ``role``; the validated result. Raises :class:`VLMError` after the retry."""
        schema = ROLE_SCHEMAS[role]
        pics = [load_image(i, IMAGE_MAX_SIDE) for i in images if i is not None]
        messages: list[dict[str, Any]] = [
            {"role": "system", "text": prompts.system(role), "images": []},
            {"role": "user", "text": user, "images": pics},
        ]
        last_error = ""
        for attempt in range(self.validation_attempts):
            t0 = time.perf_counter()
            try:
                text = self._complete_in_words(messages, schema, role)
            except VLMError as exc:
                note_attempt(messages, None, (time.perf_counter() - t0) * 1000.0, self.redact(str(exc)))
                raise
            ms = (time.perf_counter() - t0) * 1000.0
            try:
                answer = schema.model_validate(extract_json(text))
                note_attempt(messages, text, ms)
                return answer
            except (ValidationError, ValueError) as exc:
                last_error = validation_message(exc)
                note_attempt(messages, text, ms, f"invalid answer: {last_error}")
                messages = messages + [
                    {"role": "assistant", "text": text, "images": []},
                    {"role": "user", "text": f"That answer was invalid: {last_error}. Answer again with only "
                                             "one JSON object that matches the schema.", "images": []},
                ]
        raise VLMError(self.redact(f"invalid answer after {self.validation_attempts} attempts: {last_error}"),
                       role=role, provider=self.name, hint="try another model, or the builtin brain (--vlm builtin)")

    def _complete_in_words(self, messages: list[dict[str, Any]], schema: type[BaseModel], role: str) -> str:
        """:meth:`complete`, with a reply that is not an API answer at all (an HTML page, a
        proxy's error text, another API's JSON) said in words instead of a parser's message."""
        hint = "check the server URL (it usually ends in /v1) and that it speaks the OpenAI chat API"
        try:
            text = self.complete(messages, schema, role)
        except VLMError:
            raise
        except json.JSONDecodeError as exc:
            body = " ".join(str(exc.doc or "").split())[:60]
            raise VLMError(self.redact(f"the server's reply is not JSON, so it is not an OpenAI-compatible answer "
                                       f"(it begins {body!r})" if body else "the server's reply was empty, not JSON"),
                           role=role, provider=self.name, hint=hint) from None
        except (AttributeError, TypeError, KeyError, IndexError) as exc:
            raise VLMError(self.redact(f"the server's reply is not an OpenAI chat completion ({type(exc).__name__}: "
                                       f"{exc})"), role=role, provider=self.name, hint=hint) from None
        if not isinstance(text, str):
            raise VLMError(f"the server's reply holds no text but {type(text).__name__}", role=role,
                           provider=self.name, hint=hint)
        return text

    # --- the four roles ---------------------------------------------------------
    def describe(self, image_ref: ImageRef, scene: SceneInfo) -> SceneDescription:
        return self.ask("describe", prompts.user_describe(scene), [image_ref])  # type: ignore[return-value]

    def classify(self, instruction: str, scene: SceneInfo | None = None) -> Intent:
        return self.ask("classify", prompts.user_classify(instruction, scene))  # type: ignore[return-value]

    def plan(self, intent: Intent, scene: SceneInfo, preferences: Preferences | None = None,
             critique: Critique | None = None) -> Plan:
        prefs = {k: dict(v) for k, v in (preferences or {}).items()}
        return self.ask("plan", prompts.user_plan(intent, scene, prefs, critique))  # type: ignore[return-value]

    def critique(self, before_ref: ImageRef, after_ref: ImageRef, instruction: str, intent: Intent,
                 achieved: Iterable[Any], scene: SceneInfo | None = None) -> Critique:
        user = prompts.user_critique(instruction, intent, to_measured(achieved))
        return self.ask("critique", user, [before_ref, after_ref])  # type: ignore[return-value]
