"""remember: store an accepted result in the user's scene memory.

What is stored: the scene description and tags, the image descriptor, the
instruction, and the FINAL absolute levels achieved per region label (never
pixels; the photo only by its content hash). Memory that is unavailable is recorded
as a warning; the result stands.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from pertouch.graph import runtime as rt
from pertouch.graph.context import RunContext
from pertouch.graph.nodes import timed, user_of
from pertouch.graph.nodes.recall import scene_descriptor
from pertouch.graph.state import RetouchState, add_error, error


def _achieved_levels(state: RetouchState) -> dict[str, dict[str, float]]:
    """``{label | "global": {attr: achieved level}}`` from the round's report (labels averaged)."""
    label_of = {r["name"]: r["label"] for r in state.get("regions") or []}
    sums: dict[str, dict[str, list[float]]] = {}
    for a in (state.get("result") or {}).get("achieved", []):
        label = "global" if a["region"] == "global" else label_of.get(a["region"], a["region"])
        sums.setdefault(label.lower(), {}).setdefault(a["attribute"], []).append(a["achieved"])
    return {lab: {k: round(max(-1.0, min(1.0, sum(v) / len(v))), 4) for k, v in attrs.items()}
            for lab, attrs in sums.items()}


def _measured_levels(state: RetouchState, ctx: RunContext) -> dict[str, dict[str, float]]:
    """``{label | "global": {core attr: level}}`` measured on the accepted result's
    preview: every region, not only the edited ones (labels area-weighted)."""
    import numpy as np
    from PIL import Image

    from pertouch.engine.schema.attributes import CORE_NAMES
    from pertouch.engine.measure.stats import measure_image_levels, measure_levels

    with Image.open(state["result"]["preview"]) as im:
        px = np.asarray(im.convert("RGB"))
    infos = [r for r in state.get("regions") or [] if r.get("area", 0) > 0]
    regions = rt.regions_by_name(state["image"], ctx.segmenter, [r["name"] for r in infos], cache=ctx.cache)
    regions = rt._at_size(state["image"], ctx.segmenter, regions, (px.shape[1], px.shape[0]), cache=ctx.cache)
    by_name = measure_levels(px, regions, attributes=CORE_NAMES)
    sums: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for r in infos:
        for attr, v in (by_name.get(r["name"]) or {}).items():
            sums.setdefault(r["label"].lower(), {}).setdefault(attr, []).append((float(v), float(r["area"])))
    out = {lab: {a: round(sum(v * w for v, w in vs) / max(1e-9, sum(w for _, w in vs)), 4) for a, vs in attrs.items()}
           for lab, attrs in sums.items()}
    out["global"] = {k: round(float(v), 4) for k, v in measure_image_levels(px, attributes=CORE_NAMES).items()}
    return out


def final_levels(state: RetouchState, ctx: RunContext | None = None) -> dict[str, dict[str, float]]:
    """The accepted result's absolute levels per region label and ``global``: measured on
    its preview when there is one (all regions), else from the round's achieved report."""
    achieved = _achieved_levels(state)
    try:
        measured = _measured_levels(state, ctx or RunContext())
    except Exception:  # no preview file (e.g. deleted): the report is still true
        return achieved
    for lab, attrs in achieved.items():  # the engine's own report wins where it has one
        measured.setdefault(lab, {}).update(attrs)
    return measured


def _last_instruction(state: RetouchState) -> str:
    """The last real instruction of the session (not "looks good")."""
    for turn in reversed(state.get("history") or []):
        if turn.get("kind") in ("strong", "weak-optimize", "weak-style") and turn.get("instruction"):
            return turn["instruction"]
    return state.get("instruction", "")


def _told(state: RetouchState, remembered: bool, why: str = "") -> dict[str, Any]:
    """For an accept or save turn, the answer (and its history entry) says whether it was remembered."""
    if (state.get("turn") or {}).get("kind") not in ("accept", "save"):
        return {}
    kind = (state.get("turn") or {}).get("kind")
    if kind == "accept":
        answer = "Accepted and remembered." if remembered else f"Accepted, but {why or 'not remembered'}."
    else:
        answer = f"{state.get('answer', '')} " + ("Remembered." if remembered else f"{why or 'Not remembered'}.")
    hist = [dict(h) for h in state.get("history") or []]
    if hist:
        hist[-1]["answer"] = answer.strip()
    return {"answer": answer.strip(), "history": hist}


@timed("remember")
def remember(state: RetouchState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Write one accepted-result memory for the run's user."""
    ctx = runtime.context or RunContext()
    mem, warning = rt.memory(ctx.memory, cache=ctx.cache) if ctx.use_memory else (None, "memory is off")
    if mem is None:
        return {"remembered": False, **_told(state, False, f"not remembered: {warning}"),
                "errors": add_error(state, error("remember", "memory", f"not remembered: {warning}"))}
    try:
        from pertouch.memory.records import MemoryRecord

        desc = scene_descriptor(state, ctx)
        scene = state.get("scene") or {}
        mem.remember(MemoryRecord(
            user=user_of(state, ctx), scene_description=scene.get("description", ""), tags=list(scene.get("tags") or [])[:8],
            image_descriptor=[float(x) for x in desc], instruction=_last_instruction(state),
            levels=final_levels(state, ctx), rating=1.0, image_hash=state["image"]["hash"]))
    except Exception as exc:  # a broken store must not lose the result
        why = f"not remembered: {type(exc).__name__}: {exc}"
        return {"remembered": False, **_told(state, False, why),
                "errors": add_error(state, error("remember", "memory", why))}
    return {"remembered": True, **_told(state, True)}
