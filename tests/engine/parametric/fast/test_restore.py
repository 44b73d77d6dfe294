"""Held regions (engine/parametric/fast/restore.py): the input restored through the region's soft weight.

"Brighten everything except the sky": the planner holds the sky (``by 0`` or ``to`` its
measured level for the attributes the global edit moves). An edit of the sky's own on
top of the global one cannot bring back what the global brightening clipped (before
this module the held sky of the Summer Palace photo moved 0.27 in tint). On real photos
with real (guessed) sky masks: every level of the held region stays, the pixels where
its weight is 1 are the input's own, the border has no seam (artefact gate), and the
rest of the photo gets the global edit as before.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pertouch.engine.measure.artefacts import measure_artefacts
from pertouch.engine.measure.stats import measure_levels
from pertouch.engine.parametric import planning
from pertouch.engine.parametric.blend import weights_for
from pertouch.engine.parametric.engine import ParametricEngine
from pertouch.engine.parametric.fast import restore
from pertouch.engine.parametric.reference import ReferenceEngine
from pertouch.engine.schema.recipe import Recipe
from pertouch.engine.schema.regions import Region

GOLDEN = Path(__file__).parents[2] / "golden"
CORE = ("colorfulness", "contrast", "temperature", "brightness")


def _recipe(hold: dict) -> Recipe:
    return Recipe.model_validate({"global": {"attributes": {"brightness": {"by": 0.3}}},
                                  "regions": {"sky": {"attributes": hold}}})


@pytest.fixture(scope="module")
def rocket():
    from PIL import Image
    from skimage import data

    mask = np.asarray(Image.open(GOLDEN / "rocket_sky_guess.png"), np.float32) / 255
    return data.rocket(), Region("sky", mask, confidence=0.96)


def _levels(img, region):
    return measure_levels(img, {"sky": region})["sky"]


def _moved(img, out, region) -> float:
    a, b = _levels(img, region), _levels(out, region)
    return max(abs(b[k] - a[k]) for k in a)


@pytest.mark.parametrize("hold", [{a: {"by": 0.0} for a in CORE}, "to"])
def test_held_sky_keeps_its_pixels(rocket, hold):
    img, sky = rocket
    if hold == "to":  # the planner's form: "to" the measured level
        hold = {a: {"to": round(v, 4)} for a, v in _levels(img, sky).items() if a in CORE}
    res = ParametricEngine().render(img, _recipe(hold), {"sky": sky})
    assert _moved(img, res.image, sky) <= 0.03  # every attribute (the eval's tolerance), tint too
    w = weights_for(sky.mask, img, {}, feather=True).full(img)
    inside = w >= 1.0
    assert inside.mean() > 0.2 and np.array_equal(res.image[inside], img[inside])
    out_w = w == 0.0
    gain = res.image[out_w].astype(np.float32).mean() - img[out_w].astype(np.float32).mean()
    assert gain > 10                                       # the rest got brighter
    assert measure_artefacts(img, res.image).failed == []  # no seam along the border
    assert all(abs(a.error) <= 0.03 for a in res.report if a.region == "sky")


def test_an_edit_on_top_could_not_hold_it(rocket, monkeypatch):
    """The old way (the held region solved as an edit over the global one) moves the sky:
    the case above can fail."""
    img, sky = rocket
    monkeypatch.setattr(planning, "HOLD_TOL", -1.0)
    res = ParametricEngine().render(img, _recipe({a: {"by": 0.0} for a in CORE}), {"sky": sky})
    assert _moved(img, res.image, sky) > 0.03


def test_partial_edit_is_not_a_hold(rocket):
    img, sky = rocket
    plan = ParametricEngine().plan(img, _recipe({"brightness": {"by": 0.0}, "temperature": {"by": -0.2}}),
                                   {"sky": sky})
    layer = next(x for x in plan.layers if x.name == "sky")
    assert not layer.hold and not layer.params.is_identity


def test_hold_without_any_change_is_an_exact_copy(rocket):
    img, sky = rocket
    lv = _levels(img, sky)
    rec = Recipe.model_validate({"regions": {"sky": {"attributes": {"brightness": {"to": lv["brightness"]}}}}})
    assert np.array_equal(ParametricEngine().render(img, rec, {"sky": sky}).image, img)


def test_reference_agrees(rocket):
    import cv2

    img, sky = rocket
    img = cv2.resize(img, (320, 214), interpolation=cv2.INTER_AREA)
    rec, regions = _recipe({a: {"by": 0.0} for a in CORE}), {"sky": sky}
    fast = ParametricEngine().render(img, rec, regions).image
    ref = ReferenceEngine().render(img, rec, regions).image
    assert np.abs(fast.astype(np.int16) - ref).mean() < 1.0


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_compiled_and_numpy_routes_agree(rocket, monkeypatch, dtype):
    img, sky = rocket
    scale = 257 if dtype == np.uint16 else 1
    orig = img.astype(dtype) * scale
    edited = np.clip(orig.astype(np.float64) * 1.4 + 20 * scale, 0, 255 * scale).astype(dtype)
    w = weights_for(sky.mask, orig, {}, feather=True)
    fast = edited.copy()
    restore.restore_layer(orig, fast, w.a, w.b, w.bbox, w.spans)
    monkeypatch.setattr(restore, "_restore", None)
    slow = edited.copy()
    restore.restore_layer(orig, slow, w.a, w.b, w.bbox, w.spans)
    assert np.abs(fast.astype(np.int64) - slow).max() <= 1 * scale
    full = w.full(orig)
    assert np.array_equal(fast[full >= 1], orig[full >= 1]) and np.array_equal(fast[full == 0], edited[full == 0])


# --- a region held next to another region's edit (issue 13: "darken the wall behind them") ----

def _wall_and_face():
    """A warm wall, a face of about the wall's luma inside a thin dark ring of hair, a guessed
    (soft, unsure) wall mask: the wall's weight re-fitted over the unsure band reaches across
    the hair into the face (the t1 photo's face moved 0.04 in colourfulness so)."""
    import cv2

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:240, :320]
    d = np.hypot(yy - 130, xx - 160)
    img = np.empty((240, 320, 3), np.uint8)
    img[:] = (205, 180, 150)
    img[d < 45] = (215, 180, 160)
    img[(d >= 45) & (d < 50)] = (150, 100, 60)
    img = np.clip(img.astype(int) + rng.normal(0, 2, img.shape), 0, 255).astype(np.uint8)
    person = (d < 50).astype(np.float32)
    regions = {"wall": Region("wall", cv2.GaussianBlur(1 - person, (0, 0), 4), label="wall", confidence=0.4),
               "person": Region("person", person, label="person", confidence=0.97)}
    return img, regions, d < 45


