"""Faces (tools/faces.py): detection and part masks on real photos (astronaut, coffee,
zidane); bad input; the names it re-exports."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.core.errors import InputError
from pertouch.tools import faces as fc


@pytest.fixture(scope="module")
def astronaut():
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="module")
def astronaut_face(astronaut):
    found = fc.detect_faces(astronaut)
    assert len(found) == 1
    return found[0]


# --- detection on photos ---------------------------------------------------------------

def test_one_face_on_astronaut_with_landmarks(astronaut_face):
    f = astronaut_face
    x0, y0, x1, y1 = f.box
    assert x0 < 195 and y0 < 90 and x1 > 255 and y1 > 165  # holds eyes, nose, mouth, chin
    assert x0 > 150 and y0 > 40 and x1 < 300 and y1 < 210  # and not much else
    assert f.score >= 0.5 and f.height == pytest.approx(y1 - y0)
    assert f.keypoints.shape == (6, 2) and f.keypoints.dtype == np.float32
    assert f.keypoints[0, 0] < f.keypoints[1, 0]  # her right eye is on the image's left
    assert f.landmarks.shape == (468, 3) and f.landmarks.dtype == np.float32


def test_mirrored_astronaut_gives_the_mirrored_box(astronaut, astronaut_face):
    mirrored = fc.detect_faces(np.ascontiguousarray(astronaut[:, ::-1]))
    assert len(mirrored) == 1
    x0, y0, x1, y1 = astronaut_face.box
    assert np.allclose(mirrored[0].box, (512 - x1, y0, 512 - x0, y1), atol=8)


def test_no_face_on_coffee():
    from skimage import data

    assert fc.detect_faces(data.coffee()) == []


def test_two_faces_on_zidane_one_turned():
    from pertouch.evals.photos import load_photo

    try:
        img = load_photo("wheel:ultralytics==8.4.190:ultralytics/assets/zidane.jpg")
    except InputError as e:
        pytest.skip(f"zidane.jpg could not be fetched from the package registry: {e}")
    found = fc.detect_faces(img)
    assert len(found) == 2
    assert found[0].box[0] < found[1].box[0]  # left to right
    for f in found:
        assert 80 < f.height < 250
        assert 0.5 <= f.score <= 1.0


def test_detector_only_mode_returns_no_landmarks(astronaut):
    found = fc.detect_faces(astronaut, landmarks=False)
    assert found and all(f.landmarks is None for f in found)


def test_bad_input_is_an_input_error():
    with pytest.raises(InputError):
        fc.detect_faces(np.zeros((64, 64, 3), np.float32))
    with pytest.raises(InputError):
        fc.detect_faces(np.zeros((64, 64), np.uint8))
    assert fc.detect_faces(np.zeros((8, 8, 3), np.uint8)) == []


# --- part masks ------------------------------------------------------------------------

def test_face_mask_covers_the_cheeks_and_not_the_hair(astronaut, astronaut_face):
    m = fc.face_part_mask(astronaut.shape, astronaut_face, "face")
    assert m.shape == astronaut.shape[:2] and m.dtype == np.float32
    assert 0.0 <= m.min() and m.max() <= 1.0
    for x, y in [(195, 140), (255, 140), (225, 100), (225, 170)]:  # cheeks, forehead, chin
        assert m[y, x] > 0.9, (x, y)
    for x, y in [(225, 45), (200, 50), (170, 120), (285, 120)]:  # hair above, hair at the sides
        assert m[y, x] == 0.0, (x, y)
    soft = (m > 0.02) & (m < 0.98)
    assert soft.sum() > 0 and soft.sum() < 0.15 * (m > 0.5).sum()  # soft, but only at the edge


def test_parts_sit_where_they_should(astronaut, astronaut_face):
    f = astronaut_face
    shape = astronaut.shape
    nose_y = f.keypoints[2, 1]
    lips = fc.face_part_mask(shape, f, "lips") > 0.5
    eyes = fc.face_part_mask(shape, f, "eyes") > 0.5
    brows = fc.face_part_mask(shape, f, "eyebrows") > 0.5
    skin = fc.face_part_mask(shape, f, "face_skin")
    face = fc.face_part_mask(shape, f, "face")
    assert lips.any() and np.nonzero(lips)[0].min() > nose_y  # the lips lie below the nose
    assert eyes.any() and np.nonzero(eyes)[0].max() < nose_y
    assert brows.any() and np.nonzero(brows)[0].mean() < np.nonzero(eyes)[0].mean()
    for part in (lips, eyes, brows):
        assert skin[part].mean() < 0.2  # skin leaves them out …
        assert face[part].mean() > 0.95  # … the face holds them
    assert (np.nonzero(eyes)[1] < f.keypoints[2, 0]).any() and (np.nonzero(eyes)[1] > f.keypoints[2, 0]).any()


def test_union_over_faces_is_the_max_of_each(astronaut, astronaut_face):
    other = fc.Face(astronaut_face.box, 0.9, astronaut_face.keypoints + (200, 0),
                    astronaut_face.landmarks + (200, 0, 0))
    both = fc.face_parts_mask(astronaut.shape, [astronaut_face, other], "face")
    one = fc.face_part_mask(astronaut.shape, astronaut_face, "face")
    two = fc.face_part_mask(astronaut.shape, other, "face")
    assert np.allclose(both, np.maximum(one, two))
    assert not fc.face_parts_mask(astronaut.shape, [], "eyes").any()


def test_without_landmarks_the_face_is_an_ellipse_and_small_parts_refuse(astronaut, astronaut_face):
    bare = fc.Face(astronaut_face.box, astronaut_face.score, astronaut_face.keypoints)
    m = fc.face_part_mask(astronaut.shape, bare, "face")
    x0, y0, x1, y1 = (int(v) for v in bare.box)
    assert m[(y0 + y1) // 2, (x0 + x1) // 2] > 0.9 and m[5, 5] == 0.0
    assert np.allclose(fc.face_part_mask(astronaut.shape, bare, "face_skin"), m)
    for part in ("eyes", "eyebrows", "lips"):
        with pytest.raises(ValueError, match="landmarks"):
            fc.face_part_mask(astronaut.shape, bare, part)
    with pytest.raises(ValueError, match="unknown face part"):
        fc.face_part_mask(astronaut.shape, astronaut_face, "nose")


def test_names_stay_importable_from_here():
    from pertouch.tools import face_detector, face_mesh

    assert fc.detections is face_detector.detections and fc.tiles is face_detector.tiles
    assert fc.FULL_RANGE is face_detector.FULL_RANGE and fc.anchors is face_detector.anchors
    assert fc.mesh is face_mesh.mesh and fc.LIPS_OUTER is face_mesh.LIPS_OUTER
