"""The BlazeFace detectors (tools/face_detector.py): anchors, decoding and NMS against
hand-worked numbers; the mirrored run; tiles."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.tools import face_detector as fd


@pytest.mark.parametrize("det", [fd.SHORT_RANGE, fd.FULL_RANGE], ids=["short", "full"])
def test_anchor_count_matches_the_model_output(det):
    from pertouch.tools.litert import model

    outs = model(det.file).outputs
    n_model = next(int(d["shape"][1]) for d in outs if d["shape"][-1] == 16)
    assert fd.anchors(det).shape == (n_model, 2)
    assert n_model == {128: 896, 192: 2304}[det.size]


def test_short_range_anchors_are_two_per_cell_on_16x16_then_six_on_8x8():
    a = fd.anchors(fd.SHORT_RANGE)
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
    boxes, kps, scores = fd.decode(raw, logits, fd.SHORT_RANGE, 0.5)
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
    out = fd.weighted_nms(boxes, kps, scores)
    assert [round(s, 2) for _, _, s in out] == [0.9, 0.7]
    w0, w1 = 0.6 / 1.5, 0.9 / 1.5
    assert np.allclose(out[0][0], w0 * boxes[0] + w1 * boxes[1])
    assert np.allclose(out[0][1], w1 * 3.0)
    assert np.allclose(out[1][0], boxes[2])


def test_the_mirrored_run_maps_back_onto_the_plain_run(astronaut):
    whole = (0, 0, 512, 512)
    (b0, k0, s0), (b1, k1, s1) = fd._run_detector(fd.FULL_RANGE, astronaut, whole, 0.5, mirror=True)
    assert len(s0) == len(s1) == 1
    assert np.allclose(b0, b1, atol=6)
    assert np.allclose(k0, k1, atol=6)  # right eye first in both, not swapped by the mirror
    assert k1[0, 0, 0] < k1[0, 1, 0]


@pytest.mark.parametrize("h, w", [(216, 384), (354, 512), (576, 1024), (709, 1024), (1024, 768), (886, 1280)])
def test_tiles_cover_the_image_with_overlap_and_stay_bounded(h, w):
    tiles = fd.tiles(h, w)
    assert 2 <= len(tiles) <= fd._MAX_TILES
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
    assert fd.tiles(200, 280) == []
