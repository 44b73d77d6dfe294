"""Memory in the graph: remember after accept, recall feeds the planner, and a
missing store does not stop the agent (it says so)."""

from __future__ import annotations

import pytest

pytest.importorskip("pertouch.engine.engines", reason="engine registry (helper A) not landed yet")

from pertouch.graph import runtime as rt
from pertouch.graph.builder import build_graph
from pertouch.graph.context import load_context
from pertouch.graph.vlm.schemas import Critique, Intent, Plan, PlanEdit, SceneDescription


class Weak:
    """Weak-optimize brain that records the preferences the planner was given."""

    def __init__(self):
        self.seen_prefs = []

    def describe(self, image, scene):
        return SceneDescription(tags=["landscape"], description="a rocket on a launch pad under a blue sky")

    def classify(self, instruction, scene=None):
        return Intent(kind="weak-optimize")

    def plan(self, intent, scene, preferences=None, critique=None):
        self.seen_prefs.append(preferences or {})
        return Plan(edits=[PlanEdit(region="global", attribute="temperature", to=0.5)])

    def critique(self, before, after, instruction, intent, achieved, scene=None):
        return Critique(satisfied=True)


@pytest.fixture()
def brain(monkeypatch):
    b = Weak()
    monkeypatch.setattr(rt, "vlm", lambda spec: b)
    return b


def _run(path, accept, **ctx):
    return build_graph().invoke({"image_path": str(path), "instruction": "make it nice", "accept": accept},
                                context=load_context(**ctx))


def test_accepted_result_is_remembered_and_recalled(brain, rocket_png):
    first = _run(rocket_png, True, memory="memory:wiring", user="ana")
    assert first["remembered"] is True
    _run(rocket_png, False, memory="memory:wiring", user="ana")
    prefs = brain.seen_prefs[-1]
    assert prefs.get("global", {}).get("temperature") == pytest.approx(first["result"]["achieved"][0]["achieved"], abs=0.05)
    _run(rocket_png, False, memory="memory:wiring", user="bob")
    assert not brain.seen_prefs[-1]  # another user sees nothing


def test_unavailable_memory_is_said_not_fatal(brain, rocket_png, monkeypatch):
    monkeypatch.setattr(rt, "memory", lambda spec: (None, "memory unavailable: store is locked"))
    out = _run(rocket_png, True, user="ana")
    assert out["result"] and out["remembered"] is False
    assert any(e["kind"] == "memory" for e in out["errors"]) and "store is locked" in out["answer"]
