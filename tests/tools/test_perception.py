"""perceive(): full-resolution labelled regions, levels, caching, find, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.tools.perception_cache import PerceptionCache, process_perception_cache
from pertouch.tools.scene_cache import cache_file
from pertouch.engine.schema.attributes import REGISTRY
from pertouch.core.errors import InputError, NotFoundError
from pertouch.tools import perception as pc


@pytest.fixture(scope="module")
def rocket():
    from skimage import data

    return data.rocket()[::2, ::2].copy()


def test_scene_has_unique_full_resolution_regions_with_levels(rocket):
    scene = pc.perceive(rocket)
    names = [r.name for r in scene.regions]
    assert len(names) == len(set(names)) >= 2
    for r in scene.regions:
        assert r.mask.shape == rocket.shape[:2] and r.mask.dtype == np.float32
        assert set(r.levels) == set(REGISTRY)
        assert -1.0 <= r.levels["brightness"] <= 1.0
    assert set(scene.levels) == set(REGISTRY)
    assert "sky" in scene.tags and "sky" in scene.summary
    data = scene.to_json()
    assert data["regions"][0]["bbox"] and data["hash"] == scene.content_hash


def test_masks_follow_edges_at_full_resolution():
    """A sharp vertical edge in a big photo stays sharp after upsampling (not proxy-blocky)."""
    img = np.zeros((1200, 1800, 3), np.uint8)
    img[:, :901] = (70, 130, 230)
    img[:, 901:] = (40, 120, 30)
    img[:, 901:] += np.random.default_rng(0).integers(0, 60, (1200, 899, 1), dtype=np.uint8)
    scene = pc.perceive(img)
    m = max(scene.regions, key=lambda r: r.mask[:, :800].mean()).mask
    assert m[:, 880].mean() > 0.8 and m[:, 925].mean() < 0.2


def test_second_call_is_cached_in_memory_and_on_disk(rocket, tmp_path):
    mine = PerceptionCache()
    first = pc.perceive(rocket, cache=mine)
    assert pc.perceive(rocket, cache=mine) is first and first.cache is mine
    assert list(mine.scenes.values()) == [first] and set(mine.segmenters) == {"builtin:"}
    files = list(cache_file(first.content_hash, "builtin").parent.glob("*.npz"))
    assert files
    mine.clear()
    assert not (mine.scenes or mine.segmenters)
    again = pc.perceive(rocket, cache=mine)
    assert again is not first
    assert [(r.name, r.label) for r in again.regions] == [(r.name, r.label) for r in first.regions]
    for a, b in zip(again.regions, first.regions):
        assert np.abs(a.mask - b.mask).mean() < 0.02


def test_without_a_cache_the_process_one_is_used_and_false_keeps_nothing(rocket):
    process = process_perception_cache()
    process.clear()
    first = pc.perceive(rocket)
    assert pc.perceive(rocket) is first and first in process.scenes.values() and first.cache is process
    fresh = pc.perceive(rocket, cache=False)
    assert fresh is not first and fresh.cache is None and len(process.scenes) == 1


def test_find_sky_and_not_found(rocket):
    from skimage import data

    sky = pc.find_region(rocket, "the sky")
    assert sky.label == "sky" and sky.mask[:5].mean() > 0.9
    assert pc.find(rocket, "sky").shape == rocket.shape[:2]
    coffee = data.coffee()[::2, ::2].copy()
    with pytest.raises(NotFoundError, match="no sky found in this photo"):
        pc.find(coffee, "sky")
    with pytest.raises(NotFoundError, match="no face found"):
        pc.find(coffee, "face")
    eagle = pc.find_region(rocket, "the eagle")  # unknown word: the main subject, and it says so
    assert "main subject" in eagle.note and eagle.confidence < 0.7


def test_person_parts_on_astronaut():
    from skimage import data

    img = data.astronaut()
    scene = pc.perceive(img)
    person = scene.find("person")
    face = scene.find("her face")
    hair = scene.find("hair")
    assert face.area_fraction < person.area_fraction
    assert (face.mask * person.mask).sum() > 0.8 * face.mask.sum()
    fx0, fy0, fx1, fy1 = face.bbox
    assert 150 < (fx0 + fx1) / 2 < 300 and (fy0 + fy1) / 2 < 200
    assert hair.bbox[1] <= fy0 + 10


@pytest.mark.parametrize("shape", [(1, 1, 3), (8, 8, 3), (8, 8), (8, 8, 4)])
def test_tiny_images_give_one_region(shape):
    img = np.full(shape, 200, np.uint8)
    scene = pc.perceive(img)
    assert len(scene.regions) == 1
    assert scene.regions[0].mask.shape == shape[:2]
    assert scene.regions[0].confidence <= 0.3


@pytest.mark.parametrize("conv", [
    lambda x: np.dot(x[..., :3], [0.3, 0.6, 0.1]).astype(np.uint8),           # grey
    lambda x: np.dstack([x, np.full(x.shape[:2], 255, np.uint8)]),            # RGBA
    lambda x: x.astype(np.uint16) * 257,                                        # 16-bit
    lambda x: x.astype(np.float32) / 255,                                       # float
])
def test_other_pixel_formats(rocket, conv):
    scene = pc.perceive(conv(rocket))
    assert scene.find("sky").mask.shape == rocket.shape[:2]


def test_huge_and_malformed_input_rejected():
    huge = np.broadcast_to(np.zeros((1, 1, 3), np.uint8), (10_001, 10_001, 3))
    with pytest.raises(InputError, match="too large"):
        pc.perceive(huge)
    with pytest.raises(InputError):
        pc.perceive(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(InputError):
        pc.perceive(np.zeros((0, 5, 3), np.uint8))


@pytest.mark.parametrize("case,goals", [("china", {"sky": 0.85, "vegetation": 0.70}), ("camera", {"person": 0.75, "sky": 0.85})])
def test_builtin_reaches_the_iou_goals_on_labelled_photos(case, goals):
    from pertouch.evals.segmentation import evaluate_case, load_cases

    result = evaluate_case(next(c for c in load_cases() if c.name == case))
    for label, goal in goals.items():
        assert result["labels"][label]["iou"] >= goal, (label, result["labels"][label])


def test_disk_cache_key_changes_with_the_perception_code(monkeypatch):
    from pertouch.tools import scene_cache

    before = cache_file("abc", "builtin")
    assert cache_file("abc", "builtin") == before and cache_file("abc", "sam:/x.pth") != before
    scene_cache.code_fingerprint.cache_clear()
    monkeypatch.setattr(scene_cache, "code_fingerprint", lambda: "another-release")
    assert cache_file("abc", "builtin") != before


def test_disk_hit_runs_no_model_and_gives_the_same_people(astronaut, monkeypatch):
    """The disk cache keeps the detections: a new process (memory cleared) perceives a
    known photo without running the face and pose models, and finds the same people."""
    from pertouch.tools import litert

    process_perception_cache().clear()
    first = pc.perceive(astronaut)
    assert first.detections.people and first.detections.faces
    process_perception_cache().clear()
    calls = []
    real_run = litert.LiteModel.run
    monkeypatch.setattr(litert.LiteModel, "run", lambda self, *a: calls.append(self.name) or real_run(self, *a))
    again = pc.perceive(astronaut)
    assert again is not first and not any(n != "selfie_segmentation.tflite" for n in calls), calls
    for p, q in zip(first.detections.people, again.detections.people):
        assert p.box == q.box and np.array_equal(p.mask, q.mask)
    assert [f.box for f in first.detections.faces] == [f.box for f in again.detections.faces]
    assert np.array_equal(again.find("face").mask, first.find("face").mask)
