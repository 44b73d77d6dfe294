"""The whole graph on real photos with the builtin brain, the real parametric
engine and the builtin segmenter (offline). Assertions are on measured pixels."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pertouch.graph.builder import build_graph
from pertouch.graph.context import load_context

from .conftest import luma, region_mask, rendered, warmth


def _run(path, instruction, **ctx):
    ctx.setdefault("use_memory", False)
    return build_graph(internal=True).invoke({"image_path": str(path), "instruction": instruction}, context=load_context(**ctx))


def test_strong_sky_brighter_and_nothing_else(rocket_png):
    out = _run(rocket_png, "brighten the sky a little")
    assert out["instruction_class"] == "strong" and out["status"] == "ok", out["answer"]
    assert 1 <= len(out["rounds"]) <= 3 and out["stop_reason"]
    before, after = rendered(out)
    sky = region_mask(out, "sky")
    inside, outside = sky > 0.9, sky < 0.02
    gain = luma(after)[inside].mean() - luma(before)[inside].mean()
    assert 2.0 < gain < 40.0  # brighter, and "a little" is not a blow-out
    assert np.abs(after - before)[outside].mean() < 1.0


def test_strong_face_warmer_rest_kept(astronaut_png):
    out = _run(astronaut_png, "warm up her face, keep the rest")
    assert out["instruction_class"] == "strong" and out["result"], out["answer"]
    assert any(r["label"] == "face" for r in out["regions"])  # found on request
    before, after = rendered(out)
    face = region_mask(out, "face")
    inside, outside = face > 0.9, face < 0.02
    assert warmth(after)[inside].mean() - warmth(before)[inside].mean() > 3.0
    assert np.abs(after - before)[outside].mean() < 1.0


def test_weak_optimize_nudges_a_flat_photo_and_leaves_a_good_one(chelsea_png, astronaut_png):
    """"make it better" is a photographer's nudge: the soft, flat cat gets a few small global
    edits (no region edits, nothing darker); the well-exposed astronaut gets nothing, and
    the answer says why."""
    from pertouch.graph.vlm.builtin.optimize import GLOBAL_CAP

    out = _run(chelsea_png, "make it better")
    assert out["instruction_class"] == "weak-optimize" and out["result"], out["answer"]
    recipe = out["result"]["recipe"]
    assert not recipe.get("regions") and recipe["global"]["attributes"]
    assert all(abs(e["by"]) <= GLOBAL_CAP + 1e-6 for e in out["plan"]["edits"])
    before, after = rendered(out)
    change = np.abs(after - before).mean()
    assert 0.5 < change < 12.0, change  # visible, and small
    assert luma(after).mean() >= luma(before).mean() - 1.0  # not darkened

    good = _run(astronaut_png, "make it better")
    assert good["status"] == "nothing-done" and good["result"] is None
    assert "nothing to change" in good["answer"], good["answer"]


def test_weak_style_winter_morning_is_cooler(chelsea_png):
    out = _run(chelsea_png, "make it feel like a cold winter morning")
    assert out["instruction_class"] == "weak-style" and out["result"]
    assert "winter" in out["answer"]
    before, after = rendered(out)
    assert warmth(after).mean() < warmth(before).mean() - 3.0


def test_out_of_scope_edits_nothing_and_says_why(astronaut_png):
    out = _run(astronaut_png, "add a unicorn")
    assert out["instruction_class"] == "out-of-scope" and out["status"] == "nothing-done"
    assert out["result"] is None and not out["rounds"]
    assert "Nothing was changed" in out["answer"] and "adding" in out["answer"]


def test_region_not_found_says_so(coffee_png):
    out = _run(coffee_png, "brighter sky")
    assert out["status"] == "nothing-done" and out["result"] is None and not out["rounds"]
    assert any(e["kind"] == "not-found" and "sky" in e["message"] for e in out["errors"])
    assert "no sky" in out["answer"]


def test_state_holds_no_arrays(astronaut_png):
    out = _run(astronaut_png, "warmer")
    json.dumps(out)  # references and recipes only: checkpoints cheaply
    assert {"perceive", "classify", "plan", "render", "critique"} <= set(out["timings_ms"])


def test_max_rounds_is_respected(rocket_png):
    out = _run(rocket_png, "make the sky dramatically darker and much more saturated", max_rounds=1)
    assert len(out["rounds"]) == 1
    assert out["stop_reason"] == "satisfied" or "maximum of 1" in out["stop_reason"]
