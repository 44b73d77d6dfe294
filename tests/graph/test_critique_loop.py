"""The rethinking loop's branches, driven by the scripted ``fake:FILE`` provider —
chosen by the same model string as a real VLM, no patching.

Branches: satisfied at once, needs more, overshoot, no improvement (best round
kept), max rounds, critic error (stops, says "not verified", never counted as
satisfied), planner error (nothing done, said so). Renders are real (parametric
engine on a real photo), so the rounds' measured levels are checked too.
"""

from __future__ import annotations

import json

import pytest

from pertouch.graph import runtime as rt
from pertouch.graph.builder import build_graph
from pertouch.graph.context import load_context

INTENT = {"kind": "strong", "targets": [{"region": "sky", "attribute": "brightness", "direction": "up",
                                         "shift": 0.3, "magnitude": "much"}]}
DESCRIBE = {"tags": ["outdoor"], "description": "a rocket under a sky"}


def _plan(by):
    return {"edits": [{"region": "sky", "attribute": "brightness", "by": by}]}


def _crit(verdict):
    ok = verdict == "changed_enough"
    return {"satisfied": ok, "explanation": verdict,
            "targets": [{"region": "sky", "attribute": "brightness", "verdict": verdict, "size_fits_wording": ok}]}


@pytest.fixture()
def run(rocket_png, tmp_path):
    def go(plans, critiques, **ctx):
        script = tmp_path / "script.json"
        script.write_text(json.dumps({"describe": [DESCRIBE], "classify": [INTENT], "plan": plans,
                                      "critique": critiques}))
        spec = f"fake:{script}"
        out = build_graph(internal=True).invoke({"image_path": str(rocket_png), "instruction": "much brighter sky"},
                                   context=load_context(vlm=spec, use_memory=False, **ctx))
        return out, rt.vlm(spec)
    return go


def _sky(record):
    return next(a["achieved"] for a in record["achieved"] if a["region"] == "sky" and a["attribute"] == "brightness")


def test_satisfied_at_once(run):
    out, vlm = run([_plan(0.3)], [_crit("changed_enough")])
    assert len(out["rounds"]) == 1 and out["stop_reason"] == "satisfied" and out["status"] == "ok"
    assert [r for r, _ in vlm.calls].count("critique") == 1
    assert _sky(out["rounds"][0]) > out["regions"][0]["levels"]["brightness"] + 0.2


def test_needs_more_then_satisfied(run):
    out, _ = run([_plan(0.05), _plan(0.3)], [_crit("not_enough"), _crit("changed_enough")])
    assert len(out["rounds"]) == 2 and out["stop_reason"] == "satisfied" and out["result"]["round"] == 2
    r1, r2 = out["rounds"]
    assert _sky(r2) > _sky(r1) + 0.15  # the second round really went further


def test_overshoot_then_pulled_back(run):
    out, _ = run([_plan(0.9), _plan(0.3)], [_crit("overshoot"), _crit("changed_enough")])
    assert out["result"]["round"] == 2 and out["stop_reason"] == "satisfied"
    r1, r2 = out["rounds"]
    assert _sky(r2) < _sky(r1) - 0.2


def test_no_improvement_keeps_best_round(run):
    out, vlm = run([_plan(0.2), _plan(-0.2), _plan(0.3)],
                   [_crit("not_enough"), _crit("wrong_direction"), _crit("changed_enough")])
    assert len(out["rounds"]) == 2 and "did not improve" in out["stop_reason"]
    assert out["result"]["round"] == 1 and out["result"]["recipe"] == out["rounds"][0]["recipe"]
    assert vlm.remaining("plan") == 1  # the loop stopped; it did not plan a third round


def test_max_rounds_stops_the_loop(run):
    out, _ = run([_plan(0.05), _plan(0.1), _plan(0.15)], [_crit("not_enough")] * 3, max_rounds=2)
    assert len(out["rounds"]) == 2 and "maximum of 2" in out["stop_reason"]
    assert out["status"] == "ok" and "satisfied" not in out["stop_reason"]


def test_critic_error_is_not_satisfied(run):
    out, _ = run([_plan(0.3)], [{"error": "timed out"}])
    assert out["stop_reason"] == "critic failed; result not verified"
    assert out["status"] == "partial" and "not verified" in out["answer"] and "timed out" in out["answer"]
    assert out["rounds"][0]["critique"]["satisfied"] is False
    assert out["result"] is not None  # the render stands, flagged as unverified


def test_invalid_critic_answer_is_an_error_not_satisfied(run):
    out, _ = run([_plan(0.3)], ['{"satisfied": "very"}'])
    assert out["status"] == "partial" and "not verified" in out["answer"]


def test_planner_error_means_nothing_done(run):
    out, _ = run([{"error": "server said 500"}], [])
    assert out["status"] == "nothing-done" and out["result"] is None and not out["rounds"]
    assert "planning round 1 failed" in out["answer"] and "500" in out["answer"]


def test_classifier_error_means_nothing_done(run, rocket_png, tmp_path):
    script = tmp_path / "bad.json"
    script.write_text(json.dumps({"describe": [DESCRIBE], "classify": [{"error": "connection refused"}]}))
    out = build_graph(internal=True).invoke({"image_path": str(rocket_png), "instruction": "brighter sky"},
                               context=load_context(vlm=f"fake:{script}", use_memory=False))
    assert out["status"] == "nothing-done" and "connection refused" in out["answer"]