def test_a_held_region_next_to_a_region_edit_keeps_its_pixels():
    img, regions, face = _wall_and_face()
    wall = {"wall": {"attributes": {"brightness": {"by": -0.2}}}}
    held = {**wall, "person": {"attributes": {"brightness": {"by": 0.0}}}}
    eng = ParametricEngine()
    leak = eng.render(img, Recipe.model_validate({"regions": wall}), regions).image
    kept = eng.render(img, Recipe.model_validate({"regions": held}), regions).image
    assert np.abs(leak.astype(int) - img.astype(int))[face].max() >= 5  # the premise: the wall reaches the face
    assert np.array_equal(kept[face], img[face])
    darker = regions["wall"].mask > 0.99
    assert np.abs(kept[darker].astype(int) - leak[darker].astype(int)).max() <= 1  # the wall darkens as before
    assert not measure_artefacts(img, kept).failed


def test_by_zero_holds_only_after_an_edit_of_that_attribute():
    moved = Recipe.model_validate({"regions": {"wall": {"attributes": {"brightness": {"by": -0.2}}},
                                               "person": {"attributes": {"brightness": {"by": 0.0}}}}})
    assert [n for n, _ in planning.planned_entries(moved)] == ["wall", "person"]
    other = Recipe.model_validate({"regions": {"wall": {"attributes": {"temperature": {"by": -0.2}}},
                                               "person": {"attributes": {"brightness": {"by": 0.0}}}}})
    assert [n for n, _ in planning.planned_entries(other)] == ["wall"]  # nothing moves its brightness
    before = Recipe.model_validate({"regions": {"person": {"attributes": {"brightness": {"by": 0.0}}},
                                                "wall": {"attributes": {"brightness": {"by": -0.2}}}}})
    assert [n for n, _ in planning.planned_entries(before)] == ["wall"]  # a hold acts on what came before it
