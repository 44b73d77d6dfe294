"""The sample pass: a transform applied to a region's sample taps, compiled.

Every solver evaluation (:class:`~pertouch.engine.parametric.sample.RegionSample`) runs
:func:`transform_taps`: per tap, the interpolated LUT → 3×3 matrix → soft clip →
blend with what other layers contribute → tap sum; and :func:`moments` turns the
measured values into the estimators' statistics in one loop. The soft clip is read
from a table made per transform (:data:`CLIP_N`) instead of a ``pow`` per value.
Compiled with numba when it is installed; the NumPy versions do the same arithmetic.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from pertouch.engine.measure.estimators import hasler_colorfulness as _hasler
from pertouch.engine.ops import operators as op
from pertouch.engine.ops.jit import HAVE_NUMBA

#: The soft clip is tabulated per transform at this many intervals over its input range
#: [lo_out, hi_out] and read with linear interpolation (error < 1e-5 of full scale on
#: typical margins): branch-free, and one ``pow`` per entry instead of per sample value.
CLIP_N = 512


def _soft_clip_exact(v, lo_out, hi_out):
    """:func:`operators.soft_clip` on one value (same formulas, same order)."""
    out = min(max(v, lo_out), hi_out)
    if hi_out > 1.0:
        m = min(0.25, hi_out - 1.0)
        k = 1.0 - m
        if out > k:
            t = min(max((hi_out - out) / (hi_out - k), 0.0), 1.0)
            out = 1.0 - m * t ** ((hi_out - k) / m)
    if lo_out < 0.0:
        m = min(0.25, -lo_out)
        if out < m:
            t = min(max((out - lo_out) / (m - lo_out), 0.0), 1.0)
            out = m * t ** ((m - lo_out) / m)
    return min(max(out, 0.0), 1.0)


def _clip_table_py(lo_out, hi_out, out):
    """out[q] = soft_clip(lo_out + q · (hi_out − lo_out) / (len(out) − 1))."""
    n = out.shape[0] - 1
    for q in range(n + 1):
        out[q] = _soft_clip_exact(lo_out + q * (hi_out - lo_out) / n, lo_out, hi_out)


def _soft_clip1(v, lo_out, hi_out, tab):
    """:func:`operators.soft_clip` on one value, read from its table ``tab`` (see CLIP_N)."""
    n = tab.shape[0] - 1
    f = min(max((v - lo_out) * (n / (hi_out - lo_out)), 0.0), float(n))
    q = min(int(f), n - 1)
    fr = f - q
    return tab[q] * (1.0 - fr) + tab[q + 1] * fr


def _edit_tap(v, r, t, lut, mat, n1, lo_out, hi_out, soft, clip_tab):
    """The per-pixel transform of tap ``v[r, t]``: interpolated LUT → 3×3 matrix → (soft) clip."""
    c0 = 0.0
    c1 = 0.0
    c2 = 0.0
    for k in range(3):
        f = min(max(v[r, t, k], 0.0), 1.0) * n1
        q = min(int(f), n1 - 1)
        fr = f - q
        x = lut[k, q] * (1 - fr) + lut[k, q + 1] * fr
        c0 += x * mat[0, k]
        c1 += x * mat[1, k]
        c2 += x * mat[2, k]
    if soft:
        return (_soft_clip1(c0, lo_out, hi_out, clip_tab), _soft_clip1(c1, lo_out, hi_out, clip_tab),
                _soft_clip1(c2, lo_out, hi_out, clip_tab))
    return min(max(c0, 0.0), 1.0), min(max(c1, 0.0), 1.0), min(max(c2, 0.0), 1.0)


def _eval_py(v, rest, bw, tw, lut, mat, lo_out, hi_out, soft, clip_tab, n_rows, out):
    """out[r] = 255 · Σ_t tw · (rest + bw · edit(v)) over the T taps of rows < n_rows."""
    n1 = lut.shape[1] - 1
    n_taps = v.shape[1]
    for r in range(n_rows):
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        for t in range(n_taps):
            c0, c1, c2 = _edit_tap(v, r, t, lut, mat, n1, lo_out, hi_out, soft, clip_tab)
            w = bw[r, t]
            s0 += tw[r, t] * (rest[r, t, 0] + w * c0)
            s1 += tw[r, t] * (rest[r, t, 1] + w * c1)
            s2 += tw[r, t] * (rest[r, t, 2] + w * c2)
        out[r, 0] = s0 * 255.0
        out[r, 1] = s1 * 255.0
        out[r, 2] = s2 * 255.0


def _edit_py(v, lut, mat, lo_out, hi_out, soft, clip_tab, out):
    """out = edit(v) per tap: ``(M, T, 3)`` → same (the blend-free part of :func:`_eval_py`)."""
    n1 = lut.shape[1] - 1
    for r in range(v.shape[0]):
        for t in range(v.shape[1]):
            c0, c1, c2 = _edit_tap(v, r, t, lut, mat, n1, lo_out, hi_out, soft, clip_tab)
            out[r, t, 0] = c0
            out[r, t, 1] = c1
            out[r, t, 2] = c2


def _moments_py(vals, n_px, n_pairs, out):
    """out = (mean R, G, B, colourfulness, mean squared pair difference) of measured rows.

    The same statistics as :func:`measure.colorfulness_px` and the contrast estimate
    (two-pass variances, as NumPy's), in one compiled loop instead of ~20 array calls.
    """
    m0 = 0.0
    m1 = 0.0
    m2 = 0.0
    mrg = 0.0
    myb = 0.0
    for r in range(n_px):
        m0 += vals[r, 0]
        m1 += vals[r, 1]
        m2 += vals[r, 2]
        mrg += abs(vals[r, 0] - vals[r, 1])
        myb += abs(0.5 * (vals[r, 0] + vals[r, 1]) - vals[r, 2])
    n = max(n_px, 1)
    m0 /= n
    m1 /= n
    m2 /= n
    mrg /= n
    myb /= n
    vrg = 0.0
    vyb = 0.0
    for r in range(n_px):
        d = abs(vals[r, 0] - vals[r, 1]) - mrg
        vrg += d * d
        d = abs(0.5 * (vals[r, 0] + vals[r, 1]) - vals[r, 2]) - myb
        vyb += d * d
    out[0] = m0
    out[1] = m1
    out[2] = m2
    out[3] = _hasler(vrg / n, vyb / n, mrg, myb)
    c = 0.0
    for k in range(n_pairs):
        a = n_px + k
        b = n_px + n_pairs + k
        for ch in range(3):
            d = vals[a, ch] - vals[b, ch]
            c += d * d
    out[4] = c / max(n_pairs, 1)


if HAVE_NUMBA:
    import numba as _nb

    _hasler = _nb.njit(cache=True, nogil=True, inline="always")(_hasler)
    moments = _nb.njit(cache=True, nogil=True)(_moments_py)

    _soft_clip_exact = _nb.njit(cache=True, nogil=True)(_soft_clip_exact)
    _clip_table = _nb.njit(cache=True, nogil=True)(_clip_table_py)
    _soft_clip1 = _nb.njit(cache=True, nogil=True, inline="always")(_soft_clip1)
    _edit_tap = _nb.njit(cache=True, nogil=True, inline="always")(_edit_tap)
    # serial: a call takes ~0.1 ms, ~230 per render; as OpenMP parallel regions they were
    # hand-offs that cost a time slice each when other processes share the cores (:mod:`.rows`)
    _eval = _nb.njit(cache=True, nogil=True)(_eval_py)
    _edit = _nb.njit(cache=True, nogil=True)(_edit_py)
else:  # pragma: no cover - the NumPy versions below are used instead
    _eval = _edit = moments = _clip_table = None


@dataclass(frozen=True)
class _Form:
    """A transform as the sample pass reads it: float64 LUT and matrix, soft clip's tables."""

    lut: np.ndarray
    matrix: np.ndarray
    lo: float
    hi: float
    soft: bool
    clip_tab: np.ndarray


_FORMS: dict[int, tuple] = {}


def _form(t: op.PixelTransform) -> _Form:
    """``t`` prepared for the sample pass (remembered per transform object: they are memoised)."""
    hit = _FORMS.get(id(t))
    if hit is not None and hit[0]() is t:
        return hit[1]
    lo, hi = float(t.margins[0]), float(t.margins[1])
    tab = np.empty(CLIP_N + 1, np.float64)
    if _clip_table is not None:
        _clip_table(lo, hi, tab)
    else:
        tab[:] = op.soft_clip(np.linspace(lo, hi, CLIP_N + 1), lo, hi)
    f = _Form(t.lut.astype(np.float64), t.matrix.astype(np.float64), lo, hi, (lo, hi) != (0.0, 1.0), tab)
    if len(_FORMS) > 2048:
        _FORMS.clear()
    _FORMS[id(t)] = (weakref.ref(t), f)
    return f


def soft_clip_tabulated(v: np.ndarray, f: _Form) -> np.ndarray:
    """:func:`operators.soft_clip` read from ``f``'s table, as the compiled pass does (NumPy)."""
    n = f.clip_tab.shape[0] - 1
    x = np.clip((v - f.lo) * (n / (f.hi - f.lo)), 0.0, float(n))
    q = np.minimum(x.astype(np.int64), n - 1)
    fr = x - q
    return f.clip_tab[q] * (1.0 - fr) + f.clip_tab[q + 1] * fr


def _edit_numpy(v: np.ndarray, f: _Form) -> np.ndarray:
    n = f.lut.shape[1]
    flat = f.lut.ravel()
    x = np.clip(v, 0.0, 1.0) * (n - 1)
    k = np.minimum(x.astype(np.int64), n - 2)
    fr = x - k
    k += np.arange(3) * n
    c = (flat[k] * (1 - fr) + flat[k + 1] * fr) @ f.matrix.T
    return soft_clip_tabulated(c, f) if f.soft else np.clip(c, 0.0, 1.0)


def edit_taps(v: np.ndarray, t: op.PixelTransform) -> np.ndarray:
    """``t(v)`` per tap, no blend: ``(M, T, 3)`` float64 on [0, 1] → same."""
    f = _form(t)
    if _edit is None:
        return _edit_numpy(v, f)
    out = np.empty(v.shape, np.float64)
    _edit(v, f.lut, f.matrix, f.lo, f.hi, f.soft, f.clip_tab, out)
    return out


def _eval_numpy(v, rest, bw, tw, t: op.PixelTransform, n_rows: int) -> np.ndarray:
    """The same pass in NumPy (float64)."""
    c = _edit_numpy(v[:n_rows], _form(t))
    return ((rest[:n_rows] + bw[:n_rows, :, None] * c) * tw[:n_rows, :, None]).sum(axis=1) * 255.0


def transform_taps(v: np.ndarray, rest: np.ndarray, bw: np.ndarray, tw: np.ndarray,
                   t: op.PixelTransform, n_rows: int) -> np.ndarray:
    """``(n_rows, 3)`` measured values (0–255) of ``Σ_t tw·(rest + bw·t(v))``.

    ``v``, ``rest``: ``(M, T, 3)`` float64 on [0, 1]; ``bw``, ``tw``: ``(M, T)`` float64.
    """
    if _eval is None:
        return _eval_numpy(v, rest, bw, tw, t, n_rows)
    f = _form(t)
    out = np.empty((n_rows, 3), np.float64)
    _eval(v, rest, bw, tw, f.lut, f.matrix, f.lo, f.hi, f.soft, f.clip_tab, n_rows, out)
    return out
