"""A small SQLite index beside a Chroma store: who, what kind, when — for ``list`` and ``stats``.

Chroma can neither sort nor group: listing the newest 5 memories or counting them per
user and kind meant loading (and parsing) every record — 2.6 s at 10,000 records. This
index holds one row per record (``id, collection, user, kind, timestamp``), so
``memory list -n 5`` reads 5 ids from it and fetches only those records, and ``stats``
is one ``GROUP BY``.

It is a cache of what Chroma holds, never the truth: a writer marks it *dirty* before
touching Chroma and clean in the same transaction that records the change, so a
process killed in between leaves it dirty; a dirty index, one whose per-collection
counts differ from Chroma's (a store written by an older PerTouch), or an unreadable
file is rebuilt from Chroma's metadata on the next read. Every call runs under the
store's file lock (:class:`~pertouch.memory.chroma_store.ChromaMemory`).
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any, Iterable, Iterator, NamedTuple

FILE_NAME = ".pertouch-index.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, collection TEXT NOT NULL, user TEXT NOT NULL,
                                    kind TEXT NOT NULL, timestamp REAL NOT NULL);
CREATE INDEX IF NOT EXISTS records_time ON records (timestamp DESC);
CREATE INDEX IF NOT EXISTS records_user ON records (user, kind, timestamp DESC);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class Row(NamedTuple):
    id: str
    collection: str
    user: str
    kind: str
    timestamp: float


class RecordIndex:
    """The index file of one store folder (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / FILE_NAME

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(str(self.path), timeout=30)
        try:
            conn.executescript(_SCHEMA)
            with conn:
                yield conn
        finally:
            conn.close()

    def reset(self) -> None:
        """Throw the file away (unreadable or to be rebuilt)."""
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)

    # ----- writes (each call: under the store's lock) ------------------------------------
    def begin(self) -> bool:
        """Mark dirty before a write; True when the index was clean (then :meth:`record` may
        mark it clean again — a dirty one stays dirty until rebuilt)."""
        if not self.path.is_file():
            return False
        with self._db() as db:
            was = db.execute("SELECT value FROM state WHERE key = 'dirty'").fetchone()
            db.execute("INSERT OR REPLACE INTO state VALUES ('dirty', 1)")
        return was is not None and not was[0]

    def record(self, rows: Iterable[Row] = (), *, delete: Iterable[str] = (), drop: Iterable[str] = ()) -> None:
        """Upsert ``rows``, delete ids and whole collections, and mark the index clean — one transaction."""
        with self._db() as db:
            db.executemany("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?)", list(rows))
            db.executemany("DELETE FROM records WHERE id = ?", [(i,) for i in delete])
            db.executemany("DELETE FROM records WHERE collection = ?", [(c,) for c in drop])
            db.execute("INSERT OR REPLACE INTO state VALUES ('dirty', 0)")

    def rebuild(self, rows: Iterable[Row]) -> None:
        """Replace everything with ``rows`` (read from Chroma)."""
        self.reset()
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO state VALUES ('dirty', 1)")
        with self._db() as db:
            db.execute("DELETE FROM records")
            db.executemany("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?)", rows)
            db.execute("INSERT OR REPLACE INTO state VALUES ('dirty', 0)")

    # ----- reads -------------------------------------------------------------------------
    def is_valid(self, counts: dict[str, int]) -> bool:
        """Clean, readable and holding exactly ``counts`` rows per collection."""
        if not self.path.is_file():
            return False
        try:
            with self._db() as db:
                dirty = db.execute("SELECT value FROM state WHERE key = 'dirty'").fetchone()
                have = dict(db.execute("SELECT collection, COUNT(*) FROM records GROUP BY collection").fetchall())
        except sqlite3.DatabaseError:
            return False
        if dirty is None or dirty[0]:
            return False
        return {k: v for k, v in counts.items() if v} == {k: v for k, v in have.items() if v}

    def newest(self, user: str | None, kind: str | None, limit: int) -> list[Row]:
        conds, args = [], []
        for col, value in (("user", user), ("kind", kind)):
            if value is not None:
                conds.append(f"{col} = ?")
                args.append(value)
        where = f"WHERE {' AND '.join(conds)}" if conds else ""
        with self._db() as db:
            got = db.execute(f"SELECT * FROM records {where} ORDER BY timestamp DESC LIMIT ?", (*args, limit))
            return [Row(*r) for r in got.fetchall()]

    def counts(self) -> dict[str, dict[str, int]]:
        """``{user: {"result": n, "feedback": m}}``."""
        out: dict[str, dict[str, int]] = {}
        with self._db() as db:
            for user, kind, n in db.execute("SELECT user, kind, COUNT(*) FROM records GROUP BY user, kind"):
                out.setdefault(user, {"result": 0, "feedback": 0})[kind] = int(n)
        return out


def rows_from(collections: dict[str, Any]) -> list[Row]:
    """Index rows for every record of Chroma collections ``{name: collection}`` (metadata only)."""
    rows: list[Row] = []
    for name, col in collections.items():
        for offset in range(0, int(col.count()), 5000):
            got = col.get(include=["metadatas"], limit=5000, offset=offset)
            rows += [Row(i, name, str(m.get("user")), str(m.get("kind")), float(m.get("timestamp") or 0))
                     for i, m in zip(got["ids"], got["metadatas"])]
    return rows
