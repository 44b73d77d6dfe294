"""Faces and face parts: every face as a :class:`Face` (detected, vetted by the mesh)
and masks of its parts.

- :func:`detect_faces`: every face of a uint8 RGB image ``(h, w, 3)`` as :class:`Face`,
  sorted left to right. Detections come from mediapipe's BlazeFace detectors on the
  frame, its mirror image and tiles (:mod:`pertouch.tools.face_detector`); each face is
  then cropped along its eye line for the 468-point face mesh
  (:mod:`pertouch.tools.face_mesh`), whose face-presence probability, with a skin-colour
  check on unsure faces, rejects false detections; duplicates are merged.
- :func:`merge_faces`: two calls' faces on one image as one list.
- :func:`face_part_mask` / :func:`face_parts_mask`: float32 ``(h, w)`` masks in [0, 1]
  of :data:`FACE_PARTS` rasterised from the mesh, edges soft over ~1–2 px.

Coordinates are pixels of the image given, x right, y down, pixel ``(i, j)`` covering
``[i, i + 1) × [j, j + 1)`` (so its centre is at ``(i + 0.5, j + 0.5)``).

The detector's and the mesh's public names (``anchors``, ``decode``, ``weighted_nms``,
``tiles``, ``detections``, ``SHORT_RANGE``, ``FULL_RANGE``, ``mesh``, the ROI helpers and
the contour index tuples) are re-exported here.

>>> faces = detect_faces(load_photo("skimage:astronaut"))   # doctest: +SKIP
>>> len(faces), faces[0].landmarks.shape                     # doctest: +SKIP
(1, (468, 3))
>>> face_parts_mask((512, 512), faces, "lips").dtype          # doctest: +SKIP
dtype('float32')
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from pertouch.core.errors import InputError
from pertouch.tools.face_detector import (FULL_RANGE, MIN_FACE_PX, SHORT_RANGE, anchors,  # noqa: F401
                                          decode, detections, tiles, weighted_nms)
from pertouch.tools.face_mesh import (LEFT_EYE, LEFT_EYEBROW, LIPS_INNER, LIPS_OUTER, RIGHT_EYE,  # noqa: F401
                                      RIGHT_EYEBROW, SURE_PRESENCE, detection_roi, landmarks_roi, mesh,
                                      roi)

FACE_PARTS = ("face", "face_skin", "eyes", "eyebrows", "lips")

_PRESENCE = 0.5           # mesh face-presence probability below which a detection is dropped
_SURE_SCORE = 0.75        # detector score from which, with SURE_PRESENCE, a face needs no colour check
_SAME_OVERLAP = 0.35      # landmark boxes overlapping more (of the smaller) are one face
_MIN_SKIN = 0.5           # share of skin-coloured face pixels an unsure face needs (colour photos)


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
                 within: list | None = None, whole: bool = True, memo: dict | None = None) -> list[Face]:
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
    result to a whole-frame call's with :func:`merge_faces`). ``memo``: a dict shared by
    calls on the same unchanged ``rgb`` (e.g. a whole-frame call and a tiles-only one): what
    they both compute (the detector's downscaled copy, the black-and-white check) is done once.
    """
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise InputError(f"detect_faces needs a uint8 RGB (h, w, 3) array, got "
                         f"{getattr(rgb, 'dtype', type(rgb))} {getattr(rgb, 'shape', '')}",
                         hint="pass the photo (or a proxy) as np.uint8 RGB")
    if min(rgb.shape[:2]) < 16:
        return []
    found: list[tuple[Face, float]] = []
    memo = {} if memo is None else memo
    for box, kps, score in detections(rgb, min_score, within, whole, memo):
        face = Face(tuple(float(v) for v in box), float(score), kps.astype(np.float32))
        presence = 1.0
        if landmarks:
            face.landmarks, presence = mesh(rgb, box, kps)
            if presence < _PRESENCE:
                continue
            (x0, y0), (x1, y1) = face.landmarks[:, :2].min(0), face.landmarks[:, :2].max(0)
            h, w = rgb.shape[:2]
            face.box = (float(max(x0, 0)), float(max(y0, 0)), float(min(x1, w)), float(min(y1, h)))
            if presence < SURE_PRESENCE or score < _SURE_SCORE:  # unsure: in a colour photo, needs skin colour
                if "faces.grey" not in memo:
                    memo["faces.grey"] = _is_grey(rgb)
                if not memo["faces.grey"] and _skin_share(rgb, face) < _MIN_SKIN:
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
