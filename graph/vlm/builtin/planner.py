"""The builtin planner: intent + measured levels + preferences + critique → :class:`Plan`.

- strong: the words first — each target becomes a ``by`` shift (or a ``to`` level
  for "set") on every region with the target's label; protected regions get
  ``by 0`` for every attribute changed globally, so they stay at their input level.
- weak-optimize: a photographer's nudge (:mod:`~pertouch.graph.vlm.builtin.optimize`):
  global exposure, contrast, saturation and white balance from the photo's measured
  statistics, capped small; evident intents (high-key, low-key, night, warm light,
  monochrome) left alone; a region only where it clearly needs it; an already good
  photo gets no edits and notes saying so.
- weak-style: the style's recipe over the labels present, its absolute levels
  blended a little toward remembered preferences, never against the style's
  direction: a region already past a style level keeps its level, nudged a little
  further the style's way (:func:`~pertouch.graph.vlm.builtin.styles.guarded_level`).
- a critique's advice is added on top (its ``by`` goes onto the matching edit).

Levels are absolute in [−1, 1]; 0 is the typical well-retouched level, not "no change".
A measured level may lie beyond ±1 (up to ±LEVEL_EXTENDED, past every expert photo
of the level table: a deep-blue sky's temperature); ``by`` shifts start from it and
may land there too, so a request only meets the end of the scale at ±LEVEL_EXTENDED.
``to`` levels stay in [−1, 1]; a style or optimize target past ±1 becomes a ``by``.
"""

from __future__ import annotations

from pertouch.engine.schema.attributes import LEVEL_EXTENDED, clamp_level, clamp_shift
from pertouch.graph.vlm.base import Preferences, VLMError, normalize_preferences
from pertouch.graph.vlm.builtin.lexicon import OBJECT_WORDS
from pertouch.graph.vlm.builtin.styles import (REGION_STYLE_CAP, STYLE_MIN_EXTRA, STYLE_REGION_MIN_AREA,
                                               STYLE_REGION_MIN_CONFIDENCE, cap_of, direction_of, get_style,
                                               guarded_level, strength_caps)
from pertouch.graph.vlm.builtin.optimize import one_way, region_temperature_step
from pertouch.graph.vlm.builtin.photo_stats import PALE
from pertouch.graph.vlm.builtin.style_guard import gentle_global
from pertouch.graph.vlm.schemas import GLOBAL, NO_EDIT_KINDS, Critique, Intent, Plan, PlanEdit, SceneInfo

#: How far a preference of weight 1 pulls the optimize goal (0 → the preference) / a style level.
PREF_PULL_OPTIMIZE, PREF_PULL_STYLE = 0.7, 0.3

BACKGROUND = ("sky", "clouds", "water", "vegetation", "building", "ground", "snow", "background")
#: When a label is not in the photo, these labels stand in for it (in order).
FALLBACK: dict[str, tuple[str, ...]] = {
    "person": ("face", "skin"), "face": ("skin", "person"), "skin": ("face", "person"),
    "clouds": ("sky",), "hair": (), "snow": ("ground",), "ground": ("sand", "road"),
    "vegetation": ("tree", "trees", "grass", "plants"), "building": ("buildings", "architecture"),
}


def resolve_label(label: str, scene: SceneInfo) -> list[str]:
    """Region names for a label (incl. the pseudo-labels ``subject``/``foreground`` and ``background``)."""
    if label == GLOBAL:
        return [GLOBAL]
    if scene.region(label) is not None:
        return [label]
    direct = [r.name for r in scene.with_label(label)]
    if direct:
        return direct
    if label in ("subject", "foreground"):
        people = [r.name for r in scene.regions if r.label in ("person", "face", "skin")]
        if people:
            return people
    if label in ("subject", "foreground") or label in OBJECT_WORDS:
        # "the eagle": the largest region that is neither background nor a person, else the people
        others = sorted((r for r in scene.regions if r.label not in BACKGROUND + ("person", "face", "skin", "hair")),
                        key=lambda r: -r.area)
        if others:
            return [others[0].name]
        return [r.name for r in scene.regions if r.label in ("person", "face", "skin")]
    if label == "background":
        return [r.name for r in scene.regions if r.label in BACKGROUND]
    for alt in FALLBACK.get(label, ()):
        names = [r.name for r in scene.with_label(alt)]
        if names:
            return names
    return []


