"""The artefact gate of the critique: measure what a round's render broke, and how to soften it.

Every round's render is measured (:func:`pertouch.engine.measure.artefacts.measure_artefacts`)
at the working resolution of the previews the critic sees, on exact pixels: the photo's
proxy and the round's recipe rendered on it again (the engine is deterministic; the
JPEG previews' own block noise, amplified by a small photo's upscaling to the gate's
size, read as blotches — contrast +0.25 on a 256-px rocket: 1.22 ΔE/px from the JPEGs,
0.28 exact — and hides banding), with the skin of the photo when perception finds it.
A failed gate is a defect: the round is never "satisfied", and the next plan is SOFTER:

- ``soften_advice``: the critique's advice for the next round, relative to the FIRST
  round's plan of the turn (the builtin planner re-plans from scratch and adds the
  last critique's advice, so softening must carry the whole way back): the first
  failure halves each region's own edit (its shift beyond the global edit of the same
  attribute), the second drops it (the region follows the global edit: fewer
  regions, the edit moved to global). Blotches soften the regions whose borders carry
  them (:func:`pertouch.engine.measure.artefacts.blame`), or all regions when no border does;
  halos, noise, banding, clipping and skin hue soften the global edit too (halved,
  then quartered), and so does any failure no region edit is left to soften.
- ``softened_note``: what was softened and why, said in the answer.

Record keys this module writes: ``record["artefacts"]`` (values, thresholds, failed,
blame) and ``record["softened"]`` (the note of the advice the round led to).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pertouch.graph import runtime as rt
from pertouch.graph.context import RunContext

#: A region whose border carries at least this share of the blotches is softened.
BLAME_SHARE = 0.15
#: Scenes with a region of one of these labels have skin for the skin-hue check to watch.
PEOPLE_LABELS = ("person", "face", "skin", "face_skin")
#: Artefacts the global edit causes as much as the regions' (it is softened for them too).
GLOBAL_KINDS = ("halos", "noise", "banding", "clipping", "skin_hue")


def _skin(state: dict, ctx: RunContext, shape: tuple[int, int]) -> np.ndarray | None:
    """The photo's skin (perception's ``skin`` region, found once per photo) at ``shape``,
    or None when the scene has no people or no skin is found."""
    import cv2

    if not any(r.get("label") in PEOPLE_LABELS for r in state.get("regions") or []):
        return None
    try:  # the scene is the run cache's, and it keeps what it found
        mask = np.asarray(rt.scene(state["image"], ctx.segmenter, cache=ctx.cache).find("skin").mask, np.float32)
    except Exception:  # noqa: BLE001 - no skin found (or a segmenter that cannot look): not measured
        return None
    return cv2.resize(mask, shape[::-1], interpolation=cv2.INTER_AREA)


def measure_round(state: dict, ctx: RunContext, record: dict) -> dict[str, Any] | None:
    """The gate's JSON for a round (values, thresholds, failed, blame, describe), or None
    when the round has no recipe to measure."""
    from pertouch.engine.measure.artefacts import blame, measure_artefacts

    recipe = record.get("recipe")
    if not recipe:
        return None
    ref = state["image"]
    before = rt.proxy8(ref, ctx.working_resolution, cache=ctx.cache)
    after = rt.to8(rt.render(ref, recipe, segmenter=ctx.segmenter, engine=ctx.engine,
                             long_side=ctx.working_resolution, cache=ctx.cache).image)
    rep = measure_artefacts(before, after, skin_mask=_skin(state, ctx, before.shape[:2]))
    out = {**rep.to_json(), "describe": rep.describe(), "blame": {}}
    names = list(recipe.get("regions") or {})
    if "blotches" in rep.failed and names:
        regs = rt.regions_by_name(ref, ctx.segmenter, names, cache=ctx.cache)
        out["blame"] = blame(rep, {n: r.mask for n, r in regs.items()})
    return out


def _shifts(record: dict) -> dict[tuple[str, str], float]:
    """(region, attribute) → planned shift (target − before) of a round."""
    return {(a["region"], a["attribute"]): a["target"] - a["before"] for a in record.get("achieved") or []}


def failures(rounds: list[dict]) -> int:
    """How many of ``rounds`` failed the gate."""
    return sum(1 for r in rounds if (r.get("artefacts") or {}).get("failed"))


def soften_advice(rounds: list[dict], gate: dict) -> tuple[list[dict[str, Any]], str]:
    """(advice for the next plan, the note saying what was softened) after ``rounds[-1]``
    failed the gate ``gate``. The advice's ``by`` is relative to the first round's plan
    (see the module docstring)."""
    from pertouch.graph.vlm.schemas import GLOBAL

    base = _shifts(rounds[0])
    n = failures(rounds)
    keep = 0.5 if n <= 1 else 0.0  # of each region's own edit
    failed = list(gate.get("failed") or [])
    regions = sorted({r for r, _ in base if r != GLOBAL})
    blamed = [r for r in regions if (gate.get("blame") or {}).get(r, 0.0) >= BLAME_SHARE]
    if "blotches" in failed and blamed:
        soft = blamed
    else:
        soft = regions
    words = _why(failed)

    def edits(with_global: bool) -> list[dict[str, Any]]:
        g_keep = 0.5 ** n if with_global else 1.0  # of the global edit
        out = []
        for (region, attr), shift in base.items():
            g = base.get((GLOBAL, attr), 0.0)
            if region == GLOBAL:
                if not with_global:
                    continue
                by = (g_keep - 1.0) * shift
            elif region in soft:  # its own edit beyond the global one, on the (softened) global
                by = g_keep * g + keep * (shift - g) - shift
            elif with_global:  # not blamed: it keeps its own edit, on the softened global
                by = (g_keep - 1.0) * g
            else:
                continue
            if abs(by) >= 1e-3:
                out.append({"region": region, "attribute": attr, "by": round(by, 4), "reason": f"softened: {words}"})
        return out

    # the global edit is softened for the artefacts it causes as much as the regions do, and
    # whenever no region edit is left to soften (a global edit alone drew the blotches)
    advice = edits(bool(set(failed) & set(GLOBAL_KINDS))) or edits(True)
    return advice, _note(advice, soft, keep, failed, gate, n)


def _why(failed: list[str]) -> str:
    from pertouch.engine.measure.artefacts import WORDS

    return "; ".join(WORDS[k] for k in failed) or "artefacts"


def _note(advice: list[dict], soft: list[str], keep: float, failed: list[str], gate: dict, n: int = 1) -> str:
    """'softened: the other 2's temperature edit halved — blotches at the borders of other 2'."""
    if not advice:
        return ""
    by_region: dict[str, list[str]] = {}
    for a in advice:
        by_region.setdefault(a["region"], []).append(a["attribute"])
    parts = []
    for region, attrs in by_region.items():
        what = "the whole photo's" if region == "global" else f"the {region.replace('_', ' ')}'s"
        if region == "global":
            how = {1: "halved", 2: "quartered"}.get(n, f"cut to 1/{2 ** n}")
        else:
            how = "halved" if keep == 0.5 else "dropped (it follows the whole photo's edit)"
        parts.append(f"{what} {' and '.join(attrs)} edit{'s' if len(attrs) > 1 else ''} {how}")
    cause = _why(failed)
    blamed = [r for r in soft if (gate.get("blame") or {}).get(r, 0.0) >= BLAME_SHARE]
    if "blotches" in failed and blamed:
        others = [k for k in failed if k != "blotches"]
        cause = "; ".join(["blotches at the borders of " + ", ".join(r.replace("_", " ") for r in blamed),
                           *([_why(others)] if others else [])])
    return f"softened: {', '.join(parts)} — {cause}"
