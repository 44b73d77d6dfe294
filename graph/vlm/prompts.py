"""Prompts for model-backed providers, built from the attribute registry.

Names, synonyms, level and shift ranges and the words for each end of every
attribute come from :mod:`pertouch.engine.schema.attributes`; the size words from
:mod:`pertouch.graph.vlm.magnitudes`; the style names from the style library. The
level semantics are stated once, here: a level is an ABSOLUTE position in [−1, 1]
(0 = the typical level of expert-retouched photos, NOT "no change"); a shift
``by`` is relative to the level measured in the input. A measured level may lie
beyond ±1 (up to ±LEVEL_EXTENDED): past every photo the level table has seen; a
shift from it still works, a ``to`` level stays in [−1, 1].

Each role gets ``system(role)`` (shared rules + the role's task + the JSON schema
of its answer) and a user message from ``user_<role>(...)``.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from pertouch.engine.schema.attributes import LEVEL_EXTENDED, attributes
from pertouch.graph.vlm.builtin.styles import STYLES
from pertouch.graph.vlm.magnitudes import describe_scale
from pertouch.graph.vlm.schemas import ROLE_SCHEMAS, Critique, Intent, Measured, SceneInfo

LEVEL_SEMANTICS = (
    "Levels are ABSOLUTE positions in [-1, 1] measured on the photo: 0 is the typical level of a "
    "well-retouched expert photo (NOT 'no change'), -1 the lowest and +1 the highest expert level seen. "
    f"A measured level may lie beyond them (down to -{LEVEL_EXTENDED:g}, up to +{LEVEL_EXTENDED:g}): that "
    "region is past every expert photo (e.g. a deep-blue sky at temperature -1.1), and it can still be "
    "shifted further. "
    "A shift ('by') is RELATIVE: it moves a region's measured level up (+) or down (-); 'by': 0 keeps the "
    "region as it is. Use 'to' for an absolute level in [-1, 1] and 'by' for a change.")


def attribute_table() -> str:
    """One line per registered attribute: name, core/extended, meaning, ends, synonyms, ranges."""
    lines = []
    for a in attributes():
        kind = "core" if a.core else "extended"
        lo, hi = a.level_range
        slo, shi = a.shift_range
        lines.append(
            f"- {a.name} ({kind}): {a.description}. Low = {', '.join(a.low_words) or 'low'}; "
            f"high = {', '.join(a.high_words) or 'high'}. Synonyms: {', '.join(a.synonyms[:8]) or 'none'}. "
            f"Level in [{lo:g}, {hi:g}], shift in [{slo:g}, {shi:g}].")
    return "\n".join(lines)


def style_table() -> str:
    return "\n".join(f"- {s.name}: {s.description}" for s in STYLES.values())


def schema_text(role: str) -> str:
    return json.dumps(ROLE_SCHEMAS[role].model_json_schema(), separators=(",", ":"))


TASKS = {
    "describe": "Describe the photo. If an overlay with numbered regions is shown, name each number's region "
                "with one or two lowercase words (sky, person, face, skin, hair, vegetation, water, building, "
                "ground, snow, clouds, or the object itself).",
    "classify": "Classify the person's retouching instruction and extract every requested change. Size words "
                "map to shifts on this scale:\n{scale}\nN% means a shift of N/100. A signed number is a shift; "
                "'to X' sets an absolute level. 'Leave the sky alone', 'don't touch the skin' put that region "
                "in 'protected'. Requests to add, remove or replace objects, crop, or anything that is not a "
                "tone/colour retouch are 'out-of-scope' with an explanation and no targets. Read the intent "
                "before the words: 'don't change anything', 'it's fine as is', 'leave it', 'no changes' are "
                "'no-op'; a request that only protects regions ('keep the skin tones') is 'no-op' with those "
                "regions in 'protected'; a question or a request for advice ('what would you improve?', 'is it "
                "too dark?') is 'question'; 'undo', 'revert', 'go back to the original' are 'undo'. These three "
                "have no targets and no style (evaluations such as 'it's perfect' are not requests to optimize). "
                "Hedges ('maybe', 'perhaps a touch', 'if you can') ask for a small change: a shift of 0.1. A level "
                "relative to another region goes in 'like': 'as bright as the water' is direction 'set' with "
                "like 'water' and no level; 'darker than the sky' is direction 'down' with like 'sky' and no "
                "shift.",
    "plan": "Plan the recipe entries. Strong requests: follow the words first, shifting from the measured "
            "level, and never edit protected regions (hold them 'to' their measured level where a global edit would "
            "reach them). Weak 'optimize' requests: move levels that are far from 0 toward 0, blended with the "
            "remembered preferences. Weak 'style' requests: the style's look adapted to the regions present, "
            "blended with preferences. A target with 'like' is relative to that region's measured level: 'set' "
            "goes 'to' the reference's level; 'down'/'up' go to 0.1 below/above it unless the region is already "
            "past it (say so in notes); a reference the photo lacks goes in 'missing'. 'no-op', 'question' and "
            "'undo' intents get no edits. If a critique is given, correct the previous attempt with its advice.",
    "critique": "Compare BEFORE and AFTER (and the measured levels) with the instruction. Judge each requested "
                "change: did it happen, in the right direction, at a size that fits the wording ('slightly' "
                "is small, 'a lot' is large)? List visible defects. satisfied is true only if everything fits "
                "and there are no defects. Advice gives the extra signed shift per region and attribute.",
}


def system(role: str) -> str:
    """The system prompt of ``role`` (describe, classify, plan, critique)."""
    if role not in TASKS:
        raise ValueError(f"unknown role {role!r}")
    task = TASKS[role].format(scale=describe_scale())
    return (
        "You are the vision-language brain of PerTouch, a photo retouching agent that edits regions "
        "of a photo through a few attributes.\n\n"
        f"{LEVEL_SEMANTICS}\n\nAttributes:\n{attribute_table()}\n\nStyles:\n{style_table()}\n\n"
        f"Task: {task}\n\nAnswer with ONE JSON object, no prose, matching this JSON schema:\n{schema_text(role)}")


def scene_text(scene: SceneInfo | None) -> str:
    """The scene as compact text: regions with labels, areas and measured levels."""
    if scene is None or (not scene.regions and not scene.global_levels):
        return "Scene: unknown."
    fmt = lambda lv: ", ".join(f"{k} {v:+.2f}" for k, v in lv.items())  # noqa: E731
    lines = [f"Whole photo ('global'): {fmt(scene.global_levels)}"]
    for i, r in enumerate(scene.regions, 1):
        lines.append(f"{i}. region '{r.name}' label {r.label} (confidence {r.confidence:.2f}, "
                     f"{r.area:.0%} of the photo): {fmt(r.levels)}")
    if scene.tags:
        lines.append("Tags: " + ", ".join(scene.tags))
    if scene.description:
        lines.append("Description: " + scene.description)
    return "Scene (measured levels):\n" + "\n".join(lines)


def user_describe(scene: SceneInfo) -> str:
    return scene_text(scene) + "\nThe image shows the photo (with numbered regions if it is an overlay)."


def user_classify(instruction: str, scene: SceneInfo | None) -> str:
    labels = ", ".join(scene.labels()) if scene is not None and scene.regions else "unknown"
    return f"Regions in this photo: {labels}.\nInstruction: {json.dumps(instruction)}"


def user_plan(intent: Intent, scene: SceneInfo, preferences: Any, critique: Critique | None) -> str:
    parts = [scene_text(scene), "Intent: " + intent.model_dump_json(exclude_none=True)]
    parts.append("Remembered preferences (label -> attribute -> level/weight): "
                 + (json.dumps(preferences) if preferences else "none"))
    if critique is not None:
        parts.append("Critique of the previous attempt: " + critique.model_dump_json(exclude_none=True))
    return "\n".join(parts)


def user_critique(instruction: str, intent: Intent, achieved: Iterable[Measured]) -> str:
    rows = [f"- {m.region} {m.attribute}: before {m.before:+.2f}, target {m.target:+.2f}, achieved {m.achieved:+.2f}"
            for m in achieved]
    return (f"Instruction: {json.dumps(instruction)}\nIntent: {intent.model_dump_json(exclude_none=True)}\n"
            "Measured levels of the render:\n" + ("\n".join(rows) or "none") +
            "\nThe first image is BEFORE, the second AFTER.")
