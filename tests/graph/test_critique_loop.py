"""The rethinking loop's branches, driven by a scripted VLM.

Branches: satisfied at once, needs more, overshoot, no improvement (best round
kept), critic error (stops, says "not verified", never counted as satisfied),
planner error (nothing done, said so).
"""

from __future__ import annotations

import pytest

pytest.importorskip("pertouch.engine.engines", reason="engine registry (helper A) not landed yet")

from pertouch.graph import runtime as rt
from pertouch.graph.builder import build_graph
from pertouch.graph.context import load_context
from pertouch.graph.vlm.base import VLMError
from pertouch.graph.vlm.schemas import Critique, Intent, Plan, PlanEdit, SceneDescription, Target, TargetCheck


class Scripted:
    """A VLM whose critiques (and plan shifts per round) come from a script."""

    def __init__(self, critiques, shifts=(0.3, 0.3, 0.3), plan_error=False):
        self.critiques, self.shifts, self.plan_error = list(critiques), list(shifts), plan_error
        self.plans = 0

    def describe(self, image, scene):
        return SceneDescription(tags=["outdoor"], description="a rocket under a sky")

    def classify(self, instruction, scene=None):
        return Intent(kind="strong", targets=[Target(region="sky", attribute="brightness", direction="up",
                                                     shift=0.3, magnitude="much")])

    def plan(self, intent, scene, preferences=None, critique=None):
        if self.plan_error:
            raise VLMError("server said 500", role="plan", provider="scripted")
        self.plans += 1
        return Plan(edits=[PlanEdit(region="sky", attribute="brightness", by=self.shifts[self.plans - 1])])

    def critique(self, before, after, instruction, intent, achieved, scene=None):
        c = self.critiques.pop(0)
        if isinstance(c, Exception):
            raise c
        return c


def _crit(verdict):
    ok = verdict == "changed_enough"
    return Critique(satisfied=ok, targets=[TargetCheck(region="sky", attribute="brightness", verdict=verdict,
                                                       size_fits_wording=ok)], explanation=verdict)


@pytest.fixture()
def run(monkeypatch, rocket_png):
    def go(vlm, **ctx):
        monkeypatch.setattr(rt, "vlm", lambda spec: vlm)
        return build_graph().invoke({"image_path": str(rocket_png), "instruction": "much brighter sky"},
                                    context=load_context(use_memory=False, **ctx))
    return go


def test_satisfied_at_once(run):
    out = run(Scripted([_crit("changed_enough")]))
    assert len(out["rounds"]) == 1 and out["stop_reason"] == "satisfied" and out["status"] == "ok"


def test_needs_more_then_satisfied(run):
    vlm = Scripted([_crit("not_enough"), _crit("changed_enough")], shifts=(0.05, 0.3))
    out = run(vlm)
    assert len(out["rounds"]) == 2 and out["stop_reason"] == "satisfied" and out["result"]["round"] == 2
    r1, r2 = out["rounds"]
    assert r2["recipe"] != r1["recipe"]


def test_overshoot_then_pulled_back(run):
    out = run(Scripted([_crit("overshoot"), _crit("changed_enough")], shifts=(0.9, 0.3)))
    assert out["result"]["round"] == 2 and out["stop_reason"] == "satisfied"


def test_no_improvement_keeps_best_round(run):
    out = run(Scripted([_crit("not_enough"), _crit("wrong_direction"), _crit("changed_enough")],
                       shifts=(0.2, -0.2, 0.3)))
    assert len(out["rounds"]) == 2 and "did not improve" in out["stop_reason"]
    assert out["result"]["round"] == 1


def test_max_rounds_stops_the_loop(run):
    out = run(Scripted([_crit("not_enough")] * 3, shifts=(0.05, 0.1, 0.15)), max_rounds=2)
    assert len(out["rounds"]) == 2 and "maximum of 2" in out["stop_reason"]


def test_critic_error_is_not_satisfied(run):
    out = run(Scripted([VLMError("timed out", role="critique", provider="scripted")]))
    assert out["stop_reason"] == "critic failed; result not verified"
    assert out["status"] == "partial" and "not verified" in out["answer"]
    assert out["rounds"][0]["critique"]["satisfied"] is False


def test_planner_error_means_nothing_done(run):
    out = run(Scripted([], plan_error=True))
    assert out["status"] == "nothing-done" and out["result"] is None
    assert "planning round 1 failed" in out["answer"]
