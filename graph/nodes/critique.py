"""critique: judge the round — the model's judgement, the measured levels, the artefact gate.

The critic VLM sees before/after previews, the instruction, the intent and the
achieved levels; this node adds what it measured itself (targets missed, clipped
highlights, crushed shadows, regions pushed to the end of their range) and the
artefact gate on the two previews (blotches, halos, noise, banding, new clipping,
skin hue: :mod:`.artefact_gate`), scores the round, and routes: strong instructions
re-plan until satisfied, ``max_rounds`` is reached, or a round no longer improves
(the best round is kept); weak ones render once unless a defect is found; session
follow-ups are rendered once. A critic that fails stops the loop and the answer says
the result is unverified — never counted as satisfied.

A round that fails the gate is never satisfied: its advice re-plans SOFTER (the
regions' own edits halved, then dropped; the global edit too for halos, noise,
banding, clipping and skin), and the loop goes on while rounds are left, whatever
the score says. The first round that passes after a failure ends the loop and its
answer says what was softened; a gate still failing at ``max_rounds`` is said in
``stop_reason`` and in ``errors``. Rounds that pass the gate always rank above rounds
that fail it, and the least failing of those first (:func:`gate_penalty`).
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from pertouch.engine.schema.attributes import clamp_shift
from pertouch.graph import runtime as rt
from pertouch.graph.context import RunContext
from pertouch.graph.nodes import dump, scene_info, timed
from pertouch.graph.state import RetouchState, error

#: A measured level within this of its target counts as reached.
TOLERANCE = 0.06
#: Clipping that grows by more than this fraction of the photo is a defect.
CLIP_LIMIT = 0.02
#: A round must beat the best score by this much to count as an improvement.
MIN_GAIN = 0.01
#: Added to the score of a round that failed the artefact gate: any passing round ranks above;
#: among failing rounds the one whose artefacts exceed their thresholds least ranks first.
GATE_PENALTY = 2.0


def gate_penalty(gate: dict[str, Any] | None) -> float:
    """:data:`GATE_PENALTY` plus half of how far (in thresholds, each capped at 2) the failed
    artefacts exceed their thresholds; 0 for a passing or unmeasured round."""
    if not gate or not gate.get("failed"):
        return 0.0
    over = sum(min(2.0, gate["values"][k] / gate["thresholds"][k] - 1.0) for k in gate["failed"])
    return round(GATE_PENALTY + 0.5 * over, 4)


def measured_findings(record: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]], float]:
    """(defects, advice, mean |error|) from a round's achieved levels and clipping."""
    defects, advice, errs = [], [], []
    for a in record.get("achieved", []):
        err = a["achieved"] - a["target"]
        errs.append(abs(err))
        if abs(err) > TOLERANCE:
            advice.append({"region": a["region"], "attribute": a["attribute"],
                           "by": round(clamp_shift(-err), 3),
                           "reason": f"measured {a['achieved']:+.2f}, target {a['target']:+.2f}"})
        if abs(a["achieved"]) >= 0.98 and abs(a["target"]) < 0.95:
            defects.append(f"{a['region']} {a['attribute']} pushed to the end of its range")
    clip = record.get("clipping", {})
    if clip.get("highlights", 0.0) > CLIP_LIMIT:
        defects.append(f"clipped highlights (+{clip['highlights']:.1%} of the photo)")
    if clip.get("shadows", 0.0) > CLIP_LIMIT:
        defects.append(f"crushed shadows (+{clip['shadows']:.1%} of the photo)")
    return defects, advice, (sum(errs) / len(errs) if errs else 0.0)


#: How far each critic verdict is from done (scores rounds against each other).
VERDICT_COST = {"changed_enough": 0.0, "not_enough": 0.3, "overshoot": 0.4, "not_changed": 0.6,
                "wrong_direction": 1.0}


def score(critique: dict[str, Any], mean_error: float) -> float:
    """Lower is better: unsatisfied, bad verdicts, defects, measured error."""
    checks = critique.get("targets") or []
    bad = sum(VERDICT_COST.get(c.get("verdict"), 0.5) for c in checks) / max(1, len(checks))
    return round((0.0 if critique.get("satisfied") else 1.0) + bad
                 + 0.2 * len(critique.get("defects") or []) + mean_error, 4)


def _ask_critic(state: RetouchState, ctx: RunContext, record: dict[str, Any]) -> dict[str, Any]:
    from pertouch.graph.vlm.schemas import Intent

    critic = rt.model(ctx, "critic")
    got = critic.critique(state["before"], record["preview"], state.get("instruction", ""),
                          Intent.model_validate(state["intent"]), record.get("achieved", []), scene_info(state))
    return dump(got)


