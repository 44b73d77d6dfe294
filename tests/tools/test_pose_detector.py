"""The BlazePose detector (tools/pose_detector.py): anchors, decoding and weighted NMS
against hand-worked numbers."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.tools import pose_detector as pd


def test_anchor_grid_matches_the_model():
    a = pd.anchors()
    assert a.shape == (2254, 2)
    assert np.allclose(a[0], [0.5 / 28, 0.5 / 28]) and np.allclose(a[1], a[0])  # 2 anchors per cell
    assert np.allclose(a[-1], [6.5 / 7, 6.5 / 7])


def test_decode_synthetic_tensor():
    raw = np.zeros((2254, 12), np.float32)
    scores = np.full((2254, 1), -10.0, np.float32)
    k = 1568 + 2 * (3 * 14 + 5)  # stride-16 layer, cell (x 5, y 3)
    scores[k] = 2.0
    raw[k, :4] = [3.0, -2.0, 40.0, 20.0]
    raw[k, 4:12] = [1, 2, 3, 4, 5, 6, 7, 8]
    dets = pd.decode_detections(raw, scores)
    assert len(dets) == 1
    d = dets[0]
    ax, ay = (5 + 0.5) / 14 * 224, (3 + 0.5) / 14 * 224
    assert np.allclose(d.box, [ax + 3 - 20, ay - 2 - 10, ax + 3 + 20, ay - 2 + 10], atol=1e-4)
    assert np.allclose(d.keypoints, np.array([[1, 2], [3, 4], [5, 6], [7, 8]]) + [ax, ay], atol=1e-4)
    assert d.score == pytest.approx(1 / (1 + np.exp(-2.0)))


def test_weighted_nms_merges_overlaps_by_score():
    a = pd.Detection(np.array([0, 0, 10, 10.0]), np.zeros((4, 2)), 0.9)
    b = pd.Detection(np.array([1, 0, 11, 10.0]), np.ones((4, 2)), 0.3)
    c = pd.Detection(np.array([50, 50, 60, 60.0]), np.zeros((4, 2)), 0.5)
    out = pd.weighted_nms([b, c, a])
    assert [round(d.score, 2) for d in out] == [0.9, 0.5]
    assert out[0].box[0] == pytest.approx(0.25) and out[0].keypoints[0, 0] == pytest.approx(0.25)
