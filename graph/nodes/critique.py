"""critique: judge the round — the model's judgement AND the measured levels.

The critic VLM sees before/after previews, the instruction, the intent and the
achieved levels; this node adds what it measured itself (targets missed, clipped
highlights, crushed shadows, regions pushed to the end of their range), scores the
round, and routes: strong instructions re-plan until satisfied, ``max_rounds`` is
reached, or a round no longer improves (the best round is kept); weak ones render
once unless a defect is found; session follow-ups are rendered once. A critic that
fails stops the loop and the answer says the result is unverified — never counted
as satisfied.
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from pertouch.graph import runtime as rt
from pertouch.graph.context import RunContext
from pertouch.graph.nodes import dump, scene_info, timed
from pertouch.graph.state import RetouchState, add_error, error

#: A measured level within this of its target counts as reached.
TOLERANCE = 0.06
#: Clipping that grows by more than this fraction of the photo is a defect.
CLIP_LIMIT = 0.02
#: A round must beat the best score by this much to count as an improvement.
MIN_GAIN = 0.01


def measured_findings(record: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]], float]:
    """(defects, advice, mean |error|) from a round's achieved levels and clipping."""
    defects, advice, errs = [], [], []
    for a in record.get("achieved", []):
        err = a["achieved"] - a["target"]
        errs.append(abs(err))
        if abs(err) > TOLERANCE:
            advice.append({"region": a["region"], "attribute": a["attribute"],
                           "by": round(max(-2.0, min(2.0, -err)), 3),
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

    critic = rt.vlm(ctx.model_for("critic"))
    got = critic.critique(state["before"], record["preview"], state.get("instruction", ""),
                          Intent.model_validate(state["intent"]), record.get("achieved", []), scene_info(state))
    return dump(got)


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
    if kind == "follow-up":
        crit: dict[str, Any] = {"satisfied": not defects, "defects": defects, "advice": [],
                                "explanation": "session change rendered as asked", "source": "measured"}
    else:
        try:
            crit = _ask_critic(state, ctx, record)
        except Exception as exc:  # VLMError: unverified, not satisfied
            errs = add_error(state, error("critique", "vlm", f"the critic failed, result not verified: {exc}"))
            record.update(critique={"satisfied": False, "defects": defects, "source": "measured"},
                          score=score({"satisfied": False, "defects": defects}, mean_err))
            rounds[-1] = record
            return Command(goto="respond", update={
                "rounds": rounds, "errors": errs, "best_round": _best(rounds),
                "stop_reason": "critic failed; result not verified"})
        crit["defects"] = list(dict.fromkeys([*crit.get("defects", []), *defects]))
        keys = {(a["region"], a["attribute"]) for a in crit.get("advice", [])}
        crit["advice"] = [*crit.get("advice", []), *[a for a in advice if (a["region"], a["attribute"]) not in keys]]
        crit["source"] = "critic+measured"
    crit["satisfied"] = bool(crit.get("satisfied")) and not crit["defects"] and mean_err <= TOLERANCE
    record.update(critique=crit, score=score(crit, mean_err))
    rounds[-1] = record
    prev_best = min((r["score"] for r in rounds[:-1] if "score" in r), default=None)
    update: dict[str, Any] = {"rounds": rounds, "critique": crit, "errors": errs, "best_round": _best(rounds)}
    rnd = int(state.get("round") or 1)
    if crit["satisfied"]:
        stop = "satisfied"
    elif kind == "follow-up":
        stop = "; ".join(["session change rendered", *crit["defects"]])
    elif kind in ("weak-optimize", "weak-style") and not crit["defects"]:
        stop = "rendered once (weak instruction)"
    elif rnd >= ctx.max_rounds:
        stop = f"reached the maximum of {ctx.max_rounds} round{'s' if ctx.max_rounds > 1 else ''}"
    elif prev_best is not None and record["score"] > prev_best - MIN_GAIN:
        best = update["best_round"]
        stop = (f"round {rnd} improved too little on the round before; kept it" if best == rnd
                else f"round {rnd} did not improve on round {best}; kept the best")
    else:
        update["stop_reason"] = None
        return Command(goto="plan", update=update)
    update["stop_reason"] = stop
    return Command(goto="respond", update=update)
