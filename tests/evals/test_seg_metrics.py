"""Segmentation metrics on synthetic masks: found / false-found, instance recall, summaries and goals."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.evals import seg_metrics as sg
from pertouch.evals.seg_cases import SCORED, SEPARATE


def _square(y0, x0, y1, x1, shape=(100, 100)):
    m = np.zeros(shape, bool)
    m[y0:y1, x0:x1] = True
    return m


def test_found_and_false_found_on_synthetic_masks():
    valid = np.ones((100, 100), bool)
    gt = _square(0, 0, 50, 100)
    hit = sg.score_kind(_square(0, 0, 25, 100), gt, valid)
    assert hit == {"present": True, "found": True, "iou": 0.5, "boundary_f": hit["boundary_f"]}
    assert sg.score_kind(None, gt, valid) == {"present": True, "found": False, "iou": 0.0, "boundary_f": 0.0}
    assert sg.score_kind(_square(0, 0, 2, 100), None, valid)["false_found"]          # 2 % of the frame
    small = sg.score_kind(_square(0, 0, 1, 50), None, valid)                          # 0.5 %
    assert small["found"] and not small["false_found"] and small["area"] == 0.005
    assert sg.score_kind(None, None, valid) == {"present": False, "found": False, "area": 0.0, "false_found": False}


def test_instance_recall_counts_matches_at_half_iou():
    valid = np.ones((100, 100), bool)
    gts = [_square(0, 0, 10, 10), _square(50, 50, 60, 60), _square(80, 0, 84, 4)]
    preds = [_square(0, 0, 10, 6), _square(50, 50, 60, 55), _square(20, 20, 30, 30)]  # IoU 0.6, 0.5, 0
    got = sg.instance_recall(preds, gts, valid)
    assert got == {"labelled": 3, "recalled": 2, "predicted": 3, "matched": 2}
    assert sg.instance_recall(preds, gts, valid, counted=[True, False, True])["recalled"] == 1
    assert sg.instance_recall([], gts, valid)["recalled"] == 0


def test_summary_rates_and_goals():
    def res(name, present, found, ff=False, portrait=False):
        labels = {k: {"present": False, "found": False, "area": 0.0, "false_found": False} for k in SCORED + SEPARATE}
        labels["sky"] = ({"present": True, "found": found, "iou": 0.9 if found else 0.0, "boundary_f": 0.5}
                         if present else {"present": False, "found": ff, "area": 0.2 if ff else 0.0, "false_found": ff})
        labels["background"] = {"present": True, "found": True, "iou": 0.8, "boundary_f": 0.5}
        return {"case": name, "portrait": portrait, "labels": labels,
                "instances": {"person": None, "face": {"labelled": 2, "recalled": 1, "predicted": 1, "matched": 1}}}

    s = sg.summarise([res("a", True, True), res("b", True, False), res("c", False, False, ff=True),
                      res("d", False, False), res("e", False, False, portrait=True)])
    sky = s["kinds"]["sky"]
    assert sky["iou"] == 0.45 and sky["found_when_present"] == 0.5 and sky["false_found_when_absent"] == pytest.approx(1 / 3, abs=1e-3)
    assert sky["missed"] == ["b"] and sky["false_found"] == ["c"] and sky["present"] == 2 and sky["absent"] == 3
    assert "wall" not in s["kinds"] and s["instances"]["person"] is None and s["instances"]["face"]["recall"] == 0.5
    assert s["portrait_background_iou"] == 0.8 and s["portraits"] == 1
    goals = {g["goal"]: g for g in sg.goal_checks(s)}
    assert goals["sky IoU"]["ok"] is False and goals["sky false-found when absent"]["ok"] is False
    assert goals["background IoU on portraits"]["ok"] is False and goals["person found when present"]["ok"] is None
