"""What perception keeps in memory between calls, in one object its caller owns: the
loaded segmenters (by spec) and the last few scenes (by photo content hash + spec).

:func:`~pertouch.tools.segmentation.get_segmenter` and
:func:`~pertouch.tools.perception.perceive` take the :class:`PerceptionCache` to use as
``cache=``. The graph's :class:`~pertouch.graph.runtime.RuntimeCache` owns one and passes
it down, and its ``clear()`` empties it: the process's runtime cache owns
:func:`process_perception_cache`, a run with a runtime cache of its own gets a
perception cache of its own, so it never loads into the process's one. A caller with no
cache of its own (a CLI command, a batch job) gets the process's one.

The scenes written to disk (:mod:`pertouch.tools.scene_cache`) are not held here: they
outlive the process and are keyed by the code that made them.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from pertouch.core.lru import LRU

#: Scenes kept in memory per cache (the least recently used goes first).
SCENES = 6


class PerceptionCache:
    """Loaded segmenters by spec and the last :data:`SCENES` scenes by ``(content hash, spec)``."""

    def __init__(self, scenes: int = SCENES) -> None:
        self.segmenters: dict[str, Any] = {}
        self.scenes = LRU(scenes)  # (content hash, spec) -> Scene
        self._lock = threading.Lock()

    def segmenter(self, key: str, make: Callable[[], Any]) -> Any:
        """The segmenter cached under ``key``, made by ``make()`` (outside the lock: a model
        load may take seconds) and kept on a miss."""
        with self._lock:
            if key in self.segmenters:
                return self.segmenters[key]
        seg = make()
        with self._lock:
            self.segmenters[key] = seg
        return seg

    def clear(self) -> None:
        """Forget the loaded segmenters and the scenes (the disk cache stays)."""
        with self._lock:
            self.segmenters.clear()
        self.scenes.clear()


_PROCESS = PerceptionCache()


def process_perception_cache() -> PerceptionCache:
    """The process's :class:`PerceptionCache`, owned by the process's runtime cache
    (:func:`pertouch.graph.runtime.process_cache`) and used when a caller passes none."""
    return _PROCESS


def perception_cache(cache: PerceptionCache | None) -> PerceptionCache:
    """``cache``, or the process's one when None."""
    return _PROCESS if cache is None else cache