def _gate(state: RetouchState, ctx: RunContext, record: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """(the gate's JSON or None when there is nothing to measure, an error message or None)."""
    from pertouch.graph.nodes.artefact_gate import measure_round

    try:
        return measure_round(state, ctx, record), None
    except Exception as exc:  # an unreadable preview, a mask gone: unverified, said so
        return None, f"the artefact gate could not measure round {record.get('round')}: {exc}"


def _apply_gate(crit: dict[str, Any], rounds: list[dict[str, Any]], gate: dict[str, Any] | None) -> None:
    """A failed gate: a defect, softer advice, never satisfied (``rounds[-1]`` gets the note).
    A passing round after failed ones: its explanation says what was softened."""
    from pertouch.graph.nodes.artefact_gate import soften_advice

    record = rounds[-1]
    if gate and gate["failed"]:
        advice, note = soften_advice(rounds, gate)
        crit["defects"] = list(dict.fromkeys([*crit.get("defects", []), gate["describe"]]))
        crit["advice"] = advice
        crit["satisfied"] = False
        record["softened"] = note
        return
    notes = [r["softened"] for r in rounds[:-1] if r.get("softened")]
    if notes:
        crit["explanation"] = "; ".join(x for x in (notes[-1].capitalize(), crit.get("explanation", "")) if x)


def _best(rounds: list[dict[str, Any]]) -> int:
    scored = [r for r in rounds if "score" in r]
    return min(scored, key=lambda r: (r["score"], r["round"]))["round"] if scored else rounds[-1]["round"]


@timed("critique")
def critique(state: RetouchState, runtime: Runtime[RunContext]) -> Command[Literal["plan", "respond"]]:
    """Judge the last round and decide: re-plan or respond."""
    ctx = runtime.context or RunContext()
    rounds = [dict(r) for r in state.get("rounds", [])]
    record = rounds[-1]
    kind = state.get("instruction_class")
    defects, advice, mean_err = measured_findings(record)
    errs = list(state.get("errors", []))
    gate, gate_error = _gate(state, ctx, record)
    if gate is not None:
        record["artefacts"] = gate
    if gate_error:
        errs = [*errs, error("critique", "artefacts", gate_error)]
    if kind == "follow-up":
        crit: dict[str, Any] = {"satisfied": not defects, "defects": defects, "advice": [],
                                "explanation": "session change rendered as asked", "source": "measured"}
    else:
        try:
            crit = _ask_critic(state, ctx, record)
        except Exception as exc:  # VLMError: unverified, not satisfied
            errs = [*errs, error("critique", "vlm", f"the critic failed, result not verified: {exc}")]
            if gate and gate["failed"]:
                defects = [*defects, gate["describe"]]
            record.update(critique={"satisfied": False, "defects": defects, "source": "measured"},
                          score=score({"satisfied": False, "defects": defects}, mean_err)
                          + gate_penalty(gate) + (GATE_PENALTY if gate_error else 0.0))
            rounds[-1] = record
            return Command(goto="respond", update={
                "rounds": rounds, "errors": errs, "best_round": _best(rounds),
                "stop_reason": "critic failed; result not verified"})
        crit["defects"] = list(dict.fromkeys([*crit.get("defects", []), *defects]))
        keys = {(a["region"], a["attribute"]) for a in crit.get("advice", [])}
        crit["advice"] = [*crit.get("advice", []), *[a for a in advice if (a["region"], a["attribute"]) not in keys]]
        crit["source"] = "critic+measured"
    crit["satisfied"] = bool(crit.get("satisfied")) and not crit["defects"] and mean_err <= TOLERANCE
    rounds[-1] = record
    _apply_gate(crit, rounds, gate)
    if gate_error:
        crit["satisfied"] = False
    record.update(critique=crit, score=score(crit, mean_err) + gate_penalty(gate)
                  + (GATE_PENALTY if gate_error else 0.0))
    prev_best = min((r["score"] for r in rounds[:-1] if "score" in r), default=None)
    update: dict[str, Any] = {"rounds": rounds, "critique": crit, "errors": errs, "best_round": _best(rounds)}
    rnd = int(state.get("round") or 1)
    softened_before = any((r.get("artefacts") or {}).get("failed") for r in rounds[:-1])
    if crit["satisfied"]:
        stop = "satisfied"
    elif kind == "follow-up":
        stop = "; ".join(["session change rendered", *crit["defects"]])
    elif softened_before and gate and not gate["failed"]:
        stop = "softened until the artefact gate passed"
    elif kind in ("weak-optimize", "weak-style") and not crit["defects"]:
        stop = "rendered once (weak instruction)"
    elif rnd >= ctx.max_rounds:
        stop = f"reached the maximum of {ctx.max_rounds} round{'s' if ctx.max_rounds > 1 else ''}"
        best = next(r for r in rounds if r["round"] == update["best_round"])
        if (best.get("artefacts") or {}).get("failed"):
            stop += "; artefacts remain"
            update["errors"] = [*errs, error("critique", "artefacts", f"round {best['round']} still has "
                                                                      f"{best['artefacts']['describe']}")]
    elif gate and gate["failed"]:  # softer each time, whatever the score: re-plan while rounds are left
        update["stop_reason"] = None
        return Command(goto="plan", update=update)
    elif prev_best is not None and record["score"] > prev_best - MIN_GAIN:
        best = update["best_round"]
        stop = (f"round {rnd} improved too little on the round before; kept it" if best == rnd
                else f"round {rnd} did not improve on round {best}; kept the best")
    else:
        update["stop_reason"] = None
        return Command(goto="plan", update=update)
    update["stop_reason"] = stop
    return Command(goto="respond", update=update)
