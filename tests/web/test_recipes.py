import pytest

from pertouch.engine.schema.attributes import get_attribute
from pertouch.core.errors import InputError
from pertouch.web import recipes

LABELS = {"sky": "sky", "petals": "petals"}


def test_attribute_table_ranges_come_from_the_registry():
    table = {a["name"]: a for a in recipes.attribute_table()}
    for name in ("brightness", "temperature", "colorfulness", "contrast"):
        a = get_attribute(name)
        assert (table[name]["min"], table[name]["max"]) == a.shift_range


def test_rows_round_trip_and_to_levels_become_shifts():
    recipe = recipes.recipe_from([{"region": "sky", "attribute": "saturation", "by": 0.25},
                                  {"region": "global", "attribute": "brightness", "by": -0.1},
                                  {"region": "petals", "attribute": "contrast", "by": 0.0}], LABELS)
    assert recipe["regions"] == {"sky": {"label": "sky", "attributes": {"colorfulness": {"by": 0.25}}}}
    assert recipe["global"]["attributes"] == {"brightness": {"by": -0.1}}
    got = {(r["region"], r["attribute"]): r["by"] for r in recipes.rows(recipe, {})}
    assert got == {("sky", "colorfulness"): 0.25, ("global", "brightness"): -0.1}
    to = {"regions": {"sky": {"label": "sky", "attributes": {"brightness": {"to": 0.5}}}}}
    assert recipes.rows(to, {"sky": {"brightness": 0.2}})[0]["by"] == pytest.approx(0.3)
    assert recipes.describe(recipe) == "global.brightness by -0.10; sky.colorfulness by +0.25"


@pytest.mark.parametrize("row", [
    {"region": "../etc", "attribute": "brightness", "by": 0.1},
    {"region": "moon", "attribute": "brightness", "by": 0.1},
    {"region": "sky", "attribute": "sparkle", "by": 0.1},
    {"region": "sky", "attribute": "brightness", "by": 9},
    {"region": "sky", "attribute": "brightness", "by": float("nan")},
    {"region": "sky", "attribute": "brightness", "by": "0.1"},
    {"region": "sky", "attribute": "brightness", "by": True},
    "sky",
])
def test_bad_rows_are_refused(row):
    with pytest.raises(InputError):
        recipes.recipe_from([row], LABELS)


def test_not_a_list_and_too_many_rows():
    with pytest.raises(InputError):
        recipes.recipe_from("rows", LABELS)
    with pytest.raises(InputError):
        recipes.recipe_from([{"region": "sky", "attribute": "brightness", "by": 0.1}] * 65, LABELS)
