"""perceive: the photo → its reference, regions (summaries) and a scene description.

Regions the user pointed at (state ``pointers``, boxes/points on this photo) join
the segmenter's regions under the names the user gave them.

Segmentation is cached by content hash (a second turn on the same photo costs
nothing). The describer VLM names the scene; when it fails the scene falls back to
the region labels and the failure is recorded, not hidden.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from pertouch.graph import runtime as rt
from pertouch.graph.context import RunContext
from pertouch.graph.nodes import timed
from pertouch.graph.state import TURN_KEYS, RetouchState, error


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

        image = Image.fromarray(rt.proxy8(ref, min(ctx.working_resolution, 768)))
        info = SceneInfo.from_regions(regions, dict(sc.levels), image_path=ref["path"])
        desc = rt.vlm(ctx.model_for("describer")).describe(image, info)
    except Exception as exc:  # VLMError / ModelError: state, not a crash
        return fallback, [error("perceive", "vlm", f"describing the scene failed: {exc}")]
    data = desc.model_dump(mode="json") if hasattr(desc, "model_dump") else dict(desc)
    data.setdefault("description", fallback["description"])
    data.setdefault("tags", fallback["tags"])
    return data, []


@timed("perceive")
def perceive(state: RetouchState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Load (or re-use) the photo reference, segment it, describe it."""
    ctx = runtime.context or RunContext()
    update = _fresh_turn()
    ref = state.get("image")
    if not ref or ref.get("path") != state.get("image_path"):
        ref = rt.open_photo(state["image_path"])
    else:
        rt.photo(ref)  # verifies the hash after a restart
    sc = rt.scene(ref, ctx.segmenter)
    regions = rt.region_infos(sc.regions, ref, ctx.segmenter)
    pointers = [p for p in state.get("pointers") or [] if p.get("photo", ref["hash"]) == ref["hash"]]
    if pointers:  # regions the user pointed at (InputError / NotFoundError: bad input, not state)
        regions += rt.region_infos(rt.add_pointed(ref, ctx.segmenter, pointers), ref, ctx.segmenter)
    update.update(image=ref, regions=regions,
                  global_levels={k: round(float(v), 4) for k, v in dict(sc.levels).items()})
    old = state.get("scene") or {}
    if old.get("hash") == ref["hash"] and old.get("segmenter") == ctx.segmenter:
        update["scene"] = old  # already described in an earlier turn
    else:
        described, errs = _describe(ctx, ref, sc, regions)
        update["scene"] = {**described, "hash": ref["hash"], "segmenter": ctx.segmenter}
        update["errors"] = errs
    return update
