"""``memory import`` into Chroma: fast, and all or nothing.

The records arrive validated (:mod:`pertouch.memory.importer`). Each is then one of:

* **unchanged** — stored already with the same JSON: nothing to do (re-importing an
  export writes nothing);
* **same scene** — stored with the same description and descriptor but other fields
  changed (a rating, levels): its stored vector is kept, only the metadata is updated;
* **new scene** — not stored, or stored under another description: its vector is
  computed (each distinct description embedded once, in batches, outside the store's
  lock — or taken from the file when it carries it, :mod:`pertouch.memory.carried`) and
  it is added (an existing id is deleted first: Chroma's upsert of an existing id is
  ~12× slower than delete + add, measured).

Writes run under the store's lock; if any fails, what was added is deleted and what was
replaced is put back, and the error says nothing was imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from pertouch.memory.base import MemoryUnavailable
from pertouch.memory.index import Row
from pertouch.memory.records import MemoryRecord

if TYPE_CHECKING:  # pragma: no cover
    from pertouch.memory.chroma_store import ChromaMemory


def _same_scene(old: dict[str, Any], r: MemoryRecord) -> bool:
    import json

    o = json.loads(old["record"])
    return (o.get("scene_description") or "") == r.scene_description and \
        list(o.get("image_descriptor") or []) == list(r.image_descriptor)


def import_records(mem: "ChromaMemory", records: Sequence[MemoryRecord],
                   known: Mapping[str, np.ndarray] | None = None) -> None:
    """Store ``records`` (see the module docstring); ``known``: checked text vectors the
    file carried (description → vector), not embedded again."""
    from pertouch.memory.chroma_store import _meta, collection_name, is_unscoped

    by_col: dict[str, list[MemoryRecord]] = {}
    for r in records:
        by_col.setdefault(collection_name(r.user, is_unscoped(r)), []).append(r)
    old: dict[str, tuple[dict, np.ndarray, str]] = {}  # id → (metadata, vector, document) stored now
    with mem._op("read memories"):
        for name, recs in by_col.items():
            col = mem._open(name)
            for k in range(0, len(recs) if col is not None else 0, 5000):
                got = col.get(ids=[r.id for r in recs[k:k + 5000]], include=["metadatas", "embeddings", "documents"])
                for i, m, e, d in zip(got["ids"], got["metadatas"], got["embeddings"], got["documents"]):
                    old[i] = (m, np.asarray(e, np.float32), d)
    meta_only = [r for r in records if r.id in old and old[r.id][0].get("record") != r.dumps()
                 and _same_scene(old[r.id][0], r)]
    fresh = [r for r in records if r.id not in old or not _same_scene(old[r.id][0], r)]
    vectors = mem._scene_vectors(fresh, known)
    done: list[tuple[str, list[str]]] = []  # (collection, ids) written, for the rollback
    with mem._op("import memories"):
        clean = mem._index_begin()
        rows: list[Row] = []
        try:
            for name, col, part in mem._groups(fresh):
                done.append((name, [fresh[i].id for i in part]))
                rows += mem._put(col, name, fresh, vectors, part)
            for name, col, part in mem._groups(meta_only):
                chunk = [meta_only[i] for i in part]
                done.append((name, [r.id for r in chunk]))
                # no documents: Chroma would embed them again (same scene: same document anyway)
                col.update(ids=[r.id for r in chunk], metadatas=[_meta(r) for r in chunk])
                rows += [Row(r.id, name, r.user, r.kind, float(r.timestamp)) for r in chunk]
        except Exception as exc:
            _roll_back(mem, done, old)
            raise MemoryUnavailable(f"memory store {mem.spec} failed to import ({type(exc).__name__}: {exc}); "
                                    "nothing was imported", hint=mem._fix_hint()) from None
        mem._index_done(clean, rows)


def _roll_back(mem: "ChromaMemory", done: list[tuple[str, list[str]]], old: dict[str, tuple[dict, np.ndarray, str]]) -> None:
    """Delete what the import wrote and put back what it replaced (best effort, under the lock)."""
    for name, ids in done:
        try:
            col = mem._open(name)
            if col is None:
                continue
            col.delete(ids=ids)
            back = [i for i in ids if i in old]
            if back:
                col.add(ids=back, embeddings=np.stack([old[i][1] for i in back]),
                        metadatas=[old[i][0] for i in back], documents=[old[i][2] for i in back])
        except Exception:  # pragma: no cover - the store itself is failing; the index is rebuilt later
            continue


def stored_text_vectors(mem: "ChromaMemory", records: Sequence[MemoryRecord]) -> dict[str, np.ndarray]:
    """Record id → the text part of its stored vector (what an export carries)."""
    from pertouch.memory.chroma_store import collection_name, is_unscoped
    from pertouch.memory.embeddings import split

    by_col: dict[str, list[str]] = {}
    for r in records:
        if r.scene_description.strip():
            by_col.setdefault(collection_name(r.user, is_unscoped(r)), []).append(r.id)
    out: dict[str, np.ndarray] = {}
    with mem._op("read memories"):
        for name, ids in by_col.items():
            col = mem._open(name)
            for k in range(0, len(ids) if col is not None else 0, 5000):
                got = col.get(ids=ids[k:k + 5000], include=["embeddings"])
                out.update((i, split(e)[0]) for i, e in zip(got["ids"], got["embeddings"]))
    return out
