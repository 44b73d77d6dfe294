"""Pose detection: MediaPipe's BlazePose SSD detector on the whole image and on tiles.

Model: ``pose_detection.tflite`` (Apache-2.0, from the mediapipe 0.10.21 wheel, see
``tools/data/NOTICE.md``), loaded lazily through :func:`pertouch.tools.litert.model`.
Pre- and post-processing follow mediapipe's ``pose_detection_cpu.pbtxt``: the window
letterboxed (centred, black bars) into 224×224, RGB in [-1, 1]; 2254 fixed-size SSD
anchors (:func:`anchors`); scores as sigmoids of logits clipped to ±100, kept from
0.2; weighted NMS at IoU 0.3 (:func:`weighted_nms`).

:func:`detect_poses` runs it on the whole image and on 6 overlapping square tiles (a
person a third of the frame tall is often found only there): 7 calls. mediapipe keeps
one detection; all are kept here. The detector keys on faces: people whose face it
cannot see are not proposed. Each :class:`Detection` is a face box and 4 body
keypoints; :mod:`pertouch.tools.pose` turns them into ROIs for the landmark model.

Coordinates are pixels of the image given (x right, y down); input uint8 RGB
``(h, w, 3)``.

>>> [round(d.score, 2) for d in detect_poses(rgb)]   # doctest: +SKIP
[0.99, 0.31]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

DETECTOR = "pose_detection.tflite"
_DET_SIZE = 224
_DET_MIN_SCORE = 0.2       # mediapipe's min_score_thresh
_NMS_IOU = 0.3             # mediapipe's min_suppression_threshold
MAX_TILES = 6              # + the whole image: at most 7 detector calls


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


def tiles(w: int, h: int, max_tiles: int = MAX_TILES) -> list[tuple[int, int, int, int]]:
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


def detect_poses(rgb: np.ndarray, max_tiles: int = MAX_TILES) -> list[Detection]:
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
