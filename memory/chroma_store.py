"""The persistent memory: one ChromaDB collection of scene vectors.

Where: an embedded ``PersistentClient`` in ``app_home()/memory`` by default (or any
folder), or a Chroma server (``chroma run --path DIR --port 8000``) reached with
``chroma+http://host:port``. One collection PER USER (``pertouch_u_<sha1(user)[:16]>``,
inner-product space, the user's name in its metadata): a query can only ever reach the
asking user's collection, and every result's ``user`` metadata is checked again. Feedback
given without a scene ("never touch skin tones"), which every recall needs, sits in a
small second collection per user (``pertouch_g_…``) read whole — a metadata filter for it
inside a 50,000-record collection cost 11 ms. (A
single shared collection with a ``where={"user": …}`` filter was measured first: Chroma
pays ~3 ms per 1,000 matching records for that filter — 30 ms for a user with 10,000
memories — while an unfiltered search of a 10,000-record collection takes ~1 ms.)

Per record: id, document = scene description, embedding = the combined vector
(:mod:`pertouch.memory.embeddings`), metadata = ``user``, ``kind``, ``timestamp``,
``rating``, ``image_hash``, ``scoped`` (has a scene), ``schema_version`` and the
full record as JSON (``record``). Collections carry their schema version (migrated when
first used, :mod:`.chroma_schema`); ``list -n N``/``stats`` read :mod:`.index` beside them.

Safety: within a process one client per path is shared (:mod:`.chroma_client`); across processes a file lock
(``<path>/.pertouch.lock``) serialises opening and every read and write, so two
processes writing at once lose nothing. A store that cannot be opened (corrupt files,
lock held too long, server down) raises :class:`~pertouch.memory.base.MemoryUnavailable`.
Telemetry is off. The embedding function is always ours, never Chroma's default.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from pertouch.core.errors import NotFoundError
from pertouch.memory.base import Memory, MemoryUnavailable
from pertouch.memory.chroma_client import client_for, http_client
from pertouch.memory.descriptors import DESCRIPTOR_DIM
from pertouch.memory.index import RecordIndex, Row, rows_from
from pertouch.memory.chroma_schema import check_schema
from pertouch.memory.records import SCHEMA_VERSION, MemoryRecord, parse_record

PREFIX = "pertouch_u_"
GLOBAL_PREFIX = "pertouch_g_"
PREFIXES = (PREFIX, GLOBAL_PREFIX)
LOCK_TIMEOUT_S = 10.0
HNSW = {"space": "ip", "ef_construction": 128, "ef_search": 64, "max_neighbors": 16}

def _meta(record: MemoryRecord) -> dict[str, Any]:
    return {"user": record.user, "kind": record.kind, "timestamp": float(record.timestamp),
            "rating": float(record.rating), "image_hash": record.image_hash or "",
            "scoped": bool(record.scene_description or record.image_descriptor),
            "schema_version": SCHEMA_VERSION, "record": record.dumps()}


def collection_name(user: str, unscoped: bool = False) -> str:
    """The Chroma collection of one user's scene memories (or, ``unscoped``, of their
    feedback without a scene); a valid Chroma name whatever the user name."""
    return (GLOBAL_PREFIX if unscoped else PREFIX) + hashlib.sha1(user.encode("utf-8")).hexdigest()[:16]


def is_unscoped(record: MemoryRecord) -> bool:
    """Feedback that applies to every scene of its user."""
    return record.kind == "feedback" and not record.scene_description and not record.image_descriptor


def _where(user: str | None = None, kind: str | None = None, **extra: Any) -> dict[str, Any] | None:
    conds = [{k: v} for k, v in (("user", user), ("kind", kind)) if v is not None]
    conds += [{k: v} for k, v in extra.items()]
    if not conds:
        return None
    return conds[0] if len(conds) == 1 else {"$and": conds}


class ChromaMemory(Memory):
    """``Memory`` in ChromaDB, one collection per user. ``location``: a folder, or
    ``chroma+http://host:port``."""

    def __init__(self, location: str | Path, descriptor_dim: int = DESCRIPTOR_DIM,
                 lock_timeout: float = LOCK_TIMEOUT_S) -> None:
        self.descriptor_dim = descriptor_dim
        self._lock_timeout = lock_timeout
        loc = str(location)
        self._remote = loc.startswith("chroma+http")
        self._path = None if self._remote else Path(loc).expanduser()
        self.spec = loc if self._remote else f"chroma:{self._path}"
        self._flock = None
        self._checked: set[str] = set()  # collections whose schema was checked this session
        self._index = RecordIndex(self._path) if self._path is not None else None
        try:
            if self._path is not None:
                self._path.mkdir(parents=True, exist_ok=True)
                from filelock import FileLock

                self._flock = FileLock(str(self._path / ".pertouch.lock"))
            with self._locked():
                self._client = http_client(loc) if self._remote else client_for(self._path)
                from pertouch.memory.embeddings import scene_embedding_function

                self._ef = scene_embedding_function(self.descriptor_dim)
                for name in self._names():  # check every collection opens (and migrate)
                    self._open(name)
        except MemoryUnavailable:
            raise
        except Exception as exc:
            raise MemoryUnavailable(f"memory store {self.spec} cannot be opened ({type(exc).__name__}: {exc})",
                                    hint=self._fix_hint()) from None

    # ----- plumbing ----------------------------------------------------------------------
    def _fix_hint(self) -> str:
        if self._remote:
            return "check that the Chroma server runs (`chroma run --path DIR`) and the URL is right"
        return f"move {self._path} aside to start a fresh memory, or use --memory memory: for this run"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        if self._flock is None:
            yield
            return
        from filelock import Timeout

        try:
            self._flock.acquire(timeout=self._lock_timeout)
        except Timeout:
            raise MemoryUnavailable(f"memory store {self._path} is locked by another process",
                                    hint="wait for it to finish, or remove a stale .pertouch.lock") from None
        try:
            yield
        finally:
            self._flock.release()

    @contextlib.contextmanager
    def _op(self, what: str) -> Iterator[None]:
        """Lock and turn store failures into MemoryUnavailable."""
        with self._locked():
            try:
                yield
            except (MemoryUnavailable, NotFoundError):
                raise
            except Exception as exc:
                raise MemoryUnavailable(f"memory store {self.spec} failed to {what} ({type(exc).__name__}: {exc})",
                                        hint=self._fix_hint()) from None

    def _names(self) -> list[str]:
        """Names of all user collections (call under the lock)."""
        out = []
        for c in self._client.list_collections():
            name = c if isinstance(c, str) else c.name
            if name.startswith(PREFIXES):
                out.append(name)
        return sorted(out)

    def _open(self, name: str, user: str | None = None) -> Any:
        """A user collection; created when ``user`` is given, else None if missing (under the lock)."""
        from pertouch.memory.embeddings import TEXT_WEIGHT

        if user is not None:
            meta = {"pertouch_schema": SCHEMA_VERSION, "descriptor_dim": self.descriptor_dim,
                    "text_weight": TEXT_WEIGHT, "user": user, "created_by": "pertouch"}
            col = self._client.get_or_create_collection(name, embedding_function=self._ef, metadata=meta,
                                                        configuration={"hnsw": dict(HNSW)})
        else:
            try:
                col = self._client.get_collection(name, embedding_function=self._ef)
            except Exception as exc:
                if "does not exist" in str(exc) or type(exc).__name__ in ("NotFoundError", "InvalidCollectionException"):
                    return None
                raise
        if name not in self._checked:
            check_schema(col, self.spec, self.descriptor_dim)
            self._checked.add(name)
        return col

    def _batch(self) -> int:
        try:
            return max(1, min(5000, int(self._client.get_max_batch_size())))
        except Exception:  # pragma: no cover - old servers
            return 1000

    @staticmethod
    def _records(metas: Sequence[dict[str, Any]]) -> list[MemoryRecord]:
        return [parse_record(json.loads(m["record"]), origin="stored memory") for m in metas]

    def _names_of(self, user: str | None) -> list[str]:
        """The collections of one user, or all (call under the lock)."""
        if user is None:
            return self._names()
        return [collection_name(user), collection_name(user, unscoped=True)]

    def _find(self, record_id: str) -> Any:
        """The collection holding ``record_id`` (under the lock) or None."""
        for name in self._names():
            col = self._open(name)
            if col is not None and col.get(ids=[record_id], include=[])["ids"]:
                return col
        return None

    # ----- storage primitives ------------------------------------------------------------
    def _add(self, records: Sequence[MemoryRecord], vectors: np.ndarray) -> None:
        with self._op("store memories"):
            clean = self._index_begin()
            rows = [row for name, col, part in self._groups(records) for row in self._put(col, name, records, vectors, part)]
            self._index_done(clean, rows)

    def _groups(self, records: Sequence[MemoryRecord]) -> Iterator[tuple[str, Any, list[int]]]:
        """(collection name, collection, indices of its records) in batches Chroma takes (under the lock)."""
        step = self._batch()
        groups: dict[tuple[str, bool], list[int]] = {}
        for i, r in enumerate(records):
            groups.setdefault((r.user, is_unscoped(r)), []).append(i)
        for (user, unscoped), idx in groups.items():
            name = collection_name(user, unscoped)
            col = self._open(name, user=user)
            for k in range(0, len(idx), step):
                yield name, col, idx[k:k + step]

    @staticmethod
    def _put(col: Any, name: str, records: Sequence[MemoryRecord], vectors: np.ndarray, part: list[int]) -> list[Row]:
        """Add new ids; replace existing ones by delete + add (Chroma's upsert of an existing id
        re-inserts into the index one by one: 12x slower than delete + add, measured)."""
        have = set(col.get(ids=[records[i].id for i in part], include=[])["ids"])
        if have:
            col.delete(ids=sorted(have))
        chunk = [records[i] for i in part]
        col.add(ids=[r.id for r in chunk], embeddings=vectors[part], metadatas=[_meta(r) for r in chunk],
                documents=[r.scene_description for r in chunk])
        return [Row(r.id, name, r.user, r.kind, float(r.timestamp)) for r in chunk]

    # ----- the list/stats index ------------------------------------------------------------
    def _index_begin(self) -> bool:
        """Mark the index dirty before a write; True when it was usable before (under the lock)."""
        if self._index is None:
            return False
        try:
            return self._index.begin()
        except Exception:  # an unreadable index is rebuilt on the next read
            self._index.reset()
            return False

    def _index_done(self, clean: bool, rows: Sequence[Row] = (), **changes: Any) -> None:
        if self._index is not None and clean:
            self._index.record(rows, **changes)

    def _fresh_index(self) -> bool:
        """True when the index can answer; rebuilt from Chroma's metadata when stale (under the lock)."""
        if self._index is None:
            return False
        cols = {n: c for n in self._names() if (c := self._open(n)) is not None}
        if self._index.is_valid({n: int(c.count()) for n, c in cols.items()}):
            return True
        try:
            self._index.rebuild(rows_from(cols))
        except Exception:  # pragma: no cover - a read-only folder: answer the slow way
            return False
        return True

    def _import(self, records: Sequence[MemoryRecord], known: Mapping[str, np.ndarray] | None = None) -> None:
        from pertouch.memory.chroma_import import import_records

        import_records(self, records, known)

    def _text_vectors(self, records: Sequence[MemoryRecord]) -> dict[str, np.ndarray]:
        from pertouch.memory.chroma_import import stored_text_vectors

        return stored_text_vectors(self, records)

    def _search(self, user: str, vector: np.ndarray, n: int, kind: str | None) -> list[tuple[MemoryRecord, float]]:
        return self._candidates(user, vector, n, kind, unscoped=False)[0]

    def _unscoped_feedback(self, user: str) -> list[MemoryRecord]:
        with self._op("read memories"):
            col = self._open(collection_name(user, unscoped=True))
            got = col.get(include=["metadatas"])["metadatas"] if col is not None else []
        return [r for r in self._records(got) if r.user == user]

    def _candidates(self, user: str, vector: np.ndarray, n: int, kind: str | None,
                    unscoped: bool = True) -> tuple[list[tuple[MemoryRecord, float]], list[MemoryRecord]]:
        """One lock, one collection lookup: nearest records and the unscoped feedback."""
        with self._op("search"):
            col = self._open(collection_name(user))
            res = {"metadatas": [[]], "distances": [[]]}
            if col is not None:
                # distances, not embeddings: 2.5 ms instead of 5.8 ms for 32 results (measured)
                res = col.query(query_embeddings=[np.asarray(vector, np.float32)], n_results=n,
                                where=_where(kind=kind), include=["metadatas", "distances"])
            gcol = self._open(collection_name(user, unscoped=True)) if unscoped and kind in (None, "feedback") else None
            fb = gcol.get(include=["metadatas"])["metadatas"] if gcol is not None else []
        pairs = zip(self._records(res["metadatas"][0]), res["distances"][0])
        # ip space: distance = 1 − inner product; the user is checked again on every result
        found = [(r, 1.0 - float(d)) for r, d in pairs if r.user == user]
        return found, [r for r in self._records(fb) if r.user == user]

    def list(self, user: str | None = None, kind: str | None = None, limit: int | None = None) -> list[MemoryRecord]:
        out: list[MemoryRecord] = []
        with self._op("read memories"):
            if limit and self._fresh_index():  # the newest N from the index, then only those records
                by_col: dict[str, list[str]] = {}
                for row in self._index.newest(user, kind, limit):  # type: ignore[union-attr]
                    by_col.setdefault(row.collection, []).append(row.id)
                for name, ids in by_col.items():
                    col = self._open(name)
                    if col is not None:
                        out += self._records(col.get(ids=ids, include=["metadatas"])["metadatas"])
            for name in self._names_of(user) if not out else ():
                col = self._open(name)
                if col is not None:
                    out += self._records(col.get(where=_where(kind=kind), include=["metadatas"])["metadatas"])
        out = [r for r in out if user is None or r.user == user]
        out.sort(key=lambda r: -r.timestamp)
        return out[:limit] if limit else out

    def get(self, record_id: str) -> MemoryRecord:
        with self._op("read a memory"):
            col = self._find(record_id)
            got = col.get(ids=[record_id], include=["metadatas"]) if col is not None else None
        if not got or not got["ids"]:
            raise NotFoundError(f"no memory with id {record_id!r}", hint="see `pertouch memory list`")
        return self._records(got["metadatas"])[0]

    def forget(self, record_id: str) -> None:
        with self._op("forget a memory"):
            col = self._find(record_id)
            if col is None:
                raise NotFoundError(f"no memory with id {record_id!r}", hint="see `pertouch memory list`")
            clean = self._index_begin()
            col.delete(ids=[record_id])
            self._index_done(clean, delete=[record_id])

    def forget_user(self, user: str) -> int:
        n = 0
        with self._op("forget memories"):
            clean = self._index_begin()
            for name in self._names_of(user):
                col = self._open(name)
                if col is not None:
                    n += int(col.count())
                    self._client.delete_collection(name)
                    self._checked.discard(name)
            self._index_done(clean, drop=self._names_of(user))
        return n

    def count(self, user: str | None = None) -> int:
        with self._op("count memories"):
            cols = [self._open(n) for n in self._names_of(user)]
            return sum(int(c.count()) for c in cols if c is not None)

    def stats(self) -> dict[str, Any]:
        """Counts per user and kind from the index (no record is parsed: fast at 100k)."""
        users: dict[str, dict[str, int]] = {}
        with self._op("count memories"):
            if self._fresh_index():
                users = self._index.counts()  # type: ignore[union-attr]
            for name in self._names() if not users else ():
                col = self._open(name)
                if col is None:
                    continue
                total = int(col.count())
                feedback = total if name.startswith(GLOBAL_PREFIX) else \
                    len(col.get(where=_where(kind="feedback"), include=[])["ids"])
                row = users.setdefault(str((col.metadata or {}).get("user", name)), {"result": 0, "feedback": 0})
                row["result"] += total - feedback
                row["feedback"] += feedback
        return {"store": self.spec, "records": sum(sum(r.values()) for r in users.values()), "users": users}

    def close(self) -> None:
        """Nothing to flush (Chroma writes through); the cached client stays for reuse."""
        self._checked.clear()