#: What a protected region keeps whenever the photo around it is edited.
HELD_WITH_ANY_GLOBAL_EDIT = ("colorfulness", "contrast", "temperature", "brightness")


#: Labels of people: an edit aimed elsewhere ("darken the wall behind them") leaves their faces alone.
PEOPLE = frozenset({"person", "face", "skin", "hair"})


def unasked_people(intent: Intent, edits: list[PlanEdit], scene: SceneInfo) -> list[str]:
    """The people's labels (faces, else persons) when only other regions are edited (no whole-photo
    edit): they are held, so a background edit's soft border cannot move them."""
    edited = {e.region for e in edits}
    if not edited or GLOBAL in edited or intent.kind != "strong":
        return []
    labels = {(scene.region(n).label if scene.region(n) else n) for n in edited}
    if labels & PEOPLE:
        return []
    return next(([lab] for lab in ("face", "person") if scene.with_label(lab)), [])


def _protect(edits: list[PlanEdit], protected: list[str], scene: SceneInfo) -> list[PlanEdit]:
    """Hold protected regions at their input level while the photo around them changes.

    Every attribute the global edit changes is held, and with any global edit also the
    core ones it moves as a side effect (brightening a near-white sky washes its colour
    out): colourfulness, contrast, temperature, brightness. The hold is ``to`` the
    region's measured level; ``by 0`` only when unmeasured.
    """
    global_attrs = list(dict.fromkeys(e.attribute for e in edits if e.region == GLOBAL))
    if global_attrs:
        global_attrs = list(dict.fromkeys([*global_attrs, *HELD_WITH_ANY_GLOBAL_EDIT]))
    names = [n for label in protected for n in resolve_label(label, scene) if n != GLOBAL]
    # a region edit next to a protected region reaches into it through its soft border (the wall's
    # weight across thin hair into a face): those attributes are held too, so the engine restores it
    global_attrs += [a for a in dict.fromkeys(e.attribute for e in edits if e.region not in (GLOBAL, *names))
                     if a not in global_attrs]
    kept = [e for e in edits if e.region not in names]
    for n in dict.fromkeys(names):
        levels = scene.levels_of(n)
        for a in global_attrs:
            level = levels.get(a)
            if level is not None and -1.0 <= level <= 1.0:
                kept.append(PlanEdit(region=n, attribute=a, to=round(level, 4), reason="protected: hold its level"))
            else:
                kept.append(PlanEdit(region=n, attribute=a, by=0.0, reason="protected: keep as is"))
    return kept


#: Words for each attribute's level scale: (end at −1, end at +1, comparative down, comparative up).
SCALE_WORDS = {
    "brightness": ("darkest", "brightest", "darker", "brighter"),
    "contrast": ("flattest", "most contrasty", "flatter", "more contrasty"),
    "colorfulness": ("least colourful", "most colourful", "less colourful", "more colourful"),
    "temperature": ("coolest", "warmest", "cooler", "warmer"),
    "tint": ("most magenta", "greenest", "more magenta", "greener"),
    "highlights": ("lowest highlights", "highest highlights", "lower in the highlights", "brighter in the highlights"),
    "shadows": ("deepest shadows", "most open shadows", "deeper in the shadows", "more open in the shadows"),
    "clarity": ("softest", "crispest", "softer", "crisper"),
}
#: Less room than this toward the end of the scale and a shift cannot be made.
NO_ROOM = 0.02


