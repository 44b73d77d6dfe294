"""``builtin``: the offline, deterministic VLM — parser, planner, critic and a
scene describer that works from perception's labels and measured levels.

>>> vlm = BuiltinVLM()
>>> vlm.classify("much brighter sky").targets[0].shift
0.3
"""

from __future__ import annotations

from typing import Any, Iterable

from pertouch.graph.vlm.builtin import lexicon as lex
from pertouch.graph.vlm.base import VLM, ImageRef, Preferences
from pertouch.graph.vlm.builtin.critic import critique_render
from pertouch.graph.vlm.builtin.parser import parse_instruction
from pertouch.graph.vlm.builtin.planner import make_plan
from pertouch.graph.vlm.schemas import Critique, Intent, Plan, RegionName, SceneDescription, SceneInfo

#: Scene tags implied by region labels.
LABEL_TAGS = {
    "sky": ("outdoor",), "clouds": ("outdoor", "clouds"), "water": ("water",), "vegetation": ("nature",),
    "person": ("people", "portrait"), "face": ("portrait",), "skin": ("portrait",), "building": ("urban", "architecture"),
    "ground": ("outdoor",), "snow": ("winter", "snow"),
}
#: (attribute, threshold, tag below −threshold, tag above +threshold) on the global levels.
LEVEL_TAGS = (("brightness", 0.4, "dark", "bright"), ("temperature", 0.3, "cool", "warm"),
              ("colorfulness", 0.5, "muted", "colourful"), ("contrast", 0.5, "flat", "contrasty"))


def describe_scene(scene: SceneInfo) -> SceneDescription:
    """Tags, a one-paragraph description and region names from perception alone."""
    tags: list[str] = []
    for r in sorted(scene.regions, key=lambda r: -r.area):
        tags += [t for t in LABEL_TAGS.get(r.label, ()) if t not in tags]
    for attr, th, low, high in LEVEL_TAGS:
        v = scene.global_levels.get(attr)
        if v is not None and abs(v) > th:
            tags.append(high if v > 0 else low)
    tags = list(dict.fromkeys([*scene.tags, *tags]))[:8]
    parts = [f"{r.label} ({r.area:.0%})" for r in sorted(scene.regions, key=lambda r: -r.area)[:6]]
    light = ", ".join(t for t in tags if t in {"dark", "bright", "cool", "warm", "muted", "colourful", "flat",
                                                 "contrasty"}) or "balanced"
    text = (f"A photo with {', '.join(parts)}; overall {light}." if parts else f"A photo; overall {light}.")
    return SceneDescription(tags=tags, description=scene.description or text,
                            regions=[RegionName(index=i + 1, label=r.label) for i, r in enumerate(scene.regions)])


class BuiltinVLM(VLM):
    """The default brain: no model, no network, same answer every time."""

    name = "builtin"

    def __init__(self, *, use_embeddings: bool = True) -> None:
        self.use_embeddings = use_embeddings

    def describe(self, image_ref: ImageRef, scene: SceneInfo) -> SceneDescription:
        return describe_scene(scene)

    def classify(self, instruction: str, scene: SceneInfo | None = None) -> Intent:
        # regions the lexicon cannot know by name (one the person pointed at: "petal")
        own = tuple(r.name for r in (scene.regions if scene is not None else ())
                    if r.name.isalpha() and r.name not in lex.PHRASES and r.name not in ("other", "global"))
        return parse_instruction(instruction, use_embeddings=self.use_embeddings, names=own)

    def plan(self, intent: Intent, scene: SceneInfo, preferences: Preferences | None = None,
             critique: Critique | None = None) -> Plan:
        return make_plan(intent, scene, preferences, critique)

    def critique(self, before_ref: ImageRef, after_ref: ImageRef, instruction: str, intent: Intent,
                 achieved: Iterable[Any], scene: SceneInfo | None = None) -> Critique:
        return critique_render(before_ref, after_ref, instruction, intent, achieved, scene)
