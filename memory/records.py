"""What one memory is: the :class:`MemoryRecord` schema (versioned) and its parts.

A record is either a ``result`` (a retouch the user accepted or rejected) or a
``feedback`` (something the user said: "too warm", "I like it", "never touch skin
tones"). It holds parameters and descriptions, never pixels: the photo is known only
by its content hash and its :mod:`descriptor <pertouch.memory.descriptors>`.

``levels`` are the FINAL ABSOLUTE levels achieved, per region label, per attribute
(PerTouch semantics: a level in [−1, 1], 0 = a typical well-retouched value, not
"no change"; measured levels of regions beyond every photo of the level table reach
±``EXTENDED`` = 1.5, see :mod:`pertouch.engine.schema.levels`)::

    {"sky": {"temperature": 0.4, "brightness": 0.2}, "global": {"brightness": 0.3}}

Records serialise to plain JSON (:meth:`MemoryRecord.to_json`) and load through
:func:`parse_record`, which migrates older schema versions forward.

>>> r = MemoryRecord(user="ana", scene_description="lake at dusk",
...                  levels={"sky": {"warmth": 0.5}})
>>> r.levels["sky"]["temperature"], r.kind, r.schema_version
(0.5, 'result', 1)
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import uuid
from typing import Any, Callable, Iterable, Literal, Mapping

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pertouch.engine.schema.attributes import get_attribute
from pertouch.engine.schema.levels import EXTENDED
from pertouch.core.errors import InputError

#: Current record schema version. Bump it and add a function to :data:`MIGRATIONS`.
SCHEMA_VERSION = 1
#: The label under which whole-photo (global) edits are stored, as in recipes.
GLOBAL_LABEL = "global"

Levels = dict[str, dict[str, float]]


def _canon_levels(value: Any) -> Levels:
    """Validate ``{label: {attribute|synonym: level}}``; attribute names canonicalised."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError("levels must be an object of {label: {attribute: level}}")
    out: Levels = {}
    for label, attrs in value.items():
        label = str(label).strip().lower()
        if not label:
            raise ValueError("a region label in levels is empty")
        if not isinstance(attrs, Mapping):
            raise ValueError(f"levels[{label!r}] must be an object of {{attribute: level}}")
        row: dict[str, float] = {}
        for name, level in attrs.items():
            attr = get_attribute(str(name)).name
            level = float(level)
            if not math.isfinite(level) or not -EXTENDED <= level <= EXTENDED:
                raise ValueError(f"levels[{label!r}][{attr!r}] = {level} is outside [-{EXTENDED}, {EXTENDED}]")
            row[attr] = level
        out[label] = row
    return out


class FeedbackEffect(BaseModel):
    """What a piece of explicit feedback means for future edits.

    ``rating``: +1 liked, −1 disliked, None neutral. ``shifts``: level changes per
    label per attribute ("too warm" → ``{"global": {"temperature": -0.25}}``).
    ``locks``: labels (or ``global``) whose listed attributes must not be edited;
    ``["*"]`` locks every attribute ("never touch skin tones" → ``{"skin": ["*"]}``).
    """

    model_config = ConfigDict(extra="forbid")

    rating: float | None = Field(None, ge=-1.0, le=1.0)
    shifts: dict[str, dict[str, float]] = Field(default_factory=dict)
    locks: dict[str, list[str]] = Field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return self.rating is None and not self.shifts and not self.locks


