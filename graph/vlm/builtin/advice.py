"""Answers to questions about a photo ("is it too dark?", "what would you improve?") from
its measured levels — words only, nothing is rendered.

:func:`answer_question` says, in order: the direct answer to what was asked (the
attribute and region the question names, read with the parser's lexicon: "does the
sky look washed out?" → the sky's colourfulness, low end), the measured levels of the
whole photo and of the sky and the face (or skin, or person) when the photo has
them, each against the typical level 0, and suggestions: the builtin planner's
weak-optimize plan for the photo (or for the region asked about) described in words,
never applied. Levels are absolute in [−1, 1] (0 = typical of well-retouched photos);
within :data:`TYPICAL` of 0 a level counts as typical.

>>> from pertouch.graph.vlm.schemas import SceneInfo
>>> sc = SceneInfo.from_regions([], {"brightness": -0.6, "contrast": 0.0})
>>> answer_question("is it too dark?", sc).startswith("The photo's brightness is −0.60 (typical is 0): dark, so yes")
True
"""

from __future__ import annotations

from dataclasses import dataclass

from pertouch.engine.schema.attributes import get_attribute
from pertouch.graph.vlm.schemas import GLOBAL, Intent, SceneInfo

#: A level within this of 0 is typical; beyond :data:`CLEAR` it is clearly off.
TYPICAL, CLEAR, VERY = 0.15, 0.4, 0.8
#: Regions the overview reports when the photo has them (the first present of each group).
OVERVIEW = (("sky",), ("face", "skin", "person"))
NAMES = {"colorfulness": "colourfulness"}
#: The order the core attributes are reported in.
ORDER = ("brightness", "contrast", "colorfulness", "temperature")


@dataclass
class Asked:
    """One thing a question asks about: a region label (or global), an attribute, the end asked about."""

    region: str
    attribute: str
    direction: str | None  # "up" (too bright?), "down" (too dark?) or None (how is the contrast?)
    word: str  # the words asked: "dark", "washed out" (the attribute's own) or "low" (a direction word)
    own: bool = True  # the word is the attribute's ("too dark"), not a direction word ("contrast too low")


def _num(v: float) -> str:
    return f"{v:+.2f}".replace("-", "−")


def level_words(attribute: str, level: float) -> str:
    """"typical", "a little dark", "dark", "very dark" … for a level of ``attribute``."""
    if abs(level) < TYPICAL:
        return "typical"
    a = get_attribute(attribute)
    ends = (a.low_words or ("low",), a.high_words or ("high",))
    word = ends[level > 0][0]
    size = "a little " if abs(level) < CLEAR else ("very " if abs(level) > VERY else "")
    return size + word


def asked(question: str) -> list[Asked]:
    """The (region, attribute, direction) pairs a question names, via the parser's lexicon."""
    from pertouch.graph.vlm.builtin.tokens import tag, tokenize

    items, _ = tag(tokenize(question))
    regions = list(dict.fromkeys(it.tag[1] for it in items if it.tag[0] == "region")) or [GLOBAL]
    way = next((it for it in items if it.tag[0] == "dir"), None)
    out: list[Asked] = []
    for it in items:
        if it.tag[0] == "attr" and all(a.attribute != it.tag[1] for a in out):
            if it.tag[2] is not None:
                out += [Asked(r, it.tag[1], it.tag[2], it.text) for r in regions[:2]]
            else:
                out += [Asked(r, it.tag[1], way.tag[1] if way else None, way.text if way else "", own=False)
                        for r in regions[:2]]
    named = {a.region for a in out}
    return out + [Asked(r, "", None, "") for r in regions if r != GLOBAL and r not in named]


def _what(region: str) -> str:
    return "photo" if region == GLOBAL else region.replace("_", " ")


