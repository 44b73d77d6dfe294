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

The cases and truth masks live in :mod:`pertouch.evals.seg_cases`, the metrics and
summaries in :mod:`pertouch.evals.seg_metrics` (their names are importable from here
too); :mod:`pertouch.evals.seg_task` runs the same per-photo evaluation as the
``segmentation`` suite of ``pertouch eval``.
"""

from __future__ import annotations

from typing import Any, Sequence

import cv2
import numpy as np

from pertouch.core.errors import InputError, NotFoundError
from pertouch.evals.photos import load_photo  # noqa: F401  (scripts import it from here)
# The cases and metrics live in seg_cases / seg_metrics; their names stay importable from here.
from pertouch.evals.seg_cases import (INSTANCE_KINDS, KINDS, MIN_FACE_PX, PARTS, SCORED, SEPARATE,  # noqa: F401
                                      SPLITS, Case, _check_split, face_heights, instance_masks, labelled,
                                      load_cases, polygons, rasterise, truth)
from pertouch.evals.seg_metrics import (BINS, FALSE_FOUND_AREA, GOALS, MATCH_IOU, boundary_f,  # noqa: F401
                                        calibration, goal_checks, instance_recall, iou, score_kind, summarise)

#: Region labels whose confidences are calibrated and scored (clouds are part of the sky).
CALIBRATED: tuple[str, ...] = ("sky", "person", "vegetation", "water", "building", "ground", "snow")
ALIASES = {"clouds": "sky"}


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
