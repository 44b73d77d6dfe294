"""The artefact measures (engine/measure/artefact_measures.py), each through the gate: every
measure on a small synthetic edit that has the artefact and one that does not (so every
check can fail)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pertouch.engine.measure.artefacts import THRESHOLDS, blame, measure_artefacts
from pertouch.engine.ops.curves import LUMA


def _shift(img: np.ndarray, weight: np.ndarray, rgb: tuple[float, float, float]) -> np.ndarray:
    out = img.astype(np.float32) + weight[..., None] * np.float32(rgb)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def test_a_hard_edged_colour_shift_across_a_smooth_sky_is_a_blotch_a_ramp_is_not(gradient):
    img = gradient
    h, w = img.shape[:2]
    hard = np.zeros((h, w), np.float32)
    hard[:, w // 2:] = 1.0
    ramp = np.clip((np.arange(w, dtype=np.float32) - w / 4) / (w / 2), 0, 1)[None].repeat(h, 0)
    seam = measure_artefacts(img, _shift(img, hard, (25, -10, -25)))
    smooth = measure_artefacts(img, _shift(img, ramp, (25, -10, -25)))
    assert "blotches" in seam.failed and seam.blotches > 2 * THRESHOLDS["blotches"]
    assert "blotches" not in smooth.failed and smooth.blotches < 0.5 * THRESHOLDS["blotches"]
    assert "blotches" in seam.describe() and "ΔE/px" in seam.describe()
    # the seam lies on the border of the region whose mask ends there
    shares = blame(seam, {"right": hard, "top": np.pad(np.ones((h // 4, w), np.float32), ((0, h - h // 4), (0, 0)))})
    assert shares["right"] > 0.8 and shares["top"] < 0.2


def test_grain_amplified_in_a_flat_area_is_noise_a_brightness_change_is_not():
    rng = np.random.default_rng(1)
    flat = np.full((340, 512, 3), 120, np.float32) + rng.normal(0, 1.5, (340, 512, 1))
    before = np.clip(flat, 0, 255).astype(np.uint8)
    grain = before.astype(np.float32) - 120
    noisy = np.clip(120 + 2.5 * grain, 0, 255).astype(np.uint8)
    brighter = np.clip(before.astype(np.float32) + 20, 0, 255).astype(np.uint8)
    assert "noise" in measure_artefacts(before, noisy).failed
    rep = measure_artefacts(before, brighter)
    assert "noise" not in rep.failed and rep.noise < 1.15


def test_a_rim_along_a_strong_edge_is_a_halo_a_tone_curve_is_not():
    img = np.full((160, 240, 3), 60, np.uint8)
    img[:, 120:] = 190
    img = cv2.GaussianBlur(img, (0, 0), 1.0)
    x = img.astype(np.float32) / 255
    y = x @ LUMA
    sharpened = x + 2.5 * (y - cv2.GaussianBlur(y, (0, 0), 3.0))[..., None]  # unsharp mask: rims
    rim = (np.clip(sharpened, 0, 1) * 255 + 0.5).astype(np.uint8)
    curve = (np.clip(x ** 0.8, 0, 1) * 255 + 0.5).astype(np.uint8)
    assert "halos" in measure_artefacts(img, rim).failed
    assert measure_artefacts(img, curve).halos < 1.0


def test_a_steep_curve_on_a_smooth_gradient_bands_a_gentle_one_does_not():
    g = np.tile(np.linspace(60, 120, 600), (200, 1)).astype(np.uint8)[..., None].repeat(3, 2)
    steep = np.clip((g.astype(np.float32) - 90) * 3 + 90, 0, 255).astype(np.uint8)
    gentle = np.clip((g.astype(np.float32) - 90) * 1.3 + 90, 0, 255).astype(np.uint8)
    assert "banding" in measure_artefacts(g, steep).failed
    assert measure_artefacts(g, gentle).banding < THRESHOLDS["banding"]


def test_newly_blown_pixels_count_as_clipping(gradient):
    img = gradient
    blown = img.copy()
    blown[:40] = 255
    rep = measure_artefacts(img, blown)
    assert rep.clipping == pytest.approx(40 / img.shape[0], abs=0.01) and "clipping" in rep.failed
    assert measure_artefacts(blown, blown).clipping == 0.0  # clipped before: not new


def test_skin_turning_another_hue_on_its_own_fails_toned_with_the_photo_passes():
    rng = np.random.default_rng(2)
    img = np.empty((120, 160, 3), np.uint8)
    img[:] = (200, 150, 120)  # skin tone
    img[:, 80:] = (90, 140, 90)  # green backdrop
    img = np.clip(img + rng.normal(0, 1, img.shape), 0, 255).astype(np.uint8)
    skin = np.zeros(img.shape[:2], np.float32)
    skin[:, :80] = 1
    pink = img.copy()
    pink[:, :80] = (200, 140, 150)
    assert measure_artefacts(img, img).skin_hue is None or measure_artefacts(img, img, skin_mask=skin).skin_hue < 1
    assert "skin_hue" in measure_artefacts(img, pink, skin_mask=skin).failed
    lab = cv2.cvtColor(img.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)
    c, s = np.cos(np.radians(20)), np.sin(np.radians(20))
    lab[..., 1], lab[..., 2] = c * lab[..., 1] - s * lab[..., 2], s * lab[..., 1] + c * lab[..., 2]
    toned = (np.clip(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB), 0, 1) * 255 + 0.5).astype(np.uint8)  # every hue +20°
    rep = measure_artefacts(img, toned, skin_mask=skin)
    assert "skin_hue" not in rep.failed and rep.skin_hue < 3  # toned with everything: the look asked for
    assert measure_artefacts(img, pink).skin_hue is None  # no mask, not measured
