"""The bounded, thread-safe memo the caches are made of (runtime, perception, web previews).

>>> memo = LRU(2)
>>> memo.get_or("a", lambda: 1), memo.get_or("b", lambda: 2), memo.get_or("c", lambda: 3)
(1, 2, 3)
>>> list(memo)  # the least recently used went first
['b', 'c']
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable


class LRU(OrderedDict):
    """An ordered dict that keeps its ``size`` most recently used entries.

    :meth:`get_or` and :meth:`hit` mark an entry used, :meth:`put` adds one and drops the
    least recently used beyond ``size``; they and :meth:`clear` hold ``lock`` (one of its own unless several
    memos share one). A value is made outside the lock: a load may take seconds."""

    def __init__(self, size: int, lock: Any = None) -> None:
        super().__init__()
        self.size = size
        self.lock = threading.RLock() if lock is None else lock

    def hit(self, key: Any) -> Any | None:
        """The value under ``key`` (now the most recently used), or None."""
        with self.lock:
            if key in self:
                self.move_to_end(key)
                return self[key]
        return None

    def put(self, key: Any, value: Any) -> Any:
        """Keep ``value`` under ``key`` as the most recently used; returns it."""
        with self.lock:
            self[key] = value
            self.move_to_end(key)
            while len(self) > self.size:
                self.popitem(last=False)
        return value

    def get_or(self, key: Any, make: Callable[[], Any]) -> Any:
        """The value under ``key``, else ``make()`` kept there."""
        with self.lock:
            if key in self:
                self.move_to_end(key)
                return self[key]
        return self.put(key, make())

    def clear(self) -> None:
        with self.lock:
            super().clear()
