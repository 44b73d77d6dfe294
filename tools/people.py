"""Every visible person as an instance: masks from the pose landmark model's
segmentation, shared out between overlapping people, refined against the image.

People are found as poses (:func:`pertouch.tools.pose.find_poses`: BlazePose detector
on the image and its tiles, landmark model verified by its own heat maps; see
:mod:`pertouch.tools.pose_detector` and :mod:`pertouch.tools.pose`); this module makes
them :class:`Person` instances (:func:`detect_people`):

1. Masks: each person's 256×256 segmentation is warped back to the image; for
   close-ups (ROI ≥ 1.5 × the long side, whose 256-px mask is coarse and leaks into the
   background) it is the geometric mean with the selfie model's mask of the frame
   (``selfie_segmentation.tflite``, Apache-2.0, from the mediapipe 0.10.21 wheel, see
   ``tools/data/NOTICE.md``). Overlaps go to the person whose probability × nearness
   to their own skeleton is higher (soft shares, so no pixel is above 0.5 in two
   masks); edges are steepened and refined by a guided filter against the luma.
2. Faces (optional, from ``tools/faces.py``) that no pose explains seed a ROI guessed
   from the face; failing that, a head-and-shoulders person from the selfie model.

The people's skin and hair (:func:`skin_mask`, :func:`hair_mask`) are in
:mod:`pertouch.tools.skin`, re-exported here; so are the pose modules' public names.

Coordinates are pixels of the image given (x right, y down); masks are float32
``(h, w)`` in [0, 1]. Input: uint8 RGB ``(h, w, 3)``, a proxy of ~384–1024 px.

Known misses: people seen from behind or with the head cut by the frame (no face for
the detector: the walker on bus.jpg's right edge, the sliver of a person on its left
edge), people hidden behind another one's body (the woman at the back of t1.jpg,
found only from her face), lying people (tilt > 50°: scores halved).

>>> people = detect_people(rgb)                      # doctest: +SKIP
>>> [(round(p.score, 2), p.box) for p in people]      # doctest: +SKIP
[(0.97, (8.0, 15.0, 368.0, 512.0))]
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pertouch.core.errors import InputError
from pertouch.tools.pose import Pose, Roi, body_scale, find_poses, pyramid, pyramid_level
# Re-exported: callers import these from here since people, poses and skin were one module.
from pertouch.tools.pose import (LANDMARKER, face_on_mask, pose_evidence, pose_score,  # noqa: F401
                                 roi_from_detection, roi_from_landmarks, run_landmarks, same_person)
from pertouch.tools.pose_detector import (DETECTOR, Detection, anchors, decode_detections,  # noqa: F401
                                          detect_poses, tiles, weighted_nms)
from pertouch.tools.skin import ColourModel, fit_colour, generic_skin, hair_mask, lab_of, skin_mask  # noqa: F401

SELFIE = "selfie_segmentation.tflite"
_MASK_SIZE = 256           # px: the side of the landmark and selfie models' masks (and the selfie input)
_MIN_SEED_FACE = 24        # px: smaller faces with no body seed no head-and-shoulders person
_CLOSE_UP = 1.5            # a pose ROI this many times the long side: a close-up portrait


@dataclass
class Person:
    """One person. ``mask`` float32 ``(h, w)`` in [0, 1] at the image given (no pixel
    is above 0.5 in two people's masks); ``box`` (x0, y0, x1, y1) px of ``mask > 0.5``;
    ``score`` in [0, 1]; ``landmarks`` ``(33, 4)`` float32 (x px, y px, z px-scaled,
    visibility) in BlazePose order, or None for a person seeded from a face alone."""

    mask: np.ndarray
    box: tuple[float, float, float, float]
    score: float
    landmarks: np.ndarray | None


# --- instance masks ---------------------------------------------------------------------

_LIMBS = [(11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24), (23, 24),
          (23, 25), (25, 27), (24, 26), (26, 28), (0, 11), (0, 12), (7, 8)]


Window = tuple[int, int, int, int]  # y0, y1, x0, x1: a region of the image


@dataclass
class _Instance:
    prob: np.ndarray            # float32 person probability inside `win`
    win: Window
    lines: list[tuple[tuple[int, int], tuple[int, int]]]  # the skeleton's segments, image px
    thick: int                  # their thickness, px
    scale: float                # body scale, px
    side: float                 # side of the square the model saw, px
    score: float
    landmarks: np.ndarray | None


def _warp_back(seg: np.ndarray, roi: Roi, shape: tuple[int, int]) -> tuple[np.ndarray, Window]:
    """The ROI's ``seg`` (n×n, ROI space) warped into the image: ``(prob, window)``, the
    window being the bounding box of ``prob > 0.01`` (possibly empty)."""
    h, w = shape
    n = seg.shape[0]
    inv = cv2.invertAffineTransform(roi.matrix(n))
    corners = np.array([[0, 0], [n, 0], [n, n], [0, n]], np.float64) @ inv[:, :2].T + inv[:, 2]
    x0, y0 = np.floor(corners.min(0)).astype(int)
    x1, y1 = np.ceil(corners.max(0)).astype(int)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 <= x0 or y1 <= y0:
        return np.zeros((0, 0), np.float32), (0, 0, 0, 0)
    m = roi.matrix(n).copy()
    m[:, 2] += m[:, :2] @ np.array([x0, y0], np.float64)  # window pixel → ROI pixel
    prob = cv2.warpAffine(seg, m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return _tighten(prob, (y0, y1, x0, x1))


def _tighten(prob: np.ndarray, win: Window, floor: float = 0.01) -> tuple[np.ndarray, Window]:
    """``prob`` and its window cut to the bounding box of ``prob > floor``."""
    keep = prob > floor
    rows, cols = np.flatnonzero(keep.any(1)), np.flatnonzero(keep.any(0))
    if rows.size == 0:
        return np.zeros((0, 0), np.float32), (win[0], win[0], win[2], win[2])
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    return np.ascontiguousarray(prob[r0:r1, c0:c1]), (win[0] + r0, win[0] + r1, win[2] + c0, win[2] + c1)


def _pose_instance(pose: Pose, score: float, shape: tuple[int, int]) -> _Instance:
    scale = body_scale(pose)
    lm = pose.landmarks
    lines = [(tuple(int(v) for v in lm[a, :2]), tuple(int(v) for v in lm[b, :2]))
             for a, b in _LIMBS if lm[a, 3] > 0.5 and lm[b, 3] > 0.5]
    if not lines:  # nothing visible: the ROI centre stands for the person
        c = (int(pose.roi.cx), int(pose.roi.cy))
        lines = [(c, c)]
    prob, win = _warp_back(pose.seg, pose.roi, shape)
    return _Instance(prob, win, lines, max(1, int(0.06 * scale)), scale, pose.roi.side, score, lm[:33, :4].copy())


def _masks(instances: list[_Instance], shape: tuple[int, int]) -> list[np.ndarray]:
    """Per instance, probability × its share of each pixel, inside its window. Shares
    (summing to 1 where anyone is present) are probability × nearness to the person's
    own skeleton (exp(−d / 0.3·scale)), raised to the 4th power and normalised, so
    overlapping pixels go to the nearer, surer person."""
    total = np.zeros(shape, np.float32)
    weights = []
    for inst in instances:
        y0, y1, x0, x1 = inst.win
        if inst.prob.size == 0:
            weights.append(inst.prob)
            continue
        free = np.full((y1 - y0, x1 - x0), 255, np.uint8)
        for a, b in inst.lines:
            cv2.line(free, (a[0] - x0, a[1] - y0), (b[0] - x0, b[1] - y0), 0, inst.thick)
        if free.all():  # skeleton outside the window: nearness says nothing
            near = np.ones_like(inst.prob)
        else:
            near = np.exp(cv2.distanceTransform(free, cv2.DIST_L2, 3) * np.float32(-1.0 / (0.3 * inst.scale)))
        wt = inst.prob * near
        wt *= wt
        wt *= wt
        weights.append(wt)
        total[y0:y1, x0:x1] += wt
    out = []
    for inst, wt in zip(instances, weights):
        y0, y1, x0, x1 = inst.win
        t = total[y0:y1, x0:x1]
        share = np.divide(wt, t, out=np.zeros_like(wt), where=t > 1e-30)
        out.append(inst.prob * share)
    return out


def guided_filter(guide: np.ndarray, p: np.ndarray, radius: int, eps: float = 1e-3) -> np.ndarray:
    """He's guided filter of ``p`` against the grey ``guide`` (both float32, same shape):
    output follows the guide's edges within ``radius`` px."""
    from pertouch.tools.refine import guided_coefficients

    (a, b), = guided_coefficients(guide, [p], radius, eps)
    return a * guide + b


def _refine(masks: list[np.ndarray], wins: list[Window], grey: np.ndarray, radii: list[int]
            ) -> list[tuple[np.ndarray, Window]]:
    """Steepen each mask's ramp (2× around 0.5: the models' masks are bilinear upsamplings
    of 2–8 px cells), guided-filter it inside its window padded by 3 radii, clip to
    [0, 1], zero the faint tails (< 0.02), then keep at most one mask above 0.5 per
    pixel (the others capped at 0.5). Returns ``(mask, window)`` pairs."""
    h, w = grey.shape
    out = []
    for m, (y0, y1, x0, x1), r in zip(masks, wins, radii):
        if m.size == 0:
            out.append((m, (y0, y0, x0, x0)))
            continue
        pad = 3 * r
        Y0, Y1, X0, X1 = max(y0 - pad, 0), min(y1 + pad, h), max(x0 - pad, 0), min(x1 + pad, w)
        p = np.zeros((Y1 - Y0, X1 - X0), np.float32)
        p[y0 - Y0:y1 - Y0, x0 - X0:x1 - X0] = np.clip((m - 0.5) * 2.0 + 0.5, 0.0, 1.0)
        res = np.clip(guided_filter(grey[Y0:Y1, X0:X1], p, r), 0.0, 1.0)
        res[res < 0.02] = 0.0
        out.append(_tighten(res, (Y0, Y1, X0, X1), floor=0.0))
    if len(out) > 1:
        best = np.zeros((h, w), np.float32)
        owner = np.full((h, w), -1, np.int16)
        for i, (m, (y0, y1, x0, x1)) in enumerate(out):
            b, o = best[y0:y1, x0:x1], owner[y0:y1, x0:x1]
            higher = m > b
            b[higher], o[higher] = m[higher], i
        for i, (m, (y0, y1, x0, x1)) in enumerate(out):
            np.minimum(m, 0.5, out=m, where=owner[y0:y1, x0:x1] != i)
    return out


# --- people seeded by a face ------------------------------------------------------------

def _face_box(face) -> np.ndarray:
    return np.asarray(face.box, np.float64).reshape(4)


def _face_explained(box: np.ndarray, poses: list[Pose]) -> bool:
    """An accepted pose's nose or eyes fall inside the face box (grown by 25 %)."""
    c, half = (box[:2] + box[2:]) / 2, (box[2:] - box[:2]) / 2 * 1.25
    for p in poses:
        pts = p.landmarks[[0, 2, 5], :2]
        if (np.abs(pts - c) <= half).all(axis=1).any():
            return True
    return False


def roi_from_face(box: np.ndarray) -> Roi:
    """A full-body ROI guessed from an upright face box of size f: hips 3 f below the
    face centre, side 10 f (the detector's own ROIs run ~12 f for whole bodies)."""
    f = float(max(box[2] - box[0], box[3] - box[1]))
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return Roi(float(cx), float(cy + 3.0 * f), 10.0 * f, 0.0)


def _head_and_shoulders(pyr: list[np.ndarray], box: np.ndarray, score: float, shape) -> _Instance:
    """A person known only by its face: MediaPipe's selfie segmentation on a square of
    3.4 f centred 0.9 f below the face centre (head, neck and shoulders)."""
    from pertouch.tools.litert import model

    f = float(max(box[2] - box[0], box[3] - box[1]))
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    roi = Roi(float(cx), float(cy + 0.9 * f), 3.4 * f, 0.0)
    level = pyramid_level(pyr, roi, _MASK_SIZE)
    k = 2.0 ** level
    lroi = Roi(roi.cx / k, roi.cy / k, roi.side / k, 0.0)
    crop = cv2.warpAffine(pyr[level], lroi.matrix(_MASK_SIZE), (_MASK_SIZE, _MASK_SIZE),
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    seg = model(SELFIE).run(crop[None].astype(np.float32) * (1.0 / 255.0))[0][0, ..., 0]
    prob, win = _warp_back(np.clip(seg, 0, 1).astype(np.float32), roi, shape)
    neck = [((int(cx), int(cy)), (int(cx), int(cy + 1.5 * f)))]
    return _Instance(prob, win, neck, max(1, int(0.3 * f)), 3.3 * f, roi.side, score, None)


def _mean_in(inst: _Instance, box: np.ndarray) -> float:
    """Mean of the instance's probability over an image box (0 outside its window)."""
    y0, y1, x0, x1 = inst.win
    bx0, by0, bx1, by1 = box
    c0, c1 = int(max(bx0, x0)), int(min(bx1, x1))
    r0, r1 = int(max(by0, y0)), int(min(by1, y1))
    area = max((bx1 - bx0) * (by1 - by0), 1.0)
    if c1 <= c0 or r1 <= r0:
        return 0.0
    return float(inst.prob[r0 - y0:r1 - y0, c0 - x0:c1 - x0].sum() / area)


def selfie_probability(rgb: np.ndarray) -> np.ndarray:
    """MediaPipe's selfie segmentation of the whole frame, letterboxed into its 256×256
    input (black bars): float32 ``(h, w)`` person probability."""
    from pertouch.tools.litert import model

    h, w = rgb.shape[:2]
    side = max(h, w)
    k = _MASK_SIZE / side
    nw, nh = max(1, round(w * k)), max(1, round(h * k))
    canvas = np.zeros((_MASK_SIZE, _MASK_SIZE, 3), np.float32)
    px, py = (_MASK_SIZE - nw) // 2, (_MASK_SIZE - nh) // 2
    canvas[py:py + nh, px:px + nw] = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA) * (1.0 / 255.0)
    seg = model(SELFIE).run(canvas[None])[0][0, py:py + nh, px:px + nw, 0]
    return np.clip(cv2.resize(seg, (w, h), interpolation=cv2.INTER_LINEAR), 0.0, 1.0)


def _radius(side: float, h: int, w: int) -> int:
    """Guided-filter radius: about one model cell (close-ups use the selfie mask's cells)."""
    return int(np.clip(round(min(side, 2 * max(h, w)) / _MASK_SIZE), 2, 6))


# --- public API ---------------------------------------------------------------------------

def detect_people(rgb: np.ndarray, *, faces: list | None = None, min_score: float = 0.5,
                  poses: list | None = None) -> list[Person]:
    """Every visible person in a uint8 RGB ``(h, w, 3)`` proxy (~384–1024 px long side),
    sorted left to right by box centre; see the module docstring for how.

    ``faces``: optional face boxes (objects with ``.box`` x0, y0, x1, y1 px and
    ``.score``). A face that no accepted pose explains seeds the landmark model with a
    ROI guessed from it; if that finds no new person whose face is this one, a face of
    at least 24 px is a head-and-shoulders person (``landmarks`` None) scored 0.9 ×
    the face's score × the selfie model's agreement (its mean probability in the face
    box, / 0.6, capped at 1): a "face" on a table or a wall gets no person.
    ``poses``: what ``find_poses(rgb, min_score)`` returned, when the caller ran it already
    (e.g. beside the face detector).

    Misses: people whose face the pose detector cannot see (backs, heads cut by the
    frame) unless a face seeds them; people lying down score half (tilt > 50°).
    """
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise InputError(f"detect_people wants a uint8 RGB (h, w, 3) array, got "
                         f"{getattr(rgb, 'dtype', type(rgb).__name__)} {getattr(rgb, 'shape', '')}",
                         hint="pass the photo's RGB proxy as uint8, e.g. np.asarray(Image.open(p).convert('RGB'))")
    h, w = rgb.shape[:2]
    if min(h, w) < 32:
        return []
    shape = (h, w)
    found = list(poses) if poses is not None else find_poses(rgb, min_score)
    poses = [p for p, _ in found]
    instances = [_pose_instance(p, s, shape) for p, s in found]
    if faces:
        pyr = pyramid(rgb)
        for face in sorted(faces, key=lambda f: -float(f.score)):
            box = _face_box(face)
            if _face_explained(box, poses):
                continue
            seeded = find_poses(rgb, min_score, seeds=[roi_from_face(box)], max_tiles=-1, accepted=list(found))
            new = [(p, s) for p, s in seeded[len(found):] if _face_explained(box, [p])]
            if new:
                p, s = new[0]
                found.append((p, s))
                poses.append(p)
                instances.append(_pose_instance(p, s, shape))
            elif min(box[2] - box[0], box[3] - box[1]) >= _MIN_SEED_FACE and 0.9 * float(face.score) >= min_score:
                inst = _head_and_shoulders(pyr, box, 0.0, shape)
                inst.score = 0.9 * float(face.score) * min(_mean_in(inst, box) / 0.6, 1.0)
                if inst.score >= min_score:
                    instances.append(inst)
    if not instances:
        return []
    close = [i for i in instances if i.landmarks is not None and i.side >= _CLOSE_UP * max(h, w)]
    if close:  # a close-up: the pose mask is coarse and leaks; agree with the selfie model
        selfie = selfie_probability(rgb)
        for inst in close:
            y0, y1, x0, x1 = inst.win
            inst.prob, inst.win = _tighten(np.sqrt(inst.prob * selfie[y0:y1, x0:x1]), inst.win)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) * (1.0 / 255.0)
    refined = _refine(_masks(instances, shape), [i.win for i in instances], grey,
                      [_radius(i.side, h, w) for i in instances])
    people = []
    for inst, (m, (y0, y1, x0, x1)) in zip(instances, refined):
        on = m > 0.5
        rows, cols = np.flatnonzero(on.any(1)), np.flatnonzero(on.any(0))
        if rows.size == 0:
            continue
        full = np.zeros(shape, np.float32)
        full[y0:y1, x0:x1] = m
        box = (float(x0 + cols[0]), float(y0 + rows[0]), float(x0 + cols[-1] + 1), float(y0 + rows[-1] + 1))
        people.append(Person(full, box, float(inst.score), inst.landmarks))
    people.sort(key=lambda p: (p.box[0] + p.box[2]) / 2)
    return people


def people_mask(people: list[Person], shape) -> np.ndarray:
    """The union of the people's masks, float32 ``shape[:2]`` in [0, 1] (zeros if none)."""
    out = np.zeros(tuple(shape[:2]), np.float32)
    for p in people:
        np.maximum(out, p.mask, out=out)
    return out