def scale_end_note(what: str, attribute: str, level: float | None, shift: float) -> str | None:
    """Why a ``shift`` of ``attribute`` on a region measured at ``level`` cannot (fully) be made, or None.

    Measured levels go past ±1 (beyond every expert photo) up to ±LEVEL_EXTENDED, the
    last level an edit can target; a region there cannot be moved further that way.
    """
    if level is None or shift == 0:
        return None
    room = (LEVEL_EXTENDED - level) if shift > 0 else (level + LEVEL_EXTENDED)
    up = shift > 0
    words = SCALE_WORDS.get(attribute, (f"lowest {attribute}", f"highest {attribute}",
                                        f"lower in {attribute}", f"higher in {attribute}"))
    end, more, sign = words[up], words[2 + up], f"{'+' if up else '−'}{LEVEL_EXTENDED:g}"
    if room < NO_ROOM:
        return (f"the {what} is already at the {end} level PerTouch's scale measures ({sign}), "
                f"so it cannot be made any {more}; it was left as it is")
    if room < abs(shift) - NO_ROOM:
        return (f"the {what} is near the {end} level PerTouch's scale measures ({sign}): "
                f"it can only be made {room:.2f} {more}, not the {abs(shift):.2f} asked")
    return None


def _strong(intent: Intent, scene: SceneInfo) -> tuple[list[PlanEdit], list[str], list[str], list[str]]:
    """(edits, missing, impossible, notes) of the targets; ``like`` ones via :mod:`.like`."""
    edits: list[PlanEdit] = []
    missing: list[str] = []
    impossible: list[str] = []
    said: list[str] = []
    for t in intent.targets:
        if t.like is not None:  # "as bright as the water": from the reference's measured level
            from pertouch.graph.vlm.builtin.like import like_edits

            more, miss, imp, notes = like_edits(t, scene)
            edits, missing, impossible, said = edits + more, missing + miss, impossible + imp, said + notes
            continue
        names = resolve_label(t.region, scene)
        if not names:
            missing.append(t.region)
            continue
        words = t.magnitude or ("to level" if t.direction == "set" else "plain")
        for n in names:
            note = None if t.direction == "set" else scale_end_note(
                "photo" if n == GLOBAL else n.replace("_", " "), t.attribute, scene.levels_of(n).get(t.attribute), t.shift)
            if note:
                impossible.append(note)
                if note.endswith("it was left as it is"):
                    continue
            if t.direction == "set":
                edits.append(PlanEdit(region=n, attribute=t.attribute, to=t.level, reason=f"asked: {t.attribute} {words}"))
            else:
                edits.append(PlanEdit(region=n, attribute=t.attribute, by=t.shift,
                                      reason=f"asked: {t.attribute} {t.direction} ({words})"))
    return edits, list(dict.fromkeys(missing)), impossible, said


def _goal(label: str, attr: str, prefs: dict, pull: float) -> tuple[float, bool]:
    level, weight = prefs.get(label, {}).get(attr, (0.0, 0.0))
    return pull * weight * level, weight > 0


def _optimize(intent: Intent, scene: SceneInfo, prefs: dict) -> tuple[list[PlanEdit], list[str], str]:
    """The restrained weak-optimize plan (:mod:`~pertouch.graph.vlm.builtin.optimize`) and its notes."""
    from pertouch.graph.vlm.builtin.optimize import optimize_plan

    missing = [lab for lab in intent.regions if not resolve_label(lab, scene)]
    names = list(dict.fromkeys(n for lab in intent.regions for n in resolve_label(lab, scene)))
    if intent.regions and not names:
        return [], missing, ""
    made = optimize_plan(scene, prefs, names or None, pull=PREF_PULL_OPTIMIZE)
    return made.edits, missing, made.notes


