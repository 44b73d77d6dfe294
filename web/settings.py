"""The models a browser may pick: the VLM, the segmenter and the engine this server offers.

A server offers what it was started with (``pertouch serve --vlm A --vlm B --segmenter S
--engine E``: the first of each is the default) and the ones every install has
(:data:`BUILTIN`). A browser picks by name among those only, so no value it sends
becomes a model path the server was not told about.

>>> from pertouch.graph.context import RunContext
>>> choices(RunContext(), {"vlm": ["fake:/s.json"]})["engine"]
['parametric', 'reference']
>>> pick(RunContext(), choices(RunContext(), {}), {"engine": "reference"}).engine
'reference'
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping, Sequence

from pertouch.core.errors import InputError
from pertouch.graph.context import RunContext

#: Offered by every server (no model files needed).
BUILTIN: dict[str, tuple[str, ...]] = {"vlm": ("builtin",), "segmenter": ("builtin",),
                                       "engine": ("parametric", "reference")}
KEYS = tuple(BUILTIN)


def choices(ctx: RunContext, offer: Mapping[str, Sequence[str]] | None = None) -> dict[str, list[str]]:
    """Per key, the offered names: the server's default first, then the other configured ones, then
    :data:`BUILTIN`."""
    offer = offer or {}
    return {k: list(dict.fromkeys(x for x in (getattr(ctx, k), *(offer.get(k) or ()), *BUILTIN[k]) if x))
            for k in KEYS}


def pick(ctx: RunContext, allowed: Mapping[str, list[str]], settings: Any,
         current: RunContext | None = None) -> RunContext:
    """``ctx`` with the browser's ``settings`` (``{"vlm", "segmenter", "engine"}``, each optional:
    a missing one keeps ``current``'s, else the server's default). Raises InputError for a name
    the server does not offer."""
    settings = settings or {}
    if not isinstance(settings, dict):
        raise InputError("settings must be an object")
    picked = {}
    for key in KEYS:
        value = settings.get(key) or (getattr(current, key) if current is not None else allowed[key][0])
        if not isinstance(value, str) or value not in allowed[key] and value != getattr(current, key, None):
            raise InputError(f"{key} {str(value)[:60]!r} is not offered by this server",
                             hint=f"choose one of {', '.join(allowed[key])}")
        picked[key] = value
    return replace(ctx if current is None else current, **picked)


def describe(ctx: RunContext) -> str:
    """``VLM builtin, segmenter builtin, engine parametric``."""
    return ", ".join(f"{'VLM' if k == 'vlm' else k} {getattr(ctx, k)}" for k in KEYS)
