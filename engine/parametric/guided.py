"""The guided filter (He & Sun, "Fast Guided Filter", 2015) on a grid: the one
implementation, used by the blend weights (:mod:`.blend`) and by perception's mask
refinement (:mod:`pertouch.tools.refine`). Plain coefficients, exact zeros/ones where a
mask is absent or full, and the wide, confidence-weighted window over a guessed mask's
unsure bands (:func:`snap_bands`)."""

from __future__ import annotations

import numpy as np

#: The guided filter's regulariser (luma on [0, 1]).
EPS = 1e-3


def _box(x: np.ndarray, r: int) -> np.ndarray:
    import cv2

    return cv2.boxFilter(x, cv2.CV_32F, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REFLECT)


def guide_stats(guide: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray]:
    """(box mean of the guide ``I``, its box variance) over (2r + 1)² pixels: the part of
    the guided filter every region on one grid shares."""
    mi = _box(guide, r)
    return mi, _box(guide * guide, r) - mi * mi


def guided_coefficients(guide: np.ndarray, p: np.ndarray, r: int, eps: float = EPS,
                        stats: tuple[np.ndarray, np.ndarray] | None = None, *,
                        exact_ends: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Mean guided-filter coefficients (ā, b̄) for guide ``I`` and input ``p``, both (h, w) float32
    (He & Sun's guided filter: the one implementation, used by the engine's blend weights and
    by perception's mask refinement, :mod:`pertouch.tools.refine`).

    ``stats``: :func:`guide_stats` of ``I`` if already known (for a crop of a larger
    guide, cropped alike: they differ from the crop's own only within r of its border).
    With ``exact_ends``, where no mask pixel (p > 0) lies within 2r, ā = b̄ = 0 exactly; where
    every pixel within 2r is fully inside (p ≥ 1), ā = 0, b̄ = 1 exactly.
    """
    import cv2

    mi, var = guide_stats(guide, r) if stats is None else stats
    mp = _box(p, r)
    cov = _box(guide * p, r) - mi * mp
    a = cov / (var + eps)
    b = mp - a * mi
    a, b = _box(a, r), _box(b, r)
    if not exact_ends:
        return a, b
    reach = np.ones((4 * r + 1, 4 * r + 1), np.uint8)
    zero = cv2.dilate((p > 0).view(np.uint8), reach, borderType=cv2.BORDER_REFLECT) == 0  # none within reach
    a[zero] = 0.0
    b[zero] = 0.0
    one = cv2.dilate((p < 1).view(np.uint8), reach, borderType=cv2.BORDER_REFLECT) == 0   # fully inside
    a[one] = 0.0
    b[one] = 1.0
    return a, b


#: The wide window's radius around a guessed mask's unsure bands: the grid's long side /
#: SMOOTH_DIV (≈ 9 px on a 451-px grid, 16 on 768); a band is smoothed over ~4× that.
SMOOTH_DIV = 48
#: A guide (luma on [0, 1]) that changes by less than EDGE_LOW per grid pixel is smooth (a
#: blurred background's soft blobs reach ~0.03 on the cat photo); by more than EDGE_HIGH it
#: is an edge a mask may follow crisply (fur, outlines: 0.08 and up); a ramp in between.
EDGE_LOW, EDGE_HIGH = 0.03, 0.08


def smooth_radius(grid: tuple[int, int], r: int) -> int:
    """The guided filter's radius where the photo is smooth or the mask uncertain (≥ ``r``)."""
    return max(r, round(max(grid) / SMOOTH_DIV))


def edges(guide: np.ndarray) -> np.ndarray:
    """(h, w) float32 in [0, 1]: how much of an edge the guide has at each pixel (0 below
    :data:`EDGE_LOW` per pixel, 1 above :data:`EDGE_HIGH`)."""
    import cv2

    gy = cv2.Sobel(guide, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REFLECT)
    gx = cv2.Sobel(guide, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REFLECT)
    mag = np.sqrt(gx * gx + gy * gy) * np.float32(1.0 / 8.0)  # per pixel
    return np.clip((mag - np.float32(EDGE_LOW)) * np.float32(1.0 / (EDGE_HIGH - EDGE_LOW)), 0.0, 1.0)


def _reach(x: np.ndarray, r: int) -> np.ndarray:
    """The maximum of ``x`` over (2r + 1)² (reflected borders)."""
    import cv2

    return cv2.dilate(x, np.ones((2 * r + 1, 2 * r + 1), np.uint8), borderType=cv2.BORDER_REFLECT)


def wide_coefficients(guide: np.ndarray, p: np.ndarray, big: int, edge: np.ndarray,
                      eps: float = EPS) -> tuple[np.ndarray, np.ndarray]:
    """Guided-filter coefficients over (2·big + 1)² windows, for smooth areas and unsure masks.

    Each mask value counts by how sure it is, ``(2p − 1)²`` (+ 0.01): a band of
    half-weights around a subject does not pull the fit, so the band takes the value of
    the sure pixels of its colour on either side (it snaps to the photo's edge). In a
    window with no edge (``edge``, within the window) the model is a constant — the
    mask's sure mean — so across smooth areas a mask edge becomes a smooth ramp
    ~4·big px wide. Exact zeros/ones as :func:`guided_coefficients`.
    """
    import cv2

    c = (2.0 * p - 1.0) ** 2 + np.float32(0.01)
    n = _box(c, big)
    mi = _box(c * guide, big) / n
    mp = _box(c * p, big) / n
    var = _box(c * guide * guide, big) / n - mi * mi
    cov = _box(c * guide * p, big) / n - mi * mp
    a = _reach(edge, big) * cov / (var + eps)
    b = mp - a * mi
    a, b = _box(a, big), _box(b, big)
    reach = np.ones((4 * big + 1, 4 * big + 1), np.uint8)
    zero = cv2.dilate((p > 0).view(np.uint8), reach, borderType=cv2.BORDER_REFLECT) == 0
    a[zero] = 0.0
    b[zero] = 0.0
    one = cv2.dilate((p < 1).view(np.uint8), reach, borderType=cv2.BORDER_REFLECT) == 0
    a[one] = 0.0
    b[one] = 1.0
    return a, b


#: An unsure band is wider than 2·(r + BAND_MARGIN) + 1 grid px: a soft edge (anti-aliasing,
#: a mask blurred by a few px) is narrower and is kept as it is.
BAND_MARGIN = 2


def unsure_band(p: np.ndarray, r: int) -> np.ndarray:
    """bool: mask values between 0.15 and 0.85 over a band wider than a soft edge
    (:data:`BAND_MARGIN`) — the half-weights a segmenter leaves around a subject it is
    unsure of, or between two clusters of a blurred background."""
    import cv2

    band = ((p > 0.15) & (p < 0.85)).view(np.uint8)
    k = 2 * (r + BAND_MARGIN) + 1
    return cv2.erode(band, np.ones((k, k), np.uint8), borderType=cv2.BORDER_REFLECT) > 0


def snap_bands(ca: np.ndarray, cb: np.ndarray, guide: np.ndarray, p: np.ndarray, r: int,
               big: int) -> tuple[np.ndarray, np.ndarray]:
    """Within ``big`` px of an :func:`unsure_band` the :func:`wide_coefficients` replace the
    mask's own (``ca, cb``: radius ``r``): the band is re-fitted to the photo's edge (no
    glow around a subject). Elsewhere ``ca, cb`` bit for bit; exact 0 (outside) and
    (a, b) = (0, 1) (inside) stay exact."""
    band = unsure_band(p, r)
    if not band.any():
        return ca, cb
    t = 1.0 - _box(_reach(band.astype(np.float32), big), r)  # varies as smoothly as the coefficients
    wa, wb = wide_coefficients(guide, p, big, edges(guide))
    a = wa + t * (ca - wa)
    b = wb + t * (cb - wb)
    out = (ca == 0) & (cb == 0) & (wa == 0) & (wb == 0)
    inside = (ca == 0) & (cb == 1) & (wa == 0) & (wb == 1)
    a[out | inside] = 0.0
    b[out] = 0.0
    b[inside] = 1.0
    keep = t >= 1.0
    a[keep], b[keep] = ca[keep], cb[keep]
    return a, b