class MemoryRecord(BaseModel):
    """One memory. See the module docstring for the meaning of each field.

    ``rating``: +1.0 accepted, −1.0 rejected, anything in between for a graded
    signal. ``image_descriptor``: the vector from
    :func:`pertouch.memory.descriptors.image_descriptor` (or empty when unknown).
    ``timestamp``: Unix seconds (UTC).
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    user: str
    scene_description: str = ""
    tags: list[str] = Field(default_factory=list)
    image_descriptor: list[float] = Field(default_factory=list)
    instruction: str = ""
    levels: Levels = Field(default_factory=dict)
    rating: float = Field(1.0, ge=-1.0, le=1.0)
    kind: Literal["result", "feedback"] = "result"
    feedback: str = ""
    effect: FeedbackEffect | None = None
    timestamp: float = Field(default_factory=time.time)
    image_hash: str = ""
    schema_version: int = SCHEMA_VERSION

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("id must not be empty")
        if len(value) > 200 or any(c.isspace() or not c.isprintable() for c in value):
            raise ValueError("id must be at most 200 printable characters without spaces")
        return value

    @field_validator("timestamp")
    @classmethod
    def _timestamp(cls, value: float) -> float:
        if not math.isfinite(value) or value < 0:
            raise ValueError("timestamp must be a finite number of seconds since 1970")
        return value

    @field_validator("user")
    @classmethod
    def _user(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("user must not be empty")
        return value

    @field_validator("levels", mode="before")
    @classmethod
    def _levels(cls, value: Any) -> Levels:
        return _canon_levels(value)

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str):
            value = value.split(",")
        return sorted({str(t).strip().lower() for t in value if str(t).strip()})

    @field_validator("image_descriptor", mode="before")
    @classmethod
    def _descriptor(cls, value: Any) -> list[float]:
        if value is None:
            return []
        arr = np.asarray(value, dtype=np.float64).ravel()
        if not np.all(np.isfinite(arr)):
            raise ValueError("image_descriptor has NaN or infinite values")
        return [float(v) for v in arr]

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"))

    def summary(self) -> str:
        """One line for humans and for the planner's evidence list."""
        when = time.strftime("%Y-%m-%d", time.gmtime(self.timestamp))
        if self.kind == "feedback":
            return f"{when} feedback {self.feedback!r} on {self.scene_description or 'any scene'!r}"
        sign = "accepted" if self.rating > 0 else "rejected" if self.rating < 0 else "neutral"
        parts = []
        for label, attrs in sorted(self.levels.items()):
            parts.append(label + "(" + ", ".join(f"{a} {v:+.2f}" for a, v in sorted(attrs.items())) + ")")
        what = "; ".join(parts) or "no levels"
        instr = f" for {self.instruction!r}" if self.instruction else ""
        return f"{when} {sign}{instr} on {self.scene_description!r}: {what}"


def _migrate_0(data: dict[str, Any]) -> dict[str, Any]:
    """Version 0 (prototype): ``recipe`` instead of ``levels``, ``accepted`` bool."""
    data = dict(data)
    if "recipe" in data and "levels" not in data:
        data["levels"] = data.pop("recipe")
    if "accepted" in data and "rating" not in data:
        data["rating"] = 1.0 if data.pop("accepted") else -1.0
    data["schema_version"] = 1
    return data


#: ``MIGRATIONS[v]`` turns a version-``v`` record dict into version ``v + 1``.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _migrate_0}


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a record dict of any known schema version up to :data:`SCHEMA_VERSION`."""
    version = int(data.get("schema_version", 0))
    if version > SCHEMA_VERSION:
        raise InputError(
            f"memory record schema version {version} is newer than this PerTouch ({SCHEMA_VERSION})",
            hint="upgrade pertouch to read it",
        )
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data)
        version = int(data["schema_version"])
    return data


def parse_record(data: Any, origin: str = "record") -> MemoryRecord:
    """Validate (and migrate) a record dict; bad input → one-line :class:`InputError`."""
    if not isinstance(data, Mapping):
        raise InputError(f"{origin}: a memory record must be a JSON object")
    try:
        return MemoryRecord.model_validate(migrate(dict(data)))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ())) or "record"
        raise InputError(f"{origin}: {where}: {err.get('msg', 'invalid')}",
                         hint="see `pertouch memory export` for the format") from None


def content_hash(data: bytes | np.ndarray) -> str:
    """SHA-256 (hex, prefixed ``sha256:``) of a file's bytes or an array's pixels."""
    if isinstance(data, np.ndarray):
        h = hashlib.sha256()
        h.update(f"{data.shape}|{data.dtype}|".encode())
        h.update(np.ascontiguousarray(data).tobytes())
        return "sha256:" + h.hexdigest()
    return "sha256:" + hashlib.sha256(data).hexdigest()


def levels_by_label(report: Iterable[Any], labels: Mapping[str, str]) -> Levels:
    """Average achieved levels per region label.

    ``report``: items with ``.region``, ``.attribute``, ``.achieved`` (the engine's
    :class:`~pertouch.engine.base.Achieved`); ``labels``: region name → label.
    Regions sharing a label are averaged; unknown names use the name as label.
    """
    sums: dict[str, dict[str, list[float]]] = {}
    for item in report:
        value = float(item.achieved)
        if not math.isfinite(value):
            continue
        label = labels.get(item.region, item.region) or item.region
        sums.setdefault(label, {}).setdefault(item.attribute, []).append(value)
    return {lab: {a: float(np.clip(np.mean(v), -1, 1)) for a, v in row.items()} for lab, row in sums.items()}
