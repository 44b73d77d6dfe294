"""The selfie-segmentation cue and the person cue the labeller reads.

- :func:`person_probability`: MediaPipe's selfie-segmentation model (``tools/data/
  selfie_segmentation.tflite``, Apache-2.0, taken from the mediapipe 0.10.21 wheel,
  see ``tools/data/NOTICE.md``) run with ``ai-edge-litert``: ``(h, w)`` float32
  foreground probability for a uint8 RGB proxy (≤ 512 px is plenty). It fires on
  people AND on other salient foreground objects (a cat, a cup): the labeller uses it
  for close-ups and :mod:`pertouch.tools.subject` for the main subject; people
  themselves come from the pose and face models (:mod:`pertouch.tools.detection`).
- :class:`PersonEvidence`: the person cue at the labeller's size, made by
  :meth:`pertouch.tools.detection.Detections.evidence`.

(The scikit-image LBP frontal-face cascade this module used to gate the selfie model
with is gone: the BlazeFace detectors find every face it found and the turned and
small ones it missed.)
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass
class PersonEvidence:
    """The gated person cue: ``mask`` probability ``(h, w)`` and how sure we are."""

    mask: np.ndarray
    confidence: float
    faces: list[tuple[int, int, int, int]]
    reason: str
