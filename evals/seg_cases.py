"""The hand-labelled photos of ``evals/data/seg/``: cases, splits, and their truth masks.

A case is one JSON file per photo (the format is described in
:mod:`pertouch.evals.segmentation`); :func:`truth` rasterises its labels to the masks
the metrics (:mod:`pertouch.evals.seg_metrics`) compare predictions with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import cv2
import numpy as np

from pertouch.core.errors import InputError

SPLITS: tuple[str, ...] = ("tune", "heldout")
#: Kinds a case may label (``background`` is derived, ``ignore`` is not a kind).
KINDS: tuple[str, ...] = ("person", "face", "sky", "vegetation", "building", "wall", "ground", "floor", "road",
                          "water", "snow", "subject")
INSTANCE_KINDS: tuple[str, ...] = ("person", "face")
SCORED: tuple[str, ...] = ("person", "face", "sky", "vegetation", "building", "ground", "water", "snow", "subject",
                           "background")
#: Kinds also reported on their own (they are part of building / ground).
SEPARATE: tuple[str, ...] = ("wall", "floor", "road")
#: Scored kind → the labelled kinds it unites and the words asked of ``Scene.find``.
PARTS: dict[str, tuple[str, ...]] = {"building": ("building", "wall"), "ground": ("ground", "floor", "road")}
#: Labelled faces shorter than this (photo pixels) do not count for face recall.
MIN_FACE_PX = 24


@dataclass
class Case:
    name: str
    photo: str
    size: tuple[int, int]
    regions: dict[str, Any]
    ignore: list
    note: str = ""
    split: str = "tune"
    instances: dict[str, list] = field(default_factory=dict)
    portrait: bool = False


def _check_split(split: str | None) -> None:
    if split is not None and split not in SPLITS:
        raise InputError(f"unknown split {split!r}", hint=f"use one of {', '.join(SPLITS)} (or none for all)")


def load_cases(split: str | None = None) -> list[Case]:
    """Cases in ``evals/data/seg/*.json`` (only ``split``'s when given), sorted by name."""
    _check_split(split)
    root = resources.files("pertouch.evals").joinpath("data", "seg")
    cases = []
    for f in sorted(root.iterdir(), key=lambda p: p.name):
        if not f.name.endswith(".json"):
            continue
        d = json.loads(f.read_text())
        if d.get("split") not in SPLITS:
            raise InputError(f"case {f.name} has no valid split ({d.get('split')!r})", hint='add "split": "tune" or "heldout"')
        c = Case(f.name[:-5], d["photo"], tuple(d["size"]), d.get("regions", {}), d.get("ignore", []),
                 d.get("note", ""), d["split"], d.get("instances", {}), bool(d.get("portrait", False)))
        if split is None or c.split == split:
            cases.append(c)
    return cases


def polygons(spec: Any) -> Any:
    """A region or instance spec in its general form: a list of polygons or an add/sub dict."""
    if isinstance(spec, dict):
        return spec
    if spec and isinstance(spec[0], (list, tuple)) and spec[0] and isinstance(spec[0][0], (int, float)):
        return [spec]  # one polygon
    return spec


def rasterise(polys: Any, size: tuple[int, int]) -> np.ndarray:
    """Polygons (a polygon, a list of them, or ``{"add", "sub"}``) → bool mask ``(h, w)`` for ``size`` = (w, h)."""
    w, h = size
    polys = polygons(polys)
    if isinstance(polys, dict):
        return rasterise(polys.get("add", []), size) & ~rasterise(polys.get("sub", []), size)
    m = np.zeros((h, w), np.uint8)
    for p in polys:
        cv2.fillPoly(m, [np.round(np.asarray(p, np.float64)).astype(np.int32)], 1)
    return m.astype(bool)


def _resize_bool(m: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if m.shape == shape:
        return m
    return cv2.resize(m.astype(np.uint8), (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST).astype(bool)


def instance_masks(case: Case, kind: str, shape: tuple[int, int] | None = None) -> list[np.ndarray]:
    """One bool mask per labelled instance of ``kind``, at ``shape`` = (h, w) (default: the photo's)."""
    out = [rasterise(p, case.size) for p in case.instances.get(kind, [])]
    return [_resize_bool(m, shape) for m in out] if shape else out


def labelled(case: Case) -> dict[str, np.ndarray]:
    """Bool masks at the photo's size for every labelled kind (instances united)."""
    masks = {k: rasterise(v, case.size) for k, v in case.regions.items() if k in KINDS}
    for kind in INSTANCE_KINDS:
        inst = instance_masks(case, kind)
        if inst and kind not in masks:
            masks[kind] = np.logical_or.reduce(inst)
    return {k: m for k, m in masks.items() if m.any()}


def truth(case: Case, shape: tuple[int, int]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Ground truth at ``shape`` = (h, w): masks per present scored or separate kind, and the
    scored-pixel mask. building/ground unite their parts; background is valid minus subject."""
    raw = labelled(case)
    valid = ~rasterise(case.ignore, case.size)
    masks = {k: v for k, v in raw.items() if k in SCORED or k in SEPARATE}
    for kind, parts in PARTS.items():
        got = [raw[p] for p in parts if p in raw]
        if got:
            masks[kind] = np.logical_or.reduce(got)
    if "subject" in raw:
        masks["background"] = valid & ~raw["subject"]
    masks = {k: _resize_bool(m, shape) for k, m in masks.items() if m.any()}
    return masks, _resize_bool(valid, shape)


def face_heights(case: Case) -> list[int]:
    """Height in photo pixels of each labelled face."""
    out = []
    for m in instance_masks(case, "face"):
        rows = np.flatnonzero(m.any(axis=1))
        out.append(int(rows[-1] - rows[0] + 1) if rows.size else 0)
    return out

