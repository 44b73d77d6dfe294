"""A transform's tables, compiled (the solver's hot path).

:func:`pertouch.engine.operators.curve` in NumPy costs ~100 µs on a 257-point grid,
almost all of it call overhead, and the solver compiles a new transform for every
candidate strength it tries (hundreds per plan). :func:`transform_tables` does the
same arithmetic value by value, compiled with numba when it is installed, and goes on
to the whole :class:`~pertouch.engine.operators.PixelTransform` (LUT, colourfulness
matrix about the cast, the soft clip's range) in the same call; without numba it is
the NumPy route (:func:`_tables_numpy`).

>>> import numpy as np
>>> from pertouch.engine import operators as op
>>> p = op.Params(temperature=0.4, brightness=0.3, contrast=0.2, highlights=-0.3, shadows=0.2)
>>> lut, m, lo, hi = transform_tables(p, 9)
>>> bool(np.allclose(lut, op.curve(op._grid(9), p)[:9].T, rtol=0, atol=1e-6))
True
"""

from __future__ import annotations

import numpy as np

from pertouch.engine.kernels import HAVE_NUMBA

_LUMA64 = np.array([0.2126, 0.7152, 0.0722], np.float32).astype(np.float64)  # operators.LUMA

def _decode(v):
    a = abs(v)
    lin = a / 12.92 if a <= 0.04045 else ((a + 0.055) / 1.055) ** 2.4
    return lin if v > 0 else -lin if v < 0 else 0.0


def _encode(v):
    a = abs(v)
    enc = a * 12.92 if a <= 0.0031308 else 1.055 * a ** (1 / 2.4) - 0.055
    return enc if v > 0 else -enc if v < 0 else 0.0


def _smoothstep(e0, e1, x):
    t = min(max((x - e0) / (e1 - e0), 0.0), 1.0)
    return t * t * (3.0 - 2.0 * t)


def _curve_py(grid, lin_grid, gains, wb_exposure, brightness, contrast, pivot, highlights, shadows, out):
    g = 4.0 ** brightness
    k = 2.0 ** contrast
    for i in range(grid.shape[0]):
        for c in range(3):
            v = grid[i, c]
            if wb_exposure:
                lin = lin_grid[i, c] * gains[c]
                if g >= 1.0:
                    lin = g * lin / (1.0 + (g - 1.0) * max(lin, 0.0))
                else:
                    lin = lin * g
                v = _encode(lin)
            if contrast != 0.0:
                v = pivot + (v - pivot) * k
            if highlights != 0.0:
                v = v + 0.4 * highlights * _smoothstep(0.35, 1.0, v)
            if shadows != 0.0:
                v = v + 0.35 * shadows * (1.0 - _smoothstep(0.0, 0.6, v))
            out[i, c] = v


def _tables_py(grid, lin_grid, gains, wb_exposure, brightness, contrast, pivot, highlights, shadows,
               k_sat, use_cast, luma, lut, mat):
    """The transform of ``operators._compile`` into ``lut`` (3, n) float32 and ``mat``
    (3, 3) float64; returns the (lo, hi) extremes of its outputs (before the knees)."""
    n = lut.shape[1]
    v = np.empty(grid.shape)
    _curve_py(grid, lin_grid, gains, wb_exposure, brightness, contrast, pivot, highlights, shadows, v)
    for c in range(3):
        for i in range(n):
            lut[c, i] = v[i, c]
    cast = np.ones(3)
    if use_cast:
        lum = luma[0] * v[n, 0] + luma[1] * v[n, 1] + luma[2] * v[n, 2]
        if lum > 1e-6:
            for c in range(3):
                cast[c] = v[n, c] / lum
    for r in range(3):
        for c in range(3):
            mat[r, c] = (k_sat if r == c else 0.0) + (1.0 - k_sat) * (cast[r] * luma[c])
    lo = np.inf
    hi = -np.inf
    for r in range(3):
        s_lo = 0.0
        s_hi = 0.0
        for c in range(3):
            ta = mat[r, c] * np.float64(lut[c, 0])
            tb = mat[r, c] * np.float64(lut[c, n - 1])
            s_lo += min(ta, tb)
            s_hi += max(ta, tb)
        lo = min(lo, s_lo)
        hi = max(hi, s_hi)
    return lo, hi


