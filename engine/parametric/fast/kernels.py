"""The fast engine's per-pixel pass: one region's whole edit, blended, in one sweep.

:func:`apply_layer` reads a bbox of ``base`` (uint8 or uint16), applies the region's
:class:`~pertouch.engine.ops.operators.PixelTransform` (per-channel LUT → 3×3 matrix →
soft clip; with clarity, an interpolated LUT on ``x + s·detail``), computes the
region's weight from low-resolution guided-filter coefficients ``w = a·Y + b``
(bilinear, cv2's half-pixel convention; ``Y`` the guide's luma) and blends the
result into ``out`` in place. Pixels whose weight is below 1/512 are not touched, so
they stay bit-identical. Compiled with numba when it is installed (``nogil``, one row
range a call, bands of rows spread over threads by :func:`~pertouch.engine.parametric.fast.rows.over_rows`
— not numba's OpenMP ``parallel``, see there); otherwise a NumPy/OpenCV version does
the same on the bbox crop.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from pertouch.engine.ops.jit import HAVE_NUMBA
from pertouch.engine.ops.operators import PixelTransform, soft_clip
from pertouch.engine.parametric.fast.rows import over_rows
from pertouch.engine.parametric.fast.spans import row_spans

W_MIN = 1.0 / 512.0



@lru_cache(maxsize=64)
def axis_coords(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """cv2 INTER_LINEAR source indices and weights for an axis (half-pixel centres).

    Memoised (every layer of a render asks for the same axes); the arrays are read-only.
    """
    src = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
    src = np.clip(src, 0.0, n_in - 1)
    i0 = np.floor(src).astype(np.int64)
    i1 = np.minimum(i0 + 1, n_in - 1)
    out = (i0, i1, (src - i0).astype(np.float32))
    for x in out:
        x.setflags(write=False)
    return out


#: The soft clip is tabulated over the transform's output range, nearest sample, with
#: this many samples per unit (per dtype), already scaled to the output range.
CLIP_RES = {np.dtype(np.uint8): 4096, np.dtype(np.uint16): 65536}


@lru_cache(maxsize=256)
def clip_table(margins: tuple[float, float], per_unit: int, scale: float) -> tuple[np.ndarray, float]:
    """(``soft_clip(x) * scale + 0.5`` at x = lo + k / per_unit, lo) over [lo_out − .01, hi_out + .01].

    Memoised (a plan applied again, e.g. to preview copies, reuses its tables); read-only.
    """
    lo, hi = margins[0] - 0.01, margins[1] + 0.01
    x = np.arange(int(np.ceil((hi - lo) * per_unit)) + 1) / per_unit + lo
    table = (soft_clip(x, *margins) * scale + 0.5).astype(np.float32)
    table.setflags(write=False)
    return table, lo


#: Packed tables: three 21-bit fields in one int64 (see :func:`_packed`).
_FIELD = (1 << 21) - 1


def _packed(tabs: np.ndarray, per_unit: int, clip_lo: float, n_clip: int) -> tuple[np.ndarray, int]:
    """(table, shift): for input channel k and value v, the three output channels' clip-table
    positions ``tabs[c, k, v] · per_unit`` in 1/2**shift steps, rounded, packed as fields
    c = 0, 1, 2 of an int64 (bits 42, 21, 0); the table's offset (with the +0.5 that makes
    the index a rounding) rides on k = 0. Summing a pixel's three entries sums the three
    channels at once (exact integer arithmetic: every position lies in [0, n_clip), so each
    field of the sum stays in [0, 2²¹)); a pixel costs 3 lookups, not 9, and its index,
    ``field >> shift``, is within 1.5 / 2**shift steps of the float route's. shift = −1:
    the table is too long to pack (use the float route)."""
    shift = next((s for s in (4, 2, 0) if n_clip << s < _FIELD), -1)
    if shift < 0:
        return np.zeros((3, 1), np.int64), -1
    scale = float(per_unit << shift)
    steps = np.rint(tabs.astype(np.float64) * scale).astype(np.int64)  # (3 c, 3 k, n)
    steps[:, 0, :] += int(np.floor((-clip_lo * per_unit + 0.5) * (1 << shift)))
    return np.ascontiguousarray((steps[0] << 42) + (steps[1] << 21) + steps[2]), shift


def _pixel(brow, orow, j, tabs, pk, shift, n1, inv, kq, off, clip, clipq, qmax, top, w, drow, clar):
    """Pixel j of a run (``brow``, ``orow``, ``drow``: the run's views of base, out and the
    detail layer, so j counts from 0): ``tabs`` → soft-clip table → blended into ``orow``
    with weight ``w``."""
    if clar == 0.0 and shift >= 0:  # three packed lookups give the three clip-table indices
        s = pk[0, brow[j, 0]] + pk[1, brow[j, 1]] + pk[2, brow[j, 2]]
        q0 = min(((s >> 42) & _FIELD) >> shift, qmax)
        q1 = min(((s >> 21) & _FIELD) >> shift, qmax)
        q2 = min((s & _FIELD) >> shift, qmax)
    elif clar == 0.0:
        r = brow[j, 0]
        g = brow[j, 1]
        bl = brow[j, 2]
        q0 = min(max(int((tabs[0, 0, r] + tabs[0, 1, g] + tabs[0, 2, bl]) * kq + off), 0), qmax)
        q1 = min(max(int((tabs[1, 0, r] + tabs[1, 1, g] + tabs[1, 2, bl]) * kq + off), 0), qmax)
        q2 = min(max(int((tabs[2, 0, r] + tabs[2, 1, g] + tabs[2, 2, bl]) * kq + off), 0), qmax)
    else:
        d = clar * drow[j]
        t0 = np.float32(0.0)
        t1 = np.float32(0.0)
        t2 = np.float32(0.0)
        for k in range(3):
            v = min(max(brow[j, k] * inv + d, np.float32(0.0)), np.float32(1.0)) * n1
            q = min(int(v), n1 - 1)
            f = v - q
            t0 += tabs[0, k, q] + (tabs[0, k, q + 1] - tabs[0, k, q]) * f
            t1 += tabs[1, k, q] + (tabs[1, k, q + 1] - tabs[1, k, q]) * f
            t2 += tabs[2, k, q] + (tabs[2, k, q + 1] - tabs[2, k, q]) * f
        q0 = min(max(int(t0 * kq + off), 0), qmax)
        q1 = min(max(int(t1 * kq + off), 0), qmax)
        q2 = min(max(int(t2 * kq + off), 0), qmax)
    if w == np.float32(1.0):  # the table of final (rounded, output-dtype) values
        orow[j, 0] = clipq[q0]
        orow[j, 1] = clipq[q1]
        orow[j, 2] = clipq[q2]
    else:  # c already carries +0.5; blend o + w (t - o), rounded
        c0 = clip[q0]
        c1 = clip[q1]
        c2 = clip[q2]
        o = np.float32(orow[j, 0])
        orow[j, 0] = min(int(o + w * (c0 - np.float32(0.5) - o) + np.float32(0.5)), top)
        o = np.float32(orow[j, 1])
        orow[j, 1] = min(int(o + w * (c1 - np.float32(0.5) - o) + np.float32(0.5)), top)
        o = np.float32(orow[j, 2])
        orow[j, 2] = min(int(o + w * (c2 - np.float32(0.5) - o) + np.float32(0.5)), top)


def _kernel_py(base, out, guide, tabs, pk, shift, clip, clipq, clip_lo, per_unit, a, b, first, last, skip, y0, ya, yb,
               x0, x1, ry0, ry1, rfy, cfx, segstart, scale, detail, clar):
    # tabs[c, k, v] = matrix[c, k] * lut[k, v]: a pixel's colour is sum_k tabs[c, k, v_k].
    # A row is walked one grid cell at a time (segstart[g] .. segstart[g + 1] are the
    # columns between grid columns g and g + 1): a run of cells whose coefficients are
    # a = 0, b = 1 at all four corners (inside: skip[r0, g] is where the run ends) is
    # transformed in one tight loop with no weight arithmetic; a cell whose coefficients
    # are all 0 (outside) is skipped; the rest get w = a·Y + b per pixel. Rows ya .. yb - 1
    # of the bbox (whose first row, y0, the detail layer's rows count from).
    n1 = tabs.shape[2] - 1
    kq = np.float32(per_unit)
    off = np.float32(-clip_lo * per_unit + 0.5)
    qmax = clip.shape[0] - 1
    wmin = np.float32(1.0 / 512.0)
    one = np.float32(1.0)
    inv = one / scale
    top = int(scale)
    gw = a.shape[1]
    for i in range(ya, yb):
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
            if e > g:  # cells g .. e - 1 are inside
                js = max(x0, segstart[g])
                je = min(x1, segstart[e])
                if js < je and clar == 0.0 and shift >= 0:
                    _inside_packed(base[i, js:je], out[i, js:je], pk, shift, clipq, qmax)
                elif js < je:
                    _inside(base[i, js:je], out[i, js:je], tabs, pk, shift, n1, inv, kq, off, clip, clipq, qmax, top,
                            _detail_row(detail, i - y0, js - x0, je - x0, clar), clar)
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
            if clar == 0.0 and shift >= 0:
                _border_packed(base[i, js:je], out[i, js:je], guide[i, js:je], cfx[js:je], a0, a1, b0, b1,
                               pk, shift, clip, clipq, qmax, top, inv)
                continue
            brow = base[i, js:je]
            orow = out[i, js:je]
            grow = guide[i, js:je]
            crow = cfx[js:je]
            drow = _detail_row(detail, i - y0, js - x0, je - x0, clar)
            for j in range(je - js):
                w = cell_weight(grow, crow, j, a0, a1, b0, b1, inv)
                if w < wmin:
                    continue
                if w > one - wmin:
                    w = one
                _pixel(brow, orow, j, tabs, pk, shift, n1, inv, kq, off, clip, clipq, qmax, top, w, drow, clar)


def cell_weight(grow, crow, j, a0, a1, b0, b1, inv):
    """Pixel j's weight ``w = a·Y + b`` in a border cell: a, b interpolated across the cell
    (``a0``, ``b0`` at its left column, ``a1``, ``b1`` at its right, ``crow``: the pixels'
    fractions), ``Y`` the guide's luma (``grow``: the cell's view of the guide)."""
    fx = crow[j]
    aa = a0 + (a1 - a0) * fx
    bb = b0 + (b1 - b0) * fx
    if aa == np.float32(0.0):  # flat (inside or outside): no need for the guide
        return bb
    y = (np.float32(0.2126) * grow[j, 0] + np.float32(0.7152) * grow[j, 1]
         + np.float32(0.0722) * grow[j, 2]) * inv
    return aa * y + bb


def _inside(brow, orow, tabs, pk, shift, n1, inv, kq, off, clip, clipq, qmax, top, drow, clar):
    """A run of one row (views of it), all at weight 1 (the float route, or clarity)."""
    one = np.float32(1.0)
    for j in range(brow.shape[0]):
        _pixel(brow, orow, j, tabs, pk, shift, n1, inv, kq, off, clip, clipq, qmax, top, one, drow, clar)


def _border_packed(brow, orow, grow, crow, a0, a1, b0, b1, pk, shift, clip, clipq, qmax, top, inv):
    """One border cell of a row (views of it): the weight ``w = a·Y + b`` per pixel from the
    cell's coefficients (``a0..b1``: its left and right columns, interpolated to the row),
    then packed tables (no clarity), blended; what :func:`_pixel` does, as its own small
    loop like :func:`_inside_packed`. (The lookups and the blend are written out here on
    purpose: shared through inlined helpers, the apply step measured ~1.7× slower.)"""
    wmin = np.float32(1.0 / 512.0)
    one = np.float32(1.0)
    half = np.float32(0.5)
    for j in range(brow.shape[0]):
        w = cell_weight(grow, crow, j, a0, a1, b0, b1, inv)
        if w < wmin:
            continue
        s = pk[0, brow[j, 0]] + pk[1, brow[j, 1]] + pk[2, brow[j, 2]]
        q0 = min(((s >> 42) & _FIELD) >> shift, qmax)
        q1 = min(((s >> 21) & _FIELD) >> shift, qmax)
        q2 = min((s & _FIELD) >> shift, qmax)
        if w > one - wmin:
            orow[j, 0] = clipq[q0]
            orow[j, 1] = clipq[q1]
            orow[j, 2] = clipq[q2]
            continue
        o = np.float32(orow[j, 0])
        orow[j, 0] = min(int(o + w * (clip[q0] - half - o) + half), top)
        o = np.float32(orow[j, 1])
        orow[j, 1] = min(int(o + w * (clip[q1] - half - o) + half), top)
        o = np.float32(orow[j, 2])
        orow[j, 2] = min(int(o + w * (clip[q2] - half - o) + half), top)


def _detail_row(detail, di, js, je, clar):
    """Columns [js, je) of row ``di`` of the detail layer (a dummy row without clarity)."""
    return detail[di, js:je] if clar != 0.0 else detail[0, 0:1]


def _inside_packed(brow, orow, pk, shift, clipq, qmax):
    """A run of one row (``brow``, ``orow``: (n, 3) views of it), all at weight 1, no
    clarity, packed tables: the tight loop most of a region's pixels go through. (Its
    views start at the run, so indices count up from 0 and numba needs no negative-index
    wraparound; that, and being its own small function, makes it ~2× faster.)"""
    for j in range(brow.shape[0]):
        s = pk[0, brow[j, 0]] + pk[1, brow[j, 1]] + pk[2, brow[j, 2]]
        orow[j, 0] = clipq[min(((s >> 42) & _FIELD) >> shift, qmax)]
        orow[j, 1] = clipq[min(((s >> 21) & _FIELD) >> shift, qmax)]
        orow[j, 2] = clipq[min((s & _FIELD) >> shift, qmax)]


if HAVE_NUMBA:
    import numba as _nb

    _pixel = _nb.njit(cache=True, nogil=True, fastmath=True, inline="always")(_pixel)
    _inside = _nb.njit(cache=True, nogil=True, fastmath=True, inline="always")(_inside)
    _inside_packed = _nb.njit(cache=True, nogil=True, fastmath=True)(_inside_packed)
    cell_weight = _nb.njit(cache=True, nogil=True, fastmath=True, inline="always")(cell_weight)
    _border_packed = _nb.njit(cache=True, nogil=True, fastmath=True)(_border_packed)
    _detail_row = _nb.njit(cache=True, nogil=True, inline="always")(_detail_row)
    _kernel = _nb.njit(cache=True, nogil=True, fastmath=True)(_kernel_py)
else:
    _kernel = None


def final_table(margins: tuple[float, float], per_unit: int, scale: float, dtype) -> np.ndarray:
    """:func:`clip_table` as final output values (rounded, capped, in ``dtype``; memoised)."""
    return _final_table(margins, per_unit, scale, np.dtype(dtype).str)


@lru_cache(maxsize=256)
def _final_table(margins, per_unit, scale, dtype_str) -> np.ndarray:
    table, _ = clip_table(margins, per_unit, scale)
    q = np.minimum(table.astype(np.int64), int(scale)).astype(np.dtype(dtype_str))
    q.setflags(write=False)
    return q


@lru_cache(maxsize=64)
def segstart_of(w: int, gw: int) -> np.ndarray:
    """segstart[g]: the first full-res column whose left grid tap is ≥ g (g ≤ gw; memoised)."""
    c = np.searchsorted(axis_coords(w, gw)[0], np.arange(gw + 1), side="left").astype(np.int64)
    c.setflags(write=False)
    return c


def apply_layer(base: np.ndarray, out: np.ndarray, guide: np.ndarray, t: PixelTransform,
                a: np.ndarray, b: np.ndarray, bbox: tuple[int, int, int, int],
                detail: np.ndarray | None = None,
                spans: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None) -> None:
    """Blend ``t(base)`` into ``out`` (in place) with weights ``clip(a·Y + b)`` over ``bbox``.

    ``base``/``out``/``guide``: ``(H, W, 3)`` uint8 or uint16 (same dtype); ``a``, ``b``:
    ``(gh, gw)`` float32 guided-filter coefficients; ``bbox`` = (y0, y1, x0, x1) full-res;
    ``detail``: ``(y1−y0, x1−x0)`` float32 luma detail on [0, 1] scale when t.clarity ≠ 0;
    ``spans``: :func:`row_spans` of (a, b) if already known.
    """
    h, w = base.shape[:2]
    y0, y1, x0, x1 = bbox
    if y1 <= y0 or x1 <= x0:
        return
    scale = 255.0 if base.dtype == np.uint8 else 65535.0
    ry0, ry1, rfy = axis_coords(h, a.shape[0])
    cx0, cx1, cfx = axis_coords(w, a.shape[1])
    det = detail if (detail is not None and t.clarity != 0.0) else np.zeros((1, 1), np.float32)
    if _kernel is not None:
        tabs = np.ascontiguousarray(t.matrix[:, :, None] * t.lut[None, :, :], dtype=np.float32)
        per_unit = CLIP_RES[base.dtype]
        clip, clip_lo = clip_table(t.margins, per_unit, scale)
        clipq = final_table(t.margins, per_unit, scale, base.dtype)
        first, last, skip = spans if spans is not None else row_spans(a, b)
        pk, shift = _packed(tabs, per_unit, clip_lo, clip.shape[0])
        a32, b32 = np.ascontiguousarray(a, np.float32), np.ascontiguousarray(b, np.float32)
        seg, det32, sc, clar = segstart_of(w, a.shape[1]), det.astype(np.float32), np.float32(scale), np.float32(t.clarity)
        over_rows(lambda ya, yb: _kernel(base, out, guide, tabs, pk, shift, clip, clipq, clip_lo, per_unit, a32, b32,
                                         first, last, skip, int(y0), ya, yb, int(x0), int(x1), ry0, ry1, rfy, cfx,
                                         seg, sc, det32, clar), int(y0), int(y1))
        return
    _apply_numpy(base, out, guide, t, a, b, bbox, det, scale, (ry0, ry1, rfy, cx0, cx1, cfx))


def _apply_numpy(base, out, guide, t, a, b, bbox, det, scale, coords) -> None:
    y0, y1, x0, x1 = bbox
    ry0, ry1, rfy, cx0, cx1, cfx = coords

    def up(g: np.ndarray) -> np.ndarray:
        fy = rfy[y0:y1, None]
        fx = cfx[None, x0:x1]
        top = g[ry0[y0:y1]][:, cx0[x0:x1]] * (1 - fx) + g[ry0[y0:y1]][:, cx1[x0:x1]] * fx
        bot = g[ry1[y0:y1]][:, cx0[x0:x1]] * (1 - fx) + g[ry1[y0:y1]][:, cx1[x0:x1]] * fx
        return top * (1 - fy) + bot * fy

    g = guide[y0:y1, x0:x1].astype(np.float32)
    y = (0.2126 * g[..., 0] + 0.7152 * g[..., 1] + 0.0722 * g[..., 2]) / scale
    wgt = up(a) * y + up(b)
    wgt = np.where(wgt < W_MIN, 0.0, np.where(wgt > 1 - W_MIN, 1.0, wgt)).astype(np.float32)
    src = base[y0:y1, x0:x1]
    n1 = t.lut.shape[1] - 1
    if t.clarity == 0.0:
        c = np.stack([t.lut[k][src[..., k]] for k in range(3)], axis=-1)
    else:
        v = np.clip(src / scale + t.clarity * det[..., None], 0.0, 1.0) * n1
        k = np.minimum(v.astype(np.int64), n1 - 1)
        f = (v - k).astype(np.float32)
        c = np.stack([t.lut[ch][k[..., ch]] * (1 - f[..., ch]) + t.lut[ch][k[..., ch] + 1] * f[..., ch]
                      for ch in range(3)], axis=-1)
    res = soft_clip(c @ t.matrix.T, *t.margins) * scale
    o = out[y0:y1, x0:x1].astype(np.float32)
    blended = np.floor(o + wgt[..., None] * (res - o) + 0.5)
    keep = wgt[..., None] > 0
    out[y0:y1, x0:x1] = np.where(keep, np.clip(blended, 0, scale), o).astype(out.dtype)
