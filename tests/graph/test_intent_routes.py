"""The graph's routes for requests that ask for no edit (no-op, question, undo) and for
levels relative to another region, on real photos with the builtin brain (offline)."""

from __future__ import annotations

import pytest

from pertouch.graph.builder import build_graph
from pertouch.graph.context import load_context
from pertouch.graph.nodes.respond import NO_OP_ANSWER, SESSION_UNDO_ANSWER, UNDO_ANSWER


def _run(path, instruction, **inputs):
    return build_graph(internal=True).invoke({"image_path": str(path), "instruction": instruction, **inputs},
                                context=load_context(use_memory=False))


def _nothing_rendered(out: dict) -> None:
    assert out["status"] == "ok" and out.get("result") is None
    assert not out.get("rounds") and not out.get("recipe")
    assert not {"plan", "render", "critique", "remember"} & set(out.get("timings_ms") or {})
    assert not out.get("remembered")


@pytest.mark.parametrize("text", ["Don't change anything, it's perfect as it is.", "leave it", "no changes"])
def test_no_op_renders_nothing_and_says_so(rocket_png, text):
    out = _run(rocket_png, text, accept=True)  # even an accepted run has nothing to remember
    assert out["instruction_class"] == "no-op"
    _nothing_rendered(out)
    assert out["answer"] == NO_OP_ANSWER
    assert out["history"][-1]["status"] == "ok" and not out["history"][-1]["result"]


def test_protection_alone_is_answered_as_a_no_op(rocket_png):
    out = _run(rocket_png, "leave the sky alone")
    assert out["instruction_class"] == "no-op" and out["intent"]["protected"] == ["sky"]
    _nothing_rendered(out)
    assert out["answer"].startswith(NO_OP_ANSWER) and "sky" in out["answer"]


def test_protection_with_an_edit_still_protects(rocket_png):
    out = _run(rocket_png, "make it warmer but leave the sky alone")
    assert out["instruction_class"] == "strong" and out["result"], out["answer"]
    recipe = out["result"]["recipe"]
    assert "temperature" in recipe["global"]["attributes"]
    held = [r for r in recipe["regions"].values() if r.get("label") == "sky"]
    assert held and all("temperature" in r["attributes"] for r in held)


def test_question_is_answered_from_this_photos_levels(rocket_png):
    out = _run(rocket_png, "is it too dark?")
    assert out["instruction_class"] == "question"
    _nothing_rendered(out)
    level = out["global_levels"]["brightness"]
    shown = f"{level:+.2f}".replace("-", "−")
    assert out["answer"].startswith(f"The photo's brightness is {shown}")
    assert ("so yes" in out["answer"]) == (level <= -0.15)
    assert "Suggestions:" in out["answer"] and "Nothing was changed" in out["answer"]


def test_question_about_a_region_uses_the_regions_levels(rocket_png):
    out = _run(rocket_png, "does the sky look washed out?")
    assert out["instruction_class"] == "question"
    _nothing_rendered(out)
    sky = [r for r in out["regions"] if r["label"] == "sky"]
    assert sky and "the sky — " in out["answer"]
    if len(sky) == 1:
        shown = f"{sky[0]['levels']['colorfulness']:+.2f}".replace("-", "−")
        assert out["answer"].startswith(f"The sky's colourfulness is {shown}")


def test_undo_in_one_shot_says_there_is_nothing_to_undo(rocket_png):
    out = _run(rocket_png, "go back to the original")
    assert out["instruction_class"] == "undo"
    _nothing_rendered(out)
    assert out["answer"] == UNDO_ANSWER


def test_session_undo_still_works_and_other_undo_words_are_answered(rocket_png):
    from pertouch.graph.session import Session

    s = Session(image_path=str(rocket_png), ctx=load_context(use_memory=False))
    first = s.turn("brighter sky")
    assert first.kind == "instruction" and len(s.stack) == 1
    other = s.turn("go back to the original")  # not a session command: the graph answers it
    assert other.answer == SESSION_UNDO_ANSWER and len(s.stack) == 1 and not other.preview
    undone = s.turn("undo")  # the session command still undoes
    assert undone.kind == "undo" and s.stack == []


def test_like_target_moves_to_the_reference_level(rocket_png):
    out = _run(rocket_png, "make the sky as bright as the ground")
    regions = {r["label"]: r for r in out["regions"]}
    if "ground" not in regions or "sky" not in regions:
        pytest.skip(f"the builtin segmenter found {sorted(regions)} on this photo")
    assert out["instruction_class"] == "strong" and out["result"], out["answer"]
    (t,) = out["intent"]["targets"]
    assert t["like"] == "ground" and t["level"] is not None  # filled in for the critic
    ground = [r for r in out["regions"] if r["label"] == "ground"]
    ref = sum(r["levels"]["brightness"] * r["area"] for r in ground) / sum(r["area"] for r in ground)
    assert t["level"] == pytest.approx(max(-1.0, min(1.0, ref)), abs=1e-3)
    achieved = [a for a in out["result"]["achieved"] if a["attribute"] == "brightness"]
    assert achieved and all(a["region"] != "ground" for a in achieved)
    assert all(abs(a["target"] - t["level"]) < 0.02 for a in achieved)
    assert "ground's measured level" in out["plan"]["notes"] and "Plan:" in out["answer"]


def test_like_reference_missing_is_not_found(coffee_png):
    out = _run(coffee_png, "make the cup as bright as the sky")
    assert out["status"] == "nothing-done" and out.get("result") is None
    assert any(e["kind"] == "not-found" and "sky" in e["message"] for e in out["errors"])
