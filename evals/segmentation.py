"""Segmentation quality on a small hand-labelled set of photos that dependencies ship.

Cases are JSON files in ``evals/data/seg/`` (one per photo): the photo's source
(``skimage:NAME``, ``sklearn:FILE``, ``matplotlib:FILE``), its size, and hand-drawn
polygons per label (``[[x, y], …]`` in photo pixels; a label may be
``{"add": [...], "sub": [...]}``), plus ``ignore`` polygons that are not scored
(see-through lattices). Each case is exhaustive for :data:`SCORED`: a label
without polygons is absent from that photo.

Metrics per label: IoU, boundary F-score (BSDS/DAVIS style, tolerance 0.75 % of
the diagonal), false alarms (label predicted on ≥ 1 % of a photo that has none);
and calibration of region confidences: each predicted region of a scored label is
correct when most of its pixels lie inside that label's ground truth; accuracy per
confidence bin and the expected calibration error (ECE), for the raw confidences,
for the calibration map scored leave-one-photo-out (honest: no photo is scored by
a map fitted on it) and for the shipped map (fitted on every photo: optimistic).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import cv2
import numpy as np

from pertouch.evals.photos import load_photo

SCORED: tuple[str, ...] = ("sky", "person", "vegetation", "water", "building", "ground")
#: Predicted labels that count as a scored label (clouds are part of the sky).
ALIASES = {"clouds": "sky"}
GOALS = {"sky": 0.85, "person": 0.75, "vegetation": 0.70}
BINS = (0.0, 0.4, 0.55, 0.7, 0.85, 1.0001)


@dataclass
class Case:
    name: str
    photo: str
    size: tuple[int, int]
    regions: dict[str, Any]
    ignore: list
    note: str = ""


def load_cases() -> list[Case]:
    """Every case in ``evals/data/seg/*.json``, sorted by name."""
    root = resources.files("pertouch.evals").joinpath("data", "seg")
    cases = []
    for f in sorted(root.iterdir(), key=lambda p: p.name):
        if f.name.endswith(".json"):
            d = json.loads(f.read_text())
            cases.append(Case(f.name[:-5], d["photo"], tuple(d["size"]), d.get("regions", {}), d.get("ignore", []), d.get("note", "")))
    return cases


def rasterise(polys: Any, size: tuple[int, int]) -> np.ndarray:
    """Polygons (list, or ``{"add", "sub"}``) → bool mask ``(h, w)`` for ``size`` = (w, h)."""
    w, h = size
    if isinstance(polys, dict):
        return rasterise(polys.get("add", []), size) & ~rasterise(polys.get("sub", []), size)
    m = np.zeros((h, w), np.uint8)
    for p in polys:
        cv2.fillPoly(m, [np.round(np.asarray(p, np.float64)).astype(np.int32)], 1)
    return m.astype(bool)


def truth(case: Case, shape: tuple[int, int]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Ground-truth masks per scored label and the scored-pixel mask, at ``shape`` = (h, w)."""
    masks = {k: rasterise(v, case.size) for k, v in case.regions.items()}
    valid = ~rasterise(case.ignore, case.size)
    if (shape[1], shape[0]) != case.size:
        def rs(m):
            return cv2.resize(m.astype(np.uint8), (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST).astype(bool)
        masks = {k: rs(v) for k, v in masks.items()}
        valid = rs(valid)
    return masks, valid


def iou(pred: np.ndarray, gt: np.ndarray, valid: np.ndarray) -> float:
    inter = (pred & gt & valid).sum()
    union = ((pred | gt) & valid).sum()
    return float(inter / union) if union else 1.0


def _edges(m: np.ndarray) -> np.ndarray:
    m8 = m.astype(np.uint8)
    return (m8 - cv2.erode(m8, np.ones((3, 3), np.uint8))) > 0


def boundary_f(pred: np.ndarray, gt: np.ndarray, valid: np.ndarray, tol_frac: float = 0.0075) -> float:
    """F-score of boundary pixels matched within ``tol_frac`` × diagonal (1.0 if both empty)."""
    h, w = gt.shape
    tol = max(1, round(tol_frac * np.hypot(h, w)))
    pe, ge = _edges(pred) & valid, _edges(gt) & valid
    if not pe.any() and not ge.any():
        return 1.0
    if not pe.any() or not ge.any():
        return 0.0
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * tol + 1, 2 * tol + 1))
    precision = (pe & cv2.dilate(ge.astype(np.uint8), k).astype(bool)).sum() / pe.sum()
    recall = (ge & cv2.dilate(pe.astype(np.uint8), k).astype(bool)).sum() / ge.sum()
    return float(0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall))


def predicted(scene: Any) -> dict[str, np.ndarray]:
    """Scored label → union of the scene's regions with that label (mask > 0.5)."""
    out: dict[str, np.ndarray] = {}
    for r in scene.regions:
        lab = ALIASES.get(r.label, r.label)
        if lab in SCORED:
            m = r.mask > 0.5
            out[lab] = out[lab] | m if lab in out else m
    return out


def evaluate_case(case: Case, segmenter: str = "builtin", long_side: int | None = None) -> dict[str, Any]:
    """Perceive one photo and score it: per-label IoU/boundary F, false alarms, region calibration."""
    from pertouch.tools.labels import use_calibration
    from pertouch.tools.perception import perceive, proxy_of

    img = load_photo(case.photo)
    if long_side:
        img = proxy_of(img, long_side)
    with use_calibration(None):  # raw confidences: the map is applied (and fitted) in run()
        scene = perceive(img, segmenter, cache=False)
    gt, valid = truth(case, img.shape[:2])
    pred = predicted(scene)
    labels: dict[str, Any] = {}
    for lab in SCORED:
        p = pred.get(lab, np.zeros_like(valid))
        if lab in gt:
            labels[lab] = {"iou": round(iou(p, gt[lab], valid), 4), "boundary_f": round(boundary_f(p, gt[lab], valid), 4)}
        elif (p & valid).mean() >= 0.01:
            labels[lab] = {"false_alarm": round(float((p & valid).mean()), 4)}
    regions = []
    for r in scene.regions:
        lab = ALIASES.get(r.label, r.label)
        if lab not in SCORED:
            continue
        m = (r.mask > 0.5) & valid
        if not m.any():
            continue
        inside = float((m & gt[lab]).sum() / m.sum()) if lab in gt else 0.0
        if lab not in gt and lab == "ground" and "ground" not in case.regions and case.name != "coffee":
            continue  # ground is only annotated where the photo shows open ground
        regions.append({"name": r.name, "label": r.label, "raw": round(float(r.confidence), 3),
                        "correct": inside >= 0.5, "inside": round(inside, 3)})
    return {"case": case.name, "labels": labels, "regions": regions, "ms": round(scene.timings_ms.get("total", 0.0), 1)}


def calibration(regions: list[dict[str, Any]]) -> dict[str, Any]:
    """Accuracy per confidence bin and the expected calibration error."""
    bins = []
    ece = 0.0
    n = len(regions)
    for lo, hi in zip(BINS[:-1], BINS[1:]):
        sel = [r for r in regions if lo <= r["confidence"] < hi]
        if not sel:
            continue
        conf = float(np.mean([r["confidence"] for r in sel]))
        acc = float(np.mean([r["correct"] for r in sel]))
        ece += len(sel) / max(1, n) * abs(conf - acc)
        bins.append({"range": [lo, min(hi, 1.0)], "n": len(sel), "mean_confidence": round(conf, 3), "accuracy": round(acc, 3)})
    wrong = [r["confidence"] for r in regions if not r["correct"]]
    right = [r["confidence"] for r in regions if r["correct"]]
    return {"bins": bins, "ece": round(ece, 4), "n": n,
            "mean_confidence_right": round(float(np.mean(right)), 3) if right else None,
            "mean_confidence_wrong": round(float(np.mean(wrong)), 3) if wrong else None}


def confidence_report(regions: list[dict[str, Any]], calibrated: bool, table: dict | None = None) -> dict[str, Any]:
    """Raw, leave-one-photo-out and shipped calibration of ``regions`` (rows with
    ``case``, ``label``, ``raw``, ``correct``); ``calibrated``: the segmenter's
    confidences go through :func:`~pertouch.tools.labels.calibrate` (the builtin
    labeller's) with ``table`` (default: the shipped one)."""
    from pertouch.evals import calibration as cal
    from pertouch.tools.labels import calibrate

    ok = [r["correct"] for r in regions]
    variants = {"raw": [r["raw"] for r in regions],
                "leave_one_photo_out": cal.leave_one_photo_out(regions),
                "leave_one_photo_out_shared_map": cal.leave_one_photo_out(regions, lambda t: cal.fit(t, families=False))}
    if calibrated:
        variants["shipped"] = [calibrate(r["label"], r["raw"], table) for r in regions]
    out = {}
    for name, conf in variants.items():
        rows = [dict(r, confidence=round(c, 3)) for r, c in zip(regions, conf)]
        out[name] = dict(calibration(rows), brier=cal.brier(conf, ok), split=cal.split_accuracy(conf, ok))
    return out


def run(segmenter: str = "builtin", long_side: int | None = None, cases: list[str] | None = None,
        refit: bool = False) -> dict[str, Any]:
    """The whole report for one segmenter (JSON-serialisable); ``refit``: fit the
    calibration map on these regions (report key ``fitted_table``) and score it as shipped."""
    from pertouch.evals.calibration import table
    from pertouch.tools.segmentation import get_segmenter

    seg = get_segmenter(segmenter)
    results = [evaluate_case(c, segmenter, long_side) for c in load_cases() if not cases or c.name in cases]
    summary: dict[str, Any] = {}
    for lab in SCORED:
        rows = [r["labels"][lab] for r in results if lab in r["labels"] and "iou" in r["labels"][lab]]
        alarms = [r["case"] for r in results if "false_alarm" in r["labels"].get(lab, {})]
        if rows or alarms:
            summary[lab] = {
                "iou": round(float(np.mean([x["iou"] for x in rows])), 4) if rows else None,
                "boundary_f": round(float(np.mean([x["boundary_f"] for x in rows])), 4) if rows else None,
                "photos": len(rows), "false_alarms": alarms, "goal": GOALS.get(lab)}
    regions = [dict(r, case=res["case"]) for res in results for r in res["regions"]]
    fitted = table(regions, [r["case"] for r in results]) if refit else None
    report = {"segmenter": segmenter, "long_side": long_side, "labels": summary,
              "calibration": confidence_report(regions, seg.spec == "builtin" or not seg.semantic, fitted),
              "regions": regions, "cases": results}
    return dict(report, fitted_table=fitted) if refit else report
