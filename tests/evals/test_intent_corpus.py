"""The issue-13 intent corpus (``evals/data/instructions_intents.jsonl``): well-formed and
consistent with the conventions it was written to.

Each line is ``{"id", "split", "text", "category", "expect": {kind, targets, protected,
style, regions}}`` like ``instructions.jsonl``, with the split ``intents-heldout`` and the
new kinds ``no-op`` / ``question`` / ``undo``. A comparative target names its reference
region in ``like``: ``direction "set"`` with ``level null`` ("as bright as the water") or
``up``/``down`` with ``shift null`` ("darker than the sky"). The checks are data checks;
:func:`problems` is also run on broken cases to show it catches them.
"""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources
from typing import Any

import pytest

from pertouch.engine.schema.attributes import REGISTRY

SPLIT = "intents-heldout"
CATEGORIES = {"no-op": 20, "protection": 30, "question": 25, "undo": 12, "hedge": 25, "comparative": 15, "mixed": 15}
KINDS = {"strong", "weak-optimize", "weak-style", "out-of-scope", "no-op", "question", "undo"}
NO_EDIT_KINDS = {"no-op", "question", "undo"}
#: region labels an expected answer may use: perception's labels and person parts, the
#: spatial ones, and the few things-in-photos the corpus names (singular nouns).
LABELS = {
    "global", "sky", "clouds", "water", "vegetation", "person", "face", "skin", "hair", "building",
    "ground", "snow", "background", "subject", "wall", "floor", "table", "face_skin", "eyes", "lips",
    "eyebrows", "flower", "car", "bus", "cat", "eagle",
}
KEYS = ["id", "split", "text", "category", "expect"]
EXPECT_KEYS = ["kind", "targets", "protected", "style", "regions"]
SMALL = 0.1  # a hedge asks for a small edit: at most this shift


def _lines(name: str) -> list[str]:
    text = resources.files("pertouch.evals").joinpath(f"data/{name}").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]


def _target_problems(t: dict[str, Any]) -> list[str]:
    out = []
    if t.get("region") not in LABELS:
        out.append(f"region {t.get('region')!r} not an allowed label")
    if t.get("attribute") not in REGISTRY:
        out.append(f"attribute {t.get('attribute')!r} unknown")
    direction, shift, level, like = t.get("direction"), t.get("shift"), t.get("level"), t.get("like")
    if "like" in t:
        if like not in LABELS - {"global"} or like == t.get("region"):
            out.append(f"like {like!r} must be another region label")
        if direction == "set" and (level is not None or "shift" in t):
            out.append("a 'set … like' target has level null and no shift")
        if direction in ("up", "down") and (shift is not None or "level" in t):
            out.append("a relative 'like' target has shift null and no level")
    elif direction == "set":
        if not isinstance(level, (int, float)) or not -1 <= level <= 1 or "shift" in t:
            out.append("direction 'set' needs a level in [-1, 1] and no shift")
    elif direction in ("up", "down"):
        if not isinstance(shift, (int, float)) or shift == 0 or (shift > 0) != (direction == "up") or "level" in t:
            out.append(f"shift {shift!r} does not fit direction {direction!r}")
    else:
        out.append(f"direction {direction!r} unknown")
    return out


