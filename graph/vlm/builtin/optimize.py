"""Weak-optimize ("make it look better", "enhance", "fix the colours"): a restrained plan.

:func:`optimize_plan` ``(scene, prefs=None, regions=None) -> OptimizePlan`` (``.edits``:
``by`` shifts; ``.notes``: what each edit corrects, what was left as meant, the statistics).

A photographer's "make it better" is a nudge, not a re-grade. So:

1. **Global first**, from the photo's own statistics (:class:`PhotoStats`, measured on
   the photo at ``scene.image_path`` resized to the 512×512 measuring image): luma
   percentiles and clipping (exposure: only ever lifted; tonal spread: only ever
   stretched), a grey-world cast of the photo's greys and a white patch in CIE Lab
   (white balance: fixed only where both agree, and a warm cast is read as warm
   light, so temperature only ever warms a cool daylight photo), the mean chroma
   (saturation: a dull photo more, a loud clipped one less). Each rule names a target for
   a statistic and moves :data:`FRACTION` of the way there; the operator strength
   that does so is simulated with the engine's own operators
   (:mod:`pertouch.engine.ops.operators`) and the level it lands on is measured the
   engine's way, so the plan's ``by`` shifts are what the engine will render.
2. **Caps**: a global shift is at most :data:`GLOBAL_CAP` (0.15) per attribute and a
   region's at most :data:`REGION_CAP` (0.10) beyond the global shift under it.
   Levels are quantiles of expert-retouched photos ([−1, 1] spans them all), so 0.15
   moves a photo past about 7 % of them — a visible but quiet correction (the issue's
   cat got +0.47 contrast: past a quarter of them); a region edit has an edge where it
   meets the rest of the photo, so it gets less. Shifts under :data:`MIN_EDIT` are
   dropped (nobody would see them).
3. **Evident intent is not an error** (:class:`SceneIntent`, rules below): the
   attributes an intent explains are left alone and the plan's notes say so.

   =============  ==============================================  ==================
   intent         rule (luma Y in [0, 1], Lab a*/b*)               left alone
   =============  ==============================================  ==================
   high-key       median Y > 0.6, < 5 % of pixels below Y 0.2      brightness, contrast
   low-key        median Y < 0.3, > 45 % below Y 0.2, a lit part:  brightness, contrast
                  2–35 % above Y 0.55
   night          median Y < 0.25 and lights (Y99 > 0.5 and >      all: brightness,
                  3 × the median) or a dark, cool sky region       contrast, white
                                                                   balance, saturation
   warm light     the brightest pixels warm (b* > 5) over a warm   white balance
                  photo (median b* > 8), or a sure sky region
                  warmer than level 0.3: golden hour, sunset,
                  lamplight
   monochrome     mean chroma < 4                                  saturation, white
                                                                   balance
   =============  ==============================================  ==================

4. **Regions** only where a region clearly needs it and its label is sure
   (confidence ≥ :data:`REGION_MIN_CONFIDENCE`): a dull daylight sky gets a little
   colour (not a hazy white one: :data:`PALE`), a face well darker than the photo a
   little light. No temperature or tint edit of a region's own (a remembered taste may
   ask for one), and region shifts never go against the global shift or against each
   other (:func:`one_way`): opposite colour shifts on neighbours make seams.
5. **Nothing to fix** → no edits; the notes say the photo is already balanced.

Without a readable photo (no ``image_path``, or a photo edited earlier in the
session so the file no longer matches the levels) the rules fall back to the levels
alone, more timidly: only levels far below the expert range are lifted.
Remembered preferences pull an attribute toward the preferred level (capped the
same way), except attributes an intent holds.

The photo statistics, intents and simulated corrections are in
:mod:`pertouch.graph.vlm.builtin.photo_stats`; the styles' global restraint in
:mod:`pertouch.graph.vlm.builtin.style_guard`. :func:`one_way` and
:func:`region_temperature_step` here serve both weak requests and styles: no
neighbouring regions pushed opposite ways, no region temperature step that is a filter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pertouch.graph.vlm.builtin.photo_stats import (FACE_DARK, FACE_GAP, FRACTION, MONO_CHROMA, PALE, REGION_MIN_AREA,
                                            REGION_MIN_CONFIDENCE, SKY_DAYLIGHT, SKY_DULL, SKY_GOAL, WARM_SKY,
                                            PhotoStats, SceneIntent, tame_clipping, global_corrections, held,
                                            measuring_image, photo_stats, scene_intents, simulate)


#: A global shift of one attribute is at most this (level units).
GLOBAL_CAP = 0.15
#: A region's shift of one attribute is at most this.
REGION_CAP = 0.10
#: Shifts smaller than this are dropped.
MIN_EDIT = 0.03
#: A face needs only this much of the photo (faces are small).
FACE_MIN_AREA = 0.005
#: How far a remembered preference of weight 1 pulls an attribute's goal (0 → the preferred level) ...
PREF_PULL = 0.7
#: ... and the part of the way to it one request moves (then capped like every shift).
PREF_STEP = 0.7

# --- the plan --------------------------------------------------------------------------

@dataclass
class OptimizePlan:
    """What :func:`optimize_plan` decided: edits, and notes saying why (or why nothing)."""

    edits: list = field(default_factory=list)
    kept: list[str] = field(default_factory=list)   # intents: what was left alone and why
    basis: str = ""                                 # the statistics, or why only levels were used

    @property
    def notes(self) -> str:
        if self.edits:
            text = "; ".join(f"{e.region} {e.attribute} {e.by:+.2f} ({e.reason})" for e in self.edits)
        else:
            text = ("nothing to change: what stands out is the photo's own look" if self.kept
                    else "the photo is already well exposed and balanced, so there is nothing to change")
        if self.kept:
            text += "; kept as meant: " + "; ".join(self.kept)
        if self.basis:
            text += f"; measured: {self.basis}"
        return text


def _cap(v: float, cap: float) -> float:
    return float(max(-cap, min(cap, v)))


def _goal(prefs: dict, label: str, attr: str, pull: float) -> float | None:
    level, weight = prefs.get(label, {}).get(attr, (0.0, 0.0))
    return pull * weight * level if weight > 0 else None


def _global(scene, prefs: dict, rgb: np.ndarray | None, stats: PhotoStats | None,
            intents: list[SceneIntent], pull: float) -> tuple[dict[str, float], dict[str, str]]:
    """Global level shifts (capped) and their reasons."""
    shifts: dict[str, float] = {}
    why: dict[str, str] = {}
    hold = held(intents)
    if rgb is not None and stats is not None:
        corr = global_corrections(rgb, stats, intents)
        strengths = tame_clipping(rgb, {c.attribute: c.strength for c in corr})
        for a, d in simulate(rgb, strengths).items():
            shifts[a] = _cap(d, GLOBAL_CAP)
            why[a] = next(c.why for c in corr if c.attribute == a)
    else:  # levels only: lift what is far below every expert photo, nothing else
        lv = scene.global_levels
        for a, floor in (("brightness", -0.6), ("contrast", -0.6), ("colorfulness", -0.6)):
            m = lv.get(a)
            if m is not None and m < floor and not (a == "colorfulness" and m < -1.2):  # < −1.2: monochrome
                shifts[a] = _cap(FRACTION * (floor + 0.3 - m), GLOBAL_CAP)
                why[a] = f"{a} level {m:+.2f} far below the expert range"
    for a in list(prefs.get("global", {})):
        goal, m = _goal(prefs, "global", a, pull), scene.global_levels.get(a)
        if goal is None or m is None or a in hold or abs(m - goal) <= 0.1:
            continue
        shifts[a] = _cap(PREF_STEP * (goal - m), GLOBAL_CAP)
        why[a] = f"{a} toward your remembered taste ({goal:+.2f})"
    return {a: round(v, 3) for a, v in shifts.items() if abs(v) >= MIN_EDIT}, why


def _region_extra(r, scene, stats: PhotoStats | None, hold: set[str], named: bool) -> dict[str, tuple[float, str]]:
    """A region's own shifts on top of the global ones: a dull daylight sky, a dark face
    (and, when the person named the region, levels far below the expert range)."""
    out: dict[str, tuple[float, str]] = {}
    lv, g = r.levels, scene.global_levels
    mono = stats is not None and stats.chroma < MONO_CHROMA
    if r.label in ("sky", "clouds"):
        c, b, t = lv.get("colorfulness"), lv.get("brightness", 0.0), lv.get("temperature", 0.0)
        if (c is not None and PALE <= c < SKY_DULL and b > SKY_DAYLIGHT and t <= WARM_SKY
                and not {"colorfulness"} & hold and not mono):
            out["colorfulness"] = (min(REGION_CAP, FRACTION * (SKY_GOAL - c)), f"dull daylight sky (colour {c:+.2f})")
        return out
    if r.label in ("face", "skin") or (named and r.label == "person"):
        b, gb = lv.get("brightness"), g.get("brightness", 0.0)
        if b is not None and b < FACE_DARK and (named or b < gb - FACE_GAP) and "brightness" not in hold:
            goal = max(gb - 0.15, FACE_DARK) if not named else 0.0
            out["brightness"] = (min(REGION_CAP, FRACTION * (goal - b)), f"dark {r.label} (brightness {b:+.2f})")
        return out
    if named:
        for a, floor in (("brightness", -0.5), ("contrast", -0.5), ("colorfulness", -0.4)):
            m = lv.get(a)
            if m is not None and m < floor and a not in hold and not (a == "colorfulness" and (mono or m < -1.2)):
                out[a] = (min(REGION_CAP, FRACTION * (floor + 0.3 - m)), f"{a} level {m:+.2f} low")
    return out


#: A region's own temperature step may ask for at most this many mired, as the level table
#: reads it (the engine needs more still): near the warm end of the scale a small level step
#: is a strong white-balance shift, and on a region alone it reads as a filter over it (+0.05
#: on the astronaut, measured at +0.67, turned her face and hair yellow inside a visible outline).
REGION_MIRED = 15.0


def region_temperature_step(level: float, step: float) -> float:
    """``step`` shrunk so that moving a region's temperature level from ``level`` asks, by the
    level table, at most REGION_MIRED of white balance; 0 when even a hundredth asks more."""
    from pertouch.engine.schema.levels import default_table

    scale = default_table()["temperature"]

    def mired(lv: float) -> float:
        return 1e6 / -float(scale.to_raw(lv))

    m0 = mired(level)
    if abs(mired(level + step) - m0) <= REGION_MIRED:
        return step
    lo, hi = 0.0, 1.0
    for _ in range(12):
        mid = 0.5 * (lo + hi)
        if abs(mired(level + mid * step) - m0) <= REGION_MIRED:
            lo = mid
        else:
            hi = mid
    return round(lo * step, 3) if abs(lo * step) >= 0.01 else 0.0


def one_way(edits: list, area: dict[str, float]) -> list:
    """Region ``by`` shifts that never pull against each other or against the whole photo.

    A region shift the other way from the photo's shift of the same attribute is
    dropped (the region follows the photo: holding it would draw a seam as strong as the
    photo's shift — kodachrome's held sky over a warmed horizon read as a yellow band);
    where the photo has no shift of an attribute, the region shifts of it all go the way
    of the larger total area and the others are dropped. Neighbours pushed opposite ways meet in a seam (the issue's
    blotches: temperature −0.23 on one region, −0.36 on the next, +0.2 on a third).
    """
    from pertouch.graph.vlm.schemas import GLOBAL

    g = {e.attribute: e.by for e in edits if e.region == GLOBAL and e.by}
    out = [e for e in edits
           if e.region == GLOBAL or e.by is None or g.get(e.attribute, 0.0) * e.by >= 0]
    for attr in {e.attribute for e in out if e.region != GLOBAL and e.attribute not in g}:
        mine = [e for e in out if e.region != GLOBAL and e.attribute == attr and e.by]
        up = sum(area.get(e.region, 0.0) for e in mine if e.by > 0)
        down = sum(area.get(e.region, 0.0) for e in mine if e.by < 0)
        out = [e for e in out if e.region == GLOBAL or e.attribute != attr or not e.by or (e.by > 0) == (up >= down)]
    return out


def optimize_plan(scene, prefs: dict | None = None, regions: list[str] | None = None,
                  pull: float = PREF_PULL) -> OptimizePlan:
    """The weak-optimize plan for ``scene`` (a :class:`SceneInfo`).

    ``prefs`` are normalised preferences (``label → attr → (level, weight)``);
    ``regions`` the region names the request is limited to ("make the sky look
    better"), None for the whole photo. Edits are ``by`` shifts, global ones within
    ±GLOBAL_CAP, region ones within ±REGION_CAP of the global shift under them.
    """
    from pertouch.graph.vlm.schemas import GLOBAL, PlanEdit

    prefs = prefs or {}
    plan = OptimizePlan()
    rgb, missing_photo = measuring_image(scene)
    stats = photo_stats(rgb) if rgb is not None else None
    intents = scene_intents(stats, scene) if stats is not None else []
    plan.kept = [i.note() for i in intents]
    plan.basis = stats.summary() if stats is not None else f"levels only: {missing_photo}"
    hold = held(intents)
    area = {r.name: r.area for r in scene.regions}

    shifts: dict[str, float] = {}
    if not regions or GLOBAL in regions:
        shifts, why = _global(scene, prefs, rgb, stats, intents, pull)
        for a, v in shifts.items():
            plan.edits.append(PlanEdit(region=GLOBAL, attribute=a, by=v, reason=why[a]))
    targets = ([scene.region(n) for n in regions if n != GLOBAL] if regions else
               [r for r in scene.regions if r.confidence >= REGION_MIN_CONFIDENCE
                and r.area >= (FACE_MIN_AREA if r.label == "face" else REGION_MIN_AREA)])
    for r in (t for t in targets if t is not None):
        extra = _region_extra(r, scene, stats, hold, named=bool(regions))
        for a in prefs.get(r.label, {}):
            goal, m = _goal(prefs, r.label, a, pull), r.levels.get(a)
            if goal is not None and m is not None and a not in hold and abs(m + shifts.get(a, 0.0) - goal) > 0.1:
                extra[a] = (_cap(PREF_STEP * (goal - m - shifts.get(a, 0.0)), REGION_CAP),
                            f"{r.label} {a} toward your remembered taste ({goal:+.2f})")
        for a, (v, why) in extra.items():
            g = shifts.get(a, 0.0)
            v = _cap(v, REGION_CAP)
            if a == "temperature":
                v = region_temperature_step(r.levels.get(a, 0.0) + g, v)
            if abs(v) < MIN_EDIT or g * v < 0:  # too small to see, or against the global shift
                continue
            plan.edits.append(PlanEdit(region=r.name, attribute=a, by=round(g + v, 3), reason=why))
    plan.edits = one_way(plan.edits, area)
    return plan

