"""Intent before planning: no-op, protection, questions, undo, hedges and levels relative to
another region — the schema, the builtin parser, the planner's ``like`` edits, the answers to
questions, and the parser evaluation's handling of them."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from pertouch.graph.vlm.builtin.parser import parse_instruction
from pertouch.graph.vlm.schemas import Intent, SceneInfo, Target


def parse(text: str) -> Intent:
    return parse_instruction(text, use_embeddings=False)


def _scene(**levels) -> SceneInfo:
    """Regions named by label with the given brightness (and a fixed area each)."""
    return SceneInfo.from_regions(
        [{"name": k, "label": k, "area": 0.3, "levels": {"brightness": v, "temperature": -v / 2}}
         for k, v in levels.items()], {"brightness": 0.0, "contrast": 0.0})


# --- schema -----------------------------------------------------------------------------------

def test_like_targets_need_no_level_or_shift_but_plain_ones_still_do():
    t = Target(region="sky", attribute="brightness", direction="set", like="Water ")
    assert (t.level, t.shift, t.like) == (None, None, "water")
    assert Target(region="ground", attribute="brightness", direction="down", like="sky").shift is None
    with pytest.raises(ValidationError):
        Target(region="sky", attribute="brightness", direction="set")
    with pytest.raises(ValidationError):
        Target(region="sky", attribute="brightness", direction="down")
    with pytest.raises(ValidationError):  # a given shift still has to point the right way
        Target(region="sky", attribute="brightness", direction="down", shift=0.2, like="sky")


@pytest.mark.parametrize("kind", ["no-op", "question", "undo"])
def test_answer_only_kinds_carry_no_edit(kind):
    t = Target(region="sky", attribute="brightness", direction="up", shift=0.2)
    i = Intent(kind=kind, targets=[t], style="moody")
    assert i.targets == [] and i.style is None
    assert kind in Intent.model_json_schema()["properties"]["kind"]["description"]


def test_prompts_tell_models_about_the_new_kinds_and_like():
    from pertouch.graph.vlm.prompts import system

    text = system("classify")
    for word in ("'no-op'", "'question'", "'undo'", "like 'water'", "0.1"):
        assert word in text
    assert "'like'" in system("plan")


# --- parser: kinds ------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "Don't change anything, it's perfect as it is.", "it's fine as is", "leave it", "no changes",
    "Please leave the image unchanged.", "I like it the way it is", "nothing to change, looks great",
    "don't bother editing it", "keep everything as it is", "nothing", "No thanks.",
    "leave the colours as they are", "keep the original colours",
])
def test_requests_for_no_change_are_no_op(text):
    i = parse(text)
    assert i.kind == "no-op", (text, i)
    assert i.targets == [] and i.style is None and i.protected == []


def test_praise_said_alongside_an_edit_does_not_stop_it():
    i = parse("it looks great, just make it a bit warmer")
    assert i.kind == "strong"
    assert [(t.region, t.attribute, t.shift) for t in i.targets] == [("global", "temperature", 0.1)]
    assert parse("make sure it looks good").kind == "weak-optimize"  # not an approval: a request


@pytest.mark.parametrize("text, kept", [
    ("keep the skin tones", ["skin"]), ("leave the background alone", ["background"]),
    ("don't touch the sky", ["sky"]), ("keep the skin tones natural", ["skin"]),
])
def test_protection_alone_is_a_no_op_that_keeps_the_regions(text, kept):
    i = parse(text)
    assert (i.kind, i.protected, i.targets) == ("no-op", kept, [])


@pytest.mark.parametrize("text, region, protected", [
    ("keep the skin tones natural and brighten the background", "background", ["skin"]),
    ("leave the person untouched and make the sky bluer", "sky", ["person"]),
    ("no changes to the sky, please make the water more vivid", "water", ["sky"]),
])
def test_protection_with_an_edit_protects(text, region, protected):
    i = parse(text)
    assert i.kind == "strong" and i.protected == protected
    assert [t.region for t in i.targets] == [region]


@pytest.mark.parametrize("text", [
    "what would you improve?", "is it too dark?", "does the sky look washed out?", "how does this photo look?",
    "any suggestions for this picture?", "should I make the sky bluer?", "the sky looks nice, but is it too dark?",
    "can you tell me if the image is overexposed?",
])
def test_questions_about_the_photo_are_questions(text):
    i = parse(text)
    assert (i.kind, i.targets, i.style, i.regions) == ("question", [], None, []), text


@pytest.mark.parametrize("text, kind", [
    ("hey!! can you make this warmer?? lol", "strong"),      # a polite request, not a question
    ("could the sky be a little less blue", "strong"),
    ("umm so like... the sky, darker?", "strong"),
    ("what's the capital of France?", "out-of-scope"),       # a question, but not about the photo
    ("what camera took this?", "out-of-scope"),
    ("is it too dark? if so, brighten it a bit", "strong"),  # the request after the question is done
])
def test_requests_shaped_like_questions_stay_requests(text, kind):
    assert parse(text).kind == kind


@pytest.mark.parametrize("text", ["undo", "revert", "go back to the original", "undo the last change",
                                  "restore the original", "reset everything", "can you undo all my edits?"])
def test_undo_words_are_undo(text):
    i = parse(text)
    assert (i.kind, i.targets) == ("undo", [])


def test_undo_words_that_are_edits_or_come_with_one():
    assert parse("restore the highlights").kind != "undo" and parse("reset the white balance").kind != "undo"
    i = parse("undo that and make the sky bluer")
    assert i.kind == "strong" and [(t.region, t.attribute) for t in i.targets] == [("sky", "temperature")]


# --- parser: hedges and comparatives ------------------------------------------------------------

@pytest.mark.parametrize("text, plain", [
    ("maybe slightly brighter", "slightly brighter"), ("perhaps a touch warmer", "warmer"),
    ("brighten it if you can", "brighten it"), ("possibly reduce the saturation", "reduce the saturation"),
])
def test_hedges_make_a_small_edit(text, plain):
    from pertouch.graph.vlm.builtin.intents import HEDGE

    got, base = parse(text).targets, parse(plain).targets
    assert [(t.region, t.attribute, t.direction) for t in got] == [(t.region, t.attribute, t.direction) for t in base]
    assert all(abs(t.shift) == pytest.approx(HEDGE) for t in got)


def test_hedges_keep_a_named_big_size_and_numbers():
    assert parse("maybe darken the sky a lot").targets[0].shift == parse("darken the sky a lot").targets[0].shift
    assert parse("maybe increase the brightness by 30%").targets[0].shift == pytest.approx(0.3)


@pytest.mark.parametrize("text, region, attribute, direction, like", [
    ("make the sky as bright as the water", "sky", "brightness", "set", "water"),
    ("the ground should be darker than the sky", "ground", "brightness", "down", "sky"),
    ("give the sky the same warmth as the sea", "sky", "temperature", "set", "water"),
    ("match the sky's brightness to the water", "sky", "brightness", "set", "water"),
    ("make the background less saturated than the face", "background", "colorfulness", "down", "face"),
    ("make it brighter than the sky", "global", "brightness", "up", "sky"),
])
def test_comparatives_name_the_reference_region(text, region, attribute, direction, like):
    i = parse(text)
    assert i.kind == "strong"
    assert [(t.region, t.attribute, t.direction, t.like, t.shift, t.level) for t in i.targets] == [
        (region, attribute, direction, like, None, None)]


def test_each_comparative_keeps_its_own_reference():
    i = parse("make the sky as bright as the water and the ground darker than the sky")
    assert [(t.region, t.direction, t.like) for t in i.targets] == [("sky", "set", "water"), ("ground", "down", "sky")]
    i = parse("make the sky and the ground as bright as the water")
    assert {(t.region, t.like) for t in i.targets} == {("sky", "water"), ("ground", "water")}


@pytest.mark.parametrize("text", ["match the sky to the water", "the sky should match the water"])
def test_matching_a_region_without_an_attribute_matches_its_light_and_colour(text):
    from pertouch.graph.vlm.builtin.intents import MATCHED

    i = parse(text)
    assert i.kind == "strong"
    assert sorted((t.region, t.attribute, t.direction, t.like) for t in i.targets) == sorted(
        ("sky", a, "set", "water") for a in MATCHED)


def test_no_followed_by_a_request_is_the_request():
    assert parse("no, make it warmer").kind == "strong"
    assert parse("nothing too strong, just a bit warmer").targets[0].shift == pytest.approx(0.1)


def test_comparatives_without_a_region_are_plain_edits():
    t = parse("make it brighter than before").targets[0]
    assert t.like is None and t.shift == pytest.approx(0.2)


# --- planner ------------------------------------------------------------------------------------

def test_set_like_goes_to_the_reference_level():
    from pertouch.graph.vlm.builtin.planner import make_plan

    sc = _scene(sky=0.6, water=0.1)
    plan = make_plan(parse("make the sky as bright as the water"), sc)
    assert [(e.region, e.attribute, e.to) for e in plan.edits] == [("sky", "brightness", pytest.approx(0.1))]
    assert "water" in plan.notes and "+0.10" in plan.notes


def test_relative_like_goes_past_the_reference_by_the_margin_or_the_size_word():
    from pertouch.graph.vlm.builtin.like import MARGIN
    from pertouch.graph.vlm.builtin.planner import make_plan
    from pertouch.graph.vlm.magnitudes import MAGNITUDES

    sc = _scene(sky=0.3, ground=0.5)
    plain = make_plan(parse("the ground should be darker than the sky"), sc)
    assert [(e.region, e.to) for e in plain.edits] == [("ground", pytest.approx(0.3 - MARGIN))]
    much = make_plan(parse("the ground should be much darker than the sky"), sc)
    assert much.edits[0].to == pytest.approx(0.3 - MAGNITUDES["much"])
    up = make_plan(parse("the sky should be brighter than the ground"), sc)
    assert up.edits[0].to == pytest.approx(0.5 + MARGIN)


def test_relative_like_already_past_the_reference_is_left_and_said():
    from pertouch.graph.vlm.builtin.planner import make_plan

    plan = make_plan(parse("the water should be darker than the sky"), _scene(sky=0.6, water=0.1))
    assert plan.edits == []
    assert plan.impossible and "already lower" in plan.impossible[0] and "already lower" in plan.notes


def test_like_reference_missing_is_not_found_and_past_one_is_a_shift():
    from pertouch.graph.vlm.builtin.planner import make_plan

    plan = make_plan(parse("make the sky as bright as the snow"), _scene(sky=0.6))
    assert plan.edits == [] and plan.missing == ["snow"]
    plan = make_plan(parse("the sky should be brighter than the water"), _scene(sky=0.6, water=0.95))
    (e,) = plan.edits
    assert e.to is None and e.by == pytest.approx(0.95 + 0.1 - 0.6)


def test_concrete_intent_fills_numbers_for_the_critic_and_keeps_like():
    from pertouch.graph.vlm.builtin.like import MARGIN, concrete_intent

    sc = _scene(sky=0.6, water=0.1, ground=0.5)
    i = concrete_intent(parse("make the sky as bright as the water and the ground darker than the sky"), sc)
    got = {t.region: t for t in i.targets}
    assert got["sky"].level == pytest.approx(0.1) and got["sky"].like == "water"
    assert got["ground"].shift == pytest.approx(0.6 - MARGIN - 0.5) and got["ground"].like == "sky"


@pytest.mark.parametrize("text", ["leave it as it is", "what would you improve?", "undo", "keep the sky"])
def test_answer_only_intents_plan_no_edit(text):
    from pertouch.graph.vlm.builtin.planner import make_plan

    plan = make_plan(parse(text), _scene(sky=0.9, water=-0.8))
    assert plan.edits == [] and plan.notes.startswith("nothing to do")


# --- answers to questions -------------------------------------------------------------------------

def test_answers_follow_the_measured_levels():
    from pertouch.graph.vlm.builtin.advice import answer_question

    dark = SceneInfo.from_regions([], {"brightness": -0.6})
    bright = SceneInfo.from_regions([], {"brightness": 0.5})
    assert "so yes" in answer_question("is it too dark?", dark)
    assert "so no" in answer_question("is it too dark?", bright)
    assert "−0.60" in answer_question("is it too dark?", dark)


def test_answers_name_the_region_asked_about_and_say_when_it_is_missing():
    from pertouch.graph.vlm.builtin.advice import answer_question

    sc = SceneInfo.from_regions([{"name": "sky", "label": "sky", "area": 0.5,
                                  "levels": {"colorfulness": -0.5, "brightness": 0.2}}], {"colorfulness": 0.0})
    text = answer_question("does the sky look washed out?", sc)
    assert text.startswith("The sky's colourfulness is −0.50") and "so yes" in text
    assert "the sky — " in text  # the overview lists the sky's levels
    assert answer_question("does the water look ok?", sc).startswith("I found no water in this photo")


def test_suggestions_are_the_optimize_plan_in_words(monkeypatch):
    from pertouch.graph.vlm.builtin import advice as builtin_advice, planner as builtin_planner
    from pertouch.graph.vlm.schemas import Plan, PlanEdit

    seen = []

    def fake_plan(intent, scene, *a, **k):
        seen.append(intent)
        return Plan(edits=[PlanEdit(region="global", attribute="brightness", to=-0.2)], notes="1 edit(s)")

    monkeypatch.setattr(builtin_planner, "make_plan", fake_plan)
    text = builtin_advice.answer_question("what would you improve?", SceneInfo.from_regions([], {"brightness": -0.6}))
    assert seen and seen[0].kind == "weak-optimize"
    assert "make the photo brighter (−0.60 → −0.20)" in text and "Nothing was changed" in text


# --- evaluation -------------------------------------------------------------------------------------

def test_parser_eval_scores_like_targets_and_every_split_of_a_file(tmp_path):
    from pertouch.evals.parser_eval import evaluate, load_cases, score_case

    like = {"region": "sky", "attribute": "brightness", "direction": "set", "shift": None, "level": None,
            "like": "water"}
    expect = {"kind": "strong", "targets": [like], "protected": [], "style": None, "regions": []}
    assert score_case(expect, parse("make the sky as bright as the water").model_dump())["exact"]
    assert not score_case(expect, parse("make the sky as bright as the sky").model_dump())["exact"]
    assert not score_case(expect, parse("brighten the sky").model_dump())["targets"]
    rows = [{"id": "a", "split": "one", "text": "leave it", "category": "no-op",
             "expect": {"kind": "no-op", "targets": [], "protected": [], "style": None, "regions": []}},
            {"id": "b", "split": "two", "text": "is it too dark?", "category": "question",
             "expect": {"kind": "strong", "targets": [], "protected": [], "style": None, "regions": []}}]
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    report = evaluate(parse, load_cases(path))
    assert report["by_split"]["one"]["exact"] == 1.0 and report["by_split"]["two"]["exact"] == 0.0


def test_dev_intents_split_is_in_the_corpus_with_every_category():
    from pertouch.evals.parser_eval import load_cases

    cases = [c for c in load_cases() if c["split"] == "dev-intents"]
    assert len(cases) >= 80
    assert {c["category"] for c in cases} >= {"no-op", "protection", "question", "undo", "hedge", "comparative",
                                              "mixed"}
    for c in cases:  # each expectation is a valid intent
        Intent.model_validate({**c["expect"], "explanation": "x"})


# --- dev-intents-2: undo said many ways, late protection, "to match", hedged numbers ------------

@pytest.mark.parametrize("text", ["scrap that", "start over", "I changed my mind, undo it", "roll it back",
                                  "discard the changes", "undo the warmth", "that's worse, go back",
                                  "I preferred the original", "bring back the original colours",
                                  "forget the edits, I want the original", "make it look like it did before"])
def test_undo_said_many_ways(text):
    i = parse(text)
    assert (i.kind, i.targets) == ("undo", [])


@pytest.mark.parametrize("text", ["get back some detail in the highlights", "remove that blue cast",
                                  "drop the saturation", "i want it warmer"])
def test_edits_with_undo_like_verbs_are_not_undo(text):
    assert parse(text).kind != "undo"


@pytest.mark.parametrize("text,protected", [
    ("the sky must not change", ["sky"]), ("the faces are fine, leave them", ["face"]),
    ("preserve the skin tones", ["skin"]), ("don't do anything to the sky", ["sky"]),
])
def test_protection_said_after_the_region(text, protected):
    i = parse(text)
    assert (i.kind, i.protected) == ("no-op", protected)


def test_an_edit_with_a_late_protection_keeps_the_region_out():
    i = parse("brighten it, but the faces should stay the same")
    assert [(t.region, t.attribute) for t in i.targets] == [("global", "brightness")] and i.protected == ["face"]


def test_to_match_sets_only_the_attribute_named():
    i = parse("darken the sky to match the sea")
    assert [(t.region, t.attribute, t.direction, t.like) for t in i.targets] == [("sky", "brightness", "set", "water")]


def test_a_hedge_keeps_a_number_and_an_edit_after_a_question_is_about_its_region():
    assert parse("perhaps raise the brightness by 20%").targets[0].shift == pytest.approx(0.2)
    assert parse("maybe the water could be more vivid").targets[0].shift == pytest.approx(0.1)
    i = parse("is the sky too bright? if so, darken it a little")
    assert [(t.region, t.shift) for t in i.targets] == [("sky", pytest.approx(-0.1))]
