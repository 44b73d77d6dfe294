"""The builtin critic: measured achieved levels versus the intent, plus image defects.

For each target of the intent, every rendered region with its label is judged from
the engine's report (``before``, ``target``, ``achieved`` levels):

- the asked change ``d`` is the target level minus ``before`` (shift targets clipped
  to ±LEVEL_EXTENDED: levels beyond ±1 are measured, past every expert photo), the
  achieved change ``a`` is ``achieved − before``;
- ``not_changed`` if ``|a| <`` :data:`STILL`; ``wrong_direction`` if ``a`` and ``d``
  differ in sign; ``not_enough`` if ``a/d <`` :data:`LOW`; ``overshoot`` if
  ``a/d >`` :data:`HIGH` (and off by more than :data:`TOL`); else ``changed_enough``;
- ``size_fits_wording`` when ``a`` is within [LOW, HIGH]·d or within TOL of it.

Defects come from the before/after images (blown highlights, crushed shadows that
the edit caused), from levels pushed to the end of their range and from protected
regions that moved, and — for weak requests — planned changes that came out the
other way (another attribute's edit dragged the level back). Advice is the signed shift still missing per region/attribute.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from pertouch.engine.schema.attributes import clamp_level
from pertouch.graph.vlm.base import ImageRef, VLMError, load_image, to_measured
from pertouch.graph.vlm.schemas import GLOBAL, Adjustment, Critique, Intent, Measured, SceneInfo, TargetCheck, Target

STILL, LOW, HIGH, TOL = 0.02, 0.6, 1.6, 0.05
#: A weak request's planned change that came out this far the other way is a defect (the graph re-plans).
WRONG_WAY = 0.03
#: A level moved out to this close to ±1, or past it, counts as pushed out of range (unless asked for).
EDGE = 0.98
#: Blown (two channels ≥ 250: a saturated blue sky with only B at 255 keeps its detail)
#: or crushed (max channel ≤ 5) pixel fractions the edit may add before it is a defect.
CLIP_ADDED, CLIP_MIN = 0.02, 0.03
_ORDER = ("wrong_direction", "not_changed", "overshoot", "not_enough", "changed_enough")


def _names_for(label: str, measured: list[Measured], scene: SceneInfo | None) -> list[str]:
    if scene is not None:
        from pertouch.graph.vlm.builtin.planner import resolve_label

        names = resolve_label(label, scene)
        if names:
            return names
    return list(dict.fromkeys(m.region for m in measured
                              if m.region == label or m.region.startswith(label + "_")))


def _not_rendered(t: Target, names: list[str], scene: SceneInfo | None) -> str:
    """Why a target has no rendered region: the end of the level scale, or just that."""
    if scene is not None and t.direction != "set":
        from pertouch.graph.vlm.builtin.planner import scale_end_note

        for n in names:
            what = "photo" if n == GLOBAL else n.replace("_", " ")
            note = scale_end_note(what, t.attribute, scene.levels_of(n).get(t.attribute), t.shift)
            if note:
                return note
    return f"{t.attribute} of {t.region} was not rendered"


def judge(t: Target, m: Measured, share: float = 1.0) -> TargetCheck:
    """The verdict for one target on one rendered region.

    ``share`` is the fraction of the region the edit may change: a global edit with
    protected regions held back can only move the whole photo's level that much.
    """
    if t.direction == "set":
        desired = t.level
    else:
        desired = clamp_level(m.before + t.shift)
    desired = m.before + share * (desired - m.before)
    d, a = desired - m.before, m.achieved - m.before
    off = abs(m.achieved - desired)
    if abs(d) < STILL:  # nothing (more) could be asked: at the end of the range already
        verdict = "changed_enough" if off <= TOL else ("overshoot" if abs(a) > abs(d) else "not_enough")
        fits = off <= TOL
    else:
        ratio = a / d
        if abs(a) < STILL:
            verdict = "not_changed"
        elif ratio < 0:
            verdict = "wrong_direction"
        elif ratio < LOW and off > TOL:
            verdict = "not_enough"
        elif ratio > HIGH and off > TOL:
            verdict = "overshoot"
        else:
            verdict = "changed_enough"
        fits = LOW <= ratio <= HIGH or off <= TOL
    return TargetCheck(region=m.region, attribute=t.attribute, verdict=verdict, size_fits_wording=fits,
                       before=round(m.before, 4), achieved=round(m.achieved, 4))


def second_channel(px: np.ndarray) -> np.ndarray:
    """The middle of each pixel's three channel values (``(h, w)``, int): a pixel is blown
    when two channels clip, not when one saturated primary reaches the top."""
    p = px.astype(np.int32)
    return p.sum(axis=2) - p.max(axis=2) - p.min(axis=2)


def _clip_fractions(ref: ImageRef) -> tuple[float, float]:
    px = np.asarray(load_image(ref, max_side=256), dtype=np.uint8)
    hi = float((second_channel(px) >= 250).mean())
    lo = float((px.max(axis=2) <= 5).mean())
    return hi, lo


def image_defects(before_ref: ImageRef | None, after_ref: ImageRef | None) -> tuple[list[str], list[Adjustment]]:
    """Blown highlights / crushed shadows the edit added (fractions of a 256-px preview)."""
    if before_ref is None or after_ref is None:
        return [], []
    try:
        (bh, bl), (ah, al) = _clip_fractions(before_ref), _clip_fractions(after_ref)
    except Exception as exc:
        raise VLMError(f"cannot read the before/after images: {exc}", role="critique", provider="builtin") from None
    defects, advice = [], []
    if ah >= CLIP_MIN and ah - bh > CLIP_ADDED:
        defects.append(f"clipped highlights: {ah:.0%} of the photo is blown out (was {bh:.0%})")
        advice.append(Adjustment(region=GLOBAL, attribute="highlights", by=-0.15, reason="recover clipped highlights"))
    if al >= CLIP_MIN and al - bl > CLIP_ADDED:
        defects.append(f"crushed shadows: {al:.0%} of the photo is pure black (was {bl:.0%})")
        advice.append(Adjustment(region=GLOBAL, attribute="shadows", by=0.15, reason="open crushed shadows"))
    return defects, advice


def critique_render(before_ref: ImageRef | None, after_ref: ImageRef | None, instruction: str, intent: Intent,
                    achieved: Iterable[Any], scene: SceneInfo | None = None) -> Critique:
    """The builtin critic's :class:`Critique` (see the module docstring)."""
    measured = to_measured(achieved)
    by_key = {(m.region, m.attribute): m for m in measured}
    checks: list[TargetCheck] = []
    advice: list[Adjustment] = []
    defects: list[str] = []
    summary: list[str] = []
    held = 0.0
    if intent.protected and scene is not None:
        from pertouch.graph.vlm.builtin.planner import resolve_label

        held = min(0.9, sum(r.area for lab in intent.protected for n in resolve_label(lab, scene)
                            for r in scene.regions if r.name == n))
    for t in intent.targets:
        share = 1.0 - held if t.region == GLOBAL else 1.0
        names = _names_for(t.region, measured, scene)
        rows = [by_key[(n, t.attribute)] for n in names if (n, t.attribute) in by_key]
        if not rows:
            checks.append(TargetCheck(region=t.region, attribute=t.attribute, verdict="not_changed",
                                      size_fits_wording=False))
            summary.append(_not_rendered(t, names, scene))
            continue
        for m in rows:
            c = judge(t, m, share)
            checks.append(c)
            if c.verdict != "changed_enough":
                desired = t.level if t.direction == "set" else clamp_level(m.before + t.shift)
                desired = m.before + share * (desired - m.before)
                advice.append(Adjustment(region=m.region, attribute=t.attribute, by=round(desired - m.achieved, 4),
                                         reason=c.verdict.replace("_", " ")))
                summary.append(f"{t.attribute} of {m.region}: {c.verdict.replace('_', ' ')} "
                               f"({m.before:+.2f} → {m.achieved:+.2f}, wanted {desired:+.2f})")
    if not intent.targets:  # weak requests: did the engine reach the planned levels, and never the wrong way?
        for m in measured:
            planned, got = m.target - m.before, m.achieved - m.before
            if abs(planned) >= STILL and planned * got < 0 and abs(got) > WRONG_WAY:
                defects.append(f"{m.attribute} of {m.region} moved the wrong way "
                               f"({m.before:+.2f} → {m.achieved:+.2f}, planned {m.target:+.2f})")
            if abs(m.achieved - m.target) > 3 * TOL:
                advice.append(Adjustment(region=m.region, attribute=m.attribute,
                                         by=round(m.target - m.achieved, 4), reason="planned level not reached"))
                summary.append(f"{m.attribute} of {m.region} missed its planned level by "
                               f"{m.achieved - m.target:+.2f}")
    asked = {(c.region, c.attribute) for c in checks}
    for m in measured:
        outward = abs(m.achieved) - abs(m.before) > STILL  # a region already out there is not "pushed"
        if abs(m.achieved) >= EDGE and abs(m.target) < EDGE and outward and (m.region, m.attribute) not in asked:
            where = "past" if abs(m.achieved) > 1.0 else "to"
            defects.append(f"{m.attribute} of {m.region} pushed {where} the end of its range ({m.achieved:+.2f})")
    if intent.protected and scene is not None:
        from pertouch.graph.vlm.builtin.planner import resolve_label

        for label in intent.protected:
            for n in resolve_label(label, scene):
                for m in (x for x in measured if x.region == n and abs(x.achieved - x.before) > TOL):
                    defects.append(f"protected {label} changed: {m.attribute} {m.before:+.2f} → {m.achieved:+.2f}")
                    advice.append(Adjustment(region=n, attribute=m.attribute, by=round(m.before - m.achieved, 4),
                                             reason=f"keep {label} as it was"))
    img_defects, img_advice = image_defects(before_ref, after_ref)
    defects += img_defects
    advice += img_advice
    fits = all(c.size_fits_wording for c in checks)
    satisfied = all(c.verdict == "changed_enough" for c in checks) and not defects and not (
        not intent.targets and advice)
    if satisfied:
        explanation = "Every requested change happened at a size that fits the wording." if checks else \
            "The planned levels were reached without visible defects."
    else:
        explanation = "; ".join(summary + defects) or "Not verified."
    return Critique(satisfied=satisfied, targets=checks, size_fits_wording=fits, defects=defects,
                    advice=[] if satisfied else advice, explanation=explanation)
