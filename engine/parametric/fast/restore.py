"""Held regions: the input's own pixels blended back through a region's soft weight.

A region whose every edit holds it where it is (``by 0``, or ``to`` its measured
level) while the photo around it changes ("brighten everything except the sky")
cannot be held by an edit of its own on top of the global one: what the global edit
clipped or shifted (a near-white sky's highlights, its tint) no transform of the
edited pixels brings back. So a held region gets no edit at all: :func:`restore_layer`
blends the INPUT back into the output, ``out ← out + w·(input − out)``, with the same
edge-aware weight ``w = clip(a·Y + b)`` every region layer uses (:mod:`.blend`,
:mod:`.kernels`: the same coefficients, the same per-pixel interpolation, the same
rounding), so the held region keeps its pixels bit for bit where ``w = 1`` and the
border is the same soft ramp a region edit gets — no seam.
"""

from __future__ import annotations

import numpy as np

from pertouch.engine.ops.jit import HAVE_NUMBA
from pertouch.engine.parametric.fast.kernels import W_MIN, axis_coords, cell_weight, segstart_of
from pertouch.engine.parametric.fast.rows import over_rows
from pertouch.engine.parametric.fast.spans import row_spans


def _restore_py(orig, out, guide, a, b, first, last, skip, y0, y1, x0, x1, ry0, ry1, rfy, cfx, segstart, scale):
    # The walk of kernels._kernel_py: runs of inside cells (a = 0, b = 1 at all four
    # corners) are copied, outside cells skipped, border cells blended per pixel.
    wmin = np.float32(1.0 / 512.0)
    one = np.float32(1.0)
    half = np.float32(0.5)
    inv = one / scale
    top = int(scale)
    gw = a.shape[1]
    for i in range(y0, y1):
        r0 = ry0[i]
        r1 = ry1[i]
        fy = rfy[i]
        g0 = min(first[r0], first[r1])
        g1 = max(last[r0], last[r1])
        if g0 > g1:
            continue
        g = max(g0 - 1, 0)
        gend = min(g1 + 1, gw - 1)
        while g <= gend:
            e = min(skip[r0, g], gend + 1)
            if e > g:  # cells g .. e - 1 are inside: the input as it is
                js = max(x0, segstart[g])
                je = min(x1, segstart[e])
                if js < je:
                    out[i, js:je] = orig[i, js:je]
                g = e
                continue
            js = max(x0, segstart[g])
            je = min(x1, segstart[g + 1])
            gn = min(g + 1, gw - 1)
            g += 1
            if js >= je:
                continue
            a0 = a[r0, g - 1] + (a[r1, g - 1] - a[r0, g - 1]) * fy
            a1 = a[r0, gn] + (a[r1, gn] - a[r0, gn]) * fy
            b0 = b[r0, g - 1] + (b[r1, g - 1] - b[r0, g - 1]) * fy
            b1 = b[r0, gn] + (b[r1, gn] - b[r0, gn]) * fy
            if a0 == 0 and a1 == 0 and b0 == 0 and b1 == 0:
                continue
            brow = orig[i, js:je]
            orow = out[i, js:je]
            grow = guide[i, js:je]
            crow = cfx[js:je]
            for j in range(je - js):
                w = cell_weight(grow, crow, j, a0, a1, b0, b1, inv)
                if w < wmin:
                    continue
                if w > one - wmin:
                    orow[j, 0] = brow[j, 0]
                    orow[j, 1] = brow[j, 1]
                    orow[j, 2] = brow[j, 2]
                    continue
                for k in range(3):
                    o = np.float32(orow[j, k])
                    orow[j, k] = min(int(o + w * (np.float32(brow[j, k]) - o) + half), top)


if HAVE_NUMBA:
    import numba as _nb

    _restore = _nb.njit(cache=True, nogil=True, fastmath=True)(_restore_py)
else:  # pragma: no cover - no numba: the NumPy route
    _restore = None


def restore_layer(orig: np.ndarray, out: np.ndarray, a: np.ndarray, b: np.ndarray,
                  bbox: tuple[int, int, int, int],
                  spans: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None) -> None:
    """Blend ``orig`` back into ``out`` (in place) with weights ``clip(a·Y + b)`` over ``bbox``.

    ``orig`` (the input photo, also the weights' guide) and ``out``: ``(H, W, 3)`` uint8 or
    uint16, same dtype; ``a``, ``b``, ``bbox``, ``spans``: a region's
    :class:`~pertouch.engine.parametric.blend.Weights`. Pixels of weight < 1/512 are not touched.
    """
    h, w = orig.shape[:2]
    y0, y1, x0, x1 = bbox
    if y1 <= y0 or x1 <= x0:
        return
    scale = 255.0 if orig.dtype == np.uint8 else 65535.0
    ry0, ry1, rfy = axis_coords(h, a.shape[0])
    cx0, cx1, cfx = axis_coords(w, a.shape[1])
    a32, b32 = np.ascontiguousarray(a, np.float32), np.ascontiguousarray(b, np.float32)
    if _restore is not None:
        first, last, skip = spans if spans is not None and spans[2] is not None else row_spans(a32, b32)
        seg = segstart_of(w, a.shape[1])
        over_rows(lambda ya, yb: _restore(orig, out, orig, a32, b32, first, last, skip, ya, yb, int(x0), int(x1),
                                          ry0, ry1, rfy, cfx, seg, np.float32(scale)), int(y0), int(y1))
        return
    fy, fx = rfy[y0:y1, None], cfx[None, x0:x1]

    def up(g: np.ndarray) -> np.ndarray:
        top = g[ry0[y0:y1]][:, cx0[x0:x1]] * (1 - fx) + g[ry0[y0:y1]][:, cx1[x0:x1]] * fx
        bot = g[ry1[y0:y1]][:, cx0[x0:x1]] * (1 - fx) + g[ry1[y0:y1]][:, cx1[x0:x1]] * fx
        return top * (1 - fy) + bot * fy

    src = orig[y0:y1, x0:x1].astype(np.float32)
    lum = (0.2126 * src[..., 0] + 0.7152 * src[..., 1] + 0.0722 * src[..., 2]) / scale
    wgt = (up(a32) * lum + up(b32)).astype(np.float32)
    wgt = np.where(wgt < W_MIN, 0.0, np.where(wgt > 1 - W_MIN, 1.0, wgt)).astype(np.float32)[..., None]
    o = out[y0:y1, x0:x1].astype(np.float32)
    blended = np.minimum(np.floor(o + wgt * (src - o) + 0.5), scale)
    out[y0:y1, x0:x1] = np.where(wgt > 0, blended, o).astype(out.dtype)
