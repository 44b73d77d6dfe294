"""Engines chosen by a string: ``get_engine("parametric")``, later ``"diffusion:PATH"``.

:data:`ENGINES` maps a scheme to a factory ``(arg, **kw) -> Engine``; another module
registers more with :func:`register` (the diffusion engine will add ``diffusion``).

>>> get_engine("parametric").name
'parametric'
"""

from __future__ import annotations

from typing import Callable

from pertouch.engine.base import Engine

Factory = Callable[..., Engine]


def _parametric(arg: str | None = None, **kw) -> Engine:
    from pertouch.engine.parametric.engine import ParametricEngine

    return ParametricEngine(**kw)


def _reference(arg: str | None = None, **kw) -> Engine:
    from pertouch.engine.parametric.reference import ReferenceEngine

    return ReferenceEngine(**kw)


def _diffusion(arg: str | None = None, **kw) -> Engine:
    from pertouch.engine.diffusion.engine import engine_factory  # torch/diffusers load only when a model does

    return engine_factory(arg, **kw)


ENGINES: dict[str, Factory] = {"parametric": _parametric, "reference": _reference, "diffusion": _diffusion}


def register(scheme: str, factory: Factory) -> None:
    """Add or replace an engine scheme (e.g. the diffusion engine registers itself)."""
    ENGINES[scheme] = factory


def get_engine(spec: str = "parametric", **kw) -> Engine:
    """An engine from ``"scheme"`` or ``"scheme:ARG"``; ``kw`` go to its constructor (e.g. ``table``)."""
    from pertouch.core.errors import ModelError

    scheme, _, arg = (spec or "parametric").partition(":")
    scheme = scheme.strip().lower()
    if scheme not in ENGINES:
        raise ModelError(f"unknown engine {spec!r}", hint=f"choose one of: {', '.join(sorted(ENGINES))}")
    return ENGINES[scheme](arg or None, **kw)