def _direct(a: Asked, scene: SceneInfo) -> str:
    from pertouch.graph.vlm.builtin.like import reference_level
    from pertouch.graph.vlm.builtin.planner import resolve_label

    name = NAMES.get(a.attribute, a.attribute)
    if a.region != GLOBAL and not resolve_label(a.region, scene):
        return f"I found no {a.region} in this photo"
    if not a.attribute:  # "does the water look ok?": how it measures
        levels = {k: v for k in ORDER if (v := reference_level(a.region, k, scene)) is not None}
        return f"The {_what(a.region)}: {_levels(levels) or 'not measured'}"
    level = scene.global_levels.get(a.attribute) if a.region == GLOBAL else reference_level(a.region, a.attribute,
                                                                                             scene)
    if level is None:
        return f"the {_what(a.region)}'s {name} was not measured"
    text = f"The {_what(a.region)}'s {name} is {_num(level)} (typical is 0): {level_words(a.attribute, level)}"
    if a.direction is not None:
        toward = level if a.direction == "up" else -level
        said = f"it is {a.word}" if a.own else f"its {name} is {a.word}"
        text += (f", so yes, {said}" if toward >= TYPICAL else f", so no, {said.replace(' is ', ' is not ', 1)}"
                 if toward <= -TYPICAL else f", so not really: {said.replace(' is ', ' is not clearly ', 1)}")
    return text


def _levels(levels: dict[str, float]) -> str:
    return ", ".join(f"{NAMES.get(k, k)} {_num(levels[k])} ({level_words(k, levels[k])})"
                     for k in ORDER if k in levels)


def overview(scene: SceneInfo) -> str:
    """The measured core levels of the photo, the sky and the face (or skin / person) when present."""
    parts = [f"the photo — {_levels(scene.global_levels)}"] if _levels(scene.global_levels) else []
    for group in OVERVIEW:
        label = next((g for g in group if scene.with_label(g)), None)
        if label is None:
            continue
        from pertouch.graph.vlm.builtin.like import reference_level

        levels = {k: v for k in ORDER if (v := reference_level(label, k, scene)) is not None}
        if levels:
            parts.append(f"the {label} — {_levels(levels)}")
    return "; ".join(parts)


def suggestions(scene: SceneInfo, regions: list[str] | None = None) -> tuple[list[str], str]:
    """The weak-optimize plan's edits in words (never applied), and its notes."""
    from pertouch.graph.vlm.builtin.planner import SCALE_WORDS, make_plan

    plan = make_plan(Intent(kind="weak-optimize", regions=list(regions or []), explanation="suggestions"), scene)
    out = []
    for e in plan.edits:
        m = scene.levels_of(e.region).get(e.attribute)
        if m is None:
            continue
        to = e.to if e.to is not None else m + (e.by or 0.0)
        if abs(to - m) < 0.02:
            continue
        words = SCALE_WORDS.get(e.attribute, (None, None, f"lower in {e.attribute}", f"higher in {e.attribute}"))
        out.append(f"make the {_what(e.region)} {words[3] if to > m else words[2]} ({_num(m)} → {_num(to)})")
    return out, plan.notes


def answer_question(question: str, scene: SceneInfo) -> str:
    """The answer to ``question`` about the photo of ``scene`` (see the module docstring)."""
    asks = asked(question)
    lines = [_direct(a, scene) + "." for a in asks]
    seen = overview(scene)
    if seen:
        lines.append(f"Measured levels (0 is typical of well-retouched photos): {seen}.")
    regions = list(dict.fromkeys(a.region for a in asks if a.region != GLOBAL))
    try:
        ideas, notes = suggestions(scene, regions)
    except Exception as exc:  # the answer still says what was measured, and why there are no suggestions
        ideas, notes = [], f"no suggestions could be worked out ({exc})"
    if ideas:
        lines.append("Suggestions: " + "; ".join(ideas) + ".")
    else:
        why = notes.removeprefix("nothing to do: ") if notes and "edit(s)" not in notes else ""
        lines.append("Suggestions: none" + (f" — {why.rstrip('.')}" if why else "") + ".")
    lines.append("Nothing was changed; say what to change (for example one of the suggestions) to apply it.")
    return " ".join(lines)
