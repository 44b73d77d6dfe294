"""The memory interface the agent uses, and what a recall returns.

The agent graph talks to memory through :class:`Memory` only:

* before planning — ``recall(user, scene_description, descriptor)`` → :class:`Recall`
  with ``preferences`` (absolute target levels per region label per attribute, usable
  directly as recipe ``to`` edits), ``weights`` (how much evidence stands behind each
  level), ``locks`` (what the user said never to touch) and ``evidence`` (which
  memories, how similar, in one line each). Strong instructions follow their words
  first; weak ones ("make it nice") may lean on the preferences — the planner decides.
* after a result is accepted — ``remember(MemoryRecord(...))``.
* when the user says something about the result — ``add_feedback(user, text, ...)``.

Similarity of a stored scene to the query (both in [−1, 1]):
``TEXT_WEIGHT·cos(MiniLM(description)) + DESCRIPTOR_WEIGHT·cos(image descriptor)``
(0.5/0.5, :mod:`pertouch.memory.embeddings`); when one side lacks a descriptor (or a
description) the other component alone is used. Only memories of the SAME user are
ever searched (a metadata filter on every query), at least ``min_similarity`` similar
(default :data:`MIN_SIMILARITY`), the best ``k``. How they are weighted and combined
is in :mod:`pertouch.memory.preferences` (recency half-life
:data:`~pertouch.memory.preferences.HALF_LIFE_DAYS` days).

Every method may raise :class:`MemoryUnavailable` (store corrupt, locked for more than
a few seconds, server gone): callers that can work without memory catch it, say so, and
carry on — :func:`pertouch.memory.factory.open_memory_or_none` does that for opening.

Implementations: :class:`~pertouch.memory.chroma_store.ChromaMemory` (persistent,
default) and :class:`~pertouch.memory.inmemory.InMemoryMemory` (tests). Open one with
:func:`pertouch.memory.factory.open_memory`.
"""

from __future__ import annotations

import abc
import json
import time
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from pertouch.core.errors import InputError, NotFoundError, PertouchError
from pertouch.memory import carried
from pertouch.memory.embeddings import TEXT_DIM, combine, embed_text, scene_vectors
from pertouch.memory.importer import load_export
from pertouch.memory.preferences import aggregate, parse_feedback, score_candidates
from pertouch.memory.recall import Evidence, Recall  # noqa: F401 (part of this interface)
from pertouch.memory.records import MemoryRecord

#: Default similarity threshold of :meth:`Memory.recall`.
MIN_SIMILARITY = 0.4


class MemoryUnavailable(PertouchError):
    """The memory store cannot be opened or used (corrupt, locked, unreachable)."""


