"""A Chroma collection's PerTouch schema: checked when first opened, older ones migrated.

Each collection's metadata carries ``pertouch_schema`` and ``descriptor_dim``. A newer
schema or another descriptor size is a clear :class:`MemoryUnavailable`; an older
schema has every record's JSON rewritten at the current version (vectors unchanged).
"""

from __future__ import annotations

import json
from typing import Any

from pertouch.memory.base import MemoryUnavailable
from pertouch.memory.records import SCHEMA_VERSION, migrate, parse_record


def check_schema(col: Any, spec: str, descriptor_dim: int) -> None:
    """Raise for a collection this PerTouch cannot use; migrate an older one in place."""
    stored = dict(col.metadata or {})
    version = int(stored.get("pertouch_schema", SCHEMA_VERSION))
    if int(stored.get("descriptor_dim", descriptor_dim)) != descriptor_dim:
        raise MemoryUnavailable(
            f"memory store {spec} holds descriptors of {stored.get('descriptor_dim')} values, "
            f"this PerTouch makes {descriptor_dim}",
            hint="export with the old version, then import into a fresh store")
    if version > SCHEMA_VERSION:
        raise MemoryUnavailable(f"memory store {spec} has schema {version}, newer than this PerTouch",
                                hint="upgrade pertouch")
    if version < SCHEMA_VERSION:
        migrate_collection(col, version)
        col.modify(metadata={**stored, "pertouch_schema": SCHEMA_VERSION})


def migrate_collection(col: Any, version: int) -> None:
    """Rewrite every record's JSON metadata at the current schema (vectors unchanged)."""
    from pertouch.memory.chroma_store import _meta

    batch, offset = 1000, 0
    while True:
        got = col.get(include=["metadatas"], limit=batch, offset=offset)
        if not got["ids"]:
            break
        metas = []
        for m in got["metadatas"]:
            data = json.loads(m["record"])
            data.setdefault("schema_version", version)
            metas.append(_meta(parse_record(migrate(data), origin="stored memory")))
        col.update(ids=got["ids"], metadatas=metas)
        offset += batch
