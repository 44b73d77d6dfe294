"""Label borders re-decided pixel by pixel from local colour (branches against the sky).

Superpixel segmentation puts every region border on a superpixel border, so a border
can be off by up to one superpixel: a treetop's superpixel that also holds sky is all
"vegetation", and after edge-aware upsampling the sky mask has a soft dark blob
around the treetop (an unedited patch of sky: a halo). :func:`refine_labels`
re-decides each pixel of a band around the borders by which neighbouring region's
LOCAL colour it resembles:

- every region's colour near a pixel is the normalised convolution of its interior
  pixels (CIELAB, Gaussian window about one band wide), with the local spread of
  those colours — so a sky that darkens toward the zenith, or a hazy horizon, is
  compared with the sky right there, not with the sky's mean;
- a pixel takes the label whose local Gaussian colour model explains it best
  (log-likelihood with the spread floored, so flat regions are not over-confident),
  among the labels present near it; frozen labels (the person cue, which comes from
  a model) are neither changed nor given away.

Sky seen through branches becomes sky; foliage pushed into the sky by a superpixel
becomes foliage again. Cost: a few Gaussian blurs per label on the proxy.

>>> import numpy as np, cv2
>>> lab = np.zeros((40, 40, 3), np.float32); lab[..., 0] = 80; lab[:, 20:, 0] = 30
>>> coarse = np.zeros((40, 40), np.int64); coarse[:, 14:] = 1     # border 6 px off
>>> fixed = refine_labels(coarse, lab, band=8)
>>> int((fixed[:, :20] == 0).mean() * 100), int((fixed[:, 20:] == 1).mean() * 100)
(100, 100)
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from pertouch.engine.ops.jit import HAVE_NUMBA, compiled, prange

#: Floor of a region's local colour spread (CIELAB units): JPEG noise and haze.
MIN_SPREAD = 2.5
#: A label is a candidate at a pixel when this share of the window is its interior.
MIN_SUPPORT = 0.02
#: Ties go to a pixel's current label (a tiny log-likelihood bonus).
KEEP_BONUS = 1e-6


def band_of(labels: np.ndarray, radius: int) -> np.ndarray:
    """Pixels with another label within ``radius`` (a square window): the border band."""
    k = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * radius + 1, 2 * radius + 1))
    lab16 = labels.astype(np.uint16)
    return cv2.dilate(lab16, k) != cv2.erode(lab16, k)


def _interior(mask: np.ndarray) -> np.ndarray:
    """The mask without its outermost 2 px (mixed border pixels), or the mask if that empties it."""
    inner = cv2.erode(mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    return inner if inner.sum() >= 0.25 * mask.sum() else mask


def _integral(x: np.ndarray) -> np.ndarray:
    """Summed-area table ``(h+1, w+1, c)`` (float64) of an ``(h, w, c)`` stack."""
    out = np.zeros((x.shape[0] + 1, x.shape[1] + 1, x.shape[2]), np.float64)
    np.cumsum(x, axis=0, dtype=np.float64, out=out[1:, 1:])
    np.cumsum(out[1:, 1:], axis=1, out=out[1:, 1:])
    return out


def local_models(lab: np.ndarray, mask: np.ndarray, radius: int, ys: np.ndarray,
                 xs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """At pixels ``(ys, xs)``: the local (mean colour ``(n, 3)``, spread² ``(n,)``, support
    ``(n,)``) of ``mask``'s pixels in the (2·radius+1)² window around each (clipped at the
    photo's edges). Summed-area tables: O(1) per pixel whatever the radius, and only the
    asked pixels are evaluated."""
    h, w = mask.shape
    m = mask.astype(np.float32)
    stack = np.concatenate([m[..., None], lab * m[..., None], ((lab * lab).sum(axis=2) * m)[..., None]], axis=2)
    table = _integral(stack)
    y0, y1 = np.clip(ys - radius, 0, h), np.clip(ys + radius + 1, 0, h)
    x0, x1 = np.clip(xs - radius, 0, w), np.clip(xs + radius + 1, 0, w)
    sums = table[y1, x1] - table[y0, x1] - table[y1, x0] + table[y0, x0]
    count = np.maximum(sums[:, 0], 1e-6)
    mean = sums[:, 1:4] / count[:, None]
    spread2 = np.maximum(sums[:, 4] / count - (mean * mean).sum(axis=1), MIN_SPREAD ** 2)
    support = sums[:, 0] / ((y1 - y0) * (x1 - x0))
    return mean, spread2, support


def candidate_models(lab: np.ndarray, labels: np.ndarray, cands: np.ndarray, radius: int, ys: np.ndarray,
                     xs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`local_models` of every candidate label at once: ``(n, K, 3)``, ``(n, K)``, ``(n, K)``.

    With numba, one compiled pass over each pixel's window accumulates all labels'
    sums (each pixel's interior belongs to at most one label); otherwise one
    summed-area pass per label."""
    interiors = [_interior(labels == k) for k in cands]
    if _window_sums is None:
        cols = [local_models(lab, m, radius, ys, xs) for m in interiors]
        return (np.stack([c[0] for c in cols], 1), np.stack([c[1] for c in cols], 1),
                np.stack([c[2] for c in cols], 1))
    owner = np.full(labels.shape, -1, np.int32)
    for i, m in enumerate(interiors):
        owner[m] = i
    h, w = labels.shape
    sums = np.zeros((ys.size, cands.size, 5), np.float64)
    _window_sums(np.ascontiguousarray(lab, np.float32), owner, ys.astype(np.int64), xs.astype(np.int64),
                 int(radius), sums)
    area = ((np.minimum(ys + radius + 1, h) - np.maximum(ys - radius, 0))
            * (np.minimum(xs + radius + 1, w) - np.maximum(xs - radius, 0)))
    count = np.maximum(sums[..., 0], 1e-6)
    mean = sums[..., 1:4] / count[..., None]
    spread2 = np.maximum(sums[..., 4] / count - (mean * mean).sum(axis=2), MIN_SPREAD ** 2)
    return mean, spread2, sums[..., 0] / area[:, None]


