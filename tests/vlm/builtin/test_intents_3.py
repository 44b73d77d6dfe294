"""Intent rules fixed on the ``dev-intents-3`` split (issue 13): complaints read as asking for the
opposite, a complaint followed by a request, narrative context, pronouns, more no-op / undo /
late-protection phrasings and comparatives that name the attribute."""

from __future__ import annotations

import pytest

from pertouch.evals.parser_eval import evaluate, load_cases
from pertouch.graph.vlm.builtin.intents import complaints
from pertouch.graph.vlm.builtin.parser import parse_instruction


def parse(text):
    return parse_instruction(text, use_embeddings=False)


def edits(text):
    return [(t.region, t.attribute, t.direction, t.shift if t.like is None else t.like) for t in parse(text).targets]


@pytest.mark.parametrize("text,expect", [
    ("the faces look a bit pale", [("face", "colorfulness", "up", pytest.approx(0.1))]),
    ("it's dark", [("global", "brightness", "up", pytest.approx(0.2))]),
    ("the sky looks dull", [("sky", "colorfulness", "up", pytest.approx(0.2))]),
    ("the photo feels cold", [("global", "temperature", "up", pytest.approx(0.2))]),
])
def test_saying_how_the_photo_is_asks_for_the_opposite(text, expect):
    assert edits(text) == expect


def test_comparatives_and_words_that_name_the_fix_are_not_flipped():
    assert complaints("the sky is darker than the sea") == "the sky is darker than the sea"
    assert edits("the photo is overexposed") == [("global", "highlights", "down", pytest.approx(-0.2))]
    assert edits("make the faces pale") == [("face", "colorfulness", "down", pytest.approx(-0.2))]
    assert edits("the sky should be darker") == [("sky", "brightness", "down", pytest.approx(-0.2))]


def test_a_request_after_a_complaint_says_what_to_do():
    assert edits("the faces look a bit pale, warm them up slightly") == [("face", "temperature", "up", pytest.approx(0.1))]
    assert edits("the snow looks grey, make it brighter") == [("snow", "brightness", "up", pytest.approx(0.2))]
    i = parse("the sky is washed out, can you fix it?")
    assert (i.kind, i.regions, i.targets) == ("weak-optimize", ["sky"], [])
    # a request about another region keeps the complaint
    assert edits("the sky is too bright, make the water bluer") == [
        ("sky", "brightness", "down", pytest.approx(-0.2)), ("water", "temperature", "down", pytest.approx(-0.2))]


def test_where_the_photo_was_taken_is_context():
    assert edits("I took this at the beach yesterday, make it warmer") == [("global", "temperature", "up", pytest.approx(0.2))]


@pytest.mark.parametrize("text", ["leave it pls", "this one's already perfect, I wouldn't change a single thing",
                                  "I like it exactly like this", "let's leave this photo as it was shot",
                                  "Don't edit, it's already been processed", "its good, dont change it"])
def test_more_no_op_phrasings(text):
    assert parse(text).kind == "no-op"


@pytest.mark.parametrize("text,protected", [
    ("the background is perfect, don't change it", ["background"]),
    ("the skin looks right, please keep it that way", ["skin"]),
])
def test_a_region_said_to_be_fine_is_kept(text, protected):
    assert (parse(text).kind, parse(text).protected) == ("no-op", protected)


def test_protection_inside_an_edit():
    i = parse("cool the water down, the sand is fine so don't change it")
    assert edits("cool the water down, the sand is fine so don't change it") == [
        ("water", "temperature", "down", pytest.approx(-0.2))] and i.protected == ["ground"]
    i = parse("darken the sky slightly while leaving the mountains alone")
    assert [t.region for t in i.targets] == ["sky"] and i.protected == ["ground"]


@pytest.mark.parametrize("text", ["take away the changes you made", "restore it to how it was"])
def test_more_undo_phrasings(text):
    assert parse(text).kind == "undo"


def test_comparatives_that_name_the_attribute():
    assert edits("match the brightness of the face to the background") == [("face", "brightness", "set", "background")]
    assert edits("make the sky's contrast match the water's") == [("sky", "contrast", "set", "water")]
    assert len(edits("the sky should match the water")) == 3  # no attribute named: light and colour


def test_improving_the_colours_is_a_fix_but_boosting_them_is_an_edit():
    assert parse("improve the colours").kind == "weak-optimize"
    assert edits("boost the colours") == [("global", "colorfulness", "up", pytest.approx(0.2))]


def test_dev_intents_3_split_is_in_the_corpus_and_parsed():
    cases = [c for c in load_cases() if c["split"] == "dev-intents-3"]
    assert len(cases) >= 120
    assert {c["category"] for c in cases} >= {"no-op", "protection", "question", "undo", "hedge", "comparative", "mixed"}
    assert evaluate(parse, cases)["all"]["exact"] == 1.0


@pytest.mark.parametrize("text,kind,protected,targets", [
    ("it's warm and cozy, keep that", "no-op", [], []),
    ("it is dark and moody, I love it", "no-op", [], []),
    ("it is warm and cozy, keep that, just brighten the faces a bit", "strong", [], [("face", "brightness")]),
    ("the snow is white, keep it that way and darken the sky", "strong", ["snow"], [("sky", "brightness")]),
    ("the water is blue enough, warm up the sand", "strong", ["water"], [("ground", "temperature")]),
])
def test_a_description_the_person_keeps_is_no_complaint(text, kind, protected, targets):
    i = parse(text)
    assert (i.kind, i.protected, [(t.region, t.attribute) for t in i.targets]) == (kind, protected, targets)
    assert all(t.shift != -0.3 for t in i.targets)  # "keep it that way": "way" is not a size here
