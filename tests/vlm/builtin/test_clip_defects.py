"""Blown highlights are two clipped channels, not one saturated primary (builtin critic)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from pertouch.graph.vlm.builtin.critic import image_defects, second_channel


def _img(rgb_top, rgb_bottom=(90, 110, 70)):
    a = np.empty((64, 64, 3), np.uint8)
    a[:32], a[32:] = rgb_top, rgb_bottom
    return Image.fromarray(a)


def test_a_deep_blue_sky_is_not_blown_but_a_white_one_is():
    hazy = _img((210, 225, 240))
    blue = _img((150, 210, 255))      # only blue at the top: detail kept
    white = _img((252, 253, 255))     # every channel clipped
    assert second_channel(np.asarray(blue))[0, 0] == 210
    assert image_defects(hazy, blue) == ([], [])
    defects, advice = image_defects(hazy, white)
    assert defects and "blown out" in defects[0] and advice[0].attribute == "highlights"
