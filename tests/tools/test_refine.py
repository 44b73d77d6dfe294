"""The fused guided upsampling against the plain OpenCV chain it replaces."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pertouch.tools.refine import luminance, refine_masks, upsample_masks


@pytest.mark.parametrize("proxy,full", [((24, 36), (240, 361)), ((5, 7), (13, 19)), ((30, 30), (30, 30))])
def test_matches_reference_chain(proxy, full):
    rng = np.random.default_rng(1)
    rgb = cv2.GaussianBlur(rng.integers(0, 256, (*full, 3), dtype=np.uint8), (5, 5), 0)
    rgb[:, full[1] // 2:] //= 3  # an edge for the guide to follow
    masks = [(rng.random(proxy) > 0.5).astype(np.float32), np.zeros(proxy, np.float32)]
    masks[1][:, proxy[1] // 2:] = 1
    ref = upsample_masks(masks, luminance(rgb), radius=2)
    new = refine_masks(masks, rgb, radius=2)
    for r, n in zip(ref, new):
        assert n.shape == full and n.dtype == np.float32
        assert np.abs(r - n).max() < 1e-5


def test_reduced_size_follows_the_photo():
    """Masks at a size between proxy and photo: the guide is the photo's grey averaged down."""
    rgb = np.zeros((600, 900, 3), np.uint8)
    rgb[:, 451:] = 200
    m = np.zeros((40, 60), np.float32)
    m[:, :30] = 1
    out = refine_masks([m], rgb, size=(450, 300), radius=2)[0]
    ref = upsample_masks([m], luminance(cv2.resize(rgb, (450, 300), interpolation=cv2.INTER_AREA)), radius=2)[0]
    assert out.shape == (300, 450)
    assert np.abs(out - ref).max() < 0.01
    assert out[:, :220].min() > 0.9 and out[:, 230:].max() < 0.1


def test_without_numba_the_plain_pass_gives_the_same_masks(monkeypatch):
    """The one numba switch (:mod:`pertouch.engine.ops.jit`) off: the same upsampling, run as Python."""
    from skimage import data

    from pertouch.engine.ops import jit
    from pertouch.tools import refine

    rgb = data.astronaut()[::8, ::8]  # 64×64: plain Python stays fast
    mask = np.zeros((16, 16), np.float32)
    mask[4:12, 5:11] = 1
    fast = refine_masks([mask], rgb, radius=2)[0]
    monkeypatch.setattr(jit, "HAVE_NUMBA", False)
    refine._vertical.cache_clear()
    try:
        assert refine._vertical() is refine._vertical_py
        plain = refine_masks([mask], rgb, radius=2)[0]
    finally:
        refine._vertical.cache_clear()
    assert np.array_equal(plain, fast)
