"""The photo's main subject when it has no people: a soft mask and how sure we are.

People name "the subject", "the foreground", "what's in focus" and expect the thing a
photographer framed. Without people (those come from :mod:`pertouch.tools.people`),
three cues on a uint8 RGB proxy ``(h, w, 3)`` vote, and GrabCut snaps the winner to
the photo's edges:

- **salient object** — MediaPipe's selfie model also fires on a salient foreground
  object (a cat, a cup, a flower) in a close-up: a confident blob of 3–75 % of the
  frame that does not fill the whole width;
- **focus** — a sharp subject before a blurred background (the commonest portrait):
  local Laplacian energy, blurred; the sharp part must be compact and clearly sharper
  than the rest (median ratio ≥ :data:`FOCUS_RATIO`);
- **contrast + centre** — colour distance from the photo's mean Lab, weighted by a
  centre prior (frequency-tuned saliency, Achanta 2009), Otsu-thresholded.

:func:`main_subject` returns ``(mask float32 (h, w) in [0, 1], confidence, how)`` or
``None`` when no cue is credible (a landscape has no main subject; "the background"
is then not something we can honestly find).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: The sharp part must be this many times sharper (median) than the rest to count.
FOCUS_RATIO = 2.5
#: Share of the frame a subject may cover.
MIN_AREA, MAX_AREA = 0.02, 0.75
#: Below this the best cue is a guess, and the photo is said to have no clear subject.
MIN_CONFIDENCE = 0.4


@dataclass
class Subject:
    mask: np.ndarray
    confidence: float
    how: str


def _clean(binary: np.ndarray, min_frac: float = 0.01) -> np.ndarray:
    """Close small gaps, keep components ≥ ``min_frac`` of the frame, fill holes."""
    h, w = binary.shape
    k = max(3, round(min(h, w) / 60)) | 1
    m = cv2.morphologyEx(binary.astype(np.uint8), cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    n, cc, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    keep = np.zeros_like(m)
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] >= min_frac * h * w:
            keep[cc == i] = 1
    # fill holes: parts of the background that do not reach the frame's border
    n, cc = cv2.connectedComponents((1 - keep).astype(np.uint8), connectivity=4)
    border = np.unique(np.concatenate([cc[0], cc[-1], cc[:, 0], cc[:, -1]]))
    return keep.astype(bool) | ~np.isin(cc, border)


def _grabcut(rgb: np.ndarray, core: np.ndarray, maybe: np.ndarray) -> np.ndarray:
    """GrabCut seeded with sure foreground ``core`` and probable foreground ``maybe``."""
    h, w = core.shape
    gc = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    gc[maybe] = cv2.GC_PR_FGD
    gc[core] = cv2.GC_FGD
    b = max(2, min(h, w) // 50)
    border = np.zeros((h, w), bool)
    border[:b], border[-b:], border[:, :b], border[:, -b:] = True, True, True, True
    gc[border & ~maybe] = cv2.GC_BGD
    if not (gc == cv2.GC_FGD).any() and not (gc == cv2.GC_PR_FGD).any():
        return core
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        cv2.grabCut(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), gc, None, bgd, fgd, 4, cv2.GC_INIT_WITH_MASK)
    except cv2.error:
        return maybe
    return (gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)


def focus_map(rgb: np.ndarray) -> np.ndarray:
    """Local sharpness in [0, 1]: blurred |Laplacian| of the luma, normalised by its 99th percentile."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    lap = np.abs(cv2.Laplacian(cv2.GaussianBlur(grey, (3, 3), 0), cv2.CV_32F, ksize=3))
    s = max(3, round(min(rgb.shape[:2]) / 25)) | 1
    e = cv2.GaussianBlur(lap, (s, s), 0)
    return np.clip(e / max(float(np.percentile(e, 99)), 1e-6), 0, 1)


