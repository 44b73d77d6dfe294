"""What a recall returns — :class:`Recall` and its :class:`Evidence` — and how a photo's region
labels find their row in a recall's tables (exact label, else the same region group, else
``global``). Value types only: the recall algorithm (scoring and weighting memories) is in
:mod:`pertouch.memory.preferences`, the store interface in :mod:`pertouch.memory.base`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, NamedTuple

from pertouch.memory.descriptors import label_group
from pertouch.memory.records import GLOBAL_LABEL


def labels_matching(label: str, table: Mapping[str, object]) -> list[str]:
    """Keys of ``table`` that apply to ``label``: exact, same region group, and ``global``."""
    label = label.strip().lower()
    group = label_group(label)
    keys = [k for k in table if k == label or (group != "other" and label_group(k) == group)]
    if GLOBAL_LABEL in table and GLOBAL_LABEL not in keys:
        keys.append(GLOBAL_LABEL)
    return keys


def match_label(label: str, table: Mapping[str, object]) -> str | None:
    """The best key of ``table`` for ``label``: exact, else same group, else ``global``."""
    label = label.strip().lower()
    if label in table:
        return label
    group = label_group(label)
    if group != "other":
        for k in table:
            if label_group(k) == group:
                return k
    return GLOBAL_LABEL if GLOBAL_LABEL in table else None


class Evidence(NamedTuple):
    """One memory behind a recall: its id, its similarity to the query, one line."""

    record_id: str
    similarity: float
    summary: str


@dataclass
class Recall:
    """What memory suggests for one scene and user.

    ``preferences``: ``{label: {attribute: level}}`` absolute target levels in [−1, 1]
    (``global`` = whole photo). ``weights``: same shape, the total evidence weight
    behind each level (more = surer; < 0.3 is thin). ``locks``: ``{label: [attribute
    names or "*"]}`` that must not be edited. ``evidence``: most similar first.
    ``record_weights``: record id → weight it got. Empty for a user with no memories.
    """

    user: str
    preferences: dict[str, dict[str, float]] = field(default_factory=dict)
    weights: dict[str, dict[str, float]] = field(default_factory=dict)
    locks: dict[str, list[str]] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)
    record_weights: dict[str, float] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not self.preferences and not self.locks

    def levels_for(self, label: str) -> dict[str, float]:
        """Preferred levels for a region label: exact label, else the same region group
        (e.g. ``trees`` ← ``vegetation``/``tree``), else ``global``; {} if none."""
        key = match_label(label, self.preferences)
        return dict(self.preferences.get(key, {})) if key else {}

    def locked(self, label: str) -> set[str]:
        """Attribute names that must not change for ``label`` (``{"*"}`` = all)."""
        out: set[str] = set()
        for key in labels_matching(label, self.locks):
            out.update(self.locks[key])
        return out

    def targets(self, labels: Iterable[str], *, min_weight: float = 0.0) -> dict[str, dict[str, float]]:
        """Per-label target levels for the regions of a photo, ready to become recipe
        ``to`` edits: :meth:`levels_for` each label (``global`` included), minus locked
        attributes, minus levels backed by less than ``min_weight`` evidence.

        >>> r = Recall("ana", preferences={"sky": {"brightness": 0.4}, "global": {"temperature": 0.3}},
        ...            weights={"sky": {"brightness": 1.0}, "global": {"temperature": 0.1}},
        ...            locks={"face": ["*"]})
        >>> r.targets(["clouds", "face"], min_weight=0.5)
        {'clouds': {'brightness': 0.4}}
        """
        out: dict[str, dict[str, float]] = {}
        for label in dict.fromkeys([*labels, "global"]):
            key = match_label(label, self.preferences)
            if key is None:
                continue
            locked = self.locked(label)
            row = {a: v for a, v in self.preferences[key].items()
                   if "*" not in locked and a not in locked and self.weights.get(key, {}).get(a, 0.0) >= min_weight}
            if row:
                out[label] = row
        return out

    def to_json(self) -> dict[str, Any]:
        return {"user": self.user, "preferences": self.preferences, "weights": self.weights,
                "locks": self.locks, "evidence": [e._asdict() for e in self.evidence]}
