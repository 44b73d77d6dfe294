"""The one label-sum pass over the 512×512 measuring image, and the label image of masks.

A label image gives every measuring pixel a label: ``0`` = measured by no label,
``i`` (1 … n − 1) = label ``i``. :func:`label_sums` adds up, per label and in ONE
compiled pass, what the attributes measured from sums need (:data:`COLUMNS`); the
attributes are finished from these sums in :mod:`pertouch.engine.measure.stats`
(``BY_LABEL``); with ``frame`` the unused row 0 holds the whole frame, from the same
pass. :func:`grouped` orders the pixels by label for the attributes that need each
label's pixel values (percentiles, means of a plane). :func:`partition_labels` makes
the label image of masks that do not overlap (a segmenter's partition): mask ``i`` →
label ``i + 1``.

Without numba there is no pass (:data:`HAVE_LABEL_PASS` is False) and callers measure
mask by mask.

>>> import numpy as np
>>> rgb = np.zeros((4, 4, 3), np.float32); rgb[:, 2:] = 90.0
>>> lab = np.zeros((4, 4), np.int32); lab[:, :2], lab[:, 2:] = 1, 2
>>> s = label_sums(rgb, lab, 3, pairs=True)
>>> s[:, COLUMNS.index("count")].tolist(), s[2, COLUMNS.index("r")].item(), s[1, COLUMNS.index("pairs")].item()
([0.0, 8.0, 8.0], 720.0, 10.0)
"""

from __future__ import annotations

import weakref

import numpy as np

from pertouch.engine.ops.jit import HAVE_NUMBA, compiled

#: Columns of :func:`label_sums`: pixel count, Σ R, G, B, Σ rg, rg², yb, yb² (rg = |R − G|,
#: yb = |(R + G)/2 − B|), Σ |Δ RGB|² over 4-neighbour pairs inside the label, and the pair count.
COLUMNS = ("count", "r", "g", "b", "rg", "rg2", "yb", "yb2", "grad2", "pairs")
HAVE_LABEL_PASS = HAVE_NUMBA


def label_sums(rgb: np.ndarray, label: np.ndarray, n: int, *, pairs: bool, frame: bool = False) -> np.ndarray:
    """``(n, len(COLUMNS))`` float64 sums per label of the ``(H, W, 3)`` 0–255 image ``rgb``
    over the int32 ``label`` image. ``pairs``: whether to sum the 4-neighbour pairs
    (``grad2``/``pairs``) at all. Row 0 (label 0) stays zero, or with ``frame`` holds the
    whole frame: every pixel and every pair. Needs numba (:data:`HAVE_LABEL_PASS`)."""
    if not HAVE_LABEL_PASS:  # pragma: no cover - numba is a dependency
        raise RuntimeError("the label-sum pass needs numba: pip install numba (or measure mask by mask)")
    acc = np.zeros((n, len(COLUMNS)), np.float64)
    _label_sums(np.ascontiguousarray(rgb, np.float32), np.ascontiguousarray(label, np.int32), acc, pairs, frame)
    return acc


_LAST_LABELS: list = []  # [(weak refs to the masks, label image, shared flags)]


def partition_labels(masks: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``(label, shared)`` of same-shape bool ``masks``: ``shared[i]`` = 1 for every mask that
    shares a pixel with another one; ``label`` int32 = ``i + 1`` on exactly the pixels of each
    mask ``i`` that shares none, 0 on pixels of no mask or of two (a shared mask's label
    is incomplete: measure it on its own). Needs numba (:data:`HAVE_LABEL_PASS`).

    The result for the last mask objects is kept (a plan's masks are measured again by its
    report): do not edit masks in place between two calls.
    """
    if _LAST_LABELS:
        refs, label, shared = _LAST_LABELS[0]
        if len(refs) == len(masks) and all(r() is m for r, m in zip(refs, masks)):
            return label, shared
    label = np.zeros(masks[0].shape, np.int32)  # 0 = none or shared, i + 1 = masks[i]
    shared = np.zeros(len(masks), np.uint8)
    _labels(np.stack(masks), label, shared)
    try:
        _LAST_LABELS[:] = [([weakref.ref(m) for m in masks], label, shared)]
    except TypeError:  # not weak-referenceable: do not remember
        _LAST_LABELS.clear()
    return label, shared


def grouped(label: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(order, offsets)``: the flat pixel indices sorted by label, raster order kept inside
    a label, so that ``plane.ravel()[order][offsets[i]:offsets[i + 1]]`` equals
    ``plane[label == i]`` (label ``i``'s pixels, in the order a boolean mask picks them)."""
    flat = np.ascontiguousarray(label, np.int32).ravel()
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(flat, minlength=n), out=offsets[1:])
    if not HAVE_LABEL_PASS:  # pragma: no cover - numba is a dependency
        return np.argsort(flat, kind="stable"), offsets
    order = np.empty(flat.size, np.int64)
    _group(flat, offsets, order)
    return order, offsets


