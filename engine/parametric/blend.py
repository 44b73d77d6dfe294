"""Edge-aware region weights: masks at low resolution, full-resolution edges from the photo.

A region's mask (any resolution with the photo's aspect) is turned into fast
guided-filter coefficients (He & Sun, "Fast Guided Filter", 2015) on a grid of at
most :data:`GRID_MAX` pixels on the long side, guided by the photo's luma. The
full-resolution weight is then ``w = clip(ā·Y + b̄, 0, 1)`` with ``ā, b̄`` bilinearly
upsampled and ``Y`` the full-resolution luma: edges follow the photo, so there are
no halos or seams, and far from a region ``ā = b̄ = 0`` exactly, so those pixels are
left alone. Weights below 1/512 count as 0, above 1 − 1/512 as 1.

A mask that is a guess (``feather``: a segmenter's, label confidence below 1) is
kept as it is where it is sure. Around a wide band of half-weights (the segmenter
unsure around a subject, or between two clusters of a blurred background) a
confidence-weighted guided filter over a wide window (:func:`snap_bands`,
:func:`wide_coefficients`, :func:`smooth_radius`) takes over: next to an edge of the
photo the band is re-fitted to that edge (no glow around a subject); where the photo
is smooth the weight becomes the sure pixels' smooth mean (a soft ramp, no seam).
A ramp pushed out further across smooth areas was tried and dropped: in a partition
the neighbour's ramp dilutes a region, the solve pushes the region's edit harder to
reach its level, and the blotches grew (chelsea, two "other" regions ±0.3 in
temperature: 0.86 → 2.2 ΔE/px; the wide band fit alone: 0.67).

>>> import numpy as np
>>> img = np.zeros((40, 60, 3), np.uint8); img[:, 30:] = 200
>>> m = np.zeros((20, 30), np.float32); m[:, 15:] = 1
>>> w = Weights.build(m, img).full(img)
>>> float(w[:, :25].max()), float(w[:, 35:].min())
(0.0, 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import numpy as np

from pertouch.engine.ops.jit import HAVE_NUMBA
from pertouch.engine.parametric.fast.kernels import W_MIN
from pertouch.engine.parametric.guided import guide_stats, guided_coefficients, smooth_radius, snap_bands

GRID_MAX = 768
GRID_MIN = 384


def luma_unit(image: np.ndarray) -> np.ndarray:
    """Rec. 709 luma on [0, 1] of uint8/uint16/float ``(H, W, 3)``, float32 ``(H, W)``.

    Compiled when numba is installed (one pass, no temporaries; the same float32
    arithmetic as the NumPy expression, which is the fallback)."""
    scale = 255.0 if image.dtype == np.uint8 else 65535.0 if image.dtype == np.uint16 else 1.0
    if _luma is not None and image.ndim == 3 and image.shape[2] >= 3 and image.dtype in _LUMA_TYPES:
        out = np.empty(image.shape[:2], np.float32)
        _luma(image, np.float32(scale), out)
        return out
    x = image[..., :3].astype(np.float32)
    return ((0.2126 * x[..., 0] + 0.7152 * x[..., 1] + 0.0722 * x[..., 2]) / scale).astype(np.float32)


def _luma_py(image, scale, out):
    for i in range(image.shape[0]):
        for j in range(image.shape[1]):
            out[i, j] = (np.float32(0.2126) * np.float32(image[i, j, 0]) + np.float32(0.7152) * np.float32(image[i, j, 1])
                         + np.float32(0.0722) * np.float32(image[i, j, 2])) / scale


_LUMA_TYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float32))


def grid_shape(image_shape: tuple[int, int], mask_shape: tuple[int, int]) -> tuple[int, int]:
    """(gh, gw): the mask's own size, clamped to [GRID_MIN, GRID_MAX] on the long side, ≤ photo."""
    h, w = image_shape
    long_m = max(mask_shape)
    target = min(max(long_m, GRID_MIN), GRID_MAX, max(h, w))
    s = target / max(h, w)
    return max(1, round(h * s)), max(1, round(w * s))