def _style(intent: Intent, scene: SceneInfo, prefs: dict) -> tuple[list[PlanEdit], list[str]]:
    """The style's look as ``by`` shifts, with restraint (:mod:`~pertouch.graph.vlm.builtin.styles`):
    the whole photo moves at most the style's cap per attribute; a region only when its
    label is sure, at most REGION_STYLE_CAP beyond the photo's shift and never against it
    or against another region (:func:`~pertouch.graph.vlm.builtin.optimize.one_way`); a
    region the style pushes the other way from the whole photo (kodachrome's blue sky
    under a warmed photo) follows the photo, which then moves at most REGION_STYLE_CAP."""
    style = get_style(intent.style or "")
    if style is None and intent.style:
        from pertouch.graph.vlm.builtin.embedding import nearest_style

        name, sim = nearest_style(intent.style)
        style = get_style(name) if name and sim >= 0.35 else None
    if style is None:
        raise VLMError(f"unknown style {intent.style!r}", role="plan", provider="builtin",
                       hint="use a style from the style library (see pertouch.graph.vlm.builtin.styles)")
    missing: list[str] = []

    def shifts(region: str, label: str, attrs: dict, cap) -> dict[str, tuple[float, str]]:
        """attribute → (wanted shift from the measured level, reason); None shift = hold."""
        out = {}
        for attr, spec in attrs.items():
            m = scene.levels_of(region).get(attr)
            if "by" in spec:
                out[attr] = (max(-cap(attr), min(cap(attr), spec["by"])), f"{style.name} style")
                continue
            goal, preferred = _goal(label, attr, prefs, 1.0)
            level = round(spec["to"] if not preferred else (1 - PREF_PULL_STYLE) * spec["to"] + PREF_PULL_STYLE * goal, 3)
            if m is None:  # unmeasured: no shift to cap; the style's level as a shift from the typical 0
                out[attr] = (max(-cap(attr), min(cap(attr), level)), f"{style.name} style")
                continue
            to = guarded_level(level, m, direction_of(spec), step=cap(attr))
            if to is None:  # at the end of the scale already, the style's way: hold it there
                out[attr] = (0.0, f"{style.name} style (already at {m:+.2f}, the end of the scale: kept)")
                continue
            why = f"{style.name} style" + (f" (already at {m:+.2f}, past its {level:+.2f}: kept, nudged its way)"
                                           if direction_of(spec) and direction_of(spec) * (m - level) >= 0 else "")
            out[attr] = (round(to - m, 3), why)
        return out

    def whole(attr: str) -> float:
        return cap_of(style, attr)

    if intent.regions:  # "give the sky a golden hour look": the person named it, so the style's own caps
        edits: list[PlanEdit] = []
        for lab in intent.regions:
            names = resolve_label(lab, scene)
            if not names:
                missing.append(lab)
            for n in names:
                wanted = {**shifts(n, lab, style.edits.get(GLOBAL, {}), whole),
                          **shifts(n, lab, style.edits.get(lab, {}), whole)}
                edits += [PlanEdit(region=n, attribute=a, by=v, reason=why) for a, (v, why) in wanted.items()]
        return edits, missing

    glob = shifts(GLOBAL, GLOBAL, style.edits.get(GLOBAL, {}), whole)
    sure = [(r, label, attrs) for label, attrs in style.edits.items() if label != GLOBAL
            for r in scene.with_label(label)
            if r.confidence >= STYLE_REGION_MIN_CONFIDENCE and r.area >= STYLE_REGION_MIN_AREA]
    wanted = {(r.name, a): vw for r, label, attrs in sure
              for a, vw in shifts(r.name, label, attrs, lambda a: cap_of(style, a) + REGION_STYLE_CAP).items()
              if not (a == "colorfulness" and r.levels.get(a, 0.0) < PALE)}  # haze: no colour to bring out
    for a, (v, why) in list(glob.items()):
        # a sure region the style pushes the other way (kodachrome's blue sky under a warmer photo)
        # follows the photo, so the photo moves only as far as a region may differ from its own look
        if any(ra == a and v * rv <= 0 for (_, ra), (rv, _) in wanted.items()) and abs(v) > REGION_STYLE_CAP:
            glob[a] = (REGION_STYLE_CAP if v > 0 else -REGION_STYLE_CAP,
                       f"{why}; only {REGION_STYLE_CAP:g}: the {', '.join(n for (n, ra) in wanted if ra == a)} "
                       f"would go the other way")
    dirs = {a: direction_of(spec) for a, spec in style.edits.get(GLOBAL, {}).items()}
    g, notes = gentle_global(scene, {a: v for a, (v, _) in glob.items()}, strength_caps(style), dirs,
                             level_caps={a: cap_of(style, a) for a in glob}, white_cast=style.whites,
                             keys=style.key)
    edits = [PlanEdit(region=GLOBAL, attribute=a, by=g[a], reason=why + (f"; {notes[a]}" if a in notes else ""))
             for a, (v, why) in glob.items() if g[a] or (not v and not scene.image_path)]
    for (name, a), (v, why) in wanted.items():
        base = g.get(a, 0.0)
        if base and base * v <= 0:  # the style pushes this region the other way: it follows the photo
            continue
        extra = max(-REGION_STYLE_CAP, min(REGION_STYLE_CAP, v - base))
        if a == "temperature":  # near the warm end a small step is a strong filter on the region alone
            extra = region_temperature_step(scene.levels_of(name).get(a, 0.0) + base, extra)
        if abs(extra) >= STYLE_MIN_EXTRA:  # else it follows the whole photo
            edits.append(PlanEdit(region=name, attribute=a, by=round(base + extra, 3), reason=why))
    edits = one_way(edits, {r.name: r.area for r in scene.regions})
    return edits, missing


