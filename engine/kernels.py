"""The fast engine's per-pixel pass: one region's whole edit, blended, in one sweep.

:func:`apply_layer` reads a bbox of ``base`` (uint8 or uint16), applies the region's
:class:`~pertouch.engine.operators.PixelTransform` (per-channel LUT → 3×3 matrix →
soft clip; with clarity, an interpolated LUT on ``x + s·detail``), computes the
region's weight from low-resolution guided-filter coefficients ``w = a·Y + b``
(bilinear, cv2's half-pixel convention; ``Y`` the guide's luma) and blends the
result into ``out`` in place. Pixels whose weight is below 1/512 are not touched, so
they stay bit-identical. Compiled with numba when it is installed (parallel over
rows); otherwise a NumPy/OpenCV version does the same on the bbox crop.
"""

from __future__ import annotations

import numpy as np

from pertouch.engine.operators import PixelTransform, soft_clip

W_MIN = 1.0 / 512.0

try:  # pragma: no cover - exercised whichever way the environment is
    import numba as _nb

    HAVE_NUMBA = True
except Exception:  # noqa: BLE001 - any import failure means: use the fallback
    HAVE_NUMBA = False


def _coords(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """cv2 INTER_LINEAR source indices and weights for an axis (half-pixel centres)."""
    src = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
    src = np.clip(src, 0.0, n_in - 1)
    i0 = np.floor(src).astype(np.int64)
    i1 = np.minimum(i0 + 1, n_in - 1)
    return i0, i1, (src - i0).astype(np.float32)


def _kernel_py(base, out, guide, lut, mat, m_lo, m_hi, a, b, y0, y1, x0, x1,
               ry0, ry1, rfy, cx0, cx1, cfx, scale, detail, clar):
    n1 = lut.shape[1] - 1
    for i in _prange(y0, y1):
        gi0 = ry0[i]
        gi1 = ry1[i]
        fy = rfy[i]
        for j in range(x0, x1):
            gj0 = cx0[j]
            gj1 = cx1[j]
            fx = cfx[j]
            at = a[gi0, gj0] * (1 - fx) + a[gi0, gj1] * fx
            ab = a[gi1, gj0] * (1 - fx) + a[gi1, gj1] * fx
            bt = b[gi0, gj0] * (1 - fx) + b[gi0, gj1] * fx
            bb = b[gi1, gj0] * (1 - fx) + b[gi1, gj1] * fx
            y = (0.2126 * guide[i, j, 0] + 0.7152 * guide[i, j, 1] + 0.0722 * guide[i, j, 2]) / scale
            w = (at * (1 - fy) + ab * fy) * y + (bt * (1 - fy) + bb * fy)
            if w < 1.0 / 512.0:
                continue
            if w > 1.0 - 1.0 / 512.0:
                w = 1.0
            c0 = 0.0
            c1 = 0.0
            c2 = 0.0
            if clar == 0.0:
                c0 = lut[0, base[i, j, 0]]
                c1 = lut[1, base[i, j, 1]]
                c2 = lut[2, base[i, j, 2]]
            else:
                d = clar * detail[i - y0, j - x0]
                for c in range(3):
                    v = base[i, j, c] / scale + d
                    v = min(max(v, 0.0), 1.0) * n1
                    k = min(int(v), n1 - 1)
                    f = v - k
                    val = lut[c, k] * (1 - f) + lut[c, k + 1] * f
                    if c == 0:
                        c0 = val
                    elif c == 1:
                        c1 = val
                    else:
                        c2 = val
            for c in range(3):
                t = mat[c, 0] * c0 + mat[c, 1] * c1 + mat[c, 2] * c2
                if m_hi > 0.0 and t > 1.0 - m_hi:
                    t = 1.0 - m_hi + m_hi * np.tanh((t - 1.0 + m_hi) / m_hi)
                if m_lo > 0.0 and t < m_lo:
                    t = m_lo * (1.0 + np.tanh((t - m_lo) / m_lo))
                t = min(max(t, 0.0), 1.0) * scale
                o = float(out[i, j, c])
                v = o + w * (t - o) + 0.5
                out[i, j, c] = min(max(int(v), 0), int(scale))


if HAVE_NUMBA:
    _prange = _nb.prange
    _kernel = _nb.njit(parallel=True, cache=True, nogil=True)(_kernel_py)
else:
    _prange = range
    _kernel = None


def apply_layer(base: np.ndarray, out: np.ndarray, guide: np.ndarray, t: PixelTransform,
                a: np.ndarray, b: np.ndarray, bbox: tuple[int, int, int, int],
                detail: np.ndarray | None = None) -> None:
    """Blend ``t(base)`` into ``out`` (in place) with weights ``clip(a·Y + b)`` over ``bbox``.

    ``base``/``out``/``guide``: ``(H, W, 3)`` uint8 or uint16 (same dtype); ``a``, ``b``:
    ``(gh, gw)`` float32 guided-filter coefficients; ``bbox`` = (y0, y1, x0, x1) full-res;
    ``detail``: ``(y1−y0, x1−x0)`` float32 luma detail on [0, 1] scale when t.clarity ≠ 0.
    """
    h, w = base.shape[:2]
    y0, y1, x0, x1 = bbox
    if y1 <= y0 or x1 <= x0:
        return
    scale = 255.0 if base.dtype == np.uint8 else 65535.0
    ry0, ry1, rfy = _coords(h, a.shape[0])
    cx0, cx1, cfx = _coords(w, a.shape[1])
    det = detail if (detail is not None and t.clarity != 0.0) else np.zeros((1, 1), np.float32)
    if _kernel is not None:
        _kernel(base, out, guide, t.lut, t.matrix, t.margins[0], t.margins[1],
                a.astype(np.float32), b.astype(np.float32), y0, y1, x0, x1,
                ry0, ry1, rfy, cx0, cx1, cfx, scale, det.astype(np.float32), float(t.clarity))
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