def refine_radius(grid: tuple[int, int], mask_shape: tuple[int, int]) -> int:
    """Guided-filter radius on the grid for a mask of ``mask_shape``.

    A low-resolution mask gets ~3 px at 512 and at least its own cell size on the
    grid, so its blocky edge can snap to the photo's edge. A mask already as fine as
    the grid (a hand-drawn mask, a perception mask at full resolution) gets radius 1:
    where the photo is flat (a dusk sky between tower struts) the guided filter is a
    plain box blur of ~4r+1 px, and radius 4 blurred a hand-drawn sky mask 0.2–0.3
    down inside thin lattice cells (dark fringes) and leaked it over the struts.
    """
    g, m = max(grid), max(mask_shape)
    if m >= g:
        return 1
    return max(2, round(3 * g / 512), round(g / m))


@dataclass(frozen=True)
class Weights:
    """A region's soft weight as grid coefficients plus the full-res bbox where it may be > 0."""

    a: np.ndarray
    b: np.ndarray
    shape: tuple[int, int]
    bbox: tuple[int, int, int, int]  # (y0, y1, x0, x1) full-resolution, end-exclusive
    extent: tuple[int, int, int, int] | None = None  # grid rows/cols where a or b ≠ 0 (None: none)

    @classmethod
    def build(cls, mask: np.ndarray, image: np.ndarray,
              guide_grid: np.ndarray | Callable[[], np.ndarray] | None = None,
              stats: Callable[[int], tuple[np.ndarray, np.ndarray]] | None = None,
              feather: bool = False) -> "Weights":
        """From a soft mask (any resolution, photo's aspect) and the photo ``(H, W, 3)``.

        ``feather``: the mask is a guess (a segmenter's, not the user's): its unsure bands
        are re-fitted to the photo (:func:`snap_bands`). A mask given by the user is taken
        as meant.

        ``guide_grid``: the photo's luma on the grid (:func:`guide_for`), or a function
        giving it (asked for only once the mask is ready, so a shared guide can be made by
        one thread while others prepare their masks). ``stats``: radius → the whole
        guide's :func:`guide_stats` (shared by the regions on one grid; cropped here)."""
        import cv2

        h, w = image.shape[:2]
        m = np.asarray(mask, np.float32)
        gh, gw = grid_shape((h, w), m.shape)
        p = shrink(m, (gh, gw))
        p = np.clip(p, 0.0, 1.0, out=p if p is not m else None)  # in place when it is our own copy
        r = refine_radius((gh, gw), m.shape)
        a = np.zeros((gh, gw), np.float32)
        b = np.zeros((gh, gw), np.float32)
        bx, by, bw, bh = cv2.boundingRect((p > 0).view(np.uint8))  # the mask's bbox, one pass
        rows, cols = np.array([by, by + bh - 1]) if bh else np.empty(0), np.array([bx, bx + bw - 1])
        ext = None
        if rows.size:  # filter only the mask's bounding box (plus the filter's reach)
            guide_grid = guide_grid() if callable(guide_grid) else guide_grid
            if guide_grid is None or guide_grid.shape != (gh, gw):
                guide_grid = luma_unit(cv2.resize(image, (gw, gh), interpolation=cv2.INTER_AREA))
            big = smooth_radius((gh, gw), r) if feather else r
            pad = 4 * big + 2  # the filter's reach
            y0, y1 = max(0, rows[0] - pad), min(gh, rows[-1] + 1 + pad)
            x0, x1 = max(0, cols[0] - pad), min(gw, cols[-1] + 1 + pad)
            gcrop, pcrop = guide_grid[y0:y1, x0:x1], np.ascontiguousarray(p[y0:y1, x0:x1])
            st = None
            if stats is not None:  # the shared part, cropped: the same a, b (see guided_coefficients)
                mi, var = stats(r)
                if mi.shape == (gh, gw):
                    st = (mi[y0:y1, x0:x1], var[y0:y1, x0:x1])
            ca, cb = guided_coefficients(gcrop, pcrop, r, stats=st)
            if big > r:
                ca, cb = snap_bands(ca, cb, gcrop, pcrop, r, big)
            a[y0:y1, x0:x1], b[y0:y1, x0:x1] = ca, cb
            e = _extent(ca, cb)  # a and b are 0 outside the crop
            ext = None if e is None else (e[0] + y0, e[1] + y0, e[2] + x0, e[3] + x0)
        return cls(a, b, (h, w), _bbox_of(ext, a.shape, (h, w)), ext)

    @cached_property
    def spans(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The kernel's :func:`~pertouch.engine.parametric.fast.spans.row_spans`: per grid row, the first and
        last column where the weight may be > 0, and the runs of fully-inside cells."""
        from pertouch.engine.parametric.fast.spans import row_spans

        if self.extent is None and self.bbox == (0, 0, 0, 0):  # nowhere (or not known: look)
            return row_spans(self.a, self.b)
        return row_spans(self.a, self.b, self.extent)

    @classmethod
    def everywhere(cls, shape: tuple[int, int]) -> "Weights":
        """Weight 1 on the whole photo (the ``global`` layer)."""
        return cls(np.zeros((1, 1), np.float32), np.ones((1, 1), np.float32), shape, (0, shape[0], 0, shape[1]))

    def resized(self, shape: tuple[int, int]) -> "Weights":
        """The same weights for a resized copy of the photo, ``shape`` = (H, W).

        The coefficients live on a grid in the photo's own coordinates, and the grid's
        guide (the photo's luma, area-averaged to the grid) is the same for any copy at
        least as large as the grid, so only the full-resolution bbox changes.
        """
        ext = self.extent if self.extent is not None or self.bbox == (0, 0, 0, 0) else _extent(self.a, self.b)
        out = Weights(self.a, self.b, tuple(shape), _bbox_of(ext, self.a.shape, tuple(shape)), ext)
        if "spans" in self.__dict__:  # they depend on the grid only: share them
            out.__dict__["spans"] = self.__dict__["spans"]
        return out

    def full(self, image: np.ndarray, luma: np.ndarray | None = None) -> np.ndarray:
        """The weight map ``(H, W)`` float32 in [0, 1] at ``image``'s size (materialised).

        The coefficients are upsampled bilinearly in cv2's half-pixel convention, as the
        fused kernel does (compiled over the bbox when numba is installed, else with cv2
        INTER_LINEAR). ``luma``: the guide's luma if already known.
        """
        import cv2

        h, w = image.shape[:2]
        lum = luma_unit(image) if luma is None else luma
        if self.a.shape != (1, 1) and _full is not None:
            from pertouch.engine.parametric.fast.kernels import axis_coords

            y0, y1, x0, x1 = self.bbox if tuple(self.shape) == (h, w) else (0, h, 0, w)
            out = np.zeros((h, w), np.float32)
            ry0, ry1, rfy = axis_coords(h, self.a.shape[0])
            cx0, cx1, cfx = axis_coords(w, self.a.shape[1])
            _full(np.ascontiguousarray(self.a, np.float32), np.ascontiguousarray(self.b, np.float32),
                  ry0, ry1, rfy, cx0, cx1, cfx, np.ascontiguousarray(lum, np.float32), y0, y1, x0, x1, out)
            return out
        if self.a.shape == (1, 1):
            au, bu = np.full((h, w), self.a[0, 0], np.float32), np.full((h, w), self.b[0, 0], np.float32)
        else:
            au = cv2.resize(self.a, (w, h), interpolation=cv2.INTER_LINEAR)
            bu = cv2.resize(self.b, (w, h), interpolation=cv2.INTER_LINEAR)
        q = (au * lum).astype(np.float32, copy=False)
        q += bu
        np.putmask(q, q < W_MIN, 0.0)
        np.putmask(q, q > 1 - W_MIN, 1.0)
        return q


def _full_py(a, b, ry0, ry1, rfy, cx0, cx1, cfx, luma, y0, y1, x0, x1, out):
    """out[i, j] = clip(ā·Y + b̄) over the bbox, ā and b̄ interpolated as the fused kernel does."""
    wmin = np.float32(1.0 / 512.0)
    for i in range(y0, y1):
        r0 = ry0[i]
        r1 = ry1[i]
        fy = rfy[i]
        for j in range(x0, x1):
            g0 = cx0[j]
            g1 = cx1[j]
            fx = cfx[j]
            a0 = a[r0, g0] + (a[r1, g0] - a[r0, g0]) * fy
            a1 = a[r0, g1] + (a[r1, g1] - a[r0, g1]) * fy
            b0 = b[r0, g0] + (b[r1, g0] - b[r0, g0]) * fy
            b1 = b[r0, g1] + (b[r1, g1] - b[r0, g1]) * fy
            v = (a0 + (a1 - a0) * fx) * luma[i, j] + (b0 + (b1 - b0) * fx)
            out[i, j] = 0.0 if v < wmin else 1.0 if v > 1 - wmin else v


if HAVE_NUMBA:
    import numba as _nb

    _full = _nb.njit(cache=True, nogil=True, fastmath=True)(_full_py)
    _luma = _nb.njit(cache=True, nogil=True)(_luma_py)
else:  # pragma: no cover - no numba: the OpenCV route
    _full = _luma = None


def _extent(a: np.ndarray, b: np.ndarray) -> tuple[int, int, int, int] | None:
    """(first row, last row, first col, last col) of the grid where a or b ≠ 0; None if nowhere."""
    nz = (a != 0) | (b != 0)
    if not nz.any():
        return None
    ys, xs = np.nonzero(nz.any(axis=1))[0], np.nonzero(nz.any(axis=0))[0]
    return (int(ys[0]), int(ys[-1]), int(xs[0]), int(xs[-1]))


def _bbox_of(ext: tuple[int, int, int, int] | None, grid: tuple[int, int],
             shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """The full-resolution bbox (at ``shape``) of the grid extent ``ext`` (one cell of margin)."""
    if ext is None:
        return (0, 0, 0, 0)
    gh, gw = grid
    h, w = shape
    y0 = max(0, int(np.floor((ext[0] - 1) * h / gh)))
    y1 = min(h, int(np.ceil((ext[1] + 2) * h / gh)))
    x0 = max(0, int(np.floor((ext[2] - 1) * w / gw)))
    x1 = min(w, int(np.ceil((ext[3] + 2) * w / gw)))
    return (y0, y1, x0, x1)


def shrink(m: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``m`` (h, w) float32 resized to ``shape`` = (gh, gw), fast.

    Larger by 2× or more: a bilinear pass to twice the size, then a 2:1 area average
    (cv2's INTER_AREA at a non-integer ratio costs ~4× as much for the same look). Less
    than 2× larger, or smaller: bilinear (a soft mask; the guided filter smooths it after).
    """
    import cv2

    gh, gw = shape
    if m.shape == (gh, gw):
        return m
    if m.shape[0] >= 2 * gh and m.shape[1] >= 2 * gw:
        if m.shape != (2 * gh, 2 * gw):
            m = cv2.resize(m, (2 * gw, 2 * gh), interpolation=cv2.INTER_LINEAR)
        return cv2.resize(m, (gw, gh), interpolation=cv2.INTER_AREA)
    return cv2.resize(m, (gw, gh), interpolation=cv2.INTER_LINEAR)


def guide_for(mask_shape: tuple[int, int], image: np.ndarray, cache: dict) -> np.ndarray:
    """The grid's guide (the photo's luma on the grid a mask of ``mask_shape`` gets), made
    once per grid size (``cache``)."""
    import cv2

    gh, gw = grid_shape(image.shape[:2], mask_shape)
    if (gh, gw) not in cache:
        small = image
        if image.shape[0] > 4 * gh:  # cheap 2×2-tap reduction first, area average last
            small = cv2.resize(image, (gw * 2, gh * 2), interpolation=cv2.INTER_LINEAR)
        cache[(gh, gw)] = luma_unit(cv2.resize(small, (gw, gh), interpolation=cv2.INTER_AREA))
    return cache[(gh, gw)]


def guide_stats_for(mask_shape: tuple[int, int], image: np.ndarray, cache: dict,
                    r: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`guide_stats` of the grid's guide (:func:`guide_for`), made once per grid and
    radius (``cache``)."""
    g = guide_for(mask_shape, image, cache)
    key = (g.shape, "stats", r)
    if key not in cache:
        cache[key] = guide_stats(g, r)
    return cache[key]


def weights_for(mask: np.ndarray, image: np.ndarray, cache: dict, feather: bool = False) -> Weights:
    """:meth:`Weights.build` with the grid's guide (and its statistics) made once per grid
    size (``cache``)."""
    return Weights.build(mask, image, guide_for(mask.shape, image, cache),
                         lambda r: guide_stats_for(mask.shape, image, cache, r), feather)


def support_at(w: Weights, size: tuple[int, int]) -> np.ndarray:
    """``size[::-1]`` bool: where the weight may be > 0 at that (measuring) size, one pixel dilated."""
    import cv2

    nz = ((w.a != 0) | (w.b != 0)).astype(np.float32)
    sup = cv2.resize(nz, size, interpolation=cv2.INTER_LINEAR) > 0  # any of the 4 taps
    return cv2.dilate(sup.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
