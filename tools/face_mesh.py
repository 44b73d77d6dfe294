"""The face mesh: MediaPipe's 468-point face landmark model on a face detection's ROI,
and the mesh's contours (lips, eyes, eyebrows) as landmark indices.

Model: ``face_landmark.tflite`` (Apache-2.0, from the mediapipe 0.10.21 wheel,
``tools/data/NOTICE.md``), loaded lazily through :func:`pertouch.tools.litert.model`.
ROIs follow mediapipe's ``modules/face_landmark/face_detection_front_detection_to_roi
.pbtxt`` and ``face_landmark_landmarks_to_roi.pbtxt``: the mesh sees a square 1.5× the
face, turned so the eyes are level, 192×192 in [0, 1].

:func:`mesh`: ``(468, 3)`` float32 landmarks (x, y, z; z in pixels at the same scale,
smaller towards the camera) and the mesh's face-presence probability, which
:func:`pertouch.tools.faces.detect_faces` uses to reject false detections.

Coordinates are pixels of the image given, x right, y down, pixel ``(i, j)`` covering
``[i, i + 1) × [j, j + 1)`` (so its centre is at ``(i + 0.5, j + 0.5)``).

>>> lm, presence = mesh(rgb, box, keypoints)   # doctest: +SKIP
>>> lm.shape, presence > 0.5                    # doctest: +SKIP
((468, 3), True)
"""

from __future__ import annotations

import math

import cv2
import numpy as np

# Mesh contours as closed loops of landmark indices (mediapipe's face_mesh_connections); the
# face itself is the hull of all 468 points (its FACE_OVAL, plus the nose on turned faces).
LIPS_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
LIPS_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191)
RIGHT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
RIGHT_EYEBROW = (46, 53, 52, 65, 55, 107, 66, 105, 63, 70)
LEFT_EYEBROW = (276, 283, 282, 295, 285, 336, 296, 334, 293, 300)

SURE_PRESENCE = 0.98      # presence from which a face is sure (the mesh skips its mirror-image look)
_MESH_SIZE = 192
_HOPELESS = 0.1           # first-look presence below which the mesh does not look again


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
    if mirror and _sigmoid(logit) < SURE_PRESENCE:
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
