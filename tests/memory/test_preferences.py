"""Preference math and feedback parsing."""

from __future__ import annotations

import pytest

from pertouch.memory.base import Recall
from pertouch.memory.inmemory import InMemoryMemory
from pertouch.memory.preferences import HALF_LIFE_DAYS, aggregate, apply_shifts, parse_feedback, recency
from pertouch.memory.records import FeedbackEffect, MemoryRecord

DAY = 86400.0
NOW = 1_800_000_000.0


def _r(levels, rating=1.0, age_days=0.0, **kw):
    return MemoryRecord(user="ana", scene_description="x", levels=levels, rating=rating,
                        timestamp=NOW - age_days * DAY, **kw)


@pytest.mark.parametrize("text, shifts", [
    ("too warm", {"global": {"temperature": -0.2}}),
    ("way too cold", {"global": {"temperature": 0.4}}),
    ("the sky is a bit too dark", {"sky": {"brightness": 0.1}}),
    ("not bright enough", {"global": {"brightness": 0.2}}),
    ("less saturation on the face", {"face": {"colorfulness": -0.2}}),
    ("too much contrast", {"global": {"contrast": -0.2}}),
    ("warmer", {"global": {"temperature": 0.2}}),
    ("nice but the sky is too blue, and faces too dark",
     {"sky": {"temperature": 0.2}, "face": {"brightness": 0.2}}),
])
def test_parse_shifts(text, shifts):
    assert parse_feedback(text).shifts == shifts


@pytest.mark.parametrize("text, locks", [
    ("never touch skin tones", {"skin": ["*"]}),
    ("Don't change the sky", {"sky": ["*"]}),
    ("leave the faces alone", {"face": ["*"]}),
    ("never touch the brightness of the sky", {"sky": ["brightness"]}),
])
def test_parse_locks(text, locks):
    assert parse_feedback(text).locks == locks


@pytest.mark.parametrize("text, rating", [("I like it", 1.0), ("love this", 1.0), ("I don't like it", -1.0),
                                          ("ugly", -1.0), ("good but too warm", None), ("hmm", None)])
def test_parse_rating(text, rating):
    assert parse_feedback(text).rating == rating


def test_weighted_mean_by_similarity():
    rec = aggregate("ana", [(_r({"sky": {"temperature": 0.8}}), 1.0), (_r({"sky": {"temperature": 0.0}}), 0.5)], now=NOW)
    # weights 1.0 and 0.25 (similarity squared)
    assert rec.preferences["sky"]["temperature"] == pytest.approx(0.8 * 1 / 1.25, abs=1e-3)
    assert rec.weights["sky"]["temperature"] == pytest.approx(1.25)
    assert [e.similarity for e in rec.evidence] == [1.0, 0.5]


def test_recency_half_life():
    assert recency(NOW - HALF_LIFE_DAYS * DAY, NOW) == pytest.approx(0.5)
    assert recency(NOW + 10, NOW) == 1.0
    old, new = _r({"global": {"brightness": -0.6}}, age_days=2 * HALF_LIFE_DAYS), _r({"global": {"brightness": 0.6}})
    pref = aggregate("ana", [(old, 1.0), (new, 1.0)], now=NOW).preferences["global"]["brightness"]
    assert pref == pytest.approx((0.25 * -0.6 + 0.6) / 1.25, abs=1e-3)


def test_rejected_results_push_away():
    rec = aggregate("ana", [(_r({"global": {"temperature": 0.6}}, rating=-1.0), 1.0)], now=NOW)
    assert rec.preferences["global"]["temperature"] < 0
    both = aggregate("ana", [(_r({"global": {"temperature": 0.6}}, rating=-1.0), 1.0),
                             (_r({"global": {"temperature": 0.3}}), 1.0)], now=NOW)
    assert both.preferences["global"]["temperature"] < 0.3