def _window_sums_py(lab, owner, ys, xs, radius, sums):
    h, w = owner.shape
    for i in prange(ys.size):
        y0, y1 = max(0, ys[i] - radius), min(h, ys[i] + radius + 1)
        x0, x1 = max(0, xs[i] - radius), min(w, xs[i] + radius + 1)
        for yy in range(y0, y1):
            for xx in range(x0, x1):
                k = owner[yy, xx]
                if k < 0:
                    continue
                c0, c1, c2 = lab[yy, xx, 0], lab[yy, xx, 1], lab[yy, xx, 2]
                sums[i, k, 0] += 1.0
                sums[i, k, 1] += c0
                sums[i, k, 2] += c1
                sums[i, k, 3] += c2
                sums[i, k, 4] += c0 * c0 + c1 * c1 + c2 * c2


#: The compiled window pass; None without numba (the summed-area NumPy route).
_window_sums = compiled(_window_sums_py, parallel=True, cache=True, nogil=True) if HAVE_NUMBA else None


def refine_labels(labels: np.ndarray, lab: np.ndarray, *, band: int, frozen: Iterable[int] = (),
                  only: int | None = None) -> np.ndarray:
    """``labels`` (h, w) ints re-decided within ``band`` px of a border by local colour.

    ``lab``: the (h, w, 3) float32 CIELAB image the labels were made on; ``frozen``:
    labels whose pixels are kept and that no pixel may take; ``only``: re-decide just
    the borders of this label (e.g. sky: a smooth region whose colour model is sharp),
    between it and its neighbours. Returns a new label map.
    """
    if band < 1 or labels.size == 0:
        return labels.copy()
    frozen = set(int(f) for f in frozen)
    if only is not None:
        k = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * band + 1, 2 * band + 1))
        m = (labels == only).astype(np.uint8)
        zone = cv2.dilate(m, k).astype(bool) & ~cv2.erode(m, k).astype(bool)
    else:
        zone = band_of(labels, band)
    for f in frozen:
        zone &= labels != f
    ys, xs = np.nonzero(zone)
    out = labels.copy()
    if ys.size == 0:
        return out
    radius = max(2, band)
    # everything happens in the band's bounding box (+ the window radius)
    oy, ox = max(0, int(ys.min()) - radius - 3), max(0, int(xs.min()) - radius - 3)
    ey, ex = min(labels.shape[0], int(ys.max()) + radius + 4), min(labels.shape[1], int(xs.max()) + radius + 4)
    sub, sublab = lab[oy:ey, ox:ex].astype(np.float32, copy=False), labels[oy:ey, ox:ex]
    px = lab[ys, xs].astype(np.float64)
    current = labels[ys, xs]
    cands = np.array([k for k in np.unique(labels[zone]) if int(k) not in frozen], dtype=labels.dtype)
    if cands.size == 0:
        return out
    mean, s2, support = candidate_models(sub, sublab, cands, radius, ys - oy, xs - ox)  # (n, K, 3), (n, K)
    d2 = ((px[:, None, :] - mean) ** 2).sum(axis=2)
    score = -0.5 * d2 / s2 - 1.5 * np.log(s2)
    score[support < MIN_SUPPORT] = -np.inf
    score[current[:, None] == cands[None, :]] += KEEP_BONUS
    pick = score.argmax(axis=1)
    ok = np.isfinite(score[np.arange(ys.size), pick])
    out[ys, xs] = np.where(ok, cands[pick], current)
    # one pass of 3×3 majority in the band removes single-pixel speckle
    py0, px0 = max(0, oy - 1), max(0, ox - 1)
    out[py0:ey, px0:ex] = _despeckle(out[py0:ey, px0:ex], zone[py0:ey, px0:ex], frozen)
    return out


def _despeckle(labels: np.ndarray, zone: np.ndarray, frozen: set[int]) -> np.ndarray:
    ks = np.unique(labels[zone])
    if ks.size < 2:
        return labels
    votes = np.stack([cv2.boxFilter((labels == k).astype(np.float32), -1, (3, 3), normalize=False) for k in ks])
    major = ks[votes.argmax(axis=0)]
    change = zone & (votes.max(axis=0) >= 6) & ~np.isin(major, list(frozen))
    out = labels.copy()
    out[change] = major[change]
    return out


def sky_band(shape: tuple[int, int], n_segments: int = 800) -> int:
    """The band (px) re-decided around the sky: about 0.7 of a superpixel's side."""
    return max(2, int(round(0.7 * np.sqrt(shape[0] * shape[1] / n_segments))))


def absorb_small(labels: np.ndarray, into: int, sources: Iterable[int], max_area: float = 0.02) -> np.ndarray:
    """Components of ``sources`` labels (e.g. clouds) that touch ``into`` (the sky) and
    cover under ``max_area`` of the image become ``into``: a few hazy superpixels
    called "clouds" beside a treetop are sky, and would otherwise be merged into the
    tree as islands. Returns a new label map."""
    out = labels.copy()
    src = np.isin(labels, list(sources))
    if not src.any():
        return out
    n, cc = cv2.connectedComponents(src.astype(np.uint8), connectivity=4)
    near = cv2.dilate((labels == into).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    sizes = np.bincount(cc.ravel(), minlength=n)
    touching = np.bincount(cc[near & src], minlength=n) > 0
    small = (sizes < max_area * labels.size) & touching
    small[0] = False
    out[small[cc]] = into
    return out
