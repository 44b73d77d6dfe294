"""The artefact gate (engine/measure/artefacts.py) and the engine changes it holds to account.

Each measure is checked on a small synthetic edit that has the artefact and one that
does not (so every check can fail); then, on tuning photos, the engine's guessed-mask
blending and edge-aware clarity against what the engine did before (a mask taken as
meant, a Gaussian detail layer). ``rocket_sky_guess.png`` is the builtin segmenter's
sky mask of skimage's rocket, frozen (32 grey levels) so segmenter changes do not move
the test.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from pertouch.engine.measure.artefacts import THRESHOLDS, ArtefactReport, blame, measure_artefacts
from pertouch.engine.ops import operators as op
from pertouch.engine.ops.curves import LUMA
from pertouch.engine.parametric.engine import ParametricEngine
from pertouch.engine.schema.recipe import Recipe
from pertouch.engine.schema.regions import Region

GOLDEN = Path(__file__).parents[1] / "golden"


def _gradient(h: int = 340, w: int = 512) -> np.ndarray:
    """A smooth diagonal colour gradient (a sky), uint8 RGB, with a little grain (at the
    gate's own size, so no resampling softens it)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = (xx / w + yy / h) / 2
    img = np.stack([70 + 60 * t, 100 + 50 * t, 170 + 40 * t], -1)
    img += np.random.default_rng(0).normal(0, 1.0, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _shift(img: np.ndarray, weight: np.ndarray, rgb: tuple[float, float, float]) -> np.ndarray:
    out = img.astype(np.float32) + weight[..., None] * np.float32(rgb)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def test_an_untouched_photo_has_no_artefacts():
    img = _gradient()
    rep = measure_artefacts(img, img)
    assert rep.failed == [] and rep.passed
    assert rep.blotches == 0.0 and rep.noise == pytest.approx(1.0) and rep.clipping == 0.0
    assert rep.describe() == "artefacts: none above threshold"
    assert rep.thresholds == THRESHOLDS


def test_a_hard_edged_colour_shift_across_a_smooth_sky_is_a_blotch_a_ramp_is_not():
    img = _gradient()
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


def test_newly_blown_pixels_count_as_clipping():
    img = _gradient()
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


def test_report_json_and_inputs():
    from pertouch.core.errors import InputError

    img = _gradient()
    rep = measure_artefacts(img, img, thresholds={"noise": 0.5})
    assert isinstance(rep, ArtefactReport) and rep.failed == ["noise"]  # a threshold can be tightened
    js = rep.to_json()
    assert set(js["values"]) == set(THRESHOLDS) and js["failed"] == ["noise"]
    with pytest.raises(InputError):
        measure_artefacts(img, img[:100])


# --- the engine: old behaviour vs new, on tuning photos ---------------------------------

def test_a_guessed_sky_mask_glows_less_around_the_rocket():
    """The segmenter's sky mask leaves a band of half-weights around the rocket. Taken as
    meant (confidence 1: the engine before), a much bluer sky leaves a paler glow there
    (blotches above the gate); guessed (the segmenter's 0.96), the band is re-fitted
    towards the rocket's edge: ≥ 10 % fewer blotches, the band's sky bluer — and the
    sky's level as reached. (On this mask the re-fit alone does not bring the render
    under the gate: 1.14 → 0.96 ΔE/px; the critique's softening does the rest.)"""
    from PIL import Image
    from skimage import data

    img = data.rocket()
    mask = np.asarray(Image.open(GOLDEN / "rocket_sky_guess.png"), np.float32) / 255
    rec = Recipe.model_validate({"regions": {"sky": {"attributes": {"temperature": {"by": -0.3}}}}})
    meant = ParametricEngine().render(img, rec, {"sky": Region("sky", mask, confidence=1.0)})
    guessed = ParametricEngine().render(img, rec, {"sky": Region("sky", mask, confidence=0.96)})
    old, new = measure_artefacts(img, meant.image), measure_artefacts(img, guessed.image)
    assert "blotches" in old.failed
    assert new.blotches < 0.9 * old.blotches
    # the band's sky-coloured pixels (sky-like colour, mask unsure) now get the sky's edit
    band = (mask > 0.2) & (mask < 0.8) & (img[..., 2].astype(int) - img[..., 0] > 15)
    assert band.sum() > 300
    blue = lambda out: (out[..., 2].astype(np.float32) - img[..., 2])[band].mean()  # noqa: E731
    inside = (meant.image[..., 2].astype(np.float32) - img[..., 2])[mask > 0.99].mean()
    assert blue(guessed.image) > blue(meant.image) + 0.01 * inside
    assert guessed.report[0].achieved == pytest.approx(meant.report[0].achieved, abs=0.02)  # same level reached


def test_clarity_raised_a_lot_rings_no_edge_and_reaches_its_level():
    """'a lot more clarity' on the flower: at the strength the engine solves, the old
    Gaussian detail layer draws a dark ring around the flower (halos fail the gate); the
    edge-aware, cored one does not, and the clarity level is reached."""
    from pertouch.evals.photos import load_photo

    img = load_photo("sklearn:flower.jpg")
    rec = Recipe.model_validate({"global": {"attributes": {"clarity": {"by": 0.5}}}})
    eng = ParametricEngine()
    res = eng.render(img, rec, {})
    strength = eng.plan(img, rec, {}).layers[0].params.clarity
    assert strength > 0 and abs(res.report[0].error) < 0.05
    x = img.astype(np.float32) / 255
    y = x @ LUMA
    gauss = y - cv2.GaussianBlur(y, (0, 0), op.clarity_sigma(*img.shape[:2]))
    old = (np.clip(x + strength * gauss[..., None], 0, 1) * 255 + 0.5).astype(np.uint8)
    assert "halos" in measure_artefacts(img, old).failed
    new = measure_artefacts(img, res.image)
    assert "halos" not in new.failed and new.halos < 0.75 * measure_artefacts(img, old).halos


def test_clarity_does_not_raise_grain_as_much_as_texture():
    """The noise floor: on the cat's blurred background, clarity at the same strength
    grows the grain less than a Gaussian detail layer does."""
    from skimage import data

    img = data.chelsea()
    x = img.astype(np.float32) / 255
    s = 1.5
    new = (np.clip(op.clarity(x, s), 0, 1) * 255 + 0.5).astype(np.uint8)
    y = x @ LUMA
    gauss = y - cv2.GaussianBlur(y, (0, 0), op.clarity_sigma(*img.shape[:2]))
    old = (np.clip(x + s * gauss[..., None], 0, 1) * 255 + 0.5).astype(np.uint8)
    assert measure_artefacts(img, new).noise < measure_artefacts(img, old).noise - 0.1
