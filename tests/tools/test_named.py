"""Region phrases that are not object classes: parsing, spatial masks, picking instances."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.engine.schema.regions import Region
from pertouch.tools.named import parse, phrase_name, pick, spatial_mask


@pytest.mark.parametrize("text, kind, label, position, count", [
    ("the man on the left", "instance", "person", "left", None),
    ("the woman in the middle", "instance", "person", "middle", None),
    ("the person on the right", "instance", "person", "right", None),
    ("the two people in front", "instance", "person", "front", 2),
    ("the largest face", "instance", "face", "largest", None),
    ("both faces", "instance", "face", None, 0),
    ("background", "background", None, None, None),
    ("the blurry background", "background", None, None, None),
    ("the main subject", "subject", None, None, None),
    ("foreground", "subject", None, None, None),
])
def test_parse_instances_and_subject(text, kind, label, position, count):
    p = parse(text)
    assert p is not None and (p.kind, p.label, p.position, p.count) == (kind, label, position, count)


@pytest.mark.parametrize("text, spatial", [
    ("top half", "top half"), ("the lower half", "bottom half"), ("left side", "left half"),
    ("the corners", "corners"), ("edges of the photo", "edges"),
])
def test_parse_spatial(text, spatial):
    p = parse(text)
    assert p.kind == "spatial" and p.spatial == spatial and phrase_name(p) == spatial


def test_parse_complement_and_plain_words():
    p = parse("everything except the sky")
    assert (p.kind, p.exclude) == ("except", "sky")
    assert parse("sky") is None and parse("trees") is None and parse("the flower") is None
    assert parse("people") is None  # plain "people" is the label, found as the union of instances


def test_spatial_masks_cover_what_they_say():
    top = spatial_mask("top half", (100, 200))
    assert top.shape == (100, 200) and top.dtype == np.float32
    assert top[:40].min() > 0.99 and top[60:].max() < 0.01
    left = spatial_mask("left half", (100, 200))
    assert left[:, :90].min() > 0.99 and left[:, 110:].max() < 0.01
    corners = spatial_mask("corners", (100, 100))
    assert corners[0, 0] > 0.9 and corners[50, 50] == 0.0 and corners[50, 0] < corners[0, 0]
    edges = spatial_mask("edges", (100, 100))
    assert edges[0, 50] > 0.9 and edges[50, 50] == 0.0


def _blob(x0, y0, x1, y1, shape=(100, 300)):
    m = np.zeros(shape, np.float32)
    m[y0:y1, x0:x1] = 1
    return m


def test_pick_by_position_and_count():
    a = Region("person_1", _blob(10, 30, 60, 80))    # left, mid-size
    b = Region("person_2", _blob(120, 10, 170, 99))  # middle, largest, nearest (lowest)
    c = Region("person_3", _blob(240, 40, 270, 70))  # right, smallest, far
    people = [a, b, c]
    assert pick(people, "left", None) == [a]
    assert pick(people, "right", None) == [c]
    assert pick(people, "middle", None) == [b]
    assert pick(people, "largest", None) == [b]
    assert pick(people, "smallest", None) == [c]
    assert pick(people, "front", 2) == [b, a]
    assert pick(people, None, 0) == people


@pytest.mark.parametrize("text", ["the wall behind them", "the table in front of them", "the sky above her"])
def test_a_thing_named_before_the_people_is_that_thing(text):
    assert parse(text) is None  # not "the back person": finding goes on to the wall/table/sky
