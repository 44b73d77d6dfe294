"""Faces and face parts: BlazeFace detection, tiled for small faces, and the 468-point mesh.

- :func:`detect_faces`: every face of a uint8 RGB image ``(h, w, 3)`` as :class:`Face`,
  sorted left to right. mediapipe's short-range (128 px input) and full-range (192 px)
  BlazeFace detectors run on the whole frame and its mirror image; on images over
  288 px the full-range one also runs on up to 12 overlapping tiles, so faces down to
  ~24 px tall reach the ~16 px it needs at its input. Each run's detections go through
  mediapipe's weighted non-max suppression, then all runs' together. Each face is then
  cropped along its eye line for the face mesh (``face_landmark.tflite``): 468 landmarks
  and a face-presence probability that rejects false detections.
- :func:`face_part_mask` / :func:`face_parts_mask`: float32 ``(h, w)`` masks in [0, 1]
  of :data:`FACE_PARTS` rasterised from the mesh, edges soft over ~1–2 px.

Coordinates are pixels of the image given, x right, y down, pixel ``(i, j)`` covering
``[i, i + 1) × [j, j + 1)`` (so its centre is at ``(i + 0.5, j + 0.5)``).

Models are mediapipe's (Apache-2.0, ``tools/data/NOTICE.md``), loaded lazily through
:func:`pertouch.tools.litert.model`. Pre- and post-processing follow mediapipe's graphs
(``modules/face_detection/face_detection.pbtxt`` and ``face_detection_{short,full}_range
.pbtxt``; ``modules/face_landmark/face_detection_front_detection_to_roi.pbtxt`` and
``face_landmark_landmarks_to_roi.pbtxt``): letterboxed input in [-1, 1], fixed-size SSD
anchors, scores as sigmoids of logits clipped to ±100, weighted NMS at IoU 0.3; the mesh
sees a square 1.5× the face, turned so the eyes are level, in [0, 1].

>>> faces = detect_faces(load_photo("skimage:astronaut"))   # doctest: +SKIP
>>> len(faces), faces[0].landmarks.shape                     # doctest: +SKIP
(1, (468, 3))
>>> face_parts_mask((512, 512), faces, "lips").dtype          # doctest: +SKIP
dtype('float32')
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from pertouch.errors import InputError

FACE_PARTS = ("face", "face_skin", "eyes", "eyebrows", "lips")

# Mesh contours as closed loops of landmark indices (mediapipe's face_mesh_connections); the
# face itself is the hull of all 468 points (its FACE_OVAL, plus the nose on turned faces).
LIPS_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
LIPS_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191)
RIGHT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
RIGHT_EYEBROW = (46, 53, 52, 65, 55, 107, 66, 105, 63, 70)
LEFT_EYEBROW = (276, 283, 282, 295, 285, 336, 296, 334, 293, 300)

MIN_FACE_PX = 24          # smallest face (box height on the given image) tiling aims to find
_MIN_INPUT_FACE = 16.0    # px: face height at the 192 px input the full-range model finds (measured: ~80 %)
_MAX_TILES = 12           # full-range runs on tiles, besides the 4 whole-frame runs
_NMS_IOU = 0.3            # mediapipe's min_suppression_threshold
_MESH_SIZE = 192
_PRESENCE = 0.5           # mesh face-presence probability below which a detection is dropped
_HOPELESS = 0.1           # first-look presence below which the mesh does not look again
_SURE = 0.98              # presence …
_SURE_SCORE = 0.75        # … and detector score above which a face needs no colour check
_SAME_OVERLAP = 0.35      # landmark boxes overlapping more (of the smaller) are one face
_MIN_SKIN = 0.5           # share of skin-coloured face pixels an unsure face needs (colour photos)


@dataclass(frozen=True)
class _Detector:
    """One BlazeFace model and its graph options."""

    file: str
    size: int
    strides: tuple[int, ...]
    interpolated_scale_aspect_ratio: float


SHORT_RANGE = _Detector("face_detection_short_range.tflite", 128, (8, 16, 16, 16), 1.0)
FULL_RANGE = _Detector("face_detection_full_range_sparse.tflite", 192, (4,), 0.0)


@dataclass
class Face:
    """One face, in pixels of the image given to :func:`detect_faces`.

    ``box``: ``(x0, y0, x1, y1)``; with landmarks, the extent of the 468 mesh points
    (forehead below the hairline to chin, ear to ear) clipped to the image, else the
    detector's box.
    ``score``: the detector's confidence in [0, 1] (the best of its runs).
    ``keypoints``: ``(6, 2)`` float32 from the detector in BlazeFace order: right eye,
    left eye, nose tip, mouth centre, right ear tragion, left ear tragion (the person's
    right and left). ``landmarks``: ``(468, 3)`` float32 mesh points (x, y, z; z in
    pixels at the same scale, smaller towards the camera) or None.
    """

    box: tuple[float, float, float, float]
    score: float
    keypoints: np.ndarray
    landmarks: np.ndarray | None = None

    @property
    def height(self) -> float:
        return float(self.box[3] - self.box[1])


# --- detection ----------------------------------------------------------------------------

@lru_cache(maxsize=None)
def anchors(det: _Detector) -> np.ndarray:
    """SSD anchor centres ``(n, 2)`` (x, y) in [0, 1] as mediapipe's SsdAnchorsCalculator
    makes them with ``fixed_anchor_size`` (all anchors 1 × 1): layers of equal stride
    share one grid, each layer adds one anchor a cell (aspect 1), plus one when
    ``interpolated_scale_aspect_ratio`` > 0."""
    out = []
    i = 0
    while i < len(det.strides):
        j = i
        per_cell = 0
        while j < len(det.strides) and det.strides[j] == det.strides[i]:
            per_cell += 1 + (det.interpolated_scale_aspect_ratio > 0)
            j += 1
        n = math.ceil(det.size / det.strides[i])
        ys, xs = np.mgrid[0:n, 0:n]
        centres = np.stack([(xs + 0.5) / n, (ys + 0.5) / n], -1).reshape(-1, 1, 2)
        out.append(np.repeat(centres, per_cell, axis=1).reshape(-1, 2))
        i = j
    return np.concatenate(out).astype(np.float32)


def decode(raw_boxes: np.ndarray, raw_scores: np.ndarray, det: _Detector,
           min_score: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode one model output (``(n, 16)`` regressors, ``(n,)`` or ``(n, 1)`` logits) into
    boxes ``(k, 4)`` x0, y0, x1, y1 and keypoints ``(k, 6, 2)`` normalised to the input
    tensor, and scores ``(k,)`` — only anchors scoring ≥ ``min_score``."""
    logits = np.clip(raw_scores.reshape(-1).astype(np.float64), -100.0, 100.0)
    scores = 1.0 / (1.0 + np.exp(-logits))
    keep = scores >= min_score
    a = anchors(det)[keep]
    r = raw_boxes.reshape(-1, 16)[keep] / det.size
    cx, cy = r[:, 0] + a[:, 0], r[:, 1] + a[:, 1]
    w, h = r[:, 2], r[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1)
    kps = r[:, 4:16].reshape(-1, 6, 2) + a[:, None, :]
    return boxes, kps, scores[keep]


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    ix = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = ix * iy
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def weighted_nms(boxes: np.ndarray, kps: np.ndarray, scores: np.ndarray,
                 iou: float = _NMS_IOU) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """mediapipe's WEIGHTED non-max suppression: take the best remaining detection, average
    the box and keypoints of every detection overlapping it by IoU > ``iou`` (itself
    included), weighted by score; the merged detection keeps the best score."""
    order = np.argsort(-scores, kind="stable")
    out = []
    while order.size:
        best = order[0]
        sim = _iou(boxes[best], boxes[order])
        sim[0] = 1.0  # the best always joins its own group, even as a degenerate box
        group, order = order[sim > iou], order[sim <= iou]
        w = scores[group][:, None]
        out.append(((boxes[group] * w).sum(0) / w.sum(), (kps[group] * w[:, :, None]).sum(0) / w.sum(),
                    float(scores[best])))
    return out


