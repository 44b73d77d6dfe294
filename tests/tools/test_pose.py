"""Pose ROIs (tools/pose.py): a detection's keypoints to the landmark model's rotated square."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.tools.pose import roi_from_detection
from pertouch.tools.pose_detector import Detection


def test_roi_from_detection_points_hips_to_head_up():
    d = Detection(np.zeros(4), np.array([[100.0, 200], [100, 100], [0, 0], [0, 0]]), 1.0)
    r = roi_from_detection(d)
    assert (r.cx, r.cy) == (100, 200) and r.side == pytest.approx(2 * 100 * 1.25) and r.rotation == pytest.approx(0)
    tilted = roi_from_detection(Detection(np.zeros(4), np.array([[100.0, 200], [200, 200], [0, 0], [0, 0]]), 1))
    assert tilted.rotation == pytest.approx(np.pi / 2)
    m = r.matrix()
    assert np.allclose(m @ [100, 200, 1], [128, 128])  # centre → crop centre
