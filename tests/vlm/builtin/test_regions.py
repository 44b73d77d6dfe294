"""The builtin parser keeps instance and spatial region phrases whole."""

from __future__ import annotations

import pytest

from pertouch.graph.vlm.builtin.parser import parse_instruction


@pytest.mark.parametrize("text, region", [
    ("brighten the man on the left a little", "left person"),
    ("make the woman in the middle warmer", "middle person"),
    ("the person on the right is too dark", "right person"),
    ("brighten the two people in front", "front 2 people"),
    ("brighten the largest face", "largest face"),
    ("darken the top half", "top half"),
    ("darken the corners", "corners"),
    ("give the left side more contrast", "left half"),
    ("brighten the faces a bit", "face"),
    ("cool down the background a little", "background"),
])
def test_region_phrase_is_the_target(text, region):
    intent = parse_instruction(text, use_embeddings=False)
    assert intent.kind == "strong"
    assert [t.region for t in intent.targets][0] == region


def test_two_regions_in_one_instruction():
    intent = parse_instruction("make the person on the right brighter and the sky bluer", use_embeddings=False)
    assert [(t.region, t.attribute) for t in intent.targets] == [("right person", "brightness"), ("sky", "temperature")]


def test_protected_background_with_an_edit():
    intent = parse_instruction("make the flower more vivid and leave the background alone", use_embeddings=False)
    assert [(t.region, t.attribute, t.direction) for t in intent.targets] == [("flower", "colorfulness", "up")]
    assert intent.protected == ["background"]


@pytest.mark.parametrize("text", ["brighten the selection a bit", "make the boxed area warmer",
                                  "the area I pointed at is too dark"])
def test_the_pointed_region_is_the_selection(text):
    intent = parse_instruction(text, use_embeddings=False)
    assert [t.region for t in intent.targets] == ["selection"]


def test_a_region_name_the_lexicon_does_not_know():
    from pertouch.graph.vlm.registry import get_vlm
    from pertouch.graph.vlm.schemas import SceneInfo

    scene = SceneInfo.from_regions([{"name": "petal", "label": "petal", "confidence": 0.9, "area": 0.1},
                                    {"name": "sky", "label": "sky"}])
    intent = get_vlm("builtin").classify("make the petal more vivid and the sky bluer", scene)
    assert [(t.region, t.attribute) for t in intent.targets] == [("petal", "colorfulness"), ("sky", "temperature")]
    # without the scene the word is unknown
    assert "petal" not in [t.region for t in parse_instruction("make the petal more vivid", use_embeddings=False).targets]


def test_a_described_background_is_not_an_edit_and_busy_is_not_a_bus():
    intent = parse_instruction("darken the blurry background so the two of them stand out", use_embeddings=False)
    assert [(t.region, t.attribute, t.direction) for t in intent.targets] == [("background", "brightness", "down")]
    intent = parse_instruction("the background is too busy, blur it", use_embeddings=False)
    assert [(t.region, t.attribute) for t in intent.targets] == [("background", "clarity")]