def _letterbox(det: _Detector, rgb: np.ndarray, region: tuple[int, int, int, int]
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``rgb[y0:y1, x0:x1]`` resized to fit the model's square input, centred on black
    bars, in [-1, 1] (``(size, size, 3)`` float32), and the ``(scale, offset)`` that map
    input pixels back to image pixels: ``image = input * scale + offset``."""
    x0, y0, x1, y1 = region
    crop = rgb[y0:y1, x0:x1]
    ch, cw = crop.shape[:2]
    s = det.size / max(ch, cw)
    nw, nh = min(det.size, max(1, round(cw * s))), min(det.size, max(1, round(ch * s)))
    small = cv2.resize(crop, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    px, py = (det.size - nw) // 2, (det.size - nh) // 2
    tensor = np.full((det.size, det.size, 3), -1.0, np.float32)  # black bars, as mediapipe's BORDER_ZERO
    tensor[py:py + nh, px:px + nw] = small * np.float32(2.0 / 255.0) - np.float32(1.0)
    scale = np.array([cw / nw, ch / nh], np.float32)  # the resize rounds each axis
    return tensor, scale, np.array([x0, y0], np.float32) - np.array([px, py], np.float32) * scale


def _run_detector(det: _Detector, rgb: np.ndarray, region: tuple[int, int, int, int], min_score: float,
                  mirror: bool = False, zoom: float | np.ndarray = 1.0
                  ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Run ``det`` on a region of ``rgb`` (and, with ``mirror``, on its mirror image too):
    per run, the detections after weighted NMS as ``(boxes (k, 4), keypoints (k, 6, 2),
    scores (k,))`` in pixels of ``rgb`` divided by ``zoom`` (``rgb`` may be a copy of the
    photo scaled by ``zoom``, one factor or x and y); keypoints of a mirrored run are swapped back to the
    person's right/left."""
    from pertouch.tools.litert import model

    tensor, scale, offset = _letterbox(det, rgb, region)
    scale, offset = scale / np.float32(zoom), offset / np.float32(zoom)
    m = model(det.file)
    out = []
    for flipped in (False, True) if mirror else (False,):
        outs = m.run((tensor[:, ::-1] if flipped else tensor)[None])
        raw_boxes = next(o for o in outs if o.shape[-1] == 16)[0]
        raw_scores = next(o for o in outs if o.shape[-1] == 1)[0]
        boxes, kps, scores = decode(raw_boxes, raw_scores, det, min_score)
        if flipped:
            boxes = np.stack([1 - boxes[:, 2], boxes[:, 1], 1 - boxes[:, 0], boxes[:, 3]], -1)
            kps = kps[:, [1, 0, 2, 3, 5, 4]]
            kps[..., 0] = 1 - kps[..., 0]
        boxes = (boxes.reshape(-1, 2, 2) * det.size * scale + offset).reshape(-1, 4)
        kps = kps * det.size * scale + offset
        out.append(_stack(weighted_nms(boxes, kps, scores)))
    return out


def _stack(dets: list[tuple[np.ndarray, np.ndarray, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not dets:
        return np.zeros((0, 4), np.float32), np.zeros((0, 6, 2), np.float32), np.zeros(0, np.float32)
    return (np.stack([d[0] for d in dets]).astype(np.float32), np.stack([d[1] for d in dets]).astype(np.float32),
            np.array([d[2] for d in dets], np.float32))


def tiles(h: int, w: int, max_tiles: int = _MAX_TILES) -> list[tuple[int, int, int, int]]:
    """Overlapping square tiles ``(x0, y0, x1, y1)`` for the full-range detector on an
    ``h × w`` image: the fewest (at most ``max_tiles``) that bring a :data:`MIN_FACE_PX`
    face to within 10 % of the size the model finds (:data:`_MIN_INPUT_FACE` px at its
    input), else the arrangement with the smallest tiles; none for images up to 1.5× the
    model input. Neighbours overlap by 0.6× the largest face the whole-frame pass may
    miss, so such a face is never cut by more than the quarter :func:`_inside_tile` allows."""
    if max(h, w) <= 1.5 * FULL_RANGE.size:
        return []
    target = FULL_RANGE.size * MIN_FACE_PX / _MIN_INPUT_FACE
    overlap = 0.6 * _MIN_INPUT_FACE * max(h, w) / FULL_RANGE.size
    best = None
    for n in range(2, max_tiles + 1):
        for nx in range(1, n + 1):
            if n % nx:
                continue
            ny = n // nx
            side = max((w + (nx - 1) * overlap) / nx, (h + (ny - 1) * overlap) / ny)
            if best is None or side < best[0] - 1:
                best = (side, nx, ny)
        if best[0] <= 1.1 * target:
            break
    side, nx, ny = best
    tw, th = min(w, math.ceil(side)), min(h, math.ceil(side))
    xs = np.linspace(0, w - tw, nx).round().astype(int)
    ys = np.linspace(0, h - th, ny).round().astype(int)
    return [(int(x), int(y), int(x) + tw, int(y) + th) for y in ys for x in xs]


def _inside_tile(boxes: np.ndarray, tile: tuple[int, int, int, int], h: int, w: int) -> np.ndarray:
    """Detections not cut much by an inner edge of ``tile``: a box may reach past it by a
    quarter of its size (the model still saw most of the face); a face cut more is whole
    in a neighbouring tile or the whole frame."""
    x0, y0, x1, y1 = tile
    slack = 0.25 * np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    keep = np.ones(len(boxes), bool)
    if x0 > 0:
        keep &= boxes[:, 0] > x0 - slack
    if y0 > 0:
        keep &= boxes[:, 1] > y0 - slack
    if x1 < w:
        keep &= boxes[:, 2] < x1 + slack
    if y1 < h:
        keep &= boxes[:, 3] < y1 + slack
    return keep


def detections(rgb: np.ndarray, min_score: float = 0.5, within: list | None = None, whole: bool = True
               ) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """All face detections of ``rgb`` as ``[(box (4,), keypoints (6, 2), score)]`` in its
    pixels: both detectors on the whole frame and on its mirror image (BlazeFace is not
    mirror-symmetric; a turned face often scores higher one way round), the full-range
    one on :func:`tiles`; each run's weighted NMS, then a weighted NMS across runs.
    ``within``: boxes ``(x0, y0, x1, y1)`` where small faces may be (people's heads); only
    tiles that meet one run (None: every tile). ``whole``: False skips the whole-frame runs
    (the tiles only, after a first call that did them)."""
    h, w = rgb.shape[:2]
    regions = tiles(h, w)
    if within is not None and regions:
        regions = [t for t in regions if any(b[0] < t[2] and b[2] > t[0] and b[1] < t[3] and b[3] > t[1]
                                             for b in within)] or regions[:0]
    # one downscale for all runs: tiles then need none (they share one side), whole frames little
    side = tiles(h, w)
    zoom = min(1.0, FULL_RANGE.size / (side[0][2] - side[0][0]) if side else FULL_RANGE.size / max(h, w))
    small = cv2.resize(rgb, (max(1, round(w * zoom)), max(1, round(h * zoom))), interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    zx, zy = sw / w, sh / h  # the rounded sizes' scales
    zoom_xy = np.array([zx, zy], np.float32)
    runs = []
    if whole:
        runs += _run_detector(SHORT_RANGE, small, (0, 0, sw, sh), min_score, mirror=True, zoom=zoom_xy)
        runs += _run_detector(FULL_RANGE, small, (0, 0, sw, sh), min_score, mirror=True, zoom=zoom_xy)
    if not runs and not regions:
        return []
    for t in regions:
        st = (round(t[0] * zx), round(t[1] * zy), min(sw, round(t[2] * zx)), min(sh, round(t[3] * zy)))
        b, k, s = _run_detector(FULL_RANGE, small, st, min_score, zoom=zoom_xy)[0]
        keep = _inside_tile(b, t, h, w)
        runs.append((b[keep], k[keep], s[keep]))
    boxes, kps, scores = (np.concatenate([r[i] for r in runs]) for i in range(3))
    return weighted_nms(boxes, kps, scores) if len(scores) else []


# --- face mesh ----------------------------------------------------------------------------

def roi(centre: tuple[float, float], side: float, angle: float) -> np.ndarray:
    """The 2×3 affine matrix mapping mesh-input coordinates (0–192) to image coordinates
    for a square of ``side`` px centred on ``centre``, turned by ``angle`` radians
    (clockwise on screen, y down): ``image = centre + R(angle) @ (side / 192) * (uv - 96)``."""
    c, s = math.cos(angle), math.sin(angle)
    k = side / _MESH_SIZE
    half = _MESH_SIZE / 2
    return np.array([[c * k, -s * k, centre[0] - k * half * (c - s)],
                     [s * k, c * k, centre[1] - k * half * (s + c)]], np.float64)


def detection_roi(box: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """mediapipe's face_detection_front_detection_to_roi: the box centre, a square of
    1.5 × its long side, turned so the right-eye → left-eye keypoints are level."""
    (ex0, ey0), (ex1, ey1) = keypoints[0], keypoints[1]
    side = 1.5 * max(box[2] - box[0], box[3] - box[1])
    return roi(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), side, math.atan2(ey1 - ey0, ex1 - ex0))


def landmarks_roi(xy: np.ndarray) -> np.ndarray:
    """mediapipe's face_landmark_landmarks_to_roi: the landmarks' bounding box centre, a
    square of 1.5 × its long side, turned so the eye corners 33 → 263 are level."""
    (x0, y0), (x1, y1) = xy.min(0), xy.max(0)
    d = xy[263] - xy[33]
    return roi(((x0 + x1) / 2, (y0 + y1) / 2), 1.5 * max(x1 - x0, y1 - y0), math.atan2(d[1], d[0]))


def _mesh_once(rgb: np.ndarray, m: np.ndarray, mirror: bool = False) -> tuple[np.ndarray, float]:
    """Landmarks ``(468, 3)`` in image pixels and face presence for the crop ``m`` (see
    :func:`roi`); with ``mirror`` the presence is the larger of the crop's and its mirror
    image's (the mesh, like the detector, is not mirror-symmetric on turned faces)."""
    from pertouch.tools.litert import model

    centres = m.copy()  # OpenCV samples at pixel centres: shift the edge-based map by half a pixel
    centres[:, 2] += m[:, :2].sum(1) * 0.5 - 0.5
    crop = cv2.warpAffine(rgb, centres, (_MESH_SIZE, _MESH_SIZE), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)
    x = crop.astype(np.float32) * np.float32(1.0 / 255.0)  # the mesh takes [0, 1]
    mesh_model = model("face_landmark.tflite")
    outs = mesh_model.run(x[None])
    pts = next(o for o in outs if o.size == 468 * 3).reshape(468, 3)
    logit = float(next(o for o in outs if o.size == 1).reshape(()))
    if mirror and _sigmoid(logit) < _SURE:
        logit = max(logit, float(next(o for o in mesh_model.run(x[None, :, ::-1]) if o.size == 1).reshape(())))
    xy = pts[:, :2] @ m[:, :2].T.astype(np.float32) + m[:, 2].astype(np.float32)
    z = pts[:, 2] * np.float32(math.hypot(m[0, 0], m[1, 0]))
    return np.column_stack([xy, z]).astype(np.float32), _sigmoid(logit)


def mesh(rgb: np.ndarray, box: np.ndarray, keypoints: np.ndarray) -> tuple[np.ndarray, float]:
    """468 landmarks ``(468, 3)`` in image pixels and the mesh's face-presence probability.
    The mesh runs twice, as mediapipe's tracking does on video: first on the detection's
    ROI, then on the ROI of its own landmarks (better centred on turned faces). Returns
    the second run's landmarks and the highest presence of both runs (each on the crop
    and, unless sure, its mirror image); a first run below ``_HOPELESS`` ends there."""
    lm, first = _mesh_once(rgb, detection_roi(box, keypoints), mirror=True)
    if first < _HOPELESS:  # no face here: a second look never found one on the tuning photos
        return lm, first
    lm, second = _mesh_once(rgb, landmarks_roi(lm[:, :2]), mirror=True)
    return lm, max(first, second)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-100.0, min(100.0, x))))


def merge_faces(a: list[Face], b: list[Face]) -> list[Face]:
    """Faces of two calls on one image as one list (the surer of two overlapping faces
    kept), left to right."""
    return sorted(_dedupe([(f, 1.0) for f in [*a, *b]]), key=lambda f: f.box[0] + f.box[2])


def _dedupe(found: list[tuple[Face, float]]) -> list[Face]:
    """One face per person: of two faces whose landmark boxes overlap by more than
    :data:`_SAME_OVERLAP` of the smaller one (a second detection of the same face, or a
    chin read as a face below the real one), keep the surer one (presence × score)."""
    found = sorted(found, key=lambda fp: -fp[1] * fp[0].score)
    kept: list[Face] = []
    for f, _ in found:
        if all(_overlap(f.box, k.box) <= _SAME_OVERLAP for k in kept):
            kept.append(f)
    return kept


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection of two boxes over the smaller one's area."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / max(smaller, 1e-9)


def detect_faces(rgb: np.ndarray, *, min_score: float = 0.5, landmarks: bool = True,
                 within: list | None = None, whole: bool = True) -> list[Face]:
    """Every face in a uint8 RGB image ``(h, w, 3)`` of any size (proxies of 384–1024 px
    long side are the aim): frontal, turned, small (from ~24 px tall: on the tuning
    mosaics ~85 % of 27–35 px faces, ~60 % of 21–26 px), several per photo; sorted left
    to right by box centre.

    ``min_score``: the detector confidence in [0, 1] a face needs. ``landmarks``: run the
    face mesh, which also vets each detection: one the mesh sees no face in (presence
    < 0.5) is dropped, and so is an unsure one (presence < 0.98 or score < 0.75) whose
    skin region is not mostly skin-coloured, unless the photo is black and white; two
    faces that overlap by more than a third are one. Without it only the detectors run
    (``landmarks`` None, no vetting: a cat's face or a logo may come back).
    ``within``: where small faces may be (e.g. people's head boxes): the tiles that look
    for them run only there; faces large enough for the whole-frame passes are found
    anywhere. None: tiles everywhere. ``whole``: False runs only those tiles (join the
    result to a whole-frame call's with :func:`merge_faces`).
    """
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise InputError(f"detect_faces needs a uint8 RGB (h, w, 3) array, got "
                         f"{getattr(rgb, 'dtype', type(rgb))} {getattr(rgb, 'shape', '')}",
                         hint="pass the photo (or a proxy) as np.uint8 RGB")
    if min(rgb.shape[:2]) < 16:
        return []
    found: list[tuple[Face, float]] = []
    grey = None
    for box, kps, score in detections(rgb, min_score, within, whole):
        face = Face(tuple(float(v) for v in box), float(score), kps.astype(np.float32))
        presence = 1.0
        if landmarks:
            face.landmarks, presence = mesh(rgb, box, kps)
            if presence < _PRESENCE:
                continue
            (x0, y0), (x1, y1) = face.landmarks[:, :2].min(0), face.landmarks[:, :2].max(0)
            h, w = rgb.shape[:2]
            face.box = (float(max(x0, 0)), float(max(y0, 0)), float(min(x1, w)), float(min(y1, h)))
            if presence < _SURE or score < _SURE_SCORE:  # unsure: in a colour photo, needs skin colour
                grey = _is_grey(rgb) if grey is None else grey
                if not grey and _skin_share(rgb, face) < _MIN_SKIN:
                    continue
        found.append((face, presence))
    return sorted(_dedupe(found), key=lambda f: f.box[0] + f.box[2])


def _is_grey(rgb: np.ndarray) -> bool:
    """Whether the photo is (near) black and white: 90 % of a thumbnail has Lab chroma < 6."""
    h, w = rgb.shape[:2]
    s = 96 / max(h, w)
    thumb = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(thumb.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)
    return float(np.percentile(np.hypot(lab[..., 1], lab[..., 2]), 90)) < 6.0


def _skin_share(rgb: np.ndarray, face: Face) -> float:
    """Share of the face's ``face_skin`` region whose colour is skin-like: Lab chroma > 6
    at a hue between 10° and 95° (red-orange to yellow), any lightness."""
    patch, x0, y0 = _raster(rgb.shape[:2], face, _fills(face, "face_skin"))
    m = patch > 0.5
    if not m.any():
        return 0.0
    crop = rgb[y0:y0 + patch.shape[0], x0:x0 + patch.shape[1]]
    lab = cv2.cvtColor(crop.astype(np.float32) * np.float32(1 / 255), cv2.COLOR_RGB2LAB)
    a, b = lab[..., 1][m], lab[..., 2][m]
    hue = np.degrees(np.arctan2(b, a)) % 360
    return float(((np.hypot(a, b) > 6) & (hue > 10) & (hue < 95)).mean())


# --- masks --------------------------------------------------------------------------------

def _raster(shape: tuple[int, int], face: Face, fills: list[tuple[np.ndarray, float]]
            ) -> tuple[np.ndarray, int, int]:
    """Paint ``(polygon (n, 2) px, value)`` in order on a float32 patch around them,
    supersampled for exact edges, then blurred by ~1 px: ``(patch, x0, y0)`` with the
    patch's top-left pixel in the image (the patch may be empty at the image border)."""
    h, w = shape
    sigma = float(np.clip(face.height / 150.0, 0.5, 1.2))
    pad = int(3 * sigma) + 2
    pts = np.concatenate([p for p, _ in fills])
    x0, y0 = (max(0, int(math.floor(v)) - pad) for v in pts.min(0))
    x1, y1 = min(w, int(math.ceil(pts[:, 0].max())) + pad), min(h, int(math.ceil(pts[:, 1].max())) + pad)
    if x1 <= x0 or y1 <= y0:
        return np.zeros((0, 0), np.float32), 0, 0
    k = 4 if face.height < 100 else 2 if face.height < 300 else 1
    big = np.zeros(((y1 - y0) * k, (x1 - x0) * k), np.uint8)
    for poly, value in fills:
        # edge coordinates -> supersampled pixel centres, 4 fractional bits
        p = np.round(((poly - (x0, y0)) * k - 0.5) * 16).astype(np.int32)
        cv2.fillPoly(big, [p], int(round(255 * value)), lineType=cv2.LINE_8, shift=4)
    patch = cv2.resize(big, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA) if k > 1 else big
    patch = cv2.GaussianBlur(patch.astype(np.float32) * np.float32(1 / 255), (0, 0), sigma)
    return np.clip(patch, 0.0, 1.0), x0, y0


def _ellipse(face: Face) -> np.ndarray:
    """The face oval guessed from the box and the eye keypoints (no mesh) as a polygon."""
    x0, y0, x1, y1 = face.box
    eye = face.keypoints[1] - face.keypoints[0]
    angle = int(round(math.degrees(math.atan2(eye[1], eye[0]))))
    centre = (round((x0 + x1) * 8), round((y0 + y1) * 8))  # ×16 for ellipse2Poly's integer input
    axes = (round(0.5 * (x1 - x0) * 16), round(0.6 * (y1 - y0) * 16))
    return cv2.ellipse2Poly(centre, axes, angle, 0, 360, 5).astype(np.float32) / 16


def _fills(face: Face, part: str) -> list[tuple[np.ndarray, float]]:
    if part not in FACE_PARTS:
        raise ValueError(f"unknown face part {part!r}; one of {FACE_PARTS}")
    if face.landmarks is None:
        if part in ("face", "face_skin"):
            return [(_ellipse(face), 1.0)]
        raise ValueError(f"face part {part!r} needs face landmarks: call detect_faces(..., landmarks=True)")
    xy = np.ascontiguousarray(face.landmarks[:, :2], np.float32)
    if part == "face":
        return [(cv2.convexHull(xy).reshape(-1, 2), 1.0)]
    if part == "face_skin":
        holes = (RIGHT_EYE, LEFT_EYE, RIGHT_EYEBROW, LEFT_EYEBROW, LIPS_OUTER)
        return [(cv2.convexHull(xy).reshape(-1, 2), 1.0)] + [(xy[list(loop)], 0.0) for loop in holes]
    if part == "lips":
        return [(xy[list(LIPS_OUTER)], 1.0), (xy[list(LIPS_INNER)], 0.0)]
    loops = (RIGHT_EYE, LEFT_EYE) if part == "eyes" else (RIGHT_EYEBROW, LEFT_EYEBROW)
    return [(xy[list(loop)], 1.0) for loop in loops]


def face_part_mask(shape: tuple[int, int], face: Face, part: str) -> np.ndarray:
    """float32 ``(h, w)`` in [0, 1] of one part of ``face`` (one of :data:`FACE_PARTS`) on
    an image of ``shape`` (the one the face was detected on), edges soft over ~1–2 px.

    ``face``: the convex hull of the 468 mesh points (forehead below the hairline to chin,
    ear to ear; on a turned face it takes in the nose's profile); ``face_skin``: the face
    minus eyes, eyebrows and lips with the mouth; ``eyes`` (the eye openings), ``eyebrows``,
    ``lips`` (without the open mouth) from the mesh contours. Without landmarks
    ``face``/``face_skin`` are an ellipse from box and eye keypoints, and the small parts
    raise ValueError.

    >>> face_part_mask(rgb.shape, faces[0], "lips").max()   # doctest: +SKIP
    1.0
    """
    h, w = shape[:2]
    out = np.zeros((h, w), np.float32)
    patch, x0, y0 = _raster((h, w), face, _fills(face, part))
    out[y0:y0 + patch.shape[0], x0:x0 + patch.shape[1]] = patch
    return out


def face_parts_mask(shape: tuple[int, int], faces: list[Face], part: str) -> np.ndarray:
    """The union (max) of :func:`face_part_mask` over ``faces``; zeros when there are none."""
    out = np.zeros(shape[:2], np.float32)
    for f in faces:
        patch, x0, y0 = _raster(shape[:2], f, _fills(f, part))
        view = out[y0:y0 + patch.shape[0], x0:x0 + patch.shape[1]]
        np.maximum(view, patch, out=view)
    return out
