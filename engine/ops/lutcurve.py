"""A transform's tables, compiled (the solver's hot path).

:func:`pertouch.engine.ops.curves.curve` in NumPy costs ~100 µs on a 257-point grid,
almost all of it call overhead, and the solver compiles a new transform for every
candidate strength it tries (hundreds per plan). :func:`compiled_tables` does the
same arithmetic value by value, compiled with numba, and goes on to the whole
:class:`~pertouch.engine.ops.operators.PixelTransform` (LUT, colourfulness matrix about
the cast, the soft clip's range) in the same call. Without numba (``COMPILED`` false)
:func:`pertouch.engine.ops.curves.transform_tables` takes its NumPy route instead.
This module imports nothing of the engine but the numba switch and the colour maths:
:mod:`.curves` calls it, never the other way round.
"""

from __future__ import annotations

import numpy as np

from pertouch.engine.ops.colormath import srgb_decode
from pertouch.engine.ops.jit import HAVE_NUMBA

_LUMA64 = np.array([0.2126, 0.7152, 0.0722], np.float32).astype(np.float64)  # curves.LUMA

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

#: Whether :func:`compiled_tables` may be called (numba is installed).
COMPILED = _tables is not None


def decoded(grid: np.ndarray) -> np.ndarray:
    """``grid`` sRGB-decoded (what the compiled curve takes, so a fixed grid is decoded once)."""
    out = np.empty(grid.shape, np.float64)
    if _decode_all is None:
        out[:] = srgb_decode(np.asarray(grid, np.float64))
    else:
        _decode_all(np.ascontiguousarray(grid, np.float64), out)
    return out


def compiled_tables(p, grid: np.ndarray, lin_grid: np.ndarray,
                    gains: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(lut (3, n) float32, matrix (3, 3) float64, lo, hi) of the transform for the
    strengths ``p`` (an ``operators.Params``), compiled: ``grid`` is the LUT's sample points
    plus mid-grey ((n + 1, 3)), ``lin_grid`` the same decoded, ``gains`` the white-balance
    gains (temperature × tint). See :func:`pertouch.engine.ops.curves.transform_tables`."""
    n = grid.shape[0] - 1
    lut = np.empty((3, n), np.float32)
    mat = np.empty((3, 3), np.float64)
    lo, hi = _tables(grid, lin_grid, np.ascontiguousarray(gains, np.float64),
                     bool(p.brightness != 0.0 or np.any(gains != 1.0)), float(p.brightness), float(p.contrast),
                     float(p.pivot), float(p.highlights), float(p.shadows), 2.0 ** p.colorfulness,
                     bool(p.temperature != 0.0 or p.tint != 0.0), _LUMA64, lut, mat)
    return lut, mat, lo, hi
