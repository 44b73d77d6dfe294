"""The numba SLIC against scikit-image's (the reference it replaces)."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.tools.segmenters.slic import grid_seeds, slic_lab


def _skimage_lab(rgb: np.ndarray) -> np.ndarray:
    from skimage.color import rgb2lab

    x = rgb.astype(np.float64) / 255
    return rgb2lab((x - x.min()) / (x.max() - x.min())).astype(np.float32)


@pytest.mark.parametrize("name,side,n", [("astronaut", 120, 150), ("rocket", 160, 300), ("coffee", 96, 800)])
def test_same_superpixels_as_skimage(name, side, n):
    import cv2
    from skimage import data
    from skimage.segmentation import slic

    img = getattr(data, name)()
    s = side / max(img.shape[:2])
    rgb = cv2.resize(img, (round(img.shape[1] * s), round(img.shape[0] * s)), interpolation=cv2.INTER_AREA)
    ref = slic(rgb, n_segments=n, compactness=10, max_num_iter=3, start_label=0, enforce_connectivity=True)
    mine, count = slic_lab(_skimage_lab(rgb), n, compactness=10, max_iter=3)
    assert count == ref.max() + 1
    assert (mine == ref).mean() > 0.999


def test_seeds_follow_regular_grid():
    from skimage.util import regular_grid

    for h, w, n in [(256, 384, 800), (97, 51, 40), (300, 20, 50)]:
        seeds, _ = grid_seeds(h, w, n)
        sl = regular_grid((h, w), n)
        ys, xs = np.mgrid[0:h, 0:w]
        ref = np.stack([ys[sl].ravel(), xs[sl].ravel()], axis=1)
        assert np.array_equal(seeds, ref), (h, w, n)


def test_connected_and_deterministic():
    import cv2

    rng = np.random.default_rng(0)
    lab = cv2.GaussianBlur(rng.normal(50, 40, (60, 90, 3)).astype(np.float32), (0, 0), 3)
    a, n = slic_lab(lab, 60)
    b, _ = slic_lab(lab, 60)
    assert np.array_equal(a, b) and a.min() == 0 and a.max() == n - 1 and n >= 30
    noise, m = slic_lab(rng.normal(50, 40, (60, 90, 3)).astype(np.float32), 60)
    assert m == noise.max() + 1
    for i in range(n):
        assert cv2.connectedComponents((a == i).astype(np.uint8), connectivity=4)[0] == 2


def test_without_numba_the_plain_passes_give_the_same_superpixels(monkeypatch):
    """The one numba switch (:mod:`pertouch.engine.ops.jit`) off: the same passes, run as Python."""
    from skimage import data

    from pertouch.engine.ops import jit
    from pertouch.tools.segmenters import slic

    lab = _skimage_lab(data.astronaut()[::24, ::24])  # 22×22: plain Python stays fast
    fast = slic_lab(lab, n_segments=16)
    monkeypatch.setattr(jit, "HAVE_NUMBA", False)
    slic._compiled.cache_clear()
    try:
        assert slic._compiled("assign") is slic._assign_py
        plain = slic_lab(lab, n_segments=16)
    finally:
        slic._compiled.cache_clear()
    assert plain[1] == fast[1] and np.array_equal(plain[0], fast[0])