def _group_py(flat, offsets, order):
    """Counting sort: order[offsets[l] + k] = the k-th pixel of label l."""
    fill = offsets[:-1].copy()
    for p in range(flat.size):
        lab = flat[p]
        order[fill[lab]] = p
        fill[lab] += 1


def _labels_py(stack, label, shared):
    """label = i + 1 on the pixels of mask i (0 where none, or two, cover a pixel);
    shared[i] = 1 for every mask that shares a pixel with another one (its label is then
    incomplete). Mask by mask, each a contiguous pass."""
    n, h, w = stack.shape
    covers = np.zeros((h, w), np.uint8)
    for i in range(n):
        for y in range(h):
            for x in range(w):
                if stack[i, y, x]:
                    if covers[y, x]:
                        shared[i] = 1
                        if label[y, x] > 0:
                            shared[label[y, x] - 1] = 1
                            label[y, x] = 0
                    else:
                        label[y, x] = i + 1
                    covers[y, x] = 1


def _label_sums_py(rgb, label, acc, pairs, frame):
    """acc[l] += (1, R, G, B, rg, rg², yb, yb², Σ|Δ|² over same-label 4-neighbour pairs, pairs);
    with ``frame``, acc[0] += the same over every pixel and every pair.

    Sums run along each row's runs of one label (and, for the frame, along the row) in
    registers and are added to ``acc`` when the label changes (a partition's labels come
    in long runs). ``pairs``: whether to sum the contrast pairs at all.
    """
    h, w = label.shape
    loc = np.zeros(10)
    row = np.zeros(10)
    for i in range(h):
        cur = 0
        for j in range(w + 1):
            lab = label[i, j] if j < w else -1
            if lab != cur:
                if cur > 0:
                    for k in range(10):
                        acc[cur, k] += loc[k]
                        loc[k] = 0.0
                cur = lab
            if lab < 0 or (lab == 0 and not frame):
                continue
            r = np.float64(rgb[i, j, 0])
            g = np.float64(rgb[i, j, 1])
            b = np.float64(rgb[i, j, 2])
            rg = abs(r - g)
            yb = abs(0.5 * (r + g) - b)
            v = (1.0, r, g, b, rg, rg * rg, yb, yb * yb)
            if lab > 0:
                for k in range(8):
                    loc[k] += v[k]
            if frame:
                for k in range(8):
                    row[k] += v[k]
            if not pairs:
                continue
            for di, dj in ((0, 1), (1, 0)):
                ii, jj = i + di, j + dj
                if ii >= h or jj >= w:
                    continue
                same = lab > 0 and label[ii, jj] == lab
                if not (same or frame):
                    continue
                d = 0.0
                for c in range(3):
                    d += np.float64(np.float32(rgb[ii, jj, c] - rgb[i, j, c]) ** 2)
                if same:
                    loc[8] += d
                    loc[9] += 1.0
                if frame:
                    row[8] += d
                    row[9] += 1.0
        if frame:
            for k in range(10):
                acc[0, k] += row[k]
                row[k] = 0.0


#: Compiled with numba; without it the plain functions exist but callers measure mask by mask
#: (:data:`HAVE_LABEL_PASS`), a Python loop over 262 144 pixels being far too slow.
_label_sums = compiled(_label_sums_py, cache=True, nogil=True)
_labels = compiled(_labels_py, cache=True, nogil=True)
_group = compiled(_group_py, cache=True, nogil=True)