def _focus_subject(rgb: np.ndarray) -> Subject | None:
    f = focus_map(rgb)
    thr = cv2.threshold((f * 255).astype(np.uint8), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[0] / 255.0
    sharp = _clean(f > thr)
    area = float(sharp.mean())
    if not MIN_AREA <= area <= MAX_AREA:
        return None
    inside, outside = float(np.median(f[sharp])), float(np.median(f[~sharp]))
    ratio = inside / max(outside, 1e-3)
    if ratio < FOCUS_RATIO:
        return None
    # A sharp band along the whole bottom or top is a focused foreground plane, not a subject.
    # A subject is framed: sharp along three or four borders is a focused scene or plane.
    if sum(float(e.mean()) > 0.3 for e in (sharp[0], sharp[-1], sharp[:, 0], sharp[:, -1])) >= 3:
        return None
    core = cv2.erode(sharp.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    m = _grabcut(rgb, core, sharp)
    m = _clean(m) if m.any() else sharp
    conf = float(np.clip(0.45 + 0.1 * (ratio - FOCUS_RATIO), 0.45, 0.8))
    return Subject(m.astype(np.float32), conf, f"sharp subject before a blurred background (focus ratio {ratio:.1f})")


def _salient_object(rgb: np.ndarray, prob: np.ndarray) -> Subject | None:
    blob = _clean(prob > 0.5)
    area = float(blob.mean())
    if not 0.03 <= area <= MAX_AREA or blob.any(axis=0).mean() > 0.98:
        return None
    certainty = float(np.abs(prob[blob] - 0.5).mean() * 2.0)
    maybe = cv2.dilate(blob.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    core = cv2.erode(blob.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    m = _grabcut(rgb, core, maybe)
    m = _clean(m) if m.any() else blob
    return Subject(m.astype(np.float32), float(np.clip(0.4 + 0.4 * certainty, 0.4, 0.8)), "salient foreground object")


def _contrast_subject(rgb: np.ndarray) -> Subject | None:
    lab = cv2.cvtColor(cv2.GaussianBlur(rgb, (5, 5), 0).astype(np.float32) / 255, cv2.COLOR_RGB2Lab)
    d = np.linalg.norm(lab - lab.reshape(-1, 3).mean(axis=0), axis=2)
    h, w = d.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    centre = np.exp(-(((xx - w / 2) / (0.35 * w)) ** 2 + ((yy - h / 2) / (0.35 * h)) ** 2))
    s = d * centre
    s = (255 * s / max(float(s.max()), 1e-6)).astype(np.uint8)
    thr = cv2.threshold(s, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[0]
    blob = _clean(s > thr)
    area = float(blob.mean())
    if not 0.03 <= area <= 0.6:
        return None
    separation = float(s[blob].mean() - s[~blob].mean()) / 255.0
    if separation < 0.3:
        return None
    m = _grabcut(rgb, cv2.erode(blob.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool), blob)
    m = _clean(m) if m.any() else blob
    return Subject(m.astype(np.float32), float(np.clip(0.3 + 0.3 * separation, 0.3, 0.5)), "colour contrast near the centre")


def main_subject(rgb: np.ndarray, selfie_prob: np.ndarray | None = None) -> Subject | None:
    """The main subject of a photo without people, or None (see the module docstring).

    ``rgb``: uint8 ``(h, w, 3)`` proxy (≤ 512 px is plenty); ``selfie_prob``: the selfie
    model's probability at the same size, if already computed.
    """
    if min(rgb.shape[:2]) < 32:
        return None
    if selfie_prob is None:
        from pertouch.tools.person import person_probability

        selfie_prob = person_probability(rgb)
    found = [s for s in (_salient_object(rgb, selfie_prob), _focus_subject(rgb)) if s is not None]
    if not found:
        found = [s for s in (_contrast_subject(rgb),) if s is not None]
    best = max(found, key=lambda s: s.confidence, default=None)
    return best if best is not None and best.confidence >= MIN_CONFIDENCE else None
