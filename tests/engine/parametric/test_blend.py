"""Region weights: the compiled weight map equals the OpenCV route; the kernel's row spans."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pertouch.engine.parametric import blend
from pertouch.engine.parametric.fast.spans import row_spans


def _weights(seed: int = 0):
    rng = np.random.default_rng(seed)
    img = (rng.random((300, 400, 3)) * 255).astype(np.uint8)
    img = cv2.GaussianBlur(img, (0, 0), 3)
    m = (cv2.GaussianBlur((rng.random((75, 100)) > 0.6).astype(np.float32), (0, 0), 4) > 0.5).astype(np.float32)
    return img, blend.Weights.build(m, img)


@pytest.mark.skipif(blend._full is None, reason="numba not installed")
def test_compiled_full_map_matches_the_opencv_route(monkeypatch):
    img, w = _weights()
    got = w.full(img)
    monkeypatch.setattr(blend, "_full", None)
    ref = w.full(img)
    assert got.dtype == np.float32 and got.shape == img.shape[:2]
    assert np.abs(got - ref).max() < 1e-5
    small = cv2.resize(img, (200, 150), interpolation=cv2.INTER_AREA)
    assert np.abs(w.resized((150, 200)).full(small) - ref[::2, ::2]).mean() < 0.05  # a resized copy


def test_row_spans_bound_the_nonzero_coefficients():
    _, w = _weights(1)
    first, last, _ = w.spans
    nz = (w.a != 0) | (w.b != 0)
    for r in range(nz.shape[0]):
        cols = np.flatnonzero(nz[r])
        assert (first[r], last[r]) == ((cols[0], cols[-1]) if cols.size else (nz.shape[1], -1))
    f2, l2, _ = row_spans(w.a, w.b)  # without the extent: the same
    assert np.array_equal(first, f2) and np.array_equal(last, l2)


@pytest.mark.skipif(blend._luma is None, reason="numba not installed")
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_compiled_luma_equals_the_numpy_expression(dtype, monkeypatch):
    top = {np.uint8: 255, np.uint16: 65535, np.float32: 1}[dtype]
    img = (np.random.default_rng(2).random((37, 53, 3)) * top).astype(dtype)
    got = blend.luma_unit(img)
    monkeypatch.setattr(blend, "_luma", None)
    want = blend.luma_unit(img)
    assert got.dtype == want.dtype == np.float32
    assert np.array_equal(got, want)  # bit for bit: the weights must not move
    assert 0.0 <= got.min() and got.max() <= 1.0


@pytest.mark.parametrize("mask_shape", [(75, 100), (300, 400)])  # radius 2 and 1 on a 384-px grid
def test_shared_guide_statistics_give_the_same_weights(mask_shape):
    """The guide's box mean and variance are made once per grid and cropped per region:
    the coefficients are bit-identical to a region's own (crop-local) ones, at the
    photo's borders too."""
    rng = np.random.default_rng(3)
    img = cv2.GaussianBlur((rng.random((300, 400, 3)) * 255).astype(np.uint8), (0, 0), 2)
    for seed in range(4):
        r = np.random.default_rng(seed)
        m = np.zeros(mask_shape, np.float32)
        y, x = int(r.integers(0, mask_shape[0] // 2)), int(r.integers(0, mask_shape[1] // 2))
        m[y:y + mask_shape[0] // 2, x:] = 1.0  # reaches the right border
        m = cv2.GaussianBlur(m, (0, 0), 2)
        own = blend.Weights.build(m, img, blend.guide_for(m.shape, img, {}))
        shared = blend.weights_for(m, img, {})
        assert np.array_equal(own.a, shared.a) and np.array_equal(own.b, shared.b)
        assert own.bbox == shared.bbox and own.extent == shared.extent
    empty = blend.weights_for(np.zeros(mask_shape, np.float32), img, {})
    assert empty.extent is None and not empty.a.any() and not empty.b.any()
