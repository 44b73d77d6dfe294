"""Poses: MediaPipe's BlazePose landmark model on the detector's ROIs, and which of its
answers are people.

Model: ``pose_landmark_full.tflite`` (Apache-2.0, from the mediapipe 0.10.21 wheel, see
``tools/data/NOTICE.md``), loaded lazily through :func:`pertouch.tools.litert.model`.
Pre- and post-processing follow mediapipe's ``pose_detection_to_roi.pbtxt``,
``pose_landmarks_to_roi.pbtxt`` and ``tensors_to_pose_landmarks_and_segmentation.pbtxt``.

:func:`find_poses`: per detection (:func:`pertouch.tools.pose_detector.detect_poses`),
the body ROI (:class:`Roi`: centre = mid-hip keypoint, side = 2·1.25·|hip → scale
keypoint|, rotated so that vector points up) is warped to 256×256 (RGB in [0, 1]) and
the landmark model run (:func:`run_landmarks`): 33 landmarks (+ 6 auxiliary), a
presence flag, a 256×256 person-segmentation map and 39 heat maps (:class:`Pose`).
The landmark model answers "a person" for nearly any ROI (presence 1.0 on a cup's
rim), so the score is :func:`pose_score`: the heat maps' peak logits (face, else
strongest body parts), × presence, × whether the face lies on the pose's own mask
(chimeras between two people), halved when the ROI is tilted > 50° from upright.
Unsure answers get a second pass on the landmarks' own ROI; duplicates (the same
person seen in several windows) are dropped by a shared face or landmark agreement
(:func:`same_person`).

Coordinates are pixels of the image given (x right, y down); input uint8 RGB
``(h, w, 3)``. People's masks are made from these poses in :mod:`pertouch.tools.people`.

>>> [round(s, 2) for _, s in find_poses(rgb)]        # doctest: +SKIP
[0.97]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from pertouch.tools.pose_detector import MAX_TILES, Detection, detect_poses

LANDMARKER = "pose_landmark_full.tflite"
_LMK_SIZE = 256
_ROI_SCALE = 1.25          # mediapipe's RectTransformation for the full-body ROI


# --- landmark model on a rotated ROI -------------------------------------------------

@dataclass
class Roi:
    """A square rotated region: centre (px), side (px), rotation (radians, image-up to the
    ROI's up, clockwise-positive as mediapipe's)."""

    cx: float
    cy: float
    side: float
    rotation: float

    def matrix(self, size: int = _LMK_SIZE) -> np.ndarray:
        """2×3 affine from image pixels to the ``size``×``size`` crop."""
        c, s = math.cos(self.rotation), math.sin(self.rotation)
        k = size / self.side
        # crop = k · R(-rotation) · (p - centre) + size/2
        a = np.array([[c, s], [-s, c]], np.float64) * k
        t = np.array([size / 2, size / 2]) - a @ np.array([self.cx, self.cy])
        return np.hstack([a, t[:, None]])


def roi_from_detection(d: Detection) -> Roi:
    """mediapipe's AlignmentPointsRects (centre = keypoint 0, size = 2·|kp1 − kp0|,
    rotation so kp0→kp1 points up) then RectTransformation (× 1.25, square)."""
    (x0, y0), (x1, y1) = d.keypoints[0], d.keypoints[1]
    side = 2.0 * math.hypot(x1 - x0, y1 - y0) * _ROI_SCALE
    rot = math.pi / 2 - math.atan2(-(y1 - y0), x1 - x0)
    rot = (rot + math.pi) % (2 * math.pi) - math.pi
    return Roi(float(x0), float(y0), float(side), rot)


@dataclass
class Pose:
    """The landmark model's answer on one ROI: ``landmarks`` (39, 5) image px (x, y, z,
    visibility, presence), ``presence`` score, ``seg`` 256×256 probability in ROI space,
    ``heat`` (39,) the heat maps' peak logits, and the ROI."""

    roi: Roi
    landmarks: np.ndarray
    presence: float
    seg: np.ndarray
    heat: np.ndarray


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60, 60)))


def pyramid(rgb: np.ndarray, smallest: int = 128) -> list[np.ndarray]:
    """The image and its 2× reductions (cv2.pyrDown) down to ``smallest`` px."""
    levels = [np.ascontiguousarray(rgb)]
    while max(levels[-1].shape[:2]) > 2 * smallest:
        levels.append(cv2.pyrDown(levels[-1]))
    return levels


def pyramid_level(pyr: list[np.ndarray], roi: Roi, size: int = _LMK_SIZE) -> int:
    """The level of ``pyr`` (see :func:`pyramid`) to crop ``roi`` from into a ``size``-px
    square: the smallest image whose warp still downscales (≤ 2× then: no aliasing)."""
    level = 0
    while level + 1 < len(pyr) and size / roi.side * 2 ** (level + 1) <= 1.0:
        level += 1
    return level


