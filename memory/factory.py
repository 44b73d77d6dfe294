"""Open a memory store from a string, the way every other PerTouch component is chosen.

=============================  =====================================================
spec                           store
=============================  =====================================================
``None``, ``""``, ``chroma``   persistent ChromaDB in ``app_home()/memory``
``chroma:/some/folder``        persistent ChromaDB in that folder
``/some/folder``               the same
``chroma+http://host:8000``    a Chroma server (``chroma run --path DIR --port 8000``)
``memory:``                    in-process, nothing persists (tests, "no memory" runs)
=============================  =====================================================

``PERTOUCH_MEMORY`` (environment) is used when ``spec`` is None.
:func:`open_memory_or_none` never raises for an unusable store: the agent then runs
without memory and shows the returned warning.
"""

from __future__ import annotations

import os
from pathlib import Path

from pertouch.core.errors import InputError
from pertouch.core.home import app_home
from pertouch.memory.base import Memory, MemoryUnavailable

ENV_VAR = "PERTOUCH_MEMORY"

_IN_PROCESS: dict[str, Memory] = {}


def default_path() -> Path:
    """Where the default persistent store lives: ``app_home()/memory``."""
    return app_home() / "memory"


def open_memory(spec: str | None = None) -> Memory:
    """The memory store named by ``spec`` (see the module docstring).

    ``memory:`` gives a fresh in-process store; ``memory:NAME`` one shared by name
    within this process. Raises :class:`MemoryUnavailable` for a store that cannot be
    opened and :class:`InputError` for a spec that names no store.
    """
    if spec is None:
        spec = os.environ.get(ENV_VAR) or None
    spec = (spec or "chroma").strip()
    if spec.startswith("memory:"):
        from pertouch.memory.inmemory import InMemoryMemory

        name = spec[len("memory:"):]
        if not name:
            return InMemoryMemory()
        return _IN_PROCESS.setdefault(name, InMemoryMemory())
    from pertouch.memory.chroma_store import ChromaMemory

    if spec == "chroma":
        return ChromaMemory(default_path())
    if spec.startswith(("chroma+http://", "chroma+https://")):
        return ChromaMemory(spec)
    if spec.startswith("chroma:"):
        spec = spec[len("chroma:"):]
    if "://" in spec or not spec:
        raise InputError(f"unknown memory store {spec!r}",
                         hint="use chroma, chroma:FOLDER, chroma+http://HOST:PORT or memory:")
    return ChromaMemory(Path(spec))


def open_memory_or_none(spec: str | None = None) -> tuple[Memory | None, str | None]:
    """``(memory, None)``, or ``(None, warning)`` when the store cannot be used.

    The warning is one line for the user, e.g. "memory is off for this run: memory
    store … is locked by another process — …".
    """
    try:
        return open_memory(spec), None
    except (MemoryUnavailable, InputError) as exc:
        return None, f"memory is off for this run: {exc.one_line()}"
