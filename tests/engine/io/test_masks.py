"""Mask PNGs: white = inside, soft grey, alpha masks, resizing and size errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from pertouch.engine.io.masks import load_mask
from pertouch.core.errors import InputError


def _half(h: int, w: int) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    m[:, w // 2:] = 255
    return m


def test_grey_mask_maps_to_unit_range(tmp_path):
    m = np.array([[0, 128, 255]], np.uint8).repeat(2, 0)
    Image.fromarray(m).save(tmp_path / "m.png")
    got = load_mask(tmp_path / "m.png", (2, 3, 3))
    assert got.dtype == np.float32 and got.shape == (2, 3)
    np.testing.assert_allclose(got[0], [0.0, 128 / 255, 1.0], atol=1e-3)


def test_rgb_mask_uses_luminance(tmp_path):
    rgb = np.dstack([_half(4, 6)] * 3)
    Image.fromarray(rgb).save(tmp_path / "m.png")
    got = load_mask(tmp_path / "m.png", (4, 6))
    np.testing.assert_array_equal(got, _half(4, 6) / 255.0)


def test_rgba_painted_on_transparency_uses_alpha(tmp_path):
    rgba = np.zeros((4, 6, 4), np.uint8)
    rgba[..., 0] = 255  # red paint everywhere, visible only where alpha is set
    rgba[..., 3] = _half(4, 6)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "m.png")
    np.testing.assert_array_equal(load_mask(tmp_path / "m.png", (4, 6)), _half(4, 6) / 255.0)


def test_rgba_white_and_black_with_transparent_border(tmp_path):
    rgba = np.zeros((4, 6, 4), np.uint8)
    rgba[..., :3] = _half(4, 6)[..., None]
    rgba[..., 3] = 255
    rgba[:, -1, 3] = 0  # transparent column: outside even though white
    Image.fromarray(rgba, "RGBA").save(tmp_path / "m.png")
    got = load_mask(tmp_path / "m.png", (4, 6))
    assert got[0, 0] == 0 and got[0, 4] == 1 and got[0, 5] == 0


def test_same_aspect_is_resized(tmp_path):
    Image.fromarray(_half(30, 40)).save(tmp_path / "m.png")
    got = load_mask(tmp_path / "m.png", (300, 400))
    assert got.shape == (300, 400)
    assert got[:, :190].max() < 0.01 and got[:, 210:].min() > 0.99


def test_other_aspect_is_an_error(tmp_path):
    Image.fromarray(_half(480, 640)).save(tmp_path / "sky.png")
    with pytest.raises(InputError, match="mask sky.png is 640×480 but the photo is 4000×2000"):
        load_mask(tmp_path / "sky.png", (2000, 4000))


def test_missing_mask_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_mask(tmp_path / "nope.png", (4, 4))


def test_saved_mask_png_reads_back_as_16_bit_steps(tmp_path):
    """A computed mask written for a sidecar (16-bit grey PNG) loads back to its 16-bit
    steps, the values a 16-bit RGB copy of it gives."""
    import numpy as np

    from pertouch.engine.io.write import save_mask_png

    rng = np.random.default_rng(0)
    m = np.clip(rng.random((37, 53)).astype(np.float32) * 1.2 - 0.1, 0, 1)
    p = save_mask_png(tmp_path / "m.png", m)
    got = load_mask(p, m.shape)
    steps = (np.clip(m, 0, 1) * 65535 + 0.5).astype(np.uint16)
    assert got.shape == m.shape and np.abs(got - steps / 65535).max() < 1e-6
    assert [f.name for f in tmp_path.iterdir()] == ["m.png"]  # no temporary left behind
    from pertouch.engine.io.read import save_image

    rgb = save_image(tmp_path / "rgb.png", np.repeat(steps[..., None], 3, axis=2))
    assert np.array_equal(load_mask(rgb, m.shape), got)
