"""Segmentation metrics and summaries: IoU, boundary F, found / false-found, instance
recall, per-split summaries, the goals, and confidence calibration bins."""

from __future__ import annotations

from typing import Any, Sequence

import cv2
import numpy as np

from pertouch.evals.seg_cases import INSTANCE_KINDS, MIN_FACE_PX, SCORED, SEPARATE

#: A kind absent from a photo is "false-found" when found on at least this share of it.
FALSE_FOUND_AREA = 0.01
#: A labelled instance is recalled by a predicted one with at least this IoU.
MATCH_IOU = 0.5
#: Goals on the held-out split (the issue's).
GOALS: dict[str, Any] = {
    "found": {k: 0.95 for k in ("person", "face", "sky", "vegetation", "building", "ground", "subject", "background")},
    "false_found": 0.05,
    "iou": {"person": 0.80, "face": 0.75, "sky": 0.90},
    "instance_recall": {"face": 0.90},
    "portrait_background_iou": 0.85,
}
BINS = (0.0, 0.4, 0.55, 0.7, 0.85, 1.0001)


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


def score_kind(pred: np.ndarray | None, gt: np.ndarray | None, valid: np.ndarray) -> dict[str, Any]:
    """One kind on one photo: ``pred`` None = not found, ``gt`` None = absent.

    Present: ``found``, ``iou`` and ``boundary_f`` (0 when not found). Absent: ``found``,
    the found ``area`` (share of the scored pixels) and ``false_found`` (area ≥ 1 %)."""
    if gt is not None:
        p = pred if pred is not None else np.zeros_like(gt)
        return {"present": True, "found": pred is not None,
                "iou": round(iou(p, gt, valid), 4), "boundary_f": round(boundary_f(p, gt, valid), 4)}
    area = float((pred & valid).sum() / max(1, valid.sum())) if pred is not None else 0.0
    return {"present": False, "found": pred is not None, "area": round(area, 4), "false_found": area >= FALSE_FOUND_AREA}


def instance_recall(preds: Sequence[np.ndarray], gts: Sequence[np.ndarray], valid: np.ndarray,
                    counted: Sequence[bool] | None = None) -> dict[str, int]:
    """Labelled instances (those ``counted``) recalled by some prediction with IoU ≥ 0.5;
    ``matched``: predictions that recall at least one labelled instance (counted or not)."""
    counted = list(counted) if counted is not None else [True] * len(gts)
    hit = np.zeros((len(gts), len(preds)), bool)
    for i, g in enumerate(gts):
        for j, p in enumerate(preds):
            hit[i, j] = iou(p, g, valid) >= MATCH_IOU
    ok = hit.any(axis=1)
    return {"labelled": int(sum(counted)), "recalled": int(sum(o for o, c in zip(ok, counted) if c)),
            "predicted": len(preds), "matched": int(hit.any(axis=0).sum())}


def _mean(xs: Sequence[float]) -> float | None:
    return round(float(np.mean(xs)), 4) if len(xs) else None


def summarise(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per kind: mean IoU / boundary F where present, found-when-present and
    false-found-when-absent rates with counts and cases; instance recall; portrait background IoU."""
    kinds: dict[str, Any] = {}
    for kind in SCORED + SEPARATE:
        rows = [(r["case"], r["labels"][kind]) for r in results]
        present = [(c, s) for c, s in rows if s["present"]]
        absent = [(c, s) for c, s in rows if not s["present"]]
        if kind in SEPARATE and not present:
            continue
        kinds[kind] = {
            "iou": _mean([s["iou"] for _, s in present]), "boundary_f": _mean([s["boundary_f"] for _, s in present]),
            "present": len(present), "found_when_present": _mean([float(s["found"]) for _, s in present]),
            "absent": len(absent), "false_found_when_absent": _mean([float(s["false_found"]) for _, s in absent]),
            "missed": [c for c, s in present if not s["found"]], "false_found": [c for c, s in absent if s["false_found"]]}
    inst: dict[str, Any] = {}
    for kind in INSTANCE_KINDS:
        got = [r["instances"][kind] for r in results]
        if not got or any(g is None for g in got):
            inst[kind] = None
            continue
        n, k = sum(g["labelled"] for g in got), sum(g["recalled"] for g in got)
        p, j = sum(g["predicted"] for g in got), sum(g["matched"] for g in got)
        inst[kind] = {"labelled": n, "recall": round(k / n, 4) if n else None, "predicted": p,
                      "precision": round(j / p, 4) if p else None}
    portraits = [r["labels"]["background"]["iou"] for r in results if r["portrait"] and r["labels"]["background"]["present"]]
    return {"photos": len(results), "kinds": kinds, "instances": inst,
            "portrait_background_iou": _mean(portraits), "portraits": len(portraits)}


def goal_checks(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Each goal of :data:`GOALS` against ``summary``: name, value, goal, ok (None: not measurable)."""
    out = []

    def add(name: str, value: float | None, goal: float, at_least: bool = True) -> None:
        ok = None if value is None else (value >= goal if at_least else value <= goal)
        out.append({"goal": name, "value": value, "target": ("≥ " if at_least else "≤ ") + f"{goal:g}", "ok": ok})

    kinds = summary["kinds"]
    for kind, g in GOALS["found"].items():
        add(f"{kind} found when present", kinds.get(kind, {}).get("found_when_present"), g)
    for kind in SCORED:
        add(f"{kind} false-found when absent", kinds.get(kind, {}).get("false_found_when_absent"), GOALS["false_found"], False)
    for kind, g in GOALS["iou"].items():
        add(f"{kind} IoU", kinds.get(kind, {}).get("iou"), g)
    for kind, g in GOALS["instance_recall"].items():
        got = summary["instances"].get(kind)
        add(f"{kind} instance recall (≥ {MIN_FACE_PX} px)" if kind == "face" else f"{kind} instance recall",
            None if got is None else got["recall"], g)
    add("background IoU on portraits", summary["portrait_background_iou"], GOALS["portrait_background_iou"])
    return out


# --- calibration -----------------------------------------------------------------------

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


