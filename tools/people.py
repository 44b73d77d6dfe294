"""Every visible person as an instance, from MediaPipe's BlazePose detector and
landmark model, plus the people's skin and hair.

Models (Apache-2.0, from the mediapipe 0.10.21 wheel, see ``tools/data/NOTICE.md``):
``pose_detection.tflite``, ``pose_landmark_full.tflite``, ``selfie_segmentation.tflite``.
Pre- and post-processing follow mediapipe's ``pose_detection_cpu.pbtxt``,
``pose_detection_to_roi.pbtxt``, ``pose_landmarks_to_roi.pbtxt`` and
``tensors_to_pose_landmarks_and_segmentation.pbtxt``.

1. Detect: the SSD detector (224×224 letterboxed, RGB in [-1, 1], 2254 anchors,
   scores ≥ 0.2, weighted NMS at IoU 0.3) on the whole image and on 6 overlapping
   square tiles (a person a third of the frame tall is often found only there):
   7 calls. mediapipe keeps one detection; all are kept here.
   The detector keys on faces: people whose face it cannot see are not proposed.
2. Verify: per detection, the body ROI (centre = mid-hip keypoint, side =
   2·1.25·|hip → scale keypoint|, rotated so that vector points up) is warped to
   256×256 and the landmark model run: 33 landmarks (+ 6 auxiliary), a presence flag,
   a 256×256 person-segmentation logit map and 39 heat maps. The landmark model
   answers "a person" for nearly any ROI (presence 1.0 on a cup's rim), so the score
   is :func:`pose_score`: the heat maps' peak logits (face, else strongest body
   parts), × presence, × whether the face lies on the pose's own mask (chimeras
   between two people), halved when the ROI is tilted > 50° from upright. Unsure
   answers get a second pass on the landmarks' own ROI; duplicates (the same person
   seen in several windows) are dropped by a shared face or landmark agreement.
3. Masks: each person's segmentation is warped back to the image; for close-ups
   (ROI ≥ 1.5 × the long side, whose 256-px mask is coarse and leaks into the
   background) it is the geometric mean with the selfie model's mask of the frame.
   Overlaps go to the person whose probability × nearness to their own skeleton is
   higher (soft shares, so no pixel is above 0.5 in two masks); edges are steepened
   and refined by a guided filter against the luma.
4. Faces (optional, from ``tools/faces.py``) that no pose explains seed a ROI guessed
   from the face; failing that, a head-and-shoulders person from the selfie model.

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

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from pertouch.errors import InputError

DETECTOR = "pose_detection.tflite"
LANDMARKER = "pose_landmark_full.tflite"
_DET_SIZE = 224
_LMK_SIZE = 256
_DET_MIN_SCORE = 0.2       # mediapipe's min_score_thresh
_NMS_IOU = 0.3             # mediapipe's min_suppression_threshold
_ROI_SCALE = 1.25          # mediapipe's RectTransformation for the full-body ROI
_MAX_TILES = 6             # + the whole image: at most 7 detector calls
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


@dataclass
class Detection:
    """One decoded detector output in pixels: the face ``box`` (x0, y0, x1, y1), the 4
    ``keypoints`` (mid-hip, full-body scale/rotation point, mid-shoulder, upper-body
    scale point) ``(4, 2)``, and the sigmoid ``score``."""

    box: np.ndarray
    keypoints: np.ndarray
    score: float


# --- detector: anchors, decoding, weighted NMS ------------------------------------------

@lru_cache(maxsize=1)
def anchors() -> np.ndarray:
    """``(2254, 2)`` anchor centres in [0, 1] (x, y): mediapipe's SsdAnchorsCalculator
    with 5 layers, strides 8, 16, 32, 32, 32, aspect ratio 1 plus the interpolated
    one (2 anchors per layer and cell), fixed anchor size; layers of equal stride
    share one grid."""
    strides = [8, 16, 32, 32, 32]
    out = []
    i = 0
    while i < len(strides):
        j = i
        while j < len(strides) and strides[j] == strides[i]:
            j += 1
        per_cell = 2 * (j - i)
        n = math.ceil(_DET_SIZE / strides[i])
        yy, xx = np.mgrid[0:n, 0:n]
        centres = np.stack([(xx + 0.5) / n, (yy + 0.5) / n], -1).reshape(-1, 1, 2)
        out.append(np.repeat(centres, per_cell, axis=1).reshape(-1, 2))
        i = j
    return np.concatenate(out).astype(np.float32)


def decode_detections(raw_boxes: np.ndarray, raw_scores: np.ndarray,
                      min_score: float = _DET_MIN_SCORE) -> list[Detection]:
    """Detector tensors ``(2254, 12)`` and ``(2254,)`` or ``(2254, 1)`` → detections in
    the 224-px input's pixels, scores above ``min_score``, before NMS.

    Raw values are (x-centre, y-centre, w, h, then 4 × (x, y)) in input pixels,
    relative to the anchor centre (mediapipe's ``reverse_output_order``, scales 224).
    """
    raw_boxes = raw_boxes.reshape(-1, 12)
    logits = np.clip(raw_scores.reshape(-1).astype(np.float64), -100.0, 100.0)
    scores = 1.0 / (1.0 + np.exp(-logits))
    keep = np.nonzero(scores >= min_score)[0]
    a = anchors()[keep] * _DET_SIZE
    r = raw_boxes[keep]
    cx, cy = a[:, 0] + r[:, 0], a[:, 1] + r[:, 1]
    w, h = r[:, 2], r[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1)
    kps = r[:, 4:12].reshape(-1, 4, 2) + a[:, None, :]
    return [Detection(boxes[k], kps[k], float(scores[i])) for k, i in enumerate(keep)]


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    ix = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = ix * iy
    area = lambda b: np.clip(b[..., 2] - b[..., 0], 0, None) * np.clip(b[..., 3] - b[..., 1], 0, None)
    return inter / np.maximum(area(box) + area(boxes) - inter, 1e-9)


def weighted_nms(dets: list[Detection], iou: float = _NMS_IOU) -> list[Detection]:
    """mediapipe's WEIGHTED non-max suppression: the best remaining detection and every
    other overlapping it by IoU > ``iou`` become one detection, box and keypoints
    averaged with score weights, score the best one's."""
    if not dets:
        return []
    order = sorted(range(len(dets)), key=lambda i: -dets[i].score)
    boxes = np.stack([d.box for d in dets])
    remaining = np.array(order)
    out = []
    while remaining.size:
        best = remaining[0]
        ov = _iou(boxes[best], boxes[remaining])
        ov[0] = 1.0  # itself, even when its box is degenerate
        group = remaining[ov > iou]
        wts = np.array([dets[g].score for g in group], np.float32)
        wts /= wts.sum()
        box = (boxes[group] * wts[:, None]).sum(0)
        kps = (np.stack([dets[g].keypoints for g in group]) * wts[:, None, None]).sum(0)
        out.append(Detection(box, kps, dets[best].score))
        remaining = remaining[ov <= iou]
    return out


def tiles(w: int, h: int, max_tiles: int = _MAX_TILES) -> list[tuple[int, int, int, int]]:
    """The detector's windows (x0, y0, x1, y1): the whole image, then up to ``max_tiles``
    overlapping squares covering it. Whatever the resolution, the detector misses
    people a third of the frame tall or less in the whole view (it sees 224 px; the
    face is its cue): at 384–1024 px, t1.jpg's six people are 3 in one view, 5 with
    tiles."""
    out = [(0, 0, w, h)]
    side = 0.6 * min(w, h)
    while True:
        step = 0.75 * side
        nx = 1 if side >= w else math.ceil((w - side) / step) + 1
        ny = 1 if side >= h else math.ceil((h - side) / step) + 1
        if nx * ny <= max_tiles:
            break
        side *= 1.1
    side = int(round(min(side, w, h)))
    xs = np.linspace(0, w - side, nx).round().astype(int) if nx > 1 else [max(0, (w - side) // 2)]
    ys = np.linspace(0, h - side, ny).round().astype(int) if ny > 1 else [max(0, (h - side) // 2)]
    out += [(int(x), int(y), int(x) + side, int(y) + side) for y in ys for x in xs]
    return out


def _detect_window(rgb: np.ndarray, win: tuple[int, int, int, int]) -> list[Detection]:
    """Detector on one axis-aligned window, letterboxed (centred, black bars): detections
    in image pixels."""
    from pertouch.tools.litert import model

    x0, y0, x1, y1 = win
    crop = rgb[y0:y1, x0:x1]
    ch, cw = crop.shape[:2]
    s = _DET_SIZE / max(cw, ch)
    nw, nh = max(1, round(cw * s)), max(1, round(ch * s))
    small = cv2.resize(crop, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    canvas = np.zeros((_DET_SIZE, _DET_SIZE, 3), np.float32) - 1.0
    px, py = (_DET_SIZE - nw) // 2, (_DET_SIZE - nh) // 2
    canvas[py:py + nh, px:px + nw] = small.astype(np.float32) * (2.0 / 255.0) - 1.0
    m = model(DETECTOR)
    outs = m.run(canvas[None])
    raw_boxes = next(o for o in outs if o.shape[-1] == 12)[0]
    raw_scores = next(o for o in outs if o.shape[-1] == 1)[0]
    dets = decode_detections(raw_boxes, raw_scores)
    sx, sy = nw / cw, nh / ch
    for d in dets:
        d.box = ((d.box.reshape(2, 2) - (px, py)) / (sx, sy) + (x0, y0)).reshape(4)
        d.keypoints = (d.keypoints - (px, py)) / (sx, sy) + (x0, y0)
    return dets


def detect_poses(rgb: np.ndarray, max_tiles: int = _MAX_TILES) -> list[Detection]:
    """All pose detections (score ≥ 0.2) on the whole image and its tiles, best first:
    weighted NMS within each window (as mediapipe), then plain NMS across windows
    (their face boxes scale with the window, so the same face rarely overlaps much;
    duplicates left are removed after the landmark model)."""
    h, w = rgb.shape[:2]
    dets = []
    for win in tiles(w, h, max_tiles):
        dets += weighted_nms(_detect_window(rgb, win))
    dets.sort(key=lambda d: -d.score)
    out: list[Detection] = []
    for d in dets:
        if not out or _iou(d.box, np.stack([o.box for o in out])).max() <= 0.5:
            out.append(d)
    return out


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
    and the ROI."""

    roi: Roi
    landmarks: np.ndarray
    presence: float
    seg: np.ndarray
    heat: np.ndarray


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60, 60)))


def run_landmarks(pyramid: list[np.ndarray], roi: Roi) -> Pose:
    """Landmark model on ``roi`` (pixels of ``pyramid[0]``): the crop is taken from the
    pyramid level that keeps the warp's downscale ≤ 2× (no aliasing), edges replicated."""
    from pertouch.tools.litert import model

    level = _level(pyramid, roi)
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


# --- from poses to people ---------------------------------------------------------------

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


def _body_scale(pose: Pose) -> float:
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
    return bool((d < 0.15 * min(_body_scale(a), _body_scale(b))).mean() >= 0.5)


def _head(p: Pose) -> float:
    """Head size, px: the extent of the face landmarks (at least 8 % of the body scale)."""
    face = p.landmarks[_FACE, :2]
    return max(float(np.linalg.norm(face.max(0) - face.min(0))), 0.08 * _body_scale(p))


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


def pyramid(rgb: np.ndarray, smallest: int = 128) -> list[np.ndarray]:
    """The image and its 2× reductions (cv2.pyrDown) down to ``smallest`` px."""
    levels = [np.ascontiguousarray(rgb)]
    while max(levels[-1].shape[:2]) > 2 * smallest:
        levels.append(cv2.pyrDown(levels[-1]))
    return levels


def find_poses(rgb: np.ndarray, min_score: float = 0.5, *, seeds: list[Roi] = (),
               max_tiles: int = _MAX_TILES, accepted: list[tuple[Pose, float]] | None = None
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
        if _RETRY[0] <= best_score < _RETRY[1] and not _duplicate(best, accepted):
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
    scale = _body_scale(pose)
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

SELFIE = "selfie_segmentation.tflite"


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
    level = _level(pyr, roi)
    k = 2.0 ** level
    crop = cv2.warpAffine(pyr[level], Roi(roi.cx / k, roi.cy / k, roi.side / k, 0.0).matrix(),
                          (_LMK_SIZE, _LMK_SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
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
    k = _LMK_SIZE / side
    nw, nh = max(1, round(w * k)), max(1, round(h * k))
    canvas = np.zeros((_LMK_SIZE, _LMK_SIZE, 3), np.float32)
    px, py = (_LMK_SIZE - nw) // 2, (_LMK_SIZE - nh) // 2
    canvas[py:py + nh, px:px + nw] = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA) * (1.0 / 255.0)
    seg = model(SELFIE).run(canvas[None])[0][0, py:py + nh, px:px + nw, 0]
    return np.clip(cv2.resize(seg, (w, h), interpolation=cv2.INTER_LINEAR), 0.0, 1.0)


def _radius(side: float, h: int, w: int) -> int:
    """Guided-filter radius: about one model cell (close-ups use the selfie mask's cells)."""
    return int(np.clip(round(min(side, 2 * max(h, w)) / _LMK_SIZE), 2, 6))


def _level(pyr: list[np.ndarray], roi: Roi) -> int:
    level = 0
    while level + 1 < len(pyr) and _LMK_SIZE / roi.side * 2 ** (level + 1) <= 1.0:
        level += 1
    return level


# --- public API ---------------------------------------------------------------------------

def detect_people(rgb: np.ndarray, *, faces: list | None = None, min_score: float = 0.5) -> list[Person]:
    """Every visible person in a uint8 RGB ``(h, w, 3)`` proxy (~384–1024 px long side),
    sorted left to right by box centre; see the module docstring for how.

    ``faces``: optional face boxes (objects with ``.box`` x0, y0, x1, y1 px and
    ``.score``). A face that no accepted pose explains seeds the landmark model with a
    ROI guessed from it; if that finds no new person whose face is this one, a face of
    at least 24 px is a head-and-shoulders person (``landmarks`` None) scored 0.9 ×
    the face's score × the selfie model's agreement (its mean probability in the face
    box, / 0.6, capped at 1): a "face" on a table or a wall gets no person.

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
    found = find_poses(rgb, min_score)
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


# --- skin and hair ----------------------------------------------------------------------

@dataclass
class ColourModel:
    """A Gaussian in CIELAB (L 0–100, a, b): ``mean`` (3,), inverse covariance (3, 3)."""

    mean: np.ndarray
    inv_cov: np.ndarray

    def chroma_distance(self, lab: np.ndarray) -> np.ndarray:
        """Mahalanobis distance of the (a, b) chroma alone (lightness ignored), ``(...)``."""
        inv_ab = np.linalg.inv(np.linalg.inv(self.inv_cov)[1:, 1:])
        d = lab.reshape(-1, 3)[:, 1:] - self.mean[1:]
        m = np.einsum("ij,jk,ik->i", d, inv_ab, d)
        return np.sqrt(np.maximum(m, 0)).astype(np.float32).reshape(lab.shape[:-1])

    def distance(self, lab: np.ndarray) -> np.ndarray:
        """Mahalanobis distance of ``(..., 3)`` Lab pixels, float32 ``(...)``."""
        d = lab.reshape(-1, 3) - self.mean
        m = np.einsum("ij,jk,ik->i", d, self.inv_cov, d)
        return np.sqrt(np.maximum(m, 0)).astype(np.float32).reshape(lab.shape[:-1])


def lab_of(rgb: np.ndarray) -> np.ndarray:
    """uint8 RGB → float32 CIELAB (L 0–100)."""
    return cv2.cvtColor(rgb.astype(np.float32) * (1.0 / 255.0), cv2.COLOR_RGB2LAB)


def fit_colour(lab_pixels: np.ndarray, l_slack: float = 2.0) -> ColourModel | None:
    """Robust Gaussian of ``(n, 3)`` Lab samples: fitted, its 25 % farthest samples dropped,
    refitted (twice). L's variance is multiplied by ``l_slack``² (limbs are lit unlike
    the face). None for fewer than 20 samples."""
    x = np.asarray(lab_pixels, np.float64).reshape(-1, 3)
    if len(x) < 20:
        return None
    for _ in range(3):
        mean = x.mean(0)
        cov = np.cov(x, rowvar=False) + np.diag([4.0, 1.0, 1.0])  # floor: ΔL 2, Δa/Δb 1
        inv = np.linalg.inv(cov)
        d = np.einsum("ij,jk,ik->i", x - mean, inv, x - mean)
        if len(x) < 40:
            break
        x = x[d <= np.quantile(d, 0.75)]
    cov = np.cov(x, rowvar=False) + np.diag([4.0, 1.0, 1.0])
    cov[0, :] *= l_slack
    cov[:, 0] *= l_slack
    return ColourModel(x.mean(0), np.linalg.inv(cov))


def generic_skin(rgb: np.ndarray) -> np.ndarray:
    """The classic YCrCb skin box (Chai & Ngan: 133 ≤ Cr ≤ 173, 77 ≤ Cb ≤ 127) with
    40 ≤ Y ≤ 250, as float32 {0, 1} ``(h, w)``: any skin tone under daylight-ish light,
    and also wood, sand, leather."""
    ycc = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    y, cr, cb = ycc[..., 0], ycc[..., 1], ycc[..., 2]
    return ((cr >= 133) & (cr <= 173) & (cb >= 77) & (cb <= 127) & (y >= 40) & (y <= 250)).astype(np.float32)


def _face_seed(rgb: np.ndarray, people: list[Person]) -> np.ndarray:
    """Pixels of the inner faces (between the eyes and the mouth, from the landmarks of
    people whose face landmarks are visible) that pass the generic skin rule: bool."""
    h, w = rgb.shape[:2]
    seed = np.zeros((h, w), np.uint8)
    for p in people:
        lm = p.landmarks
        if lm is None or lm[[0, 2, 5, 9, 10], 3].min() < 0.5:
            continue
        eyes, mouth, nose = lm[[2, 5], :2], lm[[9, 10], :2], lm[0, :2]
        r = max(2, int(0.35 * np.linalg.norm(eyes[0] - eyes[1])))
        for c in (nose, (eyes.mean(0) + mouth.mean(0)) / 2, (eyes[0] + mouth[0]) / 2, (eyes[1] + mouth[1]) / 2):
            cv2.circle(seed, (int(c[0]), int(c[1])), r, 1, -1)
    return (seed > 0) & (generic_skin(rgb) > 0)


def skin_mask(rgb: np.ndarray, people: list[Person], face_skin: np.ndarray | None = None) -> np.ndarray:
    """float32 ``(h, w)`` in [0, 1]: the people's visible skin (face, neck, arms, hands, legs).

    A Gaussian colour model in Lab (:func:`fit_colour`) is fitted on ``face_skin`` (the
    face mesh's facial skin, > 0.5) when given, else on the inner faces the pose
    landmarks locate; pixels inside the people's masks count as skin by Mahalanobis
    distance (1 below 2.5, 0 above 4, linear between), times the person mask's
    confidence (0 below 0.35, 1 above 0.65: the soft fringes are background). Without
    a usable face (< 20 samples) the generic YCrCb rule is used instead. Nothing
    outside the people's masks counts (wooden tables, sand).
    """
    h, w = rgb.shape[:2]
    person = people_mask(people, (h, w))
    inside = person > 0.05
    out = np.zeros((h, w), np.float32)
    if not inside.any():
        return out
    ys, xs = np.nonzero(inside)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    crop = rgb[y0:y1, x0:x1]
    lab = lab_of(crop)
    full_lab = None
    if face_skin is not None:
        sel = np.asarray(face_skin) > 0.5
        full_lab = lab_of(rgb)
        model_ = fit_colour(full_lab[sel])
    else:
        seed = _face_seed(rgb, people)
        model_ = fit_colour(lab_of(rgb)[seed]) if seed.sum() >= 20 else None
    if model_ is None:
        skin = generic_skin(crop)
    else:
        d = model_.distance(lab)
        skin = np.clip((4.0 - d) / 1.5, 0.0, 1.0)
    sure = np.clip((person[y0:y1, x0:x1] - 0.35) / 0.3, 0.0, 1.0)  # the people's confident pixels
    out[y0:y1, x0:x1] = skin * sure
    return out


def hair_mask(rgb: np.ndarray, people: list[Person], faces: list) -> np.ndarray:
    """float32 ``(h, w)`` in [0, 1]: hair, as far as a face box and colours tell.

    Per face box (size f, from ``tools/faces.py``), among the pixels of the person whose
    mask holds the box's centre: first those above the face (from 0.8 f above the box
    to 0.25 f below its top, 0.35 f wider each side), outside the face's inner
    ellipse, whose chroma is not that of a skin Gaussian fitted on the box's centre
    (Mahalanobis > 3 in a, b; lightness ignored: a shiny scalp or a shadowed temple
    is skin); if
    they are at least 3 % of f², the pixels beside the face (0.5 f out, down to 0.8 f
    below the chin) that match a Gaussian of that hair (Mahalanobis < 3) and connect
    to it join them.
    Soft at the person mask's edge. Empty without faces or people, and for bald heads.

    What it gets wrong: hats, caps and headscarves count as hair; hair the colour of the
    skin (some blond, grey on pale skin) is missed; fringes over the forehead below the
    eyebrow line are dropped; hair longer than the chin + 0.8 f is cut; beards and
    sideburns beside the face count as hair, a beard under the chin does not, a dark
    collar touching dark hair does; hair the person mask misses
    (flyaways against the background) is missed; profile faces, whose box is not
    centred on the head, place the band off the hair.
    """
    h, w = rgb.shape[:2]
    out = np.zeros((h, w), np.float32)
    if not faces or not people:
        return out
    lab = None
    for face in faces:
        bx0, by0, bx1, by1 = _face_box(face)
        f = max(bx1 - bx0, by1 - by0)
        cx, cy = (bx0 + bx1) / 2, (by0 + by1) / 2
        if f < 4 or not (0 <= cx < w and 0 <= cy < h):
            continue
        owner = max(people, key=lambda p: p.mask[int(cy), int(cx)])  # the person whose face it is
        if owner.mask[int(cy), int(cx)] <= 0.5:
            continue
        person = owner.mask
        X0, Y0 = int(max(bx0 - 0.5 * f, 0)), int(max(by0 - 0.8 * f, 0))
        X1, Y1 = int(min(bx1 + 0.5 * f, w)), int(min(by1 + 0.8 * f, h))
        if X1 <= X0 or Y1 <= Y0:
            continue
        if lab is None:
            lab = lab_of(rgb)
        yy, xx = np.mgrid[Y0:Y1, X0:X1].astype(np.float32)
        top = (xx >= bx0 - 0.35 * f) & (xx <= bx1 + 0.35 * f) & (yy <= by0 + 0.25 * f)
        side = ((xx <= bx0 + 0.1 * f) | (xx >= bx1 - 0.1 * f)) & (yy >= by0)
        inner = ((xx - cx) / (0.42 * (bx1 - bx0))) ** 2 + ((yy - cy) / (0.5 * (by1 - by0))) ** 2 <= 1.0
        # skin model from the face box's centre (generic-skin pixels there)
        c0, c1 = max(int(cx - 0.2 * f), 0), max(int(cx + 0.2 * f) + 1, 0)
        r0, r1 = max(int(cy - 0.1 * f), 0), max(int(cy + 0.3 * f) + 1, 0)
        centre = lab[r0:r1, c0:c1].reshape(-1, 3)
        cmask = generic_skin(rgb[r0:r1, c0:c1]).reshape(-1) > 0
        sk = fit_colour(centre[cmask], l_slack=1.5) if cmask.sum() >= 20 else None
        patch = lab[Y0:Y1, X0:X1]
        if sk is not None:
            differs = sk.chroma_distance(patch) > 3.0  # shadowed skin keeps its chroma
        else:
            differs = generic_skin(rgb[Y0:Y1, X0:X1]) < 0.5
        on_person = person[Y0:Y1, X0:X1] > 0.5
        hair = top & ~inner & differs & on_person
        # beside the face: only what has the colour of the hair found above it
        if hair.sum() < max(20.0, 0.03 * f * f):  # bald, shaved or hidden: no hair at all
            continue
        hm = fit_colour(patch[hair], l_slack=1.5)
        beside = side & ~inner & differs & on_person & (hm.distance(patch) < 3.0)
        n, labels = cv2.connectedComponents((hair | beside).astype(np.uint8), connectivity=8)
        touching = np.unique(labels[hair])
        hair = np.isin(labels, touching[touching > 0])  # only what hangs from the hair above
        np.maximum(out[Y0:Y1, X0:X1], hair.astype(np.float32) * person[Y0:Y1, X0:X1], out=out[Y0:Y1, X0:X1])
    return out
