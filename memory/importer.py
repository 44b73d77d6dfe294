"""Reading a ``memory export`` file for ``memory import``: every line validated first.

:func:`read_export` returns the records of a JSONL export only when EVERY line is a
valid record; otherwise it raises one :class:`~pertouch.core.errors.InputError` that names
the first bad line (and how many more there are), so an import stores all or nothing.

A line is valid when it is a JSON object that passes the record schema
(:class:`~pertouch.memory.records.MemoryRecord`: types, ranges, known attributes) AND
carries what an export always writes: a non-empty ``id``, ``user``, ``kind`` and
``timestamp``; a ``result`` needs ``levels`` (at least one), a ``feedback`` its text.
(``{"id": "x", "user": "ana"}`` would otherwise become an empty result.) A file that is
not text (NUL bytes, not UTF-8) is refused as a whole. The same id twice: the later
line wins, as it would have by replacing the earlier one. A line may also carry its
description's text vector (:mod:`pertouch.memory.carried`); :func:`load_export` returns
those too, :func:`read_export` only the records.

>>> import tempfile, os
>>> p = os.path.join(tempfile.mkdtemp(), "t.jsonl")
>>> _ = open(p, "w").write('{"id": "a1", "user": "ana"}\\n')
>>> read_export(p)
Traceback (most recent call last):
...
pertouch.core.errors.InputError: t.jsonl line 1: missing kind, timestamp, levels — every line must be a full record as `pertouch memory export` writes it; nothing was imported
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pertouch.core.errors import InputError
from pertouch.memory import carried
from pertouch.memory.records import MemoryRecord, parse_record

#: Keys every imported record must carry (an export always writes them).
REQUIRED = ("id", "user", "kind", "timestamp")
FIX = "every line must be a full record as `pertouch memory export` writes it; nothing was imported"


def _text(path: Path) -> str:
    """The file as text; a binary or non-UTF-8 file is one clear error."""
    if not path.is_file():
        what = "a folder" if path.is_dir() else "not a file" if path.exists() else "no such file"
        raise InputError(f"cannot read {path}: {what}", hint="give the path of a `memory export` file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(f"{path.name} is not a text file (binary data at byte {nul})",
                         hint="give a JSONL file from `pertouch memory export`; nothing was imported")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError(f"{path.name} line {line}: not UTF-8 text (byte {exc.start})",
                         hint="give a JSONL file from `pertouch memory export`; nothing was imported") from None


@dataclass
class ExportFile:
    """A validated export: its records (one per id, file order) and the text vectors it
    carries for this installation's model (description → unit vector, not yet checked:
    see :func:`pertouch.memory.carried.trusted`)."""

    records: list[MemoryRecord]
    vectors: dict[str, np.ndarray] = field(default_factory=dict)


def parse_line(line: str, origin: str) -> tuple[MemoryRecord, np.ndarray | None]:
    """One export line → (record, its carried text vector or None); :class:`InputError`
    naming ``origin`` when it is not a full record."""
    try:
        data = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as exc:
        msg = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
        raise InputError(f"{origin}: not JSON ({msg})", hint="each line must be one JSON record; nothing was imported") from None
    vector = carried.pop(data, origin) if isinstance(data, dict) else None
    record = parse_record(data, origin=origin)  # types and ranges (one line, names the field)
    missing = [k for k in REQUIRED if k not in data]
    if record.kind == "result" and not data.get("levels") and not data.get("recipe"):
        missing.append("levels")
    if record.kind == "feedback" and not str(data.get("feedback") or "").strip():
        missing.append("feedback")
    if missing:
        raise InputError(f"{origin}: missing {', '.join(missing)}", hint=FIX)
    return record, vector


def read_export(path: str | os.PathLike, descriptor_dim: int | None = None) -> list[MemoryRecord]:
    """All records of an export file, validated (see the module docstring), in file order,
    one per id. ``descriptor_dim``: the store's descriptor size, checked on every line."""
    return load_export(path, descriptor_dim).records


def load_export(path: str | os.PathLike, descriptor_dim: int | None = None) -> ExportFile:
    """:func:`read_export`, with the text vectors the file carries."""
    path = Path(path)
    records: dict[str, MemoryRecord] = {}
    vectors: dict[str, np.ndarray] = {}
    first: InputError | None = None
    bad = 0
    for n, line in enumerate(_text(path).splitlines(), 1):
        if not line.strip():
            continue
        origin = f"{path.name} line {n}"
        try:
            r, vec = parse_line(line, origin)
            if descriptor_dim is not None and r.image_descriptor and len(r.image_descriptor) != descriptor_dim:
                raise InputError(f"{origin}: image_descriptor has {len(r.image_descriptor)} values, this store "
                                 f"expects {descriptor_dim}", hint="recompute it with pertouch.memory.image_descriptor, "
                                 "or drop it; nothing was imported")
        except InputError as exc:
            bad += 1
            first = first or exc
            continue
        records.pop(r.id, None)
        records[r.id] = r
        if vec is not None and r.scene_description.strip():
            vectors.setdefault(r.scene_description.strip(), vec)
    if first is not None:
        more = f" (and {bad - 1} more bad line{'s' if bad > 2 else ''})" if bad > 1 else ""
        hint = first.hint if first.hint and "nothing was imported" in first.hint else \
            f"{first.hint + '; ' if first.hint else ''}nothing was imported"
        raise InputError(first.message + more, hint=hint)
    return ExportFile(list(records.values()), vectors)
