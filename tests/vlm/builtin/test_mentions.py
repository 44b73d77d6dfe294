"""The clause reader's steps (graph/vlm/builtin/mentions.py): one clause → regions and mentions in order."""

from __future__ import annotations

import pytest

from pertouch.graph.vlm.builtin.clauses import split_clauses
from pertouch.graph.vlm.builtin.mentions import Reading, mentions
from pertouch.graph.vlm.builtin.tokens import tag, tokenize


def read(text: str, clause: int = 0) -> list[tuple]:
    items, _ = tag(tokenize(text))
    seq = mentions(split_clauses(items)[clause])
    return [(k, v) if k != "M" else (k, (v.attribute, v.direction, v.mag_word, v.number)) for k, v in seq]


@pytest.mark.parametrize("text, expected", [
    # a size word waits for the attribute after it
    ("a bit warmer sky", [("M", ("temperature", "up", "a bit", None)), ("R", "sky")]),
    # "too" reverses the adjective's way
    ("the sky is too bright", [("R", "sky"), ("M", ("brightness", "down", None, None))]),
    # a verb's direction waits for the attribute; a percentage becomes a size
    ("increase the contrast by 20%", [("M", ("contrast", "up", None, ("size", pytest.approx(0.2))))]),
    # "… and make …" starts a new pairing
    ("brighten the sky and make the grass greener",
     [("M", ("brightness", "up", None, None)), ("R", "sky"), ("B", None), ("R", "vegetation"),
      ("M", ("tint", "up", None, None))]),
])
def test_clauses_read_into_regions_and_mentions(text, expected):
    assert read(text) == expected


def test_colour_words_after_an_out_of_scope_object_are_not_read():
    assert [k for k, _ in read("change his shirt to red")] == []


def test_an_attribute_is_found_past_comparatives_and_size_words():
    items, _ = tag(tokenize("a bit more warmth"))
    r = Reading(items)
    assert r.is_attr(0) and r.is_attr(1) and not Reading(tag(tokenize("the sky"))[0]).is_attr(0)
