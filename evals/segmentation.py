"""Perception quality on hand-labelled photos that dependencies ship, per split.

Cases are JSON files in ``evals/data/seg/`` (one per photo; sources and licences in
``PHOTOS.md`` there): ``photo`` (a :func:`~pertouch.evals.photos.load_photo` source),
``size`` ``[w, h]``, ``split`` (``"tune"``: thresholds, rules and the calibration map
may be fitted on it; ``"heldout"``: never, only scored), ``regions`` (kind → polygons
``[[x, y], …]`` in photo pixels, or ``{"add": [...], "sub": [...]}``), ``instances``
(``{"person": [inst, …], "face": [inst, …]}``, one entry per person or face: a polygon,
a list of polygons or an add/sub dict; the ``person``/``face`` region is their union
unless given), ``ignore`` (polygons not scored: truly ambiguous pixels), ``portrait``
(a portrait of people before a background) and ``note``. Labels are exhaustive: a kind
without polygons is absent from the photo. ``subject`` is what a photographer calls the
main subject; ``background`` is derived (everything valid outside the subject, present
only where a subject is). Faces run hairline to chin, ear to ear.

Scored kinds (:data:`SCORED`): person, face, sky, vegetation, building (= building +
wall), ground (= ground + floor + road), water, snow, subject, background; wall, floor
and road are also reported on their own. A prediction is what a user gets:
``perceive(photo).find(word)`` (``NotFoundError`` = not found) for each word of the kind,
mask resized to the photo with linear interpolation and thresholded at 0.5; instances
come from ``scene.instances(kind)`` where the scene has it.

Metrics per kind and split: mean IoU over photos where it is present (0 where not
found), boundary F (BSDS/DAVIS style, tolerance 0.75 % of the diagonal), the rate found
when present, the rate found (on ≥ 1 % of the photo) when absent; instance recall for
people and faces (a labelled instance is recalled when a predicted instance has IoU ≥ 0.5
with it; faces under 24 px tall are not counted); background IoU on portraits. And the
calibration of region confidences (each predicted region of a calibrated label is correct
when most of its pixels lie inside that label's truth): raw, leave-one-photo-out on the
tune split, and on the held-out split the map fitted on the tune split only
(:func:`fit_table` refuses held-out rows).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Sequence

import cv2
import numpy as np

from pertouch.core.errors import InputError, NotFoundError
from pertouch.evals.photos import load_photo

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
#: Region labels whose confidences are calibrated and scored (clouds are part of the sky).
CALIBRATED: tuple[str, ...] = ("sky", "person", "vegetation", "water", "building", "ground", "snow")
ALIASES = {"clouds": "sky"}
#: Labelled faces shorter than this (photo pixels) do not count for face recall.
MIN_FACE_PX = 24
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


# --- metrics ---------------------------------------------------------------------------

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


def face_heights(case: Case) -> list[int]:
    """Height in photo pixels of each labelled face."""
    out = []
    for m in instance_masks(case, "face"):
        rows = np.flatnonzero(m.any(axis=1))
        out.append(int(rows[-1] - rows[0] + 1) if rows.size else 0)
    return out


# --- predictions -----------------------------------------------------------------------

def _at(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    m = np.asarray(mask, np.float32)
    if m.shape != shape:
        m = cv2.resize(m, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return m > 0.5


def found(scene: Any, word: str, shape: tuple[int, int]) -> np.ndarray | None:
    """``scene.find(word)``'s mask at ``shape`` (bool), None when not found."""
    try:
        region = scene.find(word)
    except NotFoundError:
        return None
    return _at(region.mask, shape)


def predicted(scene: Any, shape: tuple[int, int]) -> dict[str, np.ndarray | None]:
    """Scored and separate kind → what ``scene.find`` gives (united over a kind's words)."""
    out: dict[str, np.ndarray | None] = {}
    for kind in SCORED + SEPARATE:
        got = [m for m in (found(scene, w, shape) for w in PARTS.get(kind, (kind,))) if m is not None]
        out[kind] = np.logical_or.reduce(got) if got else None
    return out


def predicted_instances(scene: Any, kind: str, shape: tuple[int, int]) -> list[np.ndarray] | None:
    """``scene.instances(kind)`` masks at ``shape``; None where the scene cannot list instances."""
    lister = getattr(scene, "instances", None)
    if not callable(lister):
        return None
    try:
        return [_at(r.mask, shape) for r in lister(kind)]
    except NotFoundError:
        return []


# --- one photo -------------------------------------------------------------------------

