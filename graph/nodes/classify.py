"""classify: the instruction → intent and its class, and the route it takes.

strong / weak-optimize / weak-style → recall (then plan); out-of-scope or a failed
model call → respond (which says why); no-op ("leave it as it is"), question ("is it
too dark?") and undo (one-shot: nothing to undo) → respond, which answers in words and
renders nothing; a model that cannot be loaded or fails → respond with the turn's
``problem`` (never read as out-of-scope). Session commands never get here (converse). Regions the intent names but the
photo's segmentation lacks are looked up with the segmenter's ``find``; those not
found are recorded ("no sky in this photo"); when none is left, nothing is edited.
A target relative to another region ("as bright as the water": ``like``) needs both
regions; its level or shift is filled in from their measured levels, so the critic
can judge it like any other target.
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from pertouch.core.errors import NotFoundError, PertouchError
from pertouch.graph import runtime as rt
from pertouch.graph.context import RunContext
from pertouch.graph.nodes import dump, scene_info, timed
from pertouch.graph.schemas import problem, problem_from
from pertouch.graph.state import RetouchState, add_error, error

CLASSES = ("strong", "weak-optimize", "weak-style", "out-of-scope", "no-op", "question", "undo")
#: Classes answered in words: nothing is planned, rendered or remembered.
ANSWER_ONLY = ("no-op", "question", "undo")
#: region words that mean the whole photo, never looked up.
WHOLE = {"", "global", "image", "photo", "picture", "all", "everything", "whole", "overall"}


def intent_class(intent: dict[str, Any]) -> str:
    """The instruction class an intent declares (normalised to :data:`CLASSES`)."""
    raw = str(intent.get("kind") or intent.get("instruction_class") or intent.get("category") or "")
    raw = raw.strip().lower().replace("_", "-").replace(" ", "-")
    return raw if raw in CLASSES else ("out-of-scope" if not raw else raw)


def target_regions(intent: dict[str, Any]) -> list[str]:
    """Region words an intent names (excluding the whole photo), in order; a target's
    reference region (``like``) counts too."""
    out: list[str] = []
    for t in intent.get("targets") or []:
        if (t or {}).get("negated"):
            continue
        for key in ("region", "like"):
            name = str((t or {}).get(key) or "").strip().lower()
            if name not in WHOLE and name not in out:
                out.append(name)
    return out


def _named(t: dict[str, Any] | None, missing: list[str]) -> bool:
    """Are the target's region and its reference (if any) both in the photo?"""
    return not any(str((t or {}).get(k) or "").strip().lower() in missing for k in ("region", "like"))


def _concrete(intent: dict[str, Any], state: RetouchState, regions: list[dict]) -> dict[str, Any]:
    """The intent with each ``like`` target's level/shift filled in from measured levels."""
    if not any((t or {}).get("like") for t in intent.get("targets") or []):
        return intent
    from pertouch.graph.vlm.builtin.like import concrete_intent
    from pertouch.graph.vlm.schemas import Intent

    return dump(concrete_intent(Intent.model_validate(intent), scene_info({**state, "regions": regions})))


def _resolve(state: RetouchState, ctx: RunContext, names: list[str]) -> tuple[list[dict], list[dict], list[str]]:
    """Find named regions missing from the scene. → (new region infos, errors, missing)."""
    from pertouch.tools.perception import FIND_MIN_CONFIDENCE

    # a label counts only when the segmenter is reasonably sure of it (a 0.25 "sky"
    # on a coffee cup is a guess); otherwise ``find`` decides and says why
    regions = state.get("regions", [])
    have = ({r["label"].lower() for r in regions if float(r.get("confidence", 1.0)) >= FIND_MIN_CONFIDENCE}
            | {r["name"].lower() for r in regions if r["name"] != r["label"]})
    new, errs, missing = [], [], []
    for name in names:
        if name in have:
            continue
        try:
            reg = rt.find_region(state["image"], ctx.segmenter, name, cache=ctx.cache)
        except NotFoundError as exc:
            missing.append(name)
            why = exc.message.partition(";")[2].strip()
            hint = f" — {exc.hint}" if exc.hint else ""
            errs.append(error("classify", "not-found", f"no {name} in this photo" + (f" ({why})" if why else "") + hint))
            continue
        except PertouchError as exc:
            missing.append(name)
            errs.append(error("classify", "not-found", f"could not look for {name}: {exc.one_line()}"))
            continue
        info = rt.region_infos([reg], state["image"], ctx.segmenter)[0]
        if info["label"].lower() != name:  # the plan names it as the instruction did ("man on the left")
            info["label"] = name
        new.append(info)
        have |= {info["label"].lower(), info["name"].lower()}
    return new, errs, missing


@timed("classify")
def classify(state: RetouchState, runtime: Runtime[RunContext]) -> Command[Literal["recall", "respond"]]:
    """Classify the instruction and route it."""
    ctx = runtime.context or RunContext()
    try:
        intent = dump(rt.model(ctx, "classifier").classify(state["instruction"], scene_info(state)))
    except PertouchError as exc:  # a model that cannot load (settings) or failed (model): never "out-of-scope"
        return Command(goto="respond", update={"problem": problem_from(exc)})
    except Exception as exc:  # an answer that does not validate: the model failed too
        return Command(goto="respond", update={"problem": problem(
            "model", f"the model failed: its answer could not be used ({type(exc).__name__}: {exc})",
            "try again, or use --vlm builtin")})
    kind = intent_class(intent)
    update: dict[str, Any] = {"intent": intent, "instruction_class": kind}
    if kind in ANSWER_ONLY:  # answered in words by respond; nothing is rendered
        return Command(goto="respond", update=update)
    if kind == "out-of-scope":
        why = intent.get("explanation") or intent.get("reason") or "this is not a photo-retouching request"
        update["errors"] = add_error(state, error("classify", "out-of-scope", str(why), fatal=True))
        return Command(goto="respond", update=update)
    names = target_regions(intent) if kind == "strong" else []
    new, errs, missing = _resolve(state, ctx, names)
    kept = [str(p).strip().lower() for p in intent.get("protected") or [] if str(p).strip().lower() not in WHOLE]
    if kept:  # "leave the background alone": found like a target, but its absence stops nothing
        more, perrs, _ = _resolve({**state, "regions": [*state.get("regions", []), *new]}, ctx,
                                  [p for p in kept if p not in names])
        new += more
        update["errors"] = [*state.get("errors", []),
                            *[dict(e, message="nothing to protect: " + e["message"]) for e in perrs]]
    if new:
        update["regions"] = [*state.get("regions", []), *new]
    if errs:
        global_targets = [t for t in intent.get("targets") or []
                          if str((t or {}).get("region") or "").lower() in WHOLE]
        kept_targets = [t for t in intent.get("targets") or [] if _named(t, missing)]
        fatal = bool(missing) and (len(missing) == len(names) and not global_targets
                                   or not kept_targets and not intent.get("style"))
        if fatal:
            errs[-1]["fatal"] = True
        update["errors"] = [*update.get("errors", state.get("errors", [])), *errs]
        if fatal:
            return Command(goto="respond", update=update)
        # the planner must not edit a low-confidence guess at a region that was not found
        update["intent"] = {**intent, "targets": kept_targets}
    update["intent"] = _concrete(update["intent"], state, update.get("regions", state.get("regions", [])))
    return Command(goto="recall", update=update)
