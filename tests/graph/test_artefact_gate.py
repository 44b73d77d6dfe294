"""The artefact gate in the critique: a render that fails it is never satisfied, the next
plan is softer, the answer says what was softened, and a gate still failing at the last
round is reported. Real renders (parametric engine on skimage's rocket) and the real
gate; only the classifier (and, for the weak case, the planner) are scripted with the
``fake:FILE`` provider, chosen by the same model strings as real ones.
"""

from __future__ import annotations

import json

from pertouch.graph.builder import build_graph
from pertouch.graph.context import load_context
from pertouch.graph.nodes.artefact_gate import soften_advice

DESCRIBE = {"tags": ["outdoor"], "description": "a rocket under a dusk sky"}
#: contrast +1.0 on the whole photo: the dusk sky turns to steps and grit (blotches, noise)
HARSH = {"kind": "strong", "targets": [{"region": "global", "attribute": "contrast", "direction": "up", "shift": 1.0}]}


def _run(tmp_path, photo, replies: dict, **ctx):
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"describe": [DESCRIBE], **replies}))
    fake = f"fake:{script}"
    roles = {role: fake for role in ctx.pop("scripted", ("classifier", "describer"))}
    out = build_graph(internal=True).invoke({"image_path": str(photo), "instruction": "way more contrast"},
                               context=load_context(vlm="builtin", use_memory=False, **roles, **ctx))
    return out


def _contrast(record) -> float:
    return record["recipe"]["global"]["attributes"]["contrast"]["by"]


def test_a_failed_gate_softens_until_it_passes_and_says_so(tmp_path, rocket_png):
    out = _run(tmp_path, rocket_png, {"classify": [HARSH]})
    first, last = out["rounds"][0], out["rounds"][-1]
    assert first["artefacts"]["failed"] and first["critique"]["satisfied"] is False
    assert any(d.startswith("artefacts:") for d in first["critique"]["defects"])
    assert first["softened"].startswith("softened: the whole photo's contrast edit halved")
    assert all(a["reason"].startswith("softened") for a in first["critique"]["advice"])
    assert last["artefacts"]["failed"] == [] and _contrast(last) < _contrast(first)
    assert out["stop_reason"] == "softened until the artefact gate passed"
    assert out["best_round"] == last["round"] and out["result"]["recipe"] == last["recipe"]
    assert "Softened: the whole photo's contrast edit" in out["answer"]  # halved, or quartered


def test_a_gate_still_failing_at_the_last_round_is_reported(tmp_path, rocket_png):
    out = _run(tmp_path, rocket_png, {"classify": [HARSH]}, max_rounds=1)
    assert len(out["rounds"]) == 1 and out["rounds"][0]["artefacts"]["failed"]
    assert "artefacts remain" in out["stop_reason"] and out["stop_reason"] != "satisfied"
    assert any(e["kind"] == "artefacts" and "artefacts:" in e["message"] for e in out["errors"])
    assert "artefacts:" in out["answer"]


def test_a_weak_instruction_is_rendered_again_when_the_gate_fails(tmp_path, rocket_png):
    """Weak requests render once — unless the render fails the gate."""
    weak = {"kind": "weak-optimize", "explanation": "make it look better"}
    harsh = {"edits": [{"region": "global", "attribute": "contrast", "by": 1.0}]}
    gentle = {"edits": [{"region": "global", "attribute": "contrast", "by": 0.3}]}
    out = _run(tmp_path, rocket_png, {"classify": [weak], "plan": [harsh, gentle]},
               scripted=("classifier", "describer", "planner"))
    assert [bool(r["artefacts"]["failed"]) for r in out["rounds"]] == [True, False]
    assert out["stop_reason"] in ("satisfied", "softened until the artefact gate passed") and out["best_round"] == 2
    assert out["rounds"][0]["critique"]["satisfied"] is False


def _rec(n, shifts):
    return {"round": n, "achieved": [{"region": r, "attribute": a, "before": 0.1, "target": 0.1 + s, "achieved": 0.1 + s}
                                     for (r, a), s in shifts.items()]}


def test_softening_halves_then_drops_a_regions_own_edit_relative_to_the_first_plan():
    base = {("global", "temperature"): 0.2, ("bg", "temperature"): 0.6, ("bg", "brightness"): -0.3,
            ("cat", "temperature"): 0.4}
    gate = {"failed": ["blotches"], "blame": {"bg": 0.6, "cat": 0.05}}
    r1 = {**_rec(1, base), "artefacts": gate}
    advice, note = soften_advice([r1], gate)
    by = {(a["region"], a["attribute"]): a["by"] for a in advice}
    # half of the background's edit beyond the global one; the cat (no blotches at its border)
    # and the global edit (blotches are the regions' doing) are left alone
    assert by == {("bg", "temperature"): -0.2, ("bg", "brightness"): 0.15}
    assert note.startswith("softened: the bg's temperature and brightness edits halved — blotches at the borders of bg")
    # the builtin planner adds the advice to a fresh first-round plan: the second failure drops
    # the region's own edit altogether (it follows the global edit), counted from the first plan
    r2 = {**_rec(2, {**base, ("bg", "temperature"): 0.4, ("bg", "brightness"): -0.15}), "artefacts": gate}
    advice2, note2 = soften_advice([r1, r2], gate)
    by2 = {(a["region"], a["attribute"]): a["by"] for a in advice2}
    assert by2 == {("bg", "temperature"): -0.4, ("bg", "brightness"): 0.3}
    assert "dropped" in note2
    # noise is the global edit's doing too: halved as well
    noisy = {"failed": ["noise"], "blame": {}}
    by3 = {(a["region"], a["attribute"]): a["by"] for a in soften_advice([{**r1, "artefacts": noisy}], noisy)[0]}
    assert by3[("global", "temperature")] == -0.1 and ("cat", "temperature") in by3
