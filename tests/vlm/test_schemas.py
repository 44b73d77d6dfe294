"""Role schemas: validation rules, SceneInfo from engine regions, plan → recipe."""

from __future__ import annotations


import numpy as np
import pytest
from pydantic import ValidationError

from pertouch.engine.schema.regions import Region
from pertouch.core.errors import NotFoundError
from pertouch.graph.vlm.base import plan_to_recipe
from pertouch.graph.vlm.schemas import (ROLE_SCHEMAS, Critique, Intent, Plan, PlanEdit, SceneInfo, Target)


def test_target_canonicalises_synonyms_and_checks_direction_sign():
    t = Target(region="Sky", attribute="saturation", direction="down", shift=-0.1)
    assert (t.region, t.attribute) == ("sky", "colorfulness")
    with pytest.raises(ValidationError, match="wrong sign"):
        Target(attribute="brightness", direction="up", shift=-0.2)
    with pytest.raises(ValidationError, match="needs 'level'"):
        Target(attribute="brightness", direction="set", shift=0.2)
    with pytest.raises(ValidationError, match="unknown attribute"):
        Target(attribute="sparkle", direction="up", shift=0.2)
    with pytest.raises(ValidationError):
        Target(attribute="brightness", direction="set", level=1.5)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_numbers_are_rejected(bad):
    with pytest.raises(ValidationError):
        PlanEdit(region="sky", attribute="brightness", by=bad)


def test_plan_edit_needs_exactly_one_of_to_or_by():
    with pytest.raises(ValidationError, match="exactly one"):
        PlanEdit(region="sky", attribute="brightness", to=0.1, by=0.1)
    with pytest.raises(ValidationError, match="exactly one"):
        PlanEdit(region="sky", attribute="brightness")


def test_intent_rules():
    with pytest.raises(ValidationError, match="explain"):
        Intent(kind="out-of-scope")
    with pytest.raises(ValidationError, match="no targets"):
        Intent(kind="out-of-scope", explanation="x", targets=[Target(attribute="contrast", direction="up", shift=0.1)])
    with pytest.raises(ValidationError, match="style"):
        Intent(kind="weak-style")


def test_field_descriptions_state_level_semantics():
    schema = PlanEdit.model_json_schema()
    assert "NOT 'no change'" in schema["properties"]["to"]["description"]
    assert "relative" in schema["properties"]["by"]["description"]
    assert set(ROLE_SCHEMAS) == {"describe", "classify", "plan", "critique"}
    assert "satisfied" in Critique.model_json_schema()["required"]


def test_scene_from_engine_regions():
    mask = np.zeros((10, 20), np.float32)
    mask[:5] = 1.0
    r = Region("sky", mask, label="sky", confidence=0.7, levels={"brightness": 0.3})
    s = SceneInfo.from_regions([r], {"brightness": 0.0}, "/tmp/x.jpg")
    assert s.regions[0].area == pytest.approx(0.5) and s.regions[0].levels == {"brightness": 0.3}
    assert s.image_path == "/tmp/x.jpg" and s.labels() == ["sky"] and s.levels_of("global") == {"brightness": 0.0}


def test_plan_to_recipe_resolves_labels_and_names(scene):
    plan = Plan(edits=[PlanEdit(region="global", attribute="warmth", by=0.1),
                       PlanEdit(region="sky", attribute="brightness", to=0.2),
                       PlanEdit(region="person", attribute="brightness", by=0.0),
                       PlanEdit(region="sky", attribute="brightness", to=0.4)], notes="n")
    recipe = plan_to_recipe(plan, scene)
    assert recipe.global_.attributes["temperature"].by == 0.1
    assert recipe.regions["sky"].attributes["brightness"].to == 0.4  # later entries win
    assert recipe.regions["sky"].label == "sky" and recipe.notes == "n"
    assert recipe.regions["person"].attributes["brightness"].by == 0.0


def test_plan_to_recipe_names_missing_regions(scene):
    with pytest.raises(NotFoundError, match="water") as err:
        plan_to_recipe(Plan(edits=[PlanEdit(region="water", attribute="brightness", by=0.1)]), scene)
    assert "sky" in err.value.one_line()