def _apply_advice(edits: list[PlanEdit], critique: Critique, scene: SceneInfo) -> list[PlanEdit]:
    out = list(edits)
    for adj in critique.advice:
        names = resolve_label(adj.region, scene) or [adj.region]
        for n in names:
            idx = [i for i, e in enumerate(out) if e.region == n and e.attribute == adj.attribute]
            if idx:
                e = out[idx[-1]]
                m = scene.levels_of(n).get(e.attribute)
                if e.to is not None and abs(e.to + adj.by) > 1.0 and m is not None:  # past ±1: a shift
                    new = e.model_copy(update={"to": None, "by": round(clamp_level(e.to + adj.by) - m, 4)})
                elif e.to is not None:
                    new = e.model_copy(update={"to": round(max(-1.0, min(1.0, e.to + adj.by)), 4)})
                else:
                    new = e.model_copy(update={"by": round(clamp_shift(e.by + adj.by), 4)})
                out[idx[-1]] = new.model_copy(update={"reason": f"{e.reason}; critic: {adj.reason or 'adjust'}"})
            elif n == GLOBAL or scene.region(n) is not None:
                out.append(PlanEdit(region=n, attribute=adj.attribute, by=adj.by, reason=f"critic: {adj.reason}"))
    return out


def make_plan(intent: Intent, scene: SceneInfo, preferences: Preferences | None = None,
              critique: Critique | None = None) -> Plan:
    """The builtin planner's :class:`Plan` (see the module docstring)."""
    prefs = normalize_preferences(preferences)
    if intent.kind in ("out-of-scope", *NO_EDIT_KINDS):  # no-op, question, undo: words, not edits
        return Plan(notes="nothing to do: " + (intent.explanation or intent.kind))
    impossible: list[str] = []
    said: list[str] = []  # what the ``like`` targets were turned into
    why = ""
    if intent.kind == "strong":
        edits, missing = _style(intent, scene, prefs) if intent.style else ([], [])
        more, missing2, impossible, said = _strong(intent, scene)
        edits, missing = edits + more, missing + missing2
    elif intent.kind == "weak-style":
        edits, missing = _style(intent, scene, prefs)
    else:
        edits, missing, why = _optimize(intent, scene, prefs)
    if critique is not None and critique.advice:
        edits = _apply_advice(edits, critique, scene)
    edits = _protect(edits, [*intent.protected, *unasked_people(intent, edits, scene)], scene)
    impossible = list(dict.fromkeys(impossible))
    notes = f"{len(edits)} edit(s) for a {intent.kind} request"
    if not edits and impossible:  # the whole request is impossible: the notes say why, first
        notes = "nothing to do: " + "; ".join(impossible)
    elif impossible:
        notes += "; " + "; ".join(impossible)
    if said:
        notes += "; " + "; ".join(said)
    if why:  # weak-optimize: what each edit corrects, what was left as meant, or why nothing
        notes = why if not edits else f"{notes}: {why}"
    if missing:
        notes += f"; not in this photo: {', '.join(dict.fromkeys(missing))}"
    return Plan(edits=edits, missing=list(dict.fromkeys(missing)), impossible=impossible, notes=notes)