class Memory(abc.ABC):
    """Scene memory. Subclasses implement storage; recall/feedback logic lives here."""

    spec: str = ""

    # ----- storage primitives (subclasses) ---------------------------------------
    @abc.abstractmethod
    def _add(self, records: Sequence[MemoryRecord], vectors: np.ndarray) -> None:
        """Store records with their combined vectors ``(n, dim)`` float32 (upsert by id)."""

    @abc.abstractmethod
    def _search(self, user: str, vector: np.ndarray, n: int, kind: str | None) -> list[tuple[MemoryRecord, float]]:
        """Up to ``n`` nearest records of ``user`` (optionally of ``kind``), each with the
        inner product of ``vector`` and its stored vector."""

    @abc.abstractmethod
    def list(self, user: str | None = None, kind: str | None = None, limit: int | None = None) -> list[MemoryRecord]:
        """Records, newest first, optionally of one user/kind."""

    @abc.abstractmethod
    def get(self, record_id: str) -> MemoryRecord:
        """One record; :class:`NotFoundError` if there is none with that id."""

    @abc.abstractmethod
    def forget(self, record_id: str) -> None:
        """Delete one record; :class:`NotFoundError` if there is none with that id."""

    @abc.abstractmethod
    def forget_user(self, user: str) -> int:
        """Delete all of a user's records; returns how many."""

    @abc.abstractmethod
    def count(self, user: str | None = None) -> int:
        """Number of stored records (of one user)."""

    def _candidates(self, user: str, vector: np.ndarray, n: int,
                    kind: str | None) -> tuple[list[tuple[MemoryRecord, float]], list[MemoryRecord]]:
        """``_search`` results and the unscoped feedback (when ``kind`` allows it)."""
        unscoped = self._unscoped_feedback(user) if kind in (None, "feedback") else []
        return self._search(user, vector, n, kind), unscoped

    def _unscoped_feedback(self, user: str) -> list[MemoryRecord]:
        """The user's feedback given without a scene (it applies everywhere)."""
        return [r for r in self.list(user=user, kind="feedback") if not r.scene_description and not r.image_descriptor]

    def close(self) -> None:
        """Release the store (idempotent)."""

    def __enter__(self) -> "Memory":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ----- vectors -------------------------------------------------------------------
    descriptor_dim: int = 0

    def vector_for(self, scene_description: str, descriptor: Sequence[float] | np.ndarray | None) -> np.ndarray:
        """The combined search vector (see :mod:`pertouch.memory.embeddings`)."""

        return combine(embed_text(scene_description), descriptor, self.descriptor_dim)

    # ----- writes ----------------------------------------------------------------------
    def remember(self, record: MemoryRecord) -> str:
        """Store one record (a result or feedback); returns its id."""
        return self.remember_many([record])[0]

    def remember_many(self, records: Sequence[MemoryRecord], vectors: np.ndarray | None = None) -> list[str]:
        """Store records in one batch. ``vectors``: precomputed combined vectors
        ``(n, dim)`` (benchmarks, imports); computed from the records when None."""
        records = list(records)
        if not records:
            return []
        if vectors is None:
            vectors = self._scene_vectors(records)
        vectors = np.asarray(vectors, np.float32)
        if vectors.shape != (len(records), self._dim()):
            raise ValueError(f"vectors must have shape ({len(records)}, {self._dim()}), got {vectors.shape}")
        self._add(records, vectors)
        return [r.id for r in records]

    def _scene_vectors(self, records: Sequence[MemoryRecord],
                       known: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        """The stored vectors of ``records`` (descriptors checked first); ``known``: checked
        text vectors by description, not embedded again."""
        self._check_descriptors(records)
        return scene_vectors([(r.scene_description, r.image_descriptor) for r in records], self.descriptor_dim, known)

    def _check_descriptors(self, records: Sequence[MemoryRecord]) -> None:
        for r in records:
            if r.image_descriptor and len(r.image_descriptor) != self.descriptor_dim:
                raise InputError(f"memory {r.id}: image_descriptor has {len(r.image_descriptor)} values, "
                                 f"this store expects {self.descriptor_dim}",
                                 hint="recompute it with pertouch.memory.image_descriptor, or drop it")

    def add_feedback(self, user: str, text: str, *, scene: str = "", descriptor: Sequence[float] | None = None,
                     levels: dict[str, dict[str, float]] | None = None, about: str | None = None,
                     tags: Iterable[str] = (), image_hash: str = "") -> MemoryRecord:
        """Store what the user said as a feedback record and return it.

        ``text`` is parsed by :func:`pertouch.memory.preferences.parse_feedback`
        ("too warm", "I like it", "never touch skin tones"). ``scene``/``descriptor``
        scope it to similar scenes; with neither it applies to every scene of the user.
        ``levels`` (the levels of the result the feedback is about) or ``about`` (that
        result's record id) let "too warm" become a corrected target, not just a nudge.
        """
        text = (text or "").strip()
        if not text:
            raise InputError("feedback text is empty", hint='say what to change, e.g. "too warm"')
        effect = parse_feedback(text)
        if about:
            ref = self.get(about)
            if ref.user != user.strip():
                raise NotFoundError(f"no memory {about!r} for user {user!r}")
            levels = levels if levels is not None else ref.levels
            scene = scene or ref.scene_description
            descriptor = descriptor if descriptor is not None else (ref.image_descriptor or None)
            image_hash = image_hash or ref.image_hash
        record = MemoryRecord(user=user, kind="feedback", feedback=text, effect=effect, scene_description=scene,
                              image_descriptor=descriptor, levels=levels or {}, tags=list(tags),
                              rating=effect.rating if effect.rating is not None else 0.0, image_hash=image_hash)
        self.remember(record)
        return record

    # ----- recall ----------------------------------------------------------------------
    def recall(self, user: str, scene_description: str = "", descriptor: Sequence[float] | np.ndarray | None = None,
               *, k: int = 8, min_similarity: float = MIN_SIMILARITY, kind: str | None = None,
               now: float | None = None) -> Recall:
        """Preferences of ``user`` for a scene like this one (see the module docstring).

        ``descriptor``: :func:`pertouch.memory.descriptors.image_descriptor` of the
        photo, or None. ``kind``: only ``"result"`` or only ``"feedback"`` records.
        Feedback given without a scene applies to every scene (similarity 1).
        """

        user = user.strip()
        query = self.vector_for(scene_description, descriptor)
        candidates, unscoped = self._candidates(user, query, max(4 * k, 32), kind)
        scored = [(r, s) for r, s in score_candidates(query, candidates, self.descriptor_dim)
                  if r.kind != "feedback" or r.scene_description or r.image_descriptor]
        scored += [(r, 1.0) for r in unscoped]
        kept = [(r, s) for r, s in scored if r.user == user and s >= min_similarity]
        kept.sort(key=lambda rs: -rs[1])
        return aggregate(user, kept[:k], now=time.time() if now is None else now)

    # ----- export / import / stats ----------------------------------------------------
    def export(self, path: str | Path, user: str | None = None) -> int:
        """Write records (of one user, or all) as JSONL, oldest first; returns how many.
        The first record of each description carries its text vector
        (:mod:`pertouch.memory.carried`), so importing the file need not embed again."""
        records = sorted(self.list(user=user), key=lambda r: r.timestamp)
        vectors = self._text_vectors(records)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        written: set[str] = set()
        with tmp.open("w", encoding="utf-8") as fh:
            for r in records:
                text, vec = r.scene_description.strip(), vectors.get(r.id)
                if vec is None or text in written or not carried.is_unit(vec):
                    fh.write(r.dumps() + "\n")
                    continue
                written.add(text)
                fh.write(json.dumps({**r.to_json(), **carried.fields(vec)}, ensure_ascii=False,
                                    separators=(",", ":")) + "\n")
        tmp.replace(path)
        return len(records)

    def _text_vectors(self, records: Sequence[MemoryRecord]) -> dict[str, np.ndarray]:
        """Record id → the text part of its stored vector, where the store can say (exports)."""
        return {}

    def import_(self, path: str | Path) -> int:
        """Read a JSONL export and store its records (same id → replaced); returns how many.
        All or nothing: every line is validated first (:mod:`pertouch.memory.importer`),
        and a bad line — named in the error — means nothing is stored. Text vectors the
        file carries are used when a sample of them checks out (:mod:`pertouch.memory.carried`)."""

        got = load_export(path, self.descriptor_dim)
        self._import(got.records, carried.trusted(got.vectors))
        return len(got.records)

    def _import(self, records: Sequence[MemoryRecord], known: Mapping[str, np.ndarray] | None = None) -> None:
        """Store validated records in one batch (stores override it to skip unchanged ones);
        ``known``: checked text vectors by description."""
        self.remember_many(records, self._scene_vectors(records, known))

    def stats(self) -> dict[str, Any]:
        """Counts per user and kind, and where the store lives (plus, where cheap, the
        oldest and newest timestamps)."""
        records = self.list()
        users: dict[str, dict[str, int]] = {}
        for r in records:
            row = users.setdefault(r.user, {"result": 0, "feedback": 0})
            row[r.kind] += 1
        return {"store": self.spec, "records": len(records), "users": users,
                "oldest": min((r.timestamp for r in records), default=None),
                "newest": max((r.timestamp for r in records), default=None)}

    def _dim(self) -> int:

        return TEXT_DIM + self.descriptor_dim
