"""The segmentation suite: labelled photos as runner samples, per-kind scores, per-split summaries."""

from __future__ import annotations

import json

import pytest

from pertouch.core.errors import InputError
from pertouch.evals import runner
from pertouch.evals.runlog import FAIL, PASS, status_of
from pertouch.evals.seg_task import SegmentationTask, score_labels
from pertouch.evals.tasks import make_task


def _labels(sky_iou=0.95, sky_found=True, water_area=0.0):
    return {"sky": {"present": True, "found": sky_found, "iou": sky_iou, "boundary_f": 0.5},
            "vegetation": {"present": True, "found": True, "iou": 0.3, "boundary_f": 0.2},
            "water": {"present": False, "found": water_area > 0, "area": water_area,
                      "false_found": water_area >= 0.01},
            "wall": {"present": False, "found": False, "area": 0.0, "false_found": False}}


def test_scores_explain_each_kind_and_goals_decide_the_iou_verdict():
    s = score_labels(_labels())
    assert s["sky.iou"]["value"] == 0.95 and s["sky.iou"]["pass"] is True and "goal ≥ 0.9" in s["sky.iou"]["explanation"]
    assert s["vegetation.iou"]["pass"] is None  # no IoU goal: informational
    assert s["water.false_found"]["value"] == 1.0 and "wall.false_found" not in s  # wall only reported when labelled
    assert status_of(s, None) == PASS
    bad = score_labels(_labels(sky_iou=0.0, sky_found=False, water_area=0.2))
    assert bad["sky.found"]["value"] == 0.0 and "not found" in bad["sky.iou"]["explanation"]
    assert bad["water.false_found"]["value"] == 0.0 and "20.0%" in bad["water.false_found"]["explanation"]
    assert status_of(bad, None) == FAIL


def test_samples_follow_the_split_and_a_case_file_or_other_suite_split_is_refused():
    tune = SegmentationTask(split="tune").samples()
    held = SegmentationTask(split="heldout").samples()
    assert tune and held and {s["split"] for s in tune} == {"tune"} and {s["split"] for s in held} == {"heldout"}
    assert len(SegmentationTask().samples()) == len(tune) + len(held)
    with pytest.raises(InputError):
        SegmentationTask(split="dev")
    with pytest.raises(InputError):
        make_task("segmentation", "cases.jsonl")
    with pytest.raises(InputError):
        make_task("parser", None, "tune")


def test_a_run_logs_scores_and_the_per_split_summary_equals_the_script_s(tmp_path, monkeypatch):
    from pertouch.evals import segmentation as sg

    task = SegmentationTask(split="tune")
    name = task.samples()[0]["id"]
    summary = runner.run(task, configs=[{"vlm": "builtin"}], out=tmp_path, filter_expr=f"^{name}$")
    row = json.loads((tmp_path / "log.jsonl").read_text().splitlines()[0])
    assert row["split"] == "tune" and row["status"] in (PASS, FAIL) and row["scores"]
    assert all("explanation" in v for v in row["scores"].values())
    script = sg.run("builtin", cases=[name], split="tune")["splits"]["tune"]
    assert summary["suite_summary"]["builtin"]["tune"]["summary"] == script["summary"]
    assert summary["suite_summary"]["builtin"]["tune"]["goals"] == script["goals"]
    html = (tmp_path / "report.html").read_text()
    assert "builtin, tune split (1 photos)" in html
    assert "<li class=muted><b>" in html  # an IoU without a goal is shown as information, not as a failure
    again = runner.rescore(tmp_path, lambda spec: make_task(spec["suite"], spec.get("cases"), spec.get("split")))
    assert again["suite_summary"] == summary["suite_summary"]