def run_landmarks(pyramid: list[np.ndarray], roi: Roi) -> Pose:
    """Landmark model on ``roi`` (pixels of ``pyramid[0]``): the crop is taken from the
    pyramid level that keeps the warp's downscale ≤ 2× (no aliasing), edges replicated."""
    from pertouch.tools.litert import model

    level = pyramid_level(pyramid, roi)
    k = 2.0 ** level
    lroi = Roi(roi.cx / k, roi.cy / k, roi.side / k, roi.rotation)
    crop = cv2.warpAffine(pyramid[level], lroi.matrix(), (_LMK_SIZE, _LMK_SIZE),
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    m = model(LANDMARKER)
    outs = m.run(crop[None].astype(np.float32) * (1.0 / 255.0))
    lm = next(o for o in outs if o.ndim == 2 and o.shape[-1] == 195)[0].reshape(39, 5).astype(np.float64)
    flag = float(next(o for o in outs if o.size == 1).reshape(()))
    seg = next(o for o in outs if o.ndim == 4 and o.shape[-1] == 1)[0, ..., 0]
    heat = next(o for o in outs if o.ndim == 4 and o.shape[-1] == 39)[0].reshape(-1, 39).max(0)
    inv = cv2.invertAffineTransform(roi.matrix())
    xy = lm[:, :2] @ inv[:, :2].T + inv[:, 2]
    z = lm[:, 2] * roi.side / _LMK_SIZE
    out = np.column_stack([xy, z, _sigmoid(lm[:, 3]), _sigmoid(lm[:, 4])]).astype(np.float32)
    return Pose(roi, out, flag, _sigmoid(seg).astype(np.float32), heat)


def roi_from_landmarks(landmarks: np.ndarray) -> Roi:
    """mediapipe's tracking ROI (``pose_landmarks_to_roi``): the auxiliary landmarks 33
    (body centre) and 34 (scale/rotation point) aligned as a detection's keypoints."""
    return roi_from_detection(Detection(np.zeros(4), landmarks[33:35, :2].astype(np.float64), 1.0))


# --- which poses are people --------------------------------------------------------------

_FACE = slice(0, 11)
_BODY = slice(11, 25)
_EVIDENCE_MID = 1.0        # heat-map evidence (logit) at which the score is 0.5
_EVIDENCE_SLOPE = 3.0
_MAX_TILT = math.radians(50)
_RETRY = (0.2, 0.85)       # first-pass scores that get a second landmark pass
_MAX_MISSES = 6            # detections rejected by the landmark model before the rest are skipped


def pose_evidence(pose: Pose) -> float:
    """How much this looks like a person, from the landmark model's own heat maps: the
    mean peak logit of the 11 face landmarks, or of the 4 strongest torso/limb ones
    minus 0.4 (a body seen from behind). Hallucinated poses on cups, roofs and flowers
    peak below ~0.6; real people above ~1.3 (tuning photos)."""
    face = float(pose.heat[_FACE].mean())
    body = float(np.sort(pose.heat[_BODY])[-4:].mean()) - 0.4
    return max(face, body)


def face_on_mask(pose: Pose) -> float:
    """Mean of the pose's own segmentation at its 11 face landmarks: ~1 for a person, low
    for a chimera whose face floats over the background (between two real people)."""
    n = pose.seg.shape[0]
    m = pose.roi.matrix(n)
    uv = pose.landmarks[_FACE, :2].astype(np.float64) @ m[:, :2].T + m[:, 2]
    uv = np.clip(uv, 0, n - 1).astype(int)
    return float(pose.seg[uv[:, 1], uv[:, 0]].mean())


def pose_score(pose: Pose) -> float:
    """Score in [0, 1]: sigmoid of the heat-map evidence, × the presence flag, × how much
    the face lies on the pose's own mask (:func:`face_on_mask`, 0 at 0.3, 1 from 0.7),
    halved for ROIs tilted more than 50° from upright (the model hallucinates lying
    bodies on round objects: the cup's rim scores presence 1.0 at 85° tilt)."""
    if pose.presence < 0.5:
        return 0.0
    s = 1.0 / (1.0 + math.exp(-_EVIDENCE_SLOPE * (pose_evidence(pose) - _EVIDENCE_MID)))
    s *= min(max((face_on_mask(pose) - 0.3) / 0.4, 0.0), 1.0)
    if abs(pose.roi.rotation) > _MAX_TILT:
        s *= 0.5
    return float(s * pose.presence)


def body_scale(pose: Pose) -> float:
    """Body scale, px: the hip → scale-keypoint distance the pose's ROI was built on."""
    return pose.roi.side / (2.0 * _ROI_SCALE)


def same_person(a: Pose, b: Pose) -> bool:
    """Two poses of one person: they share a face (nose and eyes, visible in both, within
    half the smaller head of each other: a face has one body), or their visible head,
    shoulder and hip landmarks (both visibility > 0.5) lie within 15 % of the smaller
    body scale of each other, for at least half of them."""
    eyes = [0, 2, 5]
    fa, fb = a.landmarks[eyes], b.landmarks[eyes]
    if (fa[:, 3] > 0.5).all() and (fb[:, 3] > 0.5).all():
        head = min(_head(a), _head(b))
        if np.linalg.norm(fa[:, :2] - fb[:, :2], axis=1).mean() < 0.5 * head:
            return True
    idx = list(range(0, 13)) + [23, 24]
    la, lb = a.landmarks[idx], b.landmarks[idx]
    vis = (la[:, 3] > 0.5) & (lb[:, 3] > 0.5)
    if vis.sum() < 3:
        return False
    d = np.linalg.norm(la[vis, :2] - lb[vis, :2], axis=1)
    return bool((d < 0.15 * min(body_scale(a), body_scale(b))).mean() >= 0.5)


def _head(p: Pose) -> float:
    """Head size, px: the extent of the face landmarks (at least 8 % of the body scale)."""
    face = p.landmarks[_FACE, :2]
    return max(float(np.linalg.norm(face.max(0) - face.min(0))), 0.08 * body_scale(p))


def _known(d: Detection, poses: list[Pose]) -> bool:
    """The detection's face box centre falls on an accepted person: near their head, or
    where their segmentation is sure (> 0.8; tiles often "see a face" on a hand or a
    chest of someone the whole image already gave)."""
    c = (d.box[:2] + d.box[2:]) / 2
    for p in poses:
        if np.linalg.norm(c - p.landmarks[_FACE, :2].mean(0)) < 0.9 * _head(p):
            return True
        n = p.seg.shape[0]
        u, v = (p.roi.matrix(n) @ np.array([c[0], c[1], 1.0])).astype(int)
        if 0 <= u < n and 0 <= v < n and p.seg[v, u] > 0.8:
            return True
    return False


def _duplicate(pose: Pose, accepted: list[tuple[Pose, float]]) -> int | None:
    """Index of the accepted pose that is :func:`same_person` as ``pose``, or None."""
    return next((i for i, (p, _) in enumerate(accepted) if same_person(pose, p)), None)


def find_poses(rgb: np.ndarray, min_score: float = 0.5, *, seeds: list[Roi] = (),
               max_tiles: int = MAX_TILES, accepted: list[tuple[Pose, float]] | None = None
               ) -> list[tuple[Pose, float]]:
    """Accepted ``(pose, score)`` pairs, one per person, in the order found.

    Each detection (best first) not already on an accepted person (:func:`_known`),
    and not tilted > 50° with a detector score < 0.5, gets the landmark model on its
    ROI; an unsure answer (score 0.2–0.85) gets a second pass on the ROI its landmarks
    give (mediapipe's tracking ROI) and the better one is kept. A pose is accepted if
    its score reaches ``min_score``; one that is :func:`same_person` as an accepted pose
    replaces it if it scores higher. After 6 rejected detections the remaining
    (weaker) ones are skipped: a bound on the time spent on photos without people
    (each try is one ~8 ms model call). ``seeds`` are extra ROIs (from faces) tried
    after the detections; ``max_tiles`` < 0 skips the detector; ``accepted`` are poses
    already found (returned first, in place).
    """
    pyr = pyramid(rgb)
    accepted = list(accepted or [])
    dets = detect_poses(rgb, max_tiles) if max_tiles >= 0 else []
    rois = [(roi_from_detection(d), d) for d in dets] + [(r, None) for r in seeds]
    misses = 0
    for roi, det in rois:
        if det is not None and (_known(det, [p for p, _ in accepted])
                                or (abs(roi.rotation) > _MAX_TILT and det.score < 0.5)):
            continue
        if det is not None and misses >= _MAX_MISSES:
            continue
        best = run_landmarks(pyr, roi)
        best_score = pose_score(best)
        if _RETRY[0] <= best_score < _RETRY[1] and _duplicate(best, accepted) is None:
            second = run_landmarks(pyr, roi_from_landmarks(best.landmarks))  # once more on its own ROI
            s2 = pose_score(second)
            if s2 > best_score:
                best, best_score = second, s2
        dup = _duplicate(best, accepted)
        if dup is not None:
            if best_score > accepted[dup][1]:
                accepted[dup] = (best, best_score)
            continue
        if best_score < min_score:
            misses += 1
            continue
        accepted.append((best, best_score))
    return accepted
