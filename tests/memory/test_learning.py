"""Memory demonstrably learns: warm, bright landscapes carry over to an unseen landscape
for that user only, and not to a portrait (issue 6, "shown to work")."""

from __future__ import annotations

from importlib import resources

import pytest

from pertouch.memory.cases import check, load_cases, run_case
from pertouch.memory.descriptors import image_descriptor
from pertouch.memory.records import MemoryRecord, content_hash

from .conftest import LANDSCAPE_REGIONS, PORTRAIT_REGIONS

WARM_BRIGHT = {"global": {"temperature": 0.5, "brightness": 0.4}, "sky": {"temperature": 0.35, "brightness": 0.5}}
DESCRIPTIONS = ["a rocket on its launch pad under a clear blue sky, pine trees in front",
                "outdoor landscape with blue sky and a forest on the horizon",
                "sunny landscape, trees under a wide sky"]
MEADOW = "a green meadow under a blue sky with clouds"
ASTRONAUT = "portrait of a woman in a white space suit in front of a flag"


def _teach(store, landscapes, user="ana"):
    for img, desc in zip(landscapes[:3], DESCRIPTIONS):
        store.remember(MemoryRecord(user=user, scene_description=desc, instruction="make it nice",
                                    image_descriptor=image_descriptor(img, LANDSCAPE_REGIONS),
                                    levels=WARM_BRIGHT, rating=1.0, image_hash=content_hash(img)))


def test_learned_preference_transfers_to_similar_scenes_only(store, landscapes, portrait):
    _teach(store, landscapes)
    meadow = image_descriptor(landscapes[3], {"sky": 0.5, "grass": 0.5})
    rec = store.recall("ana", MEADOW, meadow)
    g = rec.levels_for("global")
    assert g["temperature"] > 0.2 and g["brightness"] > 0.2  # warmer and brighter than typical (0)
    assert len(rec.evidence) == 3 and all(e.similarity >= 0.4 for e in rec.evidence)
    assert rec.levels_for("sky")["brightness"] == pytest.approx(0.5)
    assert rec.levels_for("clouds")["brightness"] == pytest.approx(0.5)  # same region group as sky
    # a fresh user gets nothing
    assert store.recall("newcomer", MEADOW, meadow).is_empty
    # a portrait does not inherit the landscape taste (description AND descriptor differ)
    port = store.recall("ana", ASTRONAUT, image_descriptor(portrait, PORTRAIT_REGIONS))
    assert port.is_empty and port.evidence == []


def test_descriptor_alone_recognises_the_scene(store, landscapes, portrait):
    """With no description at all, the photo's descriptor still finds its look-alikes."""
    _teach(store, landscapes)
    assert not store.recall("ana", "", image_descriptor(landscapes[3], {"sky": 0.5, "grass": 0.5})).is_empty
    assert store.recall("ana", "", image_descriptor(portrait, PORTRAIT_REGIONS)).is_empty


def test_feedback_shifts_the_learned_preference(store, landscapes):
    _teach(store, landscapes)
    meadow = image_descriptor(landscapes[3], {"sky": 0.5, "grass": 0.5})
    before = store.recall("ana", MEADOW, meadow).levels_for("global")["temperature"]
    store.add_feedback("ana", "too warm", scene=DESCRIPTIONS[1],
                       descriptor=image_descriptor(landscapes[1], LANDSCAPE_REGIONS))
    after = store.recall("ana", MEADOW, meadow)
    assert after.levels_for("global")["temperature"] < before - 0.05
    assert any("too warm" in e.summary for e in after.evidence)


def test_memory_eval_case_passes(store):
    path = resources.files("pertouch.evals").joinpath("data/memory_cases.jsonl")
    cases = load_cases(str(path))
    assert cases, "evals/data/memory_cases.jsonl has no cases"
    for case in cases:
        assert run_case(store, case) == []


def test_case_checker_can_fail():
    from pertouch.memory.base import Recall

    rec = Recall(user="x", preferences={"global": {"temperature": 0.1}})
    assert check(rec, {"global.temperature": ">0.2"}) and check(rec, {"global.temperature": "empty"})
    assert not check(rec, {"global.temperature": "<0.2", "global.brightness": "empty"})
