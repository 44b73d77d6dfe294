"""Faces: anchors, decoding and NMS against hand-worked numbers; detection and part
masks on real photos (astronaut, coffee, zidane); tiles; bad input."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.errors import InputError
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


# --- anchors, decoding, NMS ------------------------------------------------------------

@pytest.mark.parametrize("det", [fc.SHORT_RANGE, fc.FULL_RANGE], ids=["short", "full"])
def test_anchor_count_matches_the_model_output(det):
    from pertouch.tools.litert import model

    outs = model(det.file).outputs
    n_model = next(int(d["shape"][1]) for d in outs if d["shape"][-1] == 16)
    assert fc.anchors(det).shape == (n_model, 2)
    assert n_model == {128: 896, 192: 2304}[det.size]


def test_short_range_anchors_are_two_per_cell_on_16x16_then_six_on_8x8():
    a = fc.anchors(fc.SHORT_RANGE)
    assert np.allclose(a[0], a[1]) and np.allclose(a[0], [0.5 / 16, 0.5 / 16])
    assert np.allclose(a[2], [1.5 / 16, 0.5 / 16])
    assert np.allclose(a[512:518], [0.5 / 8, 0.5 / 8])  # 16·16·2 = 512 anchors in the first grid
    assert np.allclose(a[-1], [7.5 / 8, 7.5 / 8])


def test_decoding_a_synthetic_tensor_gives_the_box_and_keypoints():
    n = 896
    raw = np.zeros((n, 16), np.float32)
    logits = np.full((n, 1), -8.0, np.float32)
    i = 2 * (5 * 16 + 3)  # first grid, column 3, row 5: anchor centre (3.5/16, 5.5/16)
    raw[i, :4] = [6.4, -3.2, 32.0, 25.6]  # dx, dy, w, h in input pixels (x_scale = 128)
    raw[i, 4:6] = [-12.8, 0.0]  # first keypoint 0.1 left of the anchor
    logits[i] = 500.0  # clipped to 100 before the sigmoid
    boxes, kps, scores = fc.decode(raw, logits, fc.SHORT_RANGE, 0.5)
    cx, cy = 3.5 / 16 + 0.05, 5.5 / 16 - 0.025
    assert boxes.shape == (1, 4)
    assert np.allclose(boxes[0], [cx - 0.125, cy - 0.1, cx + 0.125, cy + 0.1], atol=1e-6)
    assert np.allclose(kps[0, 0], [3.5 / 16 - 0.1, 5.5 / 16], atol=1e-6)
    assert np.allclose(kps[0, 1], [3.5 / 16, 5.5 / 16], atol=1e-6)
    assert scores[0] == pytest.approx(1.0)


def test_weighted_nms_averages_overlapping_boxes_and_keeps_the_best_score():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    kps = np.zeros((3, 6, 2), np.float32)
    kps[1] += 3.0
    scores = np.array([0.6, 0.9, 0.7], np.float32)
    out = fc.weighted_nms(boxes, kps, scores)
    assert [round(s, 2) for _, _, s in out] == [0.9, 0.7]
    w0, w1 = 0.6 / 1.5, 0.9 / 1.5
    assert np.allclose(out[0][0], w0 * boxes[0] + w1 * boxes[1])
    assert np.allclose(out[0][1], w1 * 3.0)
    assert np.allclose(out[1][0], boxes[2])


def test_the_mirrored_run_maps_back_onto_the_plain_run(astronaut):
    whole = (0, 0, 512, 512)
    (b0, k0, s0), (b1, k1, s1) = fc._run_detector(fc.FULL_RANGE, astronaut, whole, 0.5, mirror=True)
    assert len(s0) == len(s1) == 1
    assert np.allclose(b0, b1, atol=6)
    assert np.allclose(k0, k1, atol=6)  # right eye first in both, not swapped by the mirror
    assert k1[0, 0, 0] < k1[0, 1, 0]


@pytest.mark.parametrize("h, w", [(216, 384), (354, 512), (576, 1024), (709, 1024), (1024, 768), (886, 1280)])
def test_tiles_cover_the_image_with_overlap_and_stay_bounded(h, w):
    tiles = fc.tiles(h, w)
    assert 2 <= len(tiles) <= fc._MAX_TILES
    covered = np.zeros((h, w), bool)
    for x0, y0, x1, y1 in tiles:
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
        covered[y0:y1, x0:x1] = True
    assert covered.all()
    xs = sorted({t[0] for t in tiles})
    side = tiles[0][2] - tiles[0][0]
    if len(xs) > 1:
        assert xs[1] < xs[0] + side  # neighbours overlap


def test_no_tiles_for_a_small_image():
    assert fc.tiles(200, 280) == []


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
