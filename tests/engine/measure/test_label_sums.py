"""The one label-sum pass (engine/measure/labels.py) against plain NumPy sums."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.engine.measure import labels as lb

pytestmark = pytest.mark.skipif(not lb.HAVE_LABEL_PASS, reason="the label pass needs numba")


@pytest.fixture(scope="module")
def image():
    rng = np.random.default_rng(11)
    rgb = (rng.random((40, 56, 3)) * 255).astype(np.float32)
    label = np.zeros((40, 56), np.int32)
    label[:, :20], label[:25, 20:], label[25:, 20:40] = 1, 2, 3  # the rest (label 0) unmeasured
    return rgb, label


def _numpy_sums(rgb, inside):
    """The columns of :data:`labels.COLUMNS` of one bool region, written with NumPy."""
    px = rgb[inside].astype(np.float64)
    rg = np.abs(px[:, 0] - px[:, 1])
    yb = np.abs(0.5 * (px[:, 0] + px[:, 1]) - px[:, 2])
    h = inside[:, 1:] & inside[:, :-1]
    v = inside[1:] & inside[:-1]
    dh = ((rgb[:, 1:] - rgb[:, :-1]) ** 2).astype(np.float64).sum(axis=2)  # squares in float32, summed in float64
    dv = ((rgb[1:] - rgb[:-1]) ** 2).astype(np.float64).sum(axis=2)
    return [len(px), *px.sum(axis=0), rg.sum(), (rg * rg).sum(), yb.sum(), (yb * yb).sum(),
            dh[h].sum() + dv[v].sum(), h.sum() + v.sum()]


def test_sums_per_label_and_the_frame(image):
    rgb, label = image
    acc = lb.label_sums(rgb, label, 5, pairs=True)
    assert acc.shape == (5, len(lb.COLUMNS))
    assert not acc[0].any() and not acc[4].any()           # label 0: unmeasured; label 4: no pixel
    for i in (1, 2, 3):
        np.testing.assert_allclose(acc[i], _numpy_sums(rgb, label == i), rtol=1e-12)
    framed = lb.label_sums(rgb, label, 5, pairs=True, frame=True)
    np.testing.assert_array_equal(framed[1:], acc[1:])      # the frame row changes no label's sums
    np.testing.assert_allclose(framed[0], _numpy_sums(rgb, np.ones(label.shape, bool)), rtol=1e-12)
    ones = lb.label_sums(rgb, np.ones(label.shape, np.int32), 2, pairs=True)
    np.testing.assert_array_equal(framed[0], ones[1])      # the frame is summed as one label would be


def test_without_pairs_the_pair_columns_stay_zero(image):
    rgb, label = image
    acc = lb.label_sums(rgb, label, 4, pairs=False, frame=True)
    assert not acc[:, lb.COLUMNS.index("grad2"):].any()
    np.testing.assert_array_equal(acc[:, :8], lb.label_sums(rgb, label, 4, pairs=True, frame=True)[:, :8])


def test_grouped_pixels_come_as_a_boolean_mask_picks_them(image):
    _, label = image
    plane = np.arange(label.size, dtype=np.float64).reshape(label.shape) * 0.5
    order, off = lb.grouped(label, 5)
    y = plane.ravel()[order]
    for i in range(5):
        np.testing.assert_array_equal(y[off[i]:off[i + 1]], plane[label == i])
    assert off[-1] == label.size


def test_partition_labels_marks_shared_masks():
    yy, xx = np.mgrid[0:30, 0:30]
    a, b = xx < 10, (xx >= 10) & (yy < 15)
    c = (xx >= 20) & (yy >= 10)  # overlaps b on rows 10–14
    label, shared = lb.partition_labels([a, b, c, np.zeros((30, 30), bool)])
    assert shared.tolist() == [0, 1, 1, 0]
    assert (label[a] == 1).all() and (label[~a] != 1).all()   # a mask that shares nothing: exactly its pixels
    assert (label[b & c] == 0).all()                          # shared pixels belong to no label
    again, _ = lb.partition_labels([a, b, c, np.zeros((30, 30), bool)])  # new objects: built again
    np.testing.assert_array_equal(again, label)
