"""Person and face cues that ship offline.

- :func:`person_probability`: MediaPipe's selfie-segmentation model (``tools/data/
  selfie_segmentation.tflite``, Apache-2.0, taken from the mediapipe 0.10.21 wheel,
  see ``tools/data/NOTICE.md``) run with ``ai-edge-litert``: ``(h, w)`` float32
  foreground-person probability. The model also fires on other salient foreground
  objects (a cat, a cup), so :func:`person_evidence` gates it with shape cues and
  scikit-image's LBP frontal-face cascade.
- :func:`detect_faces`: face boxes from the LBP cascade on a small proxy.

Inputs are ``(h, w, 3)`` uint8 RGB proxies (≤ 512 px is plenty).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

MODEL_FILE = "selfie_segmentation.tflite"
_INPUT = 256


def person_probability(rgb: np.ndarray) -> np.ndarray:
    """Per-pixel person probability, float32 ``(h, w)`` in [0, 1], for a uint8 RGB image."""
    h, w = rgb.shape[:2]
    if min(h, w) < 8:
        return np.zeros((h, w), np.float32)
    x = cv2.resize(rgb, (_INPUT, _INPUT), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    from pertouch.tools.litert import model

    p = model(MODEL_FILE).run(x[None])[0][0, ..., 0]
    return np.clip(cv2.resize(p, (w, h), interpolation=cv2.INTER_LINEAR), 0.0, 1.0)


@lru_cache(maxsize=1)
def _cascade():
    from skimage.data import lbp_frontal_face_cascade_filename
    from skimage.feature import Cascade

    return Cascade(lbp_frontal_face_cascade_filename())


def detect_faces(grey: np.ndarray, region: tuple[int, int, int, int] | None = None) -> list[tuple[int, int, int, int]]:
    """Frontal faces as ``(x0, y0, x1, y1)`` boxes in ``grey`` coordinates.

    ``grey``: ``(h, w)`` float32 in [0, 1] (≤ 400 px keeps this under ~100 ms).
    ``region``: optional ``(x0, y0, x1, y1)`` to search within.
    """
    x0, y0, x1, y1 = region or (0, 0, grey.shape[1], grey.shape[0])
    crop = grey[y0:y1, x0:x1]
    if min(crop.shape) < 24:
        return []
    side = min(crop.shape)
    found = _cascade().detect_multi_scale(
        img=crop, scale_factor=1.25, step_ratio=1.5, min_size=(max(20, side // 8),) * 2,
        max_size=(side, side), min_neighbor_number=2)
    return [(x0 + f["c"], y0 + f["r"], x0 + f["c"] + f["width"], y0 + f["r"] + f["height"]) for f in found]


@dataclass
class PersonEvidence:
    """The gated person cue: ``mask`` probability ``(h, w)`` and how sure we are."""

    mask: np.ndarray
    confidence: float
    faces: list[tuple[int, int, int, int]]
    reason: str


def person_evidence(rgb: np.ndarray, prob: np.ndarray | None = None) -> PersonEvidence:
    """Person probability gated by shape and face cues; confidence 0 when no person.

    A person is accepted when the selfie mask is a confident, reasonably sized blob
    and either a frontal face lies inside it, or it stands on the bottom border with
    a narrower top (head/shoulders) and covers at most 60 % of the frame.
    """
    h, w = rgb.shape[:2]
    if prob is None:
        prob = person_probability(rgb)
    binary = prob > 0.5
    area = float(binary.mean()) if binary.size else 0.0
    none = PersonEvidence(np.zeros((h, w), np.float32), 0.0, [], "")
    if area < 0.02 or min(h, w) < 32:
        return none
    certainty = float(np.abs(prob[binary] - 0.5).mean() * 2.0)
    ys, xs = np.nonzero(binary)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    faces = [f for f in detect_faces(grey, box) if prob[(f[1] + f[3]) // 2, (f[0] + f[2]) // 2] > 0.5]
    bottom = float(binary[-max(1, h // 50):].mean())
    rows = np.nonzero(binary.any(axis=1))[0]
    top_rows = binary[rows[0]: rows[0] + max(1, (rows[-1] - rows[0]) // 8)]
    low_rows = binary[rows[-1] - max(1, (rows[-1] - rows[0]) // 4): rows[-1] + 1]
    narrow_top = top_rows.sum(axis=1).mean() < 0.7 * max(1.0, low_rows.sum(axis=1).mean())
    if faces:
        conf, reason = 0.55 + 0.4 * certainty, "selfie mask with a frontal face"
    elif bottom > 0.1 and narrow_top and area <= 0.6:
        conf, reason = 0.35 + 0.35 * certainty, "selfie mask shaped like a person (no frontal face)"
    else:
        return PersonEvidence(np.zeros((h, w), np.float32), 0.0, [], "foreground object, not a person")
    return PersonEvidence(prob.astype(np.float32), float(min(conf, 0.95)), faces, reason)


# --- parts of a person (face, skin, hair) for Scene.find -------------------------------

def skin_mask(lab: np.ndarray) -> np.ndarray:
    """Skin-coloured pixels of a Lab image (L 0–100) as bool ``(h, w)``."""
    L, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    hue = np.degrees(np.arctan2(b, a)) % 360
    chroma = np.hypot(a, b)
    return (L > 25) & (L < 92) & (hue > 20) & (hue < 85) & (chroma > 8) & (chroma < 50) & (a > 3)


def part_mask(cues, part: str) -> np.ndarray | None:
    """``face``/``skin``/``hair`` as a float32 mask at the cue size, or None when absent."""
    person = cues.person.mask > 0.5
    if cues.person.confidence == 0 or not person.any():
        return None
    h, w = person.shape
    skin = skin_mask(cues.lab) & person if not cues.grey else np.zeros_like(person)
    faces = cues.person.faces
    if part == "skin":
        return skin.astype(np.float32) if skin.mean() > 0.002 else None
    if not faces:
        return None
    x0, y0, x1, y1 = max(faces, key=lambda f: (f[2] - f[0]) * (f[3] - f[1]))
    fw, fh = x1 - x0, y1 - y0
    yy, xx = np.mgrid[0:h, 0:w]
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 + 0.05 * fh
    ellipse = ((xx - cx) / (0.55 * fw)) ** 2 + ((yy - cy) / (0.7 * fh)) ** 2 <= 1
    if part == "face":
        m = ellipse & person & (skin | cues.grey)
        return m.astype(np.float32) if m.sum() > 0.1 * fw * fh else ellipse.astype(np.float32)
    if part == "hair":
        band = (xx > cx - 0.9 * fw) & (xx < cx + 0.9 * fw) & (yy > y0 - 0.8 * fh) & (yy < y1)
        m = band & person & ~skin & ~(ellipse & (cues.lab[..., 0] > 45))
        return m.astype(np.float32) if m.sum() > 0.05 * fw * fh else None
    return None