def test_feedback_shift_without_levels_nudges_and_accumulates():
    fb = MemoryRecord(user="ana", kind="feedback", feedback="too warm", rating=0.0, timestamp=NOW,
                      effect=FeedbackEffect(shifts={"global": {"temperature": -0.2}}))
    base = _r({"global": {"temperature": 0.5}})
    one = aggregate("ana", [(base, 1.0), (fb, 1.0)], now=NOW).preferences["global"]["temperature"]
    two = aggregate("ana", [(base, 1.0), (fb, 1.0), (fb.model_copy(update={"id": "b"}), 1.0)],
                    now=NOW).preferences["global"]["temperature"]
    assert one == pytest.approx(0.3) and two == pytest.approx(0.1)
    many = [(fb.model_copy(update={"id": str(i)}), 1.0) for i in range(10)]
    capped = aggregate("ana", [(base, 1.0), *many], now=NOW).preferences["global"]["temperature"]
    assert capped == pytest.approx(0.5 - 0.6)  # SHIFT_CAP
    alone = aggregate("ana", [(fb, 1.0)], now=NOW).preferences
    assert alone == {"global": {"temperature": -0.2}}


def test_feedback_about_a_result_becomes_a_corrected_target():
    mem = InMemoryMemory()
    rid = mem.remember(MemoryRecord(user="ana", scene_description="a lake at dusk",
                                    levels={"sky": {"temperature": 0.6, "brightness": 0.2}}))
    mem.add_feedback("ana", "too warm", about=rid)
    rec = mem.recall("ana", "a lake at dusk")
    # the corrected record (0.4) counts FEEDBACK_BOOST=2× against the original (0.6)
    assert rec.preferences["sky"]["temperature"] == pytest.approx((0.6 + 2 * 0.4) / 3, abs=1e-3)
    assert rec.preferences["sky"]["brightness"] == pytest.approx(0.2)
    with pytest.raises(Exception):
        mem.add_feedback("bob", "too warm", about=rid)  # not bob's memory


def test_unscoped_feedback_applies_everywhere_scoped_only_nearby():
    mem = InMemoryMemory()
    mem.add_feedback("ana", "never touch skin tones")
    mem.add_feedback("ana", "too dark", scene="a dim jazz club at night")
    portrait = mem.recall("ana", "portrait of a woman in a garden")
    assert portrait.locked("face") == {"*"} and portrait.locked("person") == set()
    assert portrait.locked("skin") == {"*"}
    assert "global" not in portrait.preferences
    club = mem.recall("ana", "a dark jazz club at night with musicians")
    assert club.preferences["global"]["brightness"] > 0


def test_levels_for_falls_back_to_group_then_global():
    rec = Recall(user="ana", preferences={"tree": {"colorfulness": 0.3}, "global": {"brightness": 0.2}})
    assert rec.levels_for("tree") == {"colorfulness": 0.3}
    assert rec.levels_for("forest") == {"colorfulness": 0.3}
    assert rec.levels_for("person") == {"brightness": 0.2}
    assert Recall(user="x").levels_for("sky") == {}


def test_apply_shifts_clips_and_spreads_global():
    out = apply_shifts({"sky": {"temperature": 0.9}, "trees": {}}, {"global": {"temperature": 0.4}})
    assert out == {"sky": {"temperature": 1.0}, "trees": {"temperature": 0.4}}


def test_record_validation():
    with pytest.raises(Exception):
        MemoryRecord(user=" ", levels={})
    with pytest.raises(Exception):
        MemoryRecord(user="a", levels={"sky": {"brightness": 1.6}})  # past the extended scale (±1.5)
    with pytest.raises(Exception):
        MemoryRecord(user="a", levels={"sky": {"sparkle": 0.1}})
    r = MemoryRecord(user="a", levels={"Sky": {"exposure": 0.1}}, tags="Outdoor, Lake")
    assert r.levels == {"sky": {"brightness": 0.1}} and r.tags == ["lake", "outdoor"]


def test_targets_for_a_photos_regions():
    rec = Recall(user="ana", preferences={"sky": {"brightness": 0.4, "temperature": 0.2},
                                          "global": {"temperature": 0.3}},
                 weights={"sky": {"brightness": 1.0, "temperature": 1.0}, "global": {"temperature": 0.8}},
                 locks={"sky": ["temperature"], "skin": ["*"]})
    assert rec.targets(["sky", "face", "trees"]) == {"sky": {"brightness": 0.4}, "trees": {"temperature": 0.3},
                                                     "global": {"temperature": 0.3}}
    assert rec.targets(["sky"], min_weight=0.9) == {"sky": {"brightness": 0.4}}
    assert Recall(user="x").targets(["sky"]) == {}


def test_docstring_examples():
    import doctest

    from pertouch.memory import base, descriptors, preferences, records

    for module in (base, descriptors, preferences, records):
        assert doctest.testmod(module).failed == 0, module.__name__
