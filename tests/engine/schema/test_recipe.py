"""Recipe validation errors, migration from version 0, and the engine registry."""

from __future__ import annotations

import pytest

from pertouch.engine.engines import ENGINES, get_engine, register
from pertouch.engine.schema.recipe import parse_recipe
from pertouch.core.errors import ModelError, RecipeError


@pytest.mark.parametrize("attrs, words", [
    ({"sharpnes": {"by": 0.1}}, "unknown attribute"),
    ({"brightness": {"to": 1.5}}, "outside"),
    ({"brightness": {"by": -2.5}}, "outside"),
    ({"brightness": {"to": float("nan")}}, "finite"),
    ({"brightness": {"to": 0.1, "by": 0.1}}, "exactly one"),
    ({"brightness": {}}, "exactly one"),
    ({"exposure": {"by": 0.1}, "brightness": {"by": 0.2}}, "twice"),
])
def test_validation_errors(attrs, words):
    with pytest.raises(RecipeError, match=words) as exc:
        parse_recipe({"regions": {"sky": {"attributes": attrs}}}, "r.json")
    assert "\n" not in str(exc.value)


def test_synonyms_and_migration_from_v0():
    r = parse_recipe({"global": {"attributes": {"saturation": {"by": 0.2}, "warmth": {"to": 0.3}}}})
    assert set(r.global_.attributes) == {"colorfulness", "temperature"}
    old = {"global": [0.1, None, None, 0.2],
           "regions": [{"label": "sky", "params": [None, 0.3, -0.2, None]}, {"label": "sky", "params": None}]}
    r = parse_recipe(old)
    assert r.version == 1
    assert r.global_.attributes["colorfulness"].to == 0.1 and r.global_.attributes["brightness"].to == 0.2
    assert r.regions["sky"].attributes["contrast"].to == 0.3
    assert "sky_2" in r.regions and not r.regions["sky_2"].attributes
    with pytest.raises(RecipeError, match="version"):
        parse_recipe({"format": "pertouch-recipe", "version": 99})


def test_engine_registry():
    assert get_engine().name == "parametric"
    assert get_engine("reference").name == "reference"
    with pytest.raises(ModelError, match="diffusion"):
        get_engine("diffusion:/models/pertouch")
    with pytest.raises(ModelError, match="unknown engine"):
        get_engine("magic")
    saved = dict(ENGINES)
    try:
        register("fake", lambda arg=None, **kw: type("E", (), {"name": f"fake:{arg}"})())
        assert get_engine("fake:x").name == "fake:x"
    finally:
        ENGINES.clear()
        ENGINES.update(saved)


def test_by_targets_extend_past_one_and_maps_clip():
    import numpy as np

    from pertouch.engine.schema.attributes import LEVEL_EXTENDED
    from pertouch.engine.diffusion.paramap import rasterize
    from pertouch.engine.schema.recipe import Edit, Recipe

    assert Edit(by=-0.2).target(-1.2) == pytest.approx(-1.4)
    assert Edit(by=-0.5).target(-1.2) == -LEVEL_EXTENDED and Edit(by=0.3).target(-1.2) == pytest.approx(-0.9)
    rec = Recipe.model_validate({"regions": {"sky": {"attributes": {"temperature": {"by": -0.2}}}}})
    m = np.ones((4, 4), np.float32)
    lv = {"global": dict.fromkeys(("colorfulness", "contrast", "temperature", "brightness"), -1.2), "sky": {}}
    lv["sky"] = dict(lv["global"])
    pm = rasterize(rec, {"sky": m}, measured=lv)
    assert pm.min() == -1.0 and pm.max() == -1.0  # the PerTouch map stays in [−1, 1]


@pytest.mark.parametrize("colour, attribute, shift", [
    ((25, 45, 125), "temperature", -0.04),  # a deep-blue sky, bluer than every fitted photo: cooler
    ((25, 45, 125), "temperature", 0.2),    # ... warmer, back inside the table
    ("confetti", "colorfulness", -0.2),      # more colourful than every fitted photo: less
])
def test_region_beyond_the_table_gets_its_by_shift(colour, attribute, shift):
    """A region measured past ±1 moves by its ``by`` shift, measured on the output.

    (Cooling that sky much further is out of reach: it is near sRGB's blue primary.)
    """
    import numpy as np

    from pertouch.engine.measure.stats import measure_levels
    from pertouch.engine.parametric.engine import ParametricEngine
    from pertouch.engine.schema.recipe import Recipe
    from pertouch.engine.schema.regions import Region

    rng = np.random.default_rng(0)
    img = np.empty((96, 128, 3), np.float32)
    if colour == "confetti":  # saturated primaries in 8-pixel blocks
        pal = np.array([(230, 20, 20), (20, 230, 20), (20, 20, 230), (230, 230, 20)], np.float32)
        img[:48] = np.kron(pal[rng.integers(0, 4, (6, 16))], np.ones((8, 8, 1), np.float32))
    else:
        img[:48] = colour
    img[48:] = (120, 110, 80)
    img = np.clip(img + rng.normal(0, 2, img.shape), 0, 255).astype(np.uint8)
    sky = np.zeros(img.shape[:2], np.float32)
    sky[:48] = 1
    regs = {"sky": Region("sky", sky), "ground": Region("ground", 1 - sky)}
    before = measure_levels(img, regs, attributes=[attribute])
    assert abs(before["sky"][attribute]) > 1.02
    rec = Recipe.model_validate({"regions": {"sky": {"attributes": {attribute: {"by": shift}}}}})
    out = ParametricEngine().render(img, rec, regs).image
    after = measure_levels(out, regs, attributes=[attribute])
    change = after["sky"][attribute] - before["sky"][attribute]
    assert change * shift > 0 and abs(change - shift) <= max(0.02, 0.25 * abs(shift)), change
    assert after["ground"][attribute] == pytest.approx(before["ground"][attribute], abs=0.02)  # soft border
