"""Face detection: MediaPipe's BlazeFace detectors on the whole frame, its mirror image
and tiles, as raw detections (boxes, 6 keypoints, scores).

Models: ``face_detection_short_range.tflite`` (128 px input) and
``face_detection_full_range_sparse.tflite`` (192 px) (Apache-2.0, from the mediapipe
0.10.21 wheel, ``tools/data/NOTICE.md``), loaded lazily through
:func:`pertouch.tools.litert.model`. Pre- and post-processing follow mediapipe's graphs
(``modules/face_detection/face_detection.pbtxt`` and ``face_detection_{short,full}_range
.pbtxt``): letterboxed input in [-1, 1] (:func:`_letterbox`), fixed-size SSD anchors
(:func:`anchors`), scores as sigmoids of logits clipped to ±100 (:func:`decode`),
weighted NMS at IoU 0.3 (:func:`weighted_nms`).

:func:`detections`: both detectors on the whole frame and its mirror image; on images
over 288 px the full-range one also on up to 12 overlapping :func:`tiles`, so faces
down to ~24 px tall reach the ~16 px it needs at its input. Each run's detections go
through weighted NMS, then all runs' together. Vetting by the face mesh and the
:class:`~pertouch.tools.faces.Face` objects are in :mod:`pertouch.tools.faces`.

Coordinates are pixels of the image given, x right, y down; keypoints in BlazeFace
order: right eye, left eye, nose tip, mouth centre, right ear tragion, left ear
tragion (the person's right and left).

>>> [round(s, 2) for _, _, s in detections(load_photo("skimage:astronaut"))]   # doctest: +SKIP
[0.94]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

MIN_FACE_PX = 24          # smallest face (box height on the given image) tiling aims to find
_MIN_INPUT_FACE = 16.0    # px: face height at the 192 px input the full-range model finds (measured: ~80 %)
_MAX_TILES = 12           # full-range runs on tiles, besides the 4 whole-frame runs
_NMS_IOU = 0.3            # mediapipe's min_suppression_threshold


@dataclass(frozen=True)
class _Detector:
    """One BlazeFace model and its graph options."""

    file: str
    size: int
    strides: tuple[int, ...]
    interpolated_scale_aspect_ratio: float


SHORT_RANGE = _Detector("face_detection_short_range.tflite", 128, (8, 16, 16, 16), 1.0)
FULL_RANGE = _Detector("face_detection_full_range_sparse.tflite", 192, (4,), 0.0)


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


def _downscaled(rgb: np.ndarray, zoom: float, memo: dict | None) -> np.ndarray:
    """``rgb`` scaled by ``zoom`` (INTER_AREA), kept in ``memo`` for the next call on it."""
    h, w = rgb.shape[:2]
    key = ("face_detector.small", h, w, zoom)
    if memo is not None and key in memo:
        return memo[key]
    small = cv2.resize(rgb, (max(1, round(w * zoom)), max(1, round(h * zoom))), interpolation=cv2.INTER_AREA)
    if memo is not None:
        memo[key] = small
    return small


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


def detections(rgb: np.ndarray, min_score: float = 0.5, within: list | None = None, whole: bool = True,
               memo: dict | None = None) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """All face detections of ``rgb`` as ``[(box (4,), keypoints (6, 2), score)]`` in its
    pixels: both detectors on the whole frame and on its mirror image (BlazeFace is not
    mirror-symmetric; a turned face often scores higher one way round), the full-range
    one on :func:`tiles`; each run's weighted NMS, then a weighted NMS across runs.
    ``within``: boxes ``(x0, y0, x1, y1)`` where small faces may be (people's heads); only
    tiles that meet one run (None: every tile). ``whole``: False skips the whole-frame runs
    (the tiles only, after a first call that did them). ``memo``: a dict shared by calls
    on the same ``rgb`` (unchanged between them) that keeps the downscaled copy."""
    h, w = rgb.shape[:2]
    side = tiles(h, w)
    regions = side
    if within is not None and regions:
        regions = [t for t in regions if any(b[0] < t[2] and b[2] > t[0] and b[1] < t[3] and b[3] > t[1]
                                             for b in within)] or regions[:0]
    # one downscale for all runs: tiles then need none (they share one side), whole frames little
    zoom = min(1.0, FULL_RANGE.size / (side[0][2] - side[0][0]) if side else FULL_RANGE.size / max(h, w))
    small = _downscaled(rgb, zoom, memo)
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
