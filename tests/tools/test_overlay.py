"""Set-of-Mark and preview overlays."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.engine.schema.regions import Region
from pertouch.tools.overlay import colour_of, preview_overlay, som_overlay


def _masks(h=120, w=160):
    a = np.zeros((h, w), np.float32)
    a[:, :80] = 1
    return [a, 1 - a]


def test_som_overlay_tints_and_numbers_each_region():
    img = np.full((120, 160, 3), 128, np.uint8)
    out = som_overlay(img, _masks())
    assert out.shape == img.shape and out.dtype == np.uint8
    left, right = out[60, 20].astype(int), out[60, 140].astype(int)
    assert not np.array_equal(left, right)
    # each side is pulled towards its own palette colour
    for px, i in ((left, 0), (right, 1)):
        assert np.abs(px - np.array(colour_of(i))).sum() < np.abs(128 - np.array(colour_of(i))).sum()


def test_som_overlay_accepts_low_res_masks_and_limits_size():
    img = np.zeros((800, 1200, 3), np.uint8)
    out = som_overlay(img, _masks(40, 60), [7, 9], max_side=600)
    assert out.shape == (400, 600, 3)


def test_numbers_must_match_masks():
    with pytest.raises(ValueError):
        som_overlay(np.zeros((10, 10, 3), np.uint8), _masks(10, 10), [1])


def test_preview_overlay_on_grey_and_16_bit():
    regions = [Region("sky", m) for m in _masks()]
    out = preview_overlay(np.full((120, 160), 30000, np.uint16), regions)
    assert out.shape == (120, 160, 3) and out.dtype == np.uint8
