"""Levels relative to another region: a :class:`Target` with ``like`` → concrete edits.

"make the sky as bright as the water" (direction ``set``, ``like`` water) moves the sky
``to`` the water's measured level; "the ground should be darker than the sky"
(direction ``down``, ``like`` sky) moves the ground to the sky's level minus a margin
(:data:`MARGIN`, or the size word's step: "much darker than" is 0.3 below), unless
the ground is already that far below it — then it is left as it is and the plan
says why. The reference level of a label with several regions is their
area-weighted mean. A reference the photo lacks is a missing region (not found).

Levels are absolute (0 = typical well-retouched level). A goal inside [−1, 1] is a
``to`` level; one past ±1 (a reference beyond every expert photo) is a ``by`` shift
from the region's measured level.

>>> from pertouch.graph.vlm.schemas import SceneInfo, Target
>>> sc = SceneInfo.from_regions([{"name": "sky", "label": "sky", "area": 0.4, "levels": {"brightness": 0.6}},
...                              {"name": "water", "label": "water", "area": 0.3, "levels": {"brightness": 0.1}}])
>>> edits, missing, impossible, notes = like_edits(Target(region="sky", attribute="brightness",
...                                                        direction="set", like="water"), sc)
>>> [(e.region, e.to) for e in edits], missing
([('sky', 0.1)], [])
"""

from __future__ import annotations

from pertouch.engine.schema.attributes import LEVEL_EXTENDED
from pertouch.graph.vlm.magnitudes import MAGNITUDES
from pertouch.graph.vlm.schemas import GLOBAL, Intent, PlanEdit, SceneInfo, Target

#: How far past the reference "darker than the sky" goes when no size word is given.
MARGIN = 0.1


def _names(label: str, scene: SceneInfo) -> list[str]:
    from pertouch.graph.vlm.builtin.planner import resolve_label

    return resolve_label(label, scene)


def reference_level(label: str, attribute: str, scene: SceneInfo) -> float | None:
    """The measured level of ``attribute`` over the regions of ``label`` (area-weighted), or None."""
    rows = []
    for n in _names(label, scene):
        v = scene.levels_of(n).get(attribute)
        if v is not None:
            r = scene.region(n)
            rows.append((float(v), max(r.area, 1e-6) if r is not None else 1.0))
    if not rows:
        return None
    return sum(v * w for v, w in rows) / sum(w for _, w in rows)


def margin(t: Target) -> float:
    """How far past the reference a relative target goes (its size word's step, else :data:`MARGIN`)."""
    words = (t.magnitude or "").split()
    sizes = [MAGNITUDES[" ".join(words[i:])] for i in range(len(words)) if " ".join(words[i:]) in MAGNITUDES]
    return sizes[0] if sizes else MARGIN


def goal(t: Target, ref: float) -> float:
    """The level a ``like`` target asks for, given the reference's level ``ref``."""
    if t.direction == "set":
        return ref
    step = margin(t)
    return max(-LEVEL_EXTENDED, min(LEVEL_EXTENDED, ref - step if t.direction == "down" else ref + step))


def _said(name: str) -> str:
    return "photo" if name == GLOBAL else name.replace("_", " ")


def like_edits(t: Target, scene: SceneInfo) -> tuple[list[PlanEdit], list[str], list[str], list[str]]:
    """(edits, missing labels, impossible sentences, notes) for one ``like`` target."""
    names = _names(t.region, scene)
    missing = [lab for lab, ok in ((t.region, names), (t.like, _names(t.like or "", scene))) if not ok]
    if missing:
        return [], missing, [], []
    ref = reference_level(t.like, t.attribute, scene)
    if ref is None:
        return [], [], [f"the {t.like}'s {t.attribute} was not measured, so nothing could be matched to it"], []
    to = goal(t, ref)
    edits: list[PlanEdit] = []
    impossible: list[str] = []
    way = {"down": "below", "up": "above"}.get(t.direction, "at")
    for n in names:
        m = scene.levels_of(n).get(t.attribute)
        if t.direction != "set" and m is not None and (m <= to if t.direction == "down" else m >= to):
            word = {"down": "lower", "up": "higher"}[t.direction]
            impossible.append(f"the {_said(n)}'s {t.attribute} ({m:+.2f}) is already {word} than the {t.like}'s "
                              f"({ref:+.2f}); it was left as it is")
            continue
        reason = f"asked: {t.attribute} {way} the {t.like}'s level ({ref:+.2f})"
        if -1.0 <= to <= 1.0 or m is None:
            edits.append(PlanEdit(region=n, attribute=t.attribute, to=round(max(-1.0, min(1.0, to)), 4), reason=reason))
        else:
            edits.append(PlanEdit(region=n, attribute=t.attribute, by=round(max(-2.0, min(2.0, to - m)), 4),
                                  reason=reason))
    notes = []
    if edits:
        how = (f"set to the {t.like}'s measured level {ref:+.2f}" if t.direction == "set"
               else f"moved to {to:+.2f}, {margin(t):.2f} {way} the {t.like}'s measured {ref:+.2f}")
        notes.append(f"{t.attribute} of {', '.join(_said(e.region) for e in edits)} {how}")
    return edits, [], impossible, notes


def concrete_intent(intent: Intent, scene: SceneInfo) -> Intent:
    """``intent`` with each ``like`` target's level (set) or shift (up/down) filled in from ``scene``.

    The ``like`` stays; the numbers let a critic judge the result as for any target.
    Targets whose region or reference is missing are dropped; a region already past
    its reference gets a shift of 0.
    """
    out = []
    for t in intent.targets:
        if t.like is None:
            out.append(t)
            continue
        ref = reference_level(t.like, t.attribute, scene)
        own = reference_level(t.region, t.attribute, scene)
        if ref is None or not _names(t.region, scene):
            continue
        to = goal(t, ref)
        if t.direction == "set":
            out.append(t.model_copy(update={"level": round(max(-1.0, min(1.0, to)), 4)}))
            continue
        shift = 0.0 if own is None else to - own
        shift = min(0.0, shift) if t.direction == "down" else max(0.0, shift)
        out.append(t.model_copy(update={"shift": round(max(-2.0, min(2.0, shift)), 4)}))
    return intent.model_copy(update={"targets": out})
