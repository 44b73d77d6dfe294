"""An in-process memory with the same behaviour as the Chroma store (for tests, ``memory:``).

Exact search (brute-force inner product over a numpy matrix); nothing persists.
"""

from __future__ import annotations

import threading
from typing import Sequence

import numpy as np

from pertouch.core.errors import NotFoundError
from pertouch.memory.base import Memory
from pertouch.memory.descriptors import DESCRIPTOR_DIM
from pertouch.memory.embeddings import split
from pertouch.memory.records import MemoryRecord


class InMemoryMemory(Memory):
    """``Memory`` kept in a dict; thread-safe; search is exact."""

    def __init__(self, descriptor_dim: int = DESCRIPTOR_DIM) -> None:
        self.descriptor_dim = descriptor_dim
        self.spec = "memory:"
        self._records: dict[str, MemoryRecord] = {}
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def _add(self, records: Sequence[MemoryRecord], vectors: np.ndarray) -> None:
        with self._lock:
            for r, v in zip(records, vectors):
                self._records[r.id] = r.model_copy(deep=True)
                self._vectors[r.id] = np.asarray(v, np.float32).copy()

    def _text_vectors(self, records: Sequence[MemoryRecord]) -> dict[str, np.ndarray]:
        with self._lock:
            return {r.id: split(self._vectors[r.id])[0] for r in records if r.id in self._vectors}

    def _search(self, user: str, vector: np.ndarray, n: int, kind: str | None) -> list[tuple[MemoryRecord, float]]:
        with self._lock:
            ids = [i for i, r in self._records.items() if r.user == user and (kind is None or r.kind == kind)]
            if not ids:
                return []
            ips = np.stack([self._vectors[i] for i in ids]) @ np.asarray(vector, np.float32)
            order = np.argsort(-ips)[:n]
            return [(self._records[ids[j]].model_copy(deep=True), float(ips[j])) for j in order]

    def list(self, user: str | None = None, kind: str | None = None, limit: int | None = None) -> list[MemoryRecord]:
        with self._lock:
            out = [r.model_copy(deep=True) for r in self._records.values()
                   if (user is None or r.user == user) and (kind is None or r.kind == kind)]
        out.sort(key=lambda r: -r.timestamp)
        return out[:limit] if limit else out

    def get(self, record_id: str) -> MemoryRecord:
        with self._lock:
            if record_id not in self._records:
                raise NotFoundError(f"no memory with id {record_id!r}", hint="see `pertouch memory list`")
            return self._records[record_id].model_copy(deep=True)

    def forget(self, record_id: str) -> None:
        with self._lock:
            if record_id not in self._records:
                raise NotFoundError(f"no memory with id {record_id!r}", hint="see `pertouch memory list`")
            del self._records[record_id], self._vectors[record_id]

    def forget_user(self, user: str) -> int:
        with self._lock:
            ids = [i for i, r in self._records.items() if r.user == user]
            for i in ids:
                del self._records[i], self._vectors[i]
        return len(ids)

    def count(self, user: str | None = None) -> int:
        with self._lock:
            return sum(1 for r in self._records.values() if user is None or r.user == user)
