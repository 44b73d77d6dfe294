"""Recipe validation errors, migration from version 0, and the engine registry."""

from __future__ import annotations

import pytest

from pertouch.engine.engines import ENGINES, get_engine, register
from pertouch.engine.recipe import parse_recipe
from pertouch.errors import ModelError, RecipeError


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
