"""The fused kernel's row spans: where on each grid row a region's weight may be > 0.

:func:`row_spans` gives, per row of a region's coefficient grid, the first and last
column where a or b ≠ 0, and the runs of fully-inside cells (a = 0, b = 1 at all four
corners) that :mod:`.kernels` walks with no weight arithmetic. Made once per region
while planning (on a worker thread) and shared by resized copies of its weights.
"""

from __future__ import annotations

import numpy as np

from pertouch.engine.ops.jit import HAVE_NUMBA


def _inside_runs_py(a, b, first, last, skip):
    """skip[r, g]: the first cell ≥ g (between grid rows r, r + 1) that is not inside,
    i.e. has a corner with a ≠ 0 or b ≠ 1 (g itself when it is not); filled only over
    the cells the kernel visits for that row pair."""
    gh, gw = a.shape
    for r in range(gh):
        r1 = min(r + 1, gh - 1)
        g0 = min(first[r], first[r1])
        g1 = max(last[r], last[r1])
        if g0 > g1:
            continue
        hi = min(g1 + 1, gw - 1)
        nxt = hi + 1
        # column g is "in" when a = 0, b = 1 on both rows; cell g is inside when columns g
        # and g + 1 (the last column pairs with itself) are both in
        right = (a[r, hi + 1] == 0 and a[r1, hi + 1] == 0 and b[r, hi + 1] == 1 and b[r1, hi + 1] == 1) \
            if hi + 1 < gw else (a[r, hi] == 0 and a[r1, hi] == 0 and b[r, hi] == 1 and b[r1, hi] == 1)
        for g in range(hi, max(g0 - 1, 0) - 1, -1):
            here = a[r, g] == 0 and a[r1, g] == 0 and b[r, g] == 1 and b[r1, g] == 1
            if here and right:
                skip[r, g] = nxt
            else:
                skip[r, g] = g
                nxt = g
            right = here


def _row_ends_py(a, b, r0, r1, c0, c1, first, last):
    """first[r], last[r]: the first and last column of row r where a or b ≠ 0 (gw, −1 if
    none), looking only at rows r0..r1 and columns c0..c1 (zero outside them)."""
    gh, gw = a.shape
    for r in range(gh):
        first[r] = gw
        last[r] = -1
        if r < r0 or r > r1:
            continue
        for g in range(c0, c1 + 1):
            if a[r, g] != 0 or b[r, g] != 0:
                first[r] = g
                break
        if first[r] < gw:
            for g in range(c1, first[r] - 1, -1):
                if a[r, g] != 0 or b[r, g] != 0:
                    last[r] = g
                    break


if HAVE_NUMBA:
    import numba as _nb

    _inside_runs = _nb.njit(cache=True, nogil=True)(_inside_runs_py)
    _row_ends = _nb.njit(cache=True, nogil=True)(_row_ends_py)
else:  # pragma: no cover - no numba: NumPy bounds, no inside runs
    _inside_runs = _row_ends = None


def row_spans(a: np.ndarray, b: np.ndarray,
              extent: tuple[int, int, int, int] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(first, last, skip): per grid row, the first and last column where a or b ≠ 0 (gw,
    −1 if none), and the kernel's inside runs (:func:`_inside_runs_py`; None without numba).
    ``extent``: (row0, row1, col0, col1), inclusive, outside which a and b are known to be 0."""
    gh, gw = a.shape
    first = np.empty(gh, np.int64)
    last = np.empty(gh, np.int64)
    if _inside_runs is None:
        nz = (a != 0) | (b != 0)
        anyr = nz.any(axis=1)
        first[:] = np.where(anyr, nz.argmax(axis=1), gw)
        last[:] = np.where(anyr, gw - 1 - nz[:, ::-1].argmax(axis=1), -1)
        return first, last, None
    a32, b32 = np.ascontiguousarray(a, np.float32), np.ascontiguousarray(b, np.float32)
    e = extent if extent is not None else (0, gh - 1, 0, gw - 1)
    _row_ends(a32, b32, e[0], e[1], e[2], e[3], first, last)
    skip = np.zeros(a.shape, np.int32)
    _inside_runs(a32, b32, first, last, skip)
    return first, last, skip
