"""Builtin planner (strong / optimize / style, preferences, protection, critique advice)
and builtin critic (verdicts from measured levels, image defects, never silently satisfied)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from pertouch.engine.base import Achieved
from pertouch.graph.vlm.base import VLMError, plan_to_recipe
from pertouch.graph.vlm.builtin.critic import critique_render
from pertouch.graph.vlm.builtin.provider import BuiltinVLM
from pertouch.graph.vlm.builtin.styles import STYLES
from pertouch.graph.vlm.schemas import Intent, SceneInfo

vlm = BuiltinVLM(use_embeddings=False)


def edits(plan):
    return {(e.region, e.attribute): (e.to, e.by) for e in plan.edits}


def test_strong_follows_the_words_and_holds_protected_regions(scene):
    plan = vlm.plan(vlm.classify("make it a lot brighter but leave the sky alone"), scene)
    # the sky keeps its measured levels: the one the global edit changes and the ones it
    # moves as a side effect (brightening washes colour out)
    assert edits(plan) == {("global", "brightness"): (None, 0.5), ("sky", "brightness"): (0.5, None),
                           ("sky", "colorfulness"): (0.1, None), ("sky", "contrast"): (-0.6, None),
                           ("sky", "temperature"): (-0.2, None)}
    recipe = plan_to_recipe(plan, scene)
    assert recipe.regions["sky"].attributes["brightness"].to == 0.5  # held at its measured level
    assert not recipe.regions["sky"].is_noop  # an engine must not skip it


def test_strong_reports_regions_the_photo_lacks(scene):
    plan = vlm.plan(vlm.classify("brighten the water and the sky"), scene)
    held = {k: v for k, v in edits(plan).items() if k[0] == "person"}  # not asked: held where it is
    assert plan.missing == ["water"] and {k: v for k, v in edits(plan).items() if k not in held} == {
        ("sky", "brightness"): (None, 0.2)}
    assert held == {("person", "brightness"): (scene.levels_of("person")["brightness"], None)}


def test_subject_words_resolve_to_the_main_subject(scene):
    plan = vlm.plan(vlm.classify("much brighter eagle"), scene)
    assert edits(plan) == {("person", "brightness"): (None, 0.3)}  # no non-person object: the people
    s2 = SceneInfo.from_regions([*scene.model_dump()["regions"],
                                 {"name": "other_1", "label": "other", "area": 0.1, "levels": {}}])
    assert edits(vlm.plan(vlm.classify("much brighter eagle"), s2)) == {
        ("other_1", "brightness"): (None, 0.3), ("person", "brightness"): (-0.7, None)}  # the people held


def test_optimize_without_a_photo_lifts_only_levels_far_below_and_says_so(scene):
    """No photo to measure: the levels alone decide, timidly. The fixture's levels are all
    within reach of typical, so nothing changes and the notes say why; a photo measured far
    darker than every expert photo is lifted, by at most the cap."""
    from pertouch.graph.vlm.builtin.optimize import GLOBAL_CAP

    plan = vlm.plan(Intent(kind="weak-optimize"), scene)
    assert plan.edits == [] and "nothing to change" in plan.notes and "levels only" in plan.notes
    dark = scene.model_copy(update={"global_levels": {**scene.global_levels, "brightness": -0.9}})
    e = edits(vlm.plan(Intent(kind="weak-optimize"), dark))
    assert e == {("global", "brightness"): (None, pytest.approx(GLOBAL_CAP))}


def test_optimize_moves_toward_remembered_preferences_within_the_caps(scene):
    from pertouch.graph.vlm.builtin.optimize import GLOBAL_CAP, REGION_CAP

    prefs = {"person": {"brightness": {"level": 0.4, "weight": 1.0}}, "global": {"temperature": 0.5}}
    e = edits(vlm.plan(Intent(kind="weak-optimize"), scene, prefs))
    assert e[("person", "brightness")] == (None, pytest.approx(REGION_CAP))  # −0.7 toward 0.28: one small step
    assert e[("global", "temperature")] == (None, pytest.approx(GLOBAL_CAP))  # a preference acts where levels are typical
    weak = {"person": {"brightness": {"level": 0.4, "weight": 0.0}}}
    assert ("person", "brightness") not in edits(vlm.plan(Intent(kind="weak-optimize"), scene, weak))


@pytest.mark.parametrize("name", list(STYLES))
def test_every_style_plans_valid_edits_for_the_present_regions(name, scene):
    plan = vlm.plan(Intent(kind="weak-style", style=name), scene)
    assert plan.edits and all(e.region in ("global", "sky", "person", "vegetation") for e in plan.edits)
    plan_to_recipe(plan, scene)  # validates every level and shift


def test_style_limited_to_a_region_and_blended_with_preferences(scene):
    plan = vlm.plan(vlm.classify("give the sky a golden hour look"), scene)
    assert {e.region for e in plan.edits} == {"sky"}
    from pertouch.graph.vlm.builtin.styles import STYLES, cap_of

    cap = cap_of(STYLES["golden-hour"], "temperature")
    measured = scene.levels_of("sky")["temperature"]
    # the style's level 0.7, but one style moves a level at most its cap
    assert edits(plan)[("sky", "temperature")] == (None, pytest.approx(min(0.7 - measured, cap)))
    # colourfulness: the style's 0.25 from the sky's 0.1; a remembered taste for grey skies pulls the
    # level below what the sky has, so the sky is only nudged the style's way
    assert edits(plan)[("sky", "colorfulness")] == (None, pytest.approx(0.25 - 0.1))
    dull = edits(vlm.plan(Intent(kind="weak-style", style="golden-hour", regions=["sky"]), scene,
                          {"sky": {"colorfulness": -1.0}}))
    assert dull[("sky", "colorfulness")] == (None, pytest.approx(0.05))


def test_unknown_style_from_another_model_is_an_error(scene):
    with pytest.raises(VLMError, match="unknown style"):
        vlm.plan(Intent(kind="weak-style", style="zzzz-unknown"), scene)


def test_critique_advice_corrects_the_next_plan(scene):
    intent = vlm.classify("much brighter sky")
    first = vlm.plan(intent, scene)
    crit = vlm.critique(None, None, "much brighter sky", intent, [Achieved("sky", "brightness", 0.5, 0.8, 0.6)], scene)
    assert not crit.satisfied and crit.targets[0].verdict == "not_enough" and crit.advice[0].by == pytest.approx(0.2)
    second = vlm.plan(intent, scene, None, crit)
    assert edits(second)[("sky", "brightness")][1] == pytest.approx(edits(first)[("sky", "brightness")][1] + 0.2)


@pytest.mark.parametrize("achieved,verdict,fits", [
    (0.79, "changed_enough", True), (0.51, "not_changed", False), (0.6, "not_enough", False),
    (1.0, "overshoot", False), (0.3, "wrong_direction", False)])
def test_verdicts_from_measured_levels(achieved, verdict, fits):
    intent = Intent(kind="strong", targets=[{"region": "sky", "attribute": "brightness", "direction": "up", "shift": 0.3}])
    intent_small = intent.model_copy()
    c = critique_render(None, None, "x", intent_small, [Achieved("sky", "brightness", 0.5, 0.8, achieved)])
    assert c.targets[0].verdict == verdict and c.targets[0].size_fits_wording is fits
    assert c.satisfied is (verdict == "changed_enough")
    assert bool(c.advice) is not c.satisfied


def test_a_target_that_was_not_rendered_is_never_satisfied():
    intent = Intent(kind="strong", targets=[{"region": "water", "attribute": "brightness", "direction": "up", "shift": 0.2}])
    c = critique_render(None, None, "x", intent, [])
    assert not c.satisfied and c.targets[0].verdict == "not_changed"


def test_protected_region_that_moved_is_a_defect(scene):
    intent = vlm.classify("brighten everything except the sky")
    c = vlm.critique(None, None, "x", intent, [Achieved("global", "brightness", 0.0, 0.2, 0.2),
                                               Achieved("sky", "brightness", 0.5, 0.5, 0.62)], scene)
    assert not c.satisfied and any("protected sky" in d for d in c.defects)


def test_clipped_highlights_from_the_images_are_a_defect(astronaut, tmp_path):
    before = Image.fromarray(astronaut)
    after = Image.fromarray(np.clip(astronaut.astype(int) * 2, 0, 255).astype(np.uint8))
    intent = Intent(kind="strong", targets=[{"region": "global", "attribute": "brightness", "direction": "up", "shift": 0.5}])
    rep = [Achieved("global", "brightness", 0.0, 0.5, 0.5)]
    c = critique_render(before, after, "a lot brighter", intent, rep)
    assert not c.satisfied and c.defects[0].startswith("clipped highlights")
    assert any(a.attribute == "highlights" and a.by < 0 for a in c.advice)
    assert critique_render(before, before, "x", intent, rep).satisfied
    with pytest.raises(VLMError, match="cannot read"):
        critique_render(tmp_path / "missing.png", before, "x", intent, rep)


def test_describe_uses_perception(scene):
    d = vlm.describe(None, scene)
    assert [r.label for r in d.regions] == ["sky", "person", "vegetation"] and "outdoor" in d.tags
    assert len(d.tags) <= 8 and "sky" in d.description


def test_global_target_with_protected_regions_expects_a_smaller_global_change(scene):
    intent = vlm.classify("make it brighter but leave the sky alone")  # sky is 40% of the photo
    rep = [Achieved("global", "brightness", 0.0, 0.2, 0.12), Achieved("sky", "brightness", 0.5, 0.5, 0.5)]
    assert vlm.critique(None, None, "x", intent, rep, scene).satisfied
    rep[0] = Achieved("global", "brightness", 0.0, 0.2, 0.03)
    assert not vlm.critique(None, None, "x", intent, rep, scene).satisfied


def test_shift_past_the_end_of_the_scale_is_impossible_with_a_reason():
    """'cooler sky' on a sky at the end of the (extended) scale: no silent no-op edit; the plan says why."""
    from pertouch.engine.schema.attributes import LEVEL_EXTENDED
    from pertouch.graph.vlm.builtin.critic import critique_render
    from pertouch.graph.vlm.builtin.parser import parse_instruction
    from pertouch.graph.vlm.builtin.planner import make_plan
    from pertouch.graph.vlm.schemas import SceneInfo

    def sky_at(level, area=0.8):
        return [{"name": "sky", "label": "sky", "area": area, "levels": {"temperature": level}}]

    scene = SceneInfo.from_regions(sky_at(-LEVEL_EXTENDED) + [
        {"name": "vegetation", "label": "vegetation", "area": 0.1, "levels": {"temperature": 0.1}},
    ], {"temperature": -0.64})
    intent = parse_instruction("cooler sky, leave the trees alone")
    plan = make_plan(intent, scene)
    assert not any(e.region == "sky" for e in plan.edits)
    assert plan.impossible and "coolest level" in plan.impossible[0] and f"(−{LEVEL_EXTENDED:g})" in plan.impossible[0]
    assert plan.notes.startswith("nothing to do") and "cannot be made any cooler" in plan.notes
    crit = critique_render(None, None, "cooler sky", intent, [], scene)
    assert not crit.satisfied and "coolest level" in crit.explanation
    # a sky measured at −1 or past it (bluer than every expert photo) is not at the end: planned, no note
    for level in (-1.0, -1.2):
        plan = make_plan(intent, SceneInfo.from_regions(sky_at(level)))
        assert [(e.region, e.by) for e in plan.edits] == [("sky", intent.targets[0].shift)] and not plan.impossible
    # partly possible: planned, with the note; far from the end: no note
    near = SceneInfo.from_regions(sky_at(0.1 - LEVEL_EXTENDED))
    plan = make_plan(parse_instruction("make the sky a lot cooler"), near)
    assert [e.by for e in plan.edits] == [-0.5] and "only be made 0.10 cooler" in plan.notes
    mid = SceneInfo.from_regions(sky_at(0.0))
    assert make_plan(parse_instruction("make the sky a lot cooler"), mid).impossible == []


def test_critic_judges_shifts_past_one_on_the_extended_scale():
    """A sky measured at −1.1 made 0.2 cooler lands at −1.3: the critic sees it done, not overshot."""
    from pertouch.graph.vlm.builtin.parser import parse_instruction

    intent = parse_instruction("cooler sky")
    shift = intent.targets[0].shift
    done = [Achieved("sky", "temperature", -1.1, -1.1 + shift, -1.1 + shift + 0.01)]
    crit = critique_render(None, None, "cooler sky", intent, done)
    assert crit.satisfied and crit.targets[0].verdict == "changed_enough"
    short = [Achieved("sky", "temperature", -1.1, -1.1 + shift, -1.11)]
    crit = critique_render(None, None, "cooler sky", intent, short)
    assert not crit.satisfied and crit.targets[0].verdict == "not_changed"
    assert crit.advice[0].by == pytest.approx(-1.1 + shift + 1.11, abs=1e-3)
    # a region already past ±1 that an edit leaves about where it was is not "pushed to the end"
    weak = Intent(kind="weak-optimize")
    crit = critique_render(None, None, "make it better", weak, [Achieved("sky", "temperature", -1.1, -1.1, -1.1)])
    assert not crit.defects