def problems(case: Any) -> list[str]:
    """Everything wrong with one parsed line (empty when it follows the conventions)."""
    if not isinstance(case, dict) or list(case) != KEYS:
        return [f"keys must be {KEYS}"]
    e = case["expect"]
    if not isinstance(e, dict) or list(e) != EXPECT_KEYS:
        return [f"expect keys must be {EXPECT_KEYS}"]
    out = []
    if case["split"] != SPLIT:
        out.append(f"split {case['split']!r} is not {SPLIT!r}")
    if case["category"] not in CATEGORIES:
        out.append(f"category {case['category']!r} unknown")
    if not isinstance(case["text"], str) or not case["text"].strip():
        out.append("empty text")
    kind = e["kind"]
    if kind not in KINDS:
        out.append(f"kind {kind!r} unknown")
    for t in e["targets"]:
        out += _target_problems(t)
    for label in e["protected"] + e["regions"]:
        if label not in LABELS - {"global"}:
            out.append(f"label {label!r} not allowed")
    if kind == "strong" and not e["targets"]:
        out.append("a strong intent needs targets")
    if kind != "strong" and e["targets"]:
        out.append(f"kind {kind!r} has no targets")
    if kind in NO_EDIT_KINDS and (e["style"] is not None or e["regions"]):
        out.append(f"kind {kind!r} has no style and no regions")
    if kind in ("question", "undo") and e["protected"]:
        out.append(f"kind {kind!r} protects nothing")
    if (kind == "weak-style") != (e["style"] is not None):
        out.append("style is given exactly for weak-style")
    cat = case["category"]
    if cat in NO_EDIT_KINDS and kind != cat:
        out.append(f"category {cat!r} expects kind {cat!r}")
    if cat == "protection" and not e["protected"]:
        out.append("a protection case protects something")
    if cat == "hedge" and (kind != "strong" or any(abs(t.get("shift") or 1) > SMALL for t in e["targets"])):
        out.append(f"a hedge is a strong edit of at most {SMALL}")
    if cat == "comparative" and not any("like" in t for t in e["targets"]):
        out.append("a comparative names a 'like' region")
    return out


@pytest.fixture(scope="module")
def cases() -> list[dict[str, Any]]:
    return [json.loads(line) for line in _lines("instructions_intents.jsonl")]


def test_every_line_is_a_json_object():
    for n, line in enumerate(_lines("instructions_intents.jsonl"), 1):
        assert isinstance(json.loads(line), dict), f"line {n}"


def test_enough_cases_in_every_category(cases):
    assert len(cases) >= 150
    counts = Counter(c["category"] for c in cases)
    assert set(counts) == set(CATEGORIES)
    for cat, least in CATEGORIES.items():
        assert counts[cat] >= least, (cat, counts[cat])


def test_ids_and_texts_are_new_and_unique(cases):
    old = [json.loads(line) for line in _lines("instructions.jsonl")]
    ids = [c["id"] for c in cases]
    texts = [c["text"].strip().lower() for c in cases]
    assert len(set(ids)) == len(ids)
    assert len(set(texts)) == len(texts)
    assert not set(ids) & {c["id"] for c in old}
    assert not set(texts) & {c["text"].strip().lower() for c in old}


def test_every_case_follows_the_conventions(cases):
    bad = {c["id"]: p for c in cases if (p := problems(c))}
    assert not bad, bad


def test_all_new_intent_kinds_are_present(cases):
    kinds = {c["expect"]["kind"] for c in cases}
    assert {"no-op", "question", "undo", "strong"} <= kinds
    assert any(c["expect"]["kind"] == "no-op" and c["expect"]["protected"] for c in cases)
    assert any(t.get("direction") == "set" and "like" in t for c in cases for t in c["expect"]["targets"])
    assert any(t.get("direction") != "set" and "like" in t for c in cases for t in c["expect"]["targets"])


def _good() -> dict[str, Any]:
    return {"id": "x", "split": SPLIT, "text": "maybe brighter", "category": "hedge",
            "expect": {"kind": "strong", "targets": [{"region": "global", "attribute": "brightness",
                       "direction": "up", "shift": 0.1}], "protected": [], "style": None, "regions": []}}


@pytest.mark.parametrize("path, value, needle", [
    (("split",), "dev", "split"),
    (("category",), "misc", "category"),
    (("expect", "kind"), "maybe", "kind"),
    (("expect", "protected"), ["unicorn"], "label"),
    (("expect", "targets", 0, "region"), "moon", "region"),
    (("expect", "targets", 0, "shift"), -0.1, "direction"),
    (("expect", "targets", 0, "shift"), 0.35, "hedge"),
    (("expect", "targets", 0, "attribute"), "glow", "attribute"),
    (("expect", "targets", 0, "like"), "global", "like"),
])
def test_problems_catches_broken_cases(path, value, needle):
    case = _good()
    assert problems(case) == []
    node = case
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert any(needle in p for p in problems(case)), problems(case)


def test_problems_catches_an_edit_in_a_no_edit_kind():
    case = _good()
    case["category"], case["expect"]["kind"] = "question", "question"
    assert any("no targets" in p for p in problems(case))
