"""Choose a VLM by a string: ``builtin``, ``openai:MODEL``, ``hf:PATH``, ``fake:FILE``.

Options may follow a ``?``: ``openai:llava?base_url=http://localhost:8000/v1&timeout=60``,
``hf:/models/qwen?device=cuda&max_new_tokens=512``. API keys never go in the
string (it is stored in settings and state): they come from ``api_key=`` in code or
the environment — ``PERTOUCH_API_KEY``, else ``OPENAI_API_KEY``. The base URL comes
from the ``base_url`` option, else ``PERTOUCH_OPENAI_BASE_URL`` / ``OPENAI_BASE_URL``,
else OpenAI's.

Per-role models: :func:`vlm_for_context` builds a :class:`RoutedVLM` that sends each
role to the model its context names (``classifier``, ``planner``, ``critic``,
``describer``; each falls back to ``vlm``).

>>> get_vlm("builtin").name
'builtin'
"""

from __future__ import annotations

from typing import Any, Iterable
from urllib.parse import parse_qsl

from pertouch.core.errors import ModelError
from pertouch.graph.vlm.base import VLM, ImageRef, Preferences
from pertouch.graph.vlm.schemas import Critique, Intent, Plan, SceneDescription, SceneInfo

KINDS = ("builtin", "openai", "hf", "fake")
#: context role → VLM method
ROLE_OF = {"describer": "describe", "classifier": "classify", "planner": "plan", "critic": "critique"}
_SECRET_OPTIONS = {"api_key", "key", "token", "apikey", "password"}


def parse_spec(spec: str) -> tuple[str, str, dict[str, str]]:
    """``"openai:gpt-4o?timeout=30"`` → ``("openai", "gpt-4o", {"timeout": "30"})``."""
    spec = (spec or "").strip()
    if not spec:
        raise ModelError("empty VLM spec", hint=f"use one of: {', '.join(k + ':…' if k != 'builtin' else k for k in KINDS)}")
    kind, _, rest = spec.partition(":")
    target, _, query = rest.partition("?")
    options = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
    if _SECRET_OPTIONS & {k.lower() for k in options}:
        raise ModelError("API keys must not be part of the model string (it is saved in settings and state)",
                         hint="set PERTOUCH_API_KEY or OPENAI_API_KEY instead")
    return kind.lower(), target, options


def get_vlm(spec: str, **kwargs: Any) -> VLM:
    """The VLM for ``spec``; ``kwargs`` (e.g. ``api_key``, ``base_url``, ``sleep``) go to the provider."""
    kind, target, options = parse_spec(spec)
    options = {**options, **kwargs}
    if kind == "builtin":
        from pertouch.graph.vlm.builtin.provider import BuiltinVLM

        return BuiltinVLM(use_embeddings=str(options.get("embeddings", "1")) not in ("0", "false", "no"))
    if kind not in KINDS:
        raise ModelError(f"unknown VLM kind {kind!r} in {spec!r}", hint=f"use one of: {', '.join(KINDS)}")
    if not target:
        raise ModelError(f"VLM spec {spec!r} needs a {'model name' if kind == 'openai' else 'path'} after ':'",
                         hint="e.g. openai:gpt-4o-mini, hf:/path/to/model, fake:script.json")
    if kind == "openai":
        from pertouch.graph.vlm.openai_provider import OpenAIVLM

        return OpenAIVLM(target, **options)
    if kind == "hf":
        from pertouch.graph.vlm.hf_provider import HFVLM

        return HFVLM(target, **options)
    if kind == "fake":
        from pertouch.graph.vlm.fake_provider import FakeVLM

        return FakeVLM(target)
    raise ModelError(f"unknown VLM kind {kind!r} in {spec!r}", hint=f"use one of: {', '.join(KINDS)}")


class RoutedVLM(VLM):
    """One VLM per role: ``RoutedVLM(describe=a, classify=b, plan=c, critique=d)``."""

    def __init__(self, *, describe: VLM, classify: VLM, plan: VLM, critique: VLM) -> None:
        self.roles = {"describe": describe, "classify": classify, "plan": plan, "critique": critique}
        self.name = "routed(" + ", ".join(f"{r}={v.name}" for r, v in self.roles.items()) + ")"

    def describe(self, image_ref: ImageRef, scene: SceneInfo) -> SceneDescription:
        return self.roles["describe"].describe(image_ref, scene)

    def classify(self, instruction: str, scene: SceneInfo | None = None) -> Intent:
        return self.roles["classify"].classify(instruction, scene)

    def plan(self, intent: Intent, scene: SceneInfo, preferences: Preferences | None = None,
             critique: Critique | None = None) -> Plan:
        return self.roles["plan"].plan(intent, scene, preferences, critique)

    def critique(self, before_ref: ImageRef, after_ref: ImageRef, instruction: str, intent: Intent,
                 achieved: Iterable[Any], scene: SceneInfo | None = None) -> Critique:
        return self.roles["critique"].critique(before_ref, after_ref, instruction, intent, achieved, scene)


def vlm_for_context(ctx: Any, **kwargs: Any) -> RoutedVLM:
    """A :class:`RoutedVLM` from a run context with ``model_for(role)`` (one instance per distinct spec)."""
    cache: dict[str, VLM] = {}
    chosen = {}
    for ctx_role, method in ROLE_OF.items():
        spec = ctx.model_for(ctx_role)
        if spec not in cache:
            cache[spec] = get_vlm(spec, **kwargs)
        chosen[method] = cache[spec]
    return RoutedVLM(**chosen)
