"""perceive: the photo → its reference, regions (summaries) and a scene description.

Regions the user pointed at (state ``pointers``, boxes/points on this photo) join
the segmenter's regions under the names the user gave them.

Segmentation is cached by content hash (a second turn on the same photo costs
nothing). The describer VLM names the scene; when it fails the scene falls back to
the region labels and the failure is recorded, not hidden.
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from pertouch.core.errors import InputError, PertouchError

from pertouch.graph import runtime as rt
from pertouch.graph.context import RunContext
from pertouch.graph.nodes import timed
from pertouch.graph.schemas import problem, problem_from
from pertouch.graph.state import TURN_KEYS, ImageRef, RetouchState, error


def _fresh_turn() -> dict[str, Any]:
    """Reset the per-turn keys so a new instruction starts clean."""
    empty: dict[str, Any] = {k: None for k in TURN_KEYS}
    empty.update(rounds=[], errors=[], round=0, timings_ms={}, remembered=False)
    return empty


def _describe(ctx: RunContext, ref: dict, sc: Any, regions: list[dict]) -> tuple[dict, list]:
    fallback = {
        "description": "a photo with " + (", ".join(sorted({r["label"] for r in regions})) or "no distinct regions"),
        "tags": sorted({r["label"] for r in regions})[:8],
    }
    try:
        from PIL import Image

        from pertouch.graph.vlm.schemas import SceneInfo

        image = Image.fromarray(rt.proxy8(ref, min(ctx.working_resolution, 768), cache=ctx.cache))
        info = SceneInfo.from_regions(regions, dict(sc.levels), image_path=ref["path"])
        desc = rt.model(ctx, "describer").describe(image, info)
    except Exception as exc:  # VLMError / ModelError: state, not a crash
        return fallback, [error("perceive", "vlm", f"describing the scene failed: {exc}")]
    data = desc.model_dump(mode="json") if hasattr(desc, "model_dump") else dict(desc)
    data.setdefault("description", fallback["description"])
    data.setdefault("tags", fallback["tags"])
    return data, []


def _photo(state: RetouchState, ctx: RunContext) -> ImageRef:
    """The turn's photo: ``image_path`` (first turn, or the same photo again) or the thread's."""
    ref, path = state.get("image"), state.get("image_path")
    if not path and not ref:
        raise InputError("no photo given", hint="send image_path (a file the server can read) with the first turn")
    if ref and (not path or path == ref.get("path")):
        rt.photo(ref, cache=ctx.cache)  # verifies the hash after a restart
        return ref
    new = rt.open_photo(str(path), cache=ctx.cache)
    if ref and new["hash"] != ref["hash"]:
        raise InputError(f"this conversation is about {ref['path']}, not {path}",
                         hint="start a new conversation (thread or session) for another photo")
    return new


@timed("perceive")
def perceive(state: RetouchState, runtime: Runtime[RunContext]) -> Command[Literal["converse", "respond"]]:
    """Load (or re-use) the photo reference, segment it, describe it. A photo, setting or
    pointer that cannot be used becomes the turn's ``problem`` (answered by respond)."""
    ctx = runtime.context or RunContext()
    update = _fresh_turn()
    bad = ctx.problems() if hasattr(ctx, "problems") else []
    if bad:
        update["problem"] = problem("settings", "; ".join(bad), "fix the run's context (settings)")
        return Command(goto="respond", update=update)
    try:
        ref = _photo(state, ctx)
        sc = rt.scene(ref, ctx.segmenter, cache=ctx.cache)
        regions = rt.region_infos(sc.regions, ref, ctx.segmenter)
        pointers = [p for p in state.get("pointers") or [] if p.get("photo", ref["hash"]) == ref["hash"]]
        if pointers:  # regions the user pointed at
            pointed = rt.add_pointed(ref, ctx.segmenter, pointers, cache=ctx.cache)
            regions += rt.region_infos(pointed, ref, ctx.segmenter)
    except (PertouchError, OSError) as exc:
        update["problem"] = problem_from(exc)
        return Command(goto="respond", update=update)
    update.update(image=ref, regions=regions,
                  global_levels={k: round(float(v), 4) for k, v in dict(sc.levels).items()})
    old = state.get("scene") or {}
    if old.get("hash") == ref["hash"] and old.get("segmenter") == ctx.segmenter:
        update["scene"] = old  # already described in an earlier turn
    else:
        described, errs = _describe(ctx, ref, sc, regions)
        update["scene"] = {**described, "hash": ref["hash"], "segmenter": ctx.segmenter}
        update["errors"] = errs
    return Command(goto="converse", update=update)