def _decode_py(grid, out):
    for i in range(grid.shape[0]):
        for c in range(3):
            out[i, c] = _decode(grid[i, c])


if HAVE_NUMBA:
    import numba as _nb

    _decode = _nb.njit(cache=True, inline="always")(_decode)
    _encode = _nb.njit(cache=True, inline="always")(_encode)
    _smoothstep = _nb.njit(cache=True, inline="always")(_smoothstep)
    _curve_py = _nb.njit(cache=True, nogil=True)(_curve_py)  # called by _tables (and tests)
    _decode_all = _nb.njit(cache=True, nogil=True)(_decode_py)
    _tables = _nb.njit(cache=True, nogil=True)(_tables_py)
else:  # pragma: no cover - the NumPy curve is used instead
    _decode_all = _tables = None


def decoded(grid: np.ndarray) -> np.ndarray:
    """``grid`` sRGB-decoded (what the compiled curve takes, so a fixed grid is decoded once)."""
    out = np.empty(grid.shape, np.float64)
    if _decode_all is None:
        from pertouch.engine.operators import srgb_decode

        out[:] = srgb_decode(np.asarray(grid, np.float64))
    else:
        _decode_all(np.ascontiguousarray(grid, np.float64), out)
    return out


def transform_tables(p, n: int) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(lut (3, n) float32, matrix (3, 3) float64, lo, hi) of the transform for ``p``:
    the LUT sampled at x = i / (n − 1), the colourfulness matrix about the cast mid-grey
    gets, and the extremes of the transform's outputs (the soft clip's range, before
    :func:`~pertouch.engine.operators.knees`)."""
    from pertouch.engine import operators as op

    if _tables is None:
        return _tables_numpy(p, n)
    gains = op.temperature_gains(p.temperature) * op.tint_gains(p.tint)
    lut = np.empty((3, n), np.float32)
    mat = np.empty((3, 3), np.float64)
    lo, hi = _tables(op._grid(n), op._lin_grid(n), np.ascontiguousarray(gains, np.float64),
                     bool(p.brightness != 0.0 or np.any(gains != 1.0)), float(p.brightness), float(p.contrast),
                     float(p.pivot), float(p.highlights), float(p.shadows), 2.0 ** p.colorfulness,
                     bool(p.temperature != 0.0 or p.tint != 0.0), _LUMA64, lut, mat)
    return lut, mat, lo, hi


def _tables_numpy(p, n: int) -> tuple[np.ndarray, np.ndarray, float, float]:
    """:func:`transform_tables` in NumPy (the same arithmetic, array by array)."""
    from pertouch.engine import operators as op

    v = op.curve(op._grid(n), p)  # the LUT and the colour mid-grey gets (cast_vector), in one pass
    lut = v[:n].T.astype(np.float32)
    cast = np.ones(3)
    if p.temperature != 0.0 or p.tint != 0.0:
        lum = float(op.LUMA @ v[n])
        cast = v[n] / lum if lum > 1e-6 else np.ones(3)
    m = op.saturation_matrix(p.colorfulness, cast)
    # extremes of m @ (one LUT end per channel) over the 8 combinations, term by term
    lo_end, hi_end = lut[:, 0].astype(np.float64), lut[:, -1].astype(np.float64)
    terms_a, terms_b = m * lo_end[None, :], m * hi_end[None, :]
    lo = float((np.minimum(terms_a, terms_b).sum(axis=1)).min())
    hi = float((np.maximum(terms_a, terms_b).sum(axis=1)).max())
    return lut, m, lo, hi
