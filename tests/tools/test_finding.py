"""Scene.find on real photos: instances, subject/background, parts, spatial, complements,
the main-subject fallback, and honest refusals."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.core.errors import NotFoundError
from pertouch.tools.perception import perceive


@pytest.fixture(scope="module")
def two_astronauts():
    from skimage import data

    a = data.astronaut()
    return np.ascontiguousarray(np.concatenate([a, a[:, ::-1]], axis=1))


def test_left_and_right_person_are_different_people(two_astronauts):
    scene = perceive(two_astronauts, cache=False)
    people = scene.instances("person")
    assert len(people) == 2
    left, right = scene.find("the man on the left"), scene.find("person on the right")
    w = two_astronauts.shape[1]
    lm, rm = left.mask > 0.5, right.mask > 0.5
    assert lm[:, : w // 2].sum() > 0.95 * lm.sum()
    assert rm[:, w // 2:].sum() > 0.95 * rm.sum()
    assert "person_1" in left.note and "2 people" in left.note
    both = scene.find("everyone")
    assert (both.mask > 0.5).sum() >= lm.sum() + rm.sum() - 10
    with pytest.raises(NotFoundError, match="no person in the middle"):
        scene.find("the woman in the middle")
    with pytest.raises(NotFoundError, match="asked for 3 people"):
        scene.find("the three people in front")


def test_faces_are_all_found_and_the_largest_is_one(two_astronauts):
    scene = perceive(two_astronauts, cache=False)
    faces = scene.instances("face")
    assert len(faces) == 2
    union = scene.find("faces")
    assert union.note == "all 2 faces"
    one = scene.find("the largest face")
    assert 0.3 < one.area_fraction / union.area_fraction < 0.7


def test_background_is_the_complement_of_the_people(astronaut):
    scene = perceive(astronaut, cache=False)
    sub, bg = scene.find("subject"), scene.find("the background")
    assert np.allclose(sub.mask + bg.mask, 1.0, atol=1e-4)
    h, w = astronaut.shape[:2]
    assert bg.mask[h // 10, w - w // 10] > 0.9      # the shuttle model top right: background
    assert sub.mask[int(0.7 * h), int(0.3 * w)] > 0.9  # her suit: subject
    assert "the 1 person" not in bg.note and "person" in bg.note


def test_face_parts_sit_inside_the_face(astronaut):
    scene = perceive(astronaut, cache=False)
    face = scene.find("face").mask > 0.5
    for part in ("eyes", "lips", "face_skin"):
        m = scene.find(part).mask > 0.5
        assert m.any() and (m & face).sum() > 0.9 * m.sum(), part
    lips, eyes = scene.find("lips").mask > 0.5, scene.find("eyes").mask > 0.5
    assert np.nonzero(lips)[0].mean() > np.nonzero(eyes)[0].mean()  # lips below the eyes


def test_spatial_parts_and_complement(astronaut):
    scene = perceive(astronaut, cache=False)
    top = scene.find("top half")
    assert top.mask[:200].min() > 0.99 and top.mask[320:].max() < 0.01
    rest = scene.find("everything except the people")
    person = scene.find("person")
    assert np.allclose(rest.mask, 1 - person.mask, atol=1e-4)
    with pytest.raises(NotFoundError, match="'the rest' needs"):
        scene.find("the rest")


def test_unknown_thing_is_the_main_subject_and_says_so():
    from pertouch.evals.photos import load_photo

    scene = perceive(load_photo("sklearn:flower.jpg"), cache=False)
    r = scene.find("the flower")
    assert "main subject" in r.note and r.confidence < 0.7
    h, w = r.mask.shape
    assert r.mask[h // 2, w // 2] > 0.5 and r.mask[5, 5] < 0.5  # the dahlia, not the leaves in the corner


def test_unknown_thing_without_a_clear_subject_is_refused_with_pointing_help():
    from pertouch.evals.photos import load_photo

    scene = perceive(load_photo("sklearn:china.jpg"), cache=False)
    with pytest.raises(NotFoundError) as err:
        scene.find("the bus")
    assert "--box" in err.value.hint and "--point" in err.value.hint and "sky" in err.value.hint


def test_no_person_no_face(coffee):
    scene = perceive(coffee, cache=False)
    assert scene.instances("person") == [] and scene.instances("face") == []
    with pytest.raises(NotFoundError, match="no face"):
        scene.find("face")
    sub = scene.find("subject")  # the cup is the main subject
    h, w = sub.mask.shape
    assert sub.mask[int(0.35 * h), int(0.45 * w)] > 0.5
