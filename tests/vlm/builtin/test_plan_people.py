"""People are held when only other regions are edited (issue 13, "darken the wall behind them"):
the planner adds a hold on the people, and explicit protection also holds against region edits."""

from __future__ import annotations

from pertouch.graph.vlm.builtin.planner import make_plan
from pertouch.graph.vlm.builtin.parser import parse_instruction


def _edits(text, scene):
    plan = make_plan(parse_instruction(text, use_embeddings=False), scene)
    return {(e.region, e.attribute): (e.to, e.by) for e in plan.edits}


def test_an_edit_of_another_region_holds_the_people(scene):
    assert _edits("darken the sky", scene) == {("sky", "brightness"): (None, -0.2),
                                               ("person", "brightness"): (-0.7, None)}


def test_no_hold_when_the_people_or_the_whole_photo_are_edited(scene):
    assert _edits("brighten the person", scene) == {("person", "brightness"): (None, 0.2)}
    assert ("person", "brightness") not in _edits("brighten it", scene)
    assert _edits("darken the sky and brighten the person", scene) == {
        ("sky", "brightness"): (None, -0.2), ("person", "brightness"): (None, 0.2)}


def test_protected_regions_are_held_against_region_edits_too(scene):
    # "brighten the sky but leave the trees alone": before, only a global edit made a hold
    e = _edits("make the sky warmer but leave the trees alone", scene)
    assert e[("vegetation", "temperature")] == (0.0, None) and e[("sky", "temperature")] == (None, 0.2)
