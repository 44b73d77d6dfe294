"""Memory learning cases as data: photos from packaged samples, a history, a query.

A case (one JSON line of ``evals/data/memory_cases.jsonl``)::

    {"id": "warm-landscapes", "user": "ana",
     "history": [{"image": {"source": "rocket", "crop": [0, 1, 0, 0.67]},
                  "description": "...", "regions": {"sky": 0.5, "trees": 0.3},
                  "instruction": "make it nice", "levels": {"global": {"temperature": 0.5}},
                  "rating": 1}],
     "queries": [{"image": {...}, "description": "...", "regions": {...},
                  "user": "ana", "expect": {"global.temperature": ">0.2", "global.brightness": "empty"}}]}

Image sources: scikit-image sample names (``rocket``, ``astronaut``, ``coffee``…),
``grace_hopper`` (matplotlib) and ``meadow`` (rocket's sky over a green-tinted
``grass`` texture: an outdoor scene no history photo contains). ``crop`` is
``[y0, y1, x0, x1]`` in fractions; ``flip`` mirrors; ``gain`` scales R, G, B.
``expect`` maps ``label.attribute`` to ``">x"``, ``"<x"``, or ``"empty"`` (no preference).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from pertouch.memory.base import Memory, Recall
from pertouch.memory.descriptors import image_descriptor
from pertouch.memory.records import MemoryRecord, content_hash


def _source(name: str) -> np.ndarray:
    if name == "grace_hopper":
        from matplotlib import cbook
        from PIL import Image

        with Image.open(cbook.get_sample_data("grace_hopper.jpg")) as im:
            return np.asarray(im.convert("RGB"))
    from skimage import data

    if name == "meadow":
        rocket, grass = data.rocket(), data.grass()
        h = rocket.shape[0]
        sky = rocket[: h // 2, :512].astype(np.float32)
        g = grass[: h - h // 2, :512].astype(np.float32)
        ground = np.stack([g * 0.45, g * 0.8, g * 0.35], axis=-1)
        return np.clip(np.concatenate([sky, ground], axis=0), 0, 255).astype(np.uint8)
    img = getattr(data, name)()
    return img if img.ndim == 3 else np.stack([img] * 3, axis=-1)


def load_image(spec: Mapping[str, Any]) -> np.ndarray:
    """The RGB uint8 photo a case describes (see the module docstring)."""
    img = _source(str(spec["source"]))[..., :3]
    h, w = img.shape[:2]
    y0, y1, x0, x1 = spec.get("crop", (0, 1, 0, 1))
    img = img[int(y0 * h):int(y1 * h), int(x0 * w):int(x1 * w)]
    if spec.get("flip"):
        img = img[:, ::-1]
    if "gain" in spec:
        img = np.clip(img.astype(np.float32) * np.asarray(spec["gain"], np.float32), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(img)


def load_cases(path: str | Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def record_from_step(user: str, step: Mapping[str, Any], timestamp: float | None = None) -> MemoryRecord:
    """A history step → the record the agent would have stored for it."""
    img = load_image(step["image"])
    extra = {"timestamp": timestamp} if timestamp is not None else {}
    return MemoryRecord(user=user, scene_description=step.get("description", ""), tags=step.get("tags", []),
                        image_descriptor=image_descriptor(img, step.get("regions")), instruction=step.get("instruction", ""),
                        levels=step.get("levels", {}), rating=float(step.get("rating", 1.0)),
                        image_hash=content_hash(img), **extra)


def recall_for(memory: Memory, user: str, query: Mapping[str, Any]) -> Recall:
    img = load_image(query["image"])
    return memory.recall(user, query.get("description", ""), image_descriptor(img, query.get("regions")))


def check(recall: Recall, expect: Mapping[str, str]) -> list[str]:
    """Failed expectations, as lines (empty = all hold)."""
    failures = []
    for key, rule in expect.items():
        label, attr = key.split(".", 1)
        value = recall.preferences.get(label, {}).get(attr)
        if rule == "empty":
            ok = value is None
        elif rule[0] in "<>":
            bound = float(rule[1:])
            ok = value is not None and (value > bound if rule[0] == ">" else value < bound)
        else:
            raise ValueError(f"bad expectation {rule!r} for {key}")
        if not ok:
            failures.append(f"{key}: expected {rule}, got {value}")
    return failures


def run_case(memory: Memory, case: Mapping[str, Any]) -> list[str]:
    """Store a case's history, run its queries; failed expectations as lines."""
    memory.remember_many([record_from_step(case["user"], s) for s in case["history"]])
    failures = []
    for q in case["queries"]:
        rec = recall_for(memory, q.get("user", case["user"]), q)
        failures += [f"{case['id']}/{q.get('name', '?')}: {f}" for f in check(rec, q.get("expect", {}))]
    return failures