def evaluate_case(case: Case, segmenter: str = "builtin", long_side: int | None = None) -> dict[str, Any]:
    """Perceive one photo and score it: per-kind found / IoU / boundary F, instance recall,
    and its regions' RAW confidences for calibration (a second, uncalibrated pass)."""
    from pertouch.tools.labels import use_calibration
    from pertouch.tools.perception import perceive, proxy_of

    img = load_photo(case.photo)
    if long_side:
        img = proxy_of(img, long_side)
    shape = img.shape[:2]
    scene = perceive(img, segmenter, cache=False)
    with use_calibration(None):  # raw confidences: the map is applied (and fitted) in run()
        raw_scene = perceive(img, segmenter, cache=False)
    gt, valid = truth(case, shape)
    pred = predicted(scene, shape)
    labels = {k: score_kind(pred[k], gt.get(k), valid) for k in SCORED + SEPARATE}
    instances: dict[str, Any] = {}
    for kind in INSTANCE_KINDS:
        got = predicted_instances(scene, kind, shape)
        counted = [h >= MIN_FACE_PX for h in face_heights(case)] if kind == "face" else None
        instances[kind] = None if got is None else instance_recall(got, instance_masks(case, kind, shape), valid, counted)
    regions = []
    for r in raw_scene.regions:
        lab = ALIASES.get(r.label, r.label)
        if lab not in CALIBRATED:
            continue
        m = _at(r.mask, shape) & valid
        if not m.any():
            continue
        inside = float((m & gt[lab]).sum() / m.sum()) if lab in gt else 0.0
        regions.append({"name": r.name, "label": r.label, "raw": round(float(r.confidence), 3),
                        "correct": inside >= 0.5, "inside": round(inside, 3)})
    return {"case": case.name, "split": case.split, "portrait": case.portrait, "labels": labels,
            "instances": instances, "regions": regions, "ms": round(scene.timings_ms.get("total", 0.0), 1)}


# --- summaries -------------------------------------------------------------------------

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


def tune_rows(regions: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``regions`` checked to come from tune photos only (rows carry ``split``): the
    calibration map is never fitted on a held-out photo."""
    held = sorted({r["case"] for r in regions if r.get("split") != "tune"})
    if held:
        raise InputError(f"the calibration map is fitted on tune photos only; got rows from {', '.join(held)}",
                         hint="pass the tune split's regions (split == 'tune')")
    return list(regions)


def fit_table(regions: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The calibration data file fitted on the TUNE rows of ``regions`` (held-out rows are dropped)."""
    from pertouch.evals.calibration import table

    rows = tune_rows([r for r in regions if r.get("split") == "tune"])
    if not rows:
        raise InputError("no tune-split regions to fit the calibration map on", hint="evaluate the tune split")
    return table(rows, sorted({r["case"] for r in rows}))


def confidence_report(regions: list[dict[str, Any]], calibrated: bool, table: dict | None = None,
                      train: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Calibration of ``regions`` (rows with ``case``, ``label``, ``raw``, ``correct``):
    raw; with ``train`` None, maps fitted leave-one-photo-out on ``regions`` themselves (the
    tune split); else the map fitted on ``train`` (tune rows only) applied to them (the
    held-out split); ``calibrated``: also the shipped map (or ``table``) as the segmenter applies it."""
    from pertouch.evals import calibration as cal
    from pertouch.tools.labels import calibrate

    ok = [r["correct"] for r in regions]
    variants = {"raw": [r["raw"] for r in regions]}
    if train is None:
        rows = tune_rows(regions)
        variants["leave_one_photo_out"] = cal.leave_one_photo_out(rows)
        variants["leave_one_photo_out_shared_map"] = cal.leave_one_photo_out(rows, lambda t: cal.fit(t, families=False))
    elif train:
        fitted = cal.fit(tune_rows(train))
        variants["fitted_on_tune"] = [calibrate(r["label"], r["raw"], fitted) for r in regions]
    if calibrated:
        variants["shipped" if table is None else "refitted"] = [calibrate(r["label"], r["raw"], table) for r in regions]
    out = {}
    for name, conf in variants.items():
        rows_ = [dict(r, confidence=round(c, 3)) for r, c in zip(regions, conf)]
        out[name] = dict(calibration(rows_), brier=cal.brier(conf, ok), split=cal.split_accuracy(conf, ok))
    return out


def run(segmenter: str = "builtin", long_side: int | None = None, cases: list[str] | None = None,
        refit: bool = False, split: str | None = None) -> dict[str, Any]:
    """The report for one segmenter (JSON-serialisable), one section per split evaluated;
    ``refit``: fit the calibration map on the tune split's regions only (report key
    ``fitted_table``) and score it."""
    from pertouch.tools.segmentation import get_segmenter

    _check_split(split)
    if refit and split == "heldout":
        raise InputError("cannot fit the calibration map on the held-out split", hint="drop --split heldout")
    seg = get_segmenter(segmenter)
    results = [evaluate_case(c, segmenter, long_side) for c in load_cases(split) if not cases or c.name in cases]
    regions = [dict(r, case=res["case"], split=res["split"]) for res in results for r in res["regions"]]
    fitted = fit_table(regions) if refit else None
    tune = [r for r in regions if r["split"] == "tune"]
    calibrated = seg.spec == "builtin" or not seg.semantic
    splits = {}
    for name in SPLITS:
        res = [r for r in results if r["split"] == name]
        if not res:
            continue
        rows = [r for r in regions if r["split"] == name]
        summary = summarise(res)
        splits[name] = {"summary": summary, "goals": goal_checks(summary),
                        "calibration": confidence_report(rows, calibrated, fitted, None if name == "tune" else tune)}
    report = {"segmenter": segmenter, "long_side": long_side, "splits": splits, "regions": regions, "cases": results}
    return dict(report, fitted_table=fitted) if refit else report
