"""Looks: absolute levels per region label, and the recipe that gives one photo a look.

"Make these like that one" (``pertouch match``): a :class:`Look` is what a finished
photo *is*, not what was done to it — ``{label: {attribute: level}}`` with ``global``
for the whole frame. Applied to a new photo it becomes ``to`` edits for the labels that
photo has, so each photo is driven to the same levels from wherever it starts (a dark
photo brightens more than a bright one), not shifted blindly by the same amount.

* :func:`look_from_sidecar` — a PerTouch output with its ``.pertouch.json``: its ``to``
  levels as written; a ``by`` shift becomes the level it reached, measured on the
  output inside the sidecar's mask for that region (whole frame for ``global``).
* :func:`look_from_pair` — only a before/after pair (edited elsewhere): the before photo is
  segmented and :func:`pertouch.engine.parametric.estimate.estimate` gives the ``to`` levels.
* :func:`remembered_look` — a user's remembered taste for this photo's scene
  (:meth:`pertouch.memory.base.Memory.recall`, as the agent's recall node asks it).

:func:`recipe_for_look` segments a photo and returns the recipe + regions that render
it; labels the photo lacks are returned as ``missing``. Regions labelled ``other`` (the
segmenter's "don't know") are not matched across photos.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from pertouch.core.errors import InputError, NotFoundError
from pertouch.engine.schema.recipe import GLOBAL, Recipe, parse_recipe

#: Labels never matched across photos (the segmenter's catch-all).
UNMATCHED_LABELS = frozenset({"other", "unknown", ""})


@dataclass
class Look:
    """``levels``: ``{label: {attribute: level}}`` (``global`` = whole frame); ``source``:
    where it came from, in words."""

    levels: dict[str, dict[str, float]]
    source: str
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"levels": self.levels, "source": self.source, "notes": self.notes}


def _level(v: float) -> float:
    """A ``to`` level lies in [−1, 1]; a measured one past it is held at the edge."""
    return round(float(min(1.0, max(-1.0, v))), 4)


def _merge(rows: list[tuple[dict[str, float], float]]) -> dict[str, float]:
    """Area-weighted mean of several regions' levels (``person_1``, ``person_2`` → ``person``)."""
    out: dict[str, float] = {}
    for a in dict.fromkeys(k for row, _ in rows for k in row):
        vals = [(row[a], max(w, 1e-6)) for row, w in rows if a in row]
        out[a] = _level(sum(v * w for v, w in vals) / sum(w for _, w in vals))
    return out


def look_from_recipe(recipe: Recipe, output: np.ndarray, masks: Mapping[str, np.ndarray], source: str) -> Look:
    """The levels ``recipe`` reached in ``output`` (its rendering): ``to`` levels as given,
    ``by`` shifts measured in ``masks[name]`` (``global``: the whole frame)."""
    from pertouch.engine.measure.stats import measure_image_levels, measure_levels

    rows: dict[str, list[tuple[dict[str, float], float]]] = {}
    notes = []
    for name, edit in recipe.entries():
        if edit.is_noop:
            continue
        label = GLOBAL if name == GLOBAL else (edit.label or name)
        if label in UNMATCHED_LABELS:
            notes.append(f"region {name!r} (label {label!r}) is not matched across photos")
            continue
        shifts = [a for a, e in edit.attributes.items() if e.to is None]
        measured: dict[str, float] = {}
        if shifts and name == GLOBAL:
            measured = measure_image_levels(output, attributes=shifts)
        elif shifts:
            if name not in masks:
                raise InputError(f"region {name!r} shifts its levels ('by') but its mask is missing",
                                 hint="keep the sidecar's masks folder beside it")
            measured = measure_levels(output, {name: masks[name]}, attributes=shifts)[name]
        levels = {a: _level(e.to if e.to is not None else measured[a]) for a, e in edit.attributes.items()}
        area = 1.0 if name == GLOBAL else float(np.mean(masks[name])) if name in masks else 1.0
        rows.setdefault(label, []).append((levels, area))
    return Look({label: _merge(r) for label, r in rows.items()}, source, notes)


def look_from_sidecar(output: Path) -> Look:
    """The look of a PerTouch output ``output`` (its ``OUT.pertouch.json`` beside it)."""
    from pertouch.engine.io.read import load_image
    from pertouch.engine.io.masks import load_mask
    from pertouch.engine.io.outputs import sidecar_path
    from pertouch.engine.schema.recipe import load_recipe

    side = sidecar_path(output)
    if not side.is_file():
        raise InputError(f"{output} has no recipe sidecar ({side.name})",
                         hint="give the photo it was edited from: --before ORIGINAL (the recipe is then estimated)")
    recipe = load_recipe(side)
    photo = load_image(output)
    masks = {name: load_mask(side.parent / edit.mask, photo.shape)
             for name, edit in recipe.regions.items() if edit.mask}
    return look_from_recipe(recipe, photo.pixels, masks, f"recipe {side.name}")


def look_from_pair(before: Path, after: Path, segmenter: str = "builtin") -> Look:
    """The look of ``after`` edited from ``before`` (same photo, same size), estimated."""
    from pertouch.engine.parametric.estimate import estimate
    from pertouch.engine.io.read import load_image
    from pertouch.tools.perception import perceive

    src, dst = load_image(before), load_image(after)
    if src.shape != dst.shape:
        raise InputError(f"--before {before} is {src.size[0]}×{src.size[1]} but {after} is {dst.size[0]}×{dst.size[1]}",
                         hint="give the original the reference was edited from, at the same size")
    scene = perceive(src, segmenter)
    regions = {r.name: r for r in scene.regions if r.label not in UNMATCHED_LABELS}
    recipe = estimate(src.pixels, dst.pixels, {k: scene.full_mask(r) for k, r in regions.items()})
    data = recipe.to_json()
    for name, entry in data["regions"].items():
        entry["label"] = regions[name].label
    recipe = parse_recipe(data, "estimated recipe")
    return look_from_recipe(recipe, dst.pixels, {k: scene.full_mask(r) for k, r in regions.items()},
                            f"estimated from {before.name} → {after.name}")


def segmented_region(scene: Any, name: str, text: str, spec: str):
    """The region ``text`` names in ``scene`` as ``name``, at full resolution."""
    from pertouch.engine.schema.regions import Region

    found = scene.find(text)  # NotFoundError: says what is there
    return Region(name, scene.full_mask(found), label=found.label, confidence=found.confidence,
                  source=f"segmenter {spec}")


def _label_region(scene: Any, label: str):
    from pertouch.engine.schema.regions import Region

    same = [r for r in scene.regions if r.label == label]
    if not same:
        return None
    mask = np.maximum.reduce([scene.full_mask(r) for r in same])
    return Region(label, mask, label=label, confidence=min(r.confidence for r in same), source="segmenter")


def recipe_for_look(photo: Any, look: Look, segmenter: str = "builtin") -> tuple[Recipe, dict, list[str]]:
    """``(recipe, regions, missing)``: ``to`` edits driving ``photo`` to ``look`` for the
    labels it has (all regions of one label together), and the labels it lacks."""
    from pertouch.tools.perception import perceive

    scene = perceive(photo, segmenter)
    data: dict[str, Any] = {GLOBAL: {"attributes": {}}, "regions": {}}
    regions, missing = {}, []
    for label, levels in look.levels.items():
        attrs = {a: {"to": _level(v)} for a, v in levels.items()}
        if label == GLOBAL:
            data[GLOBAL]["attributes"] = attrs
            continue
        region = _label_region(scene, label)
        if region is None:
            missing.append(label)
            continue
        regions[label] = region
        data["regions"][label] = {"label": label, "confidence": round(float(region.confidence), 3),
                                  "attributes": attrs}
    data["notes"] = f"look: {look.source}"
    return parse_recipe(data, "look"), regions, missing


def remembered_look(photo: Any, user: str, memory: Any, segmenter: str = "builtin") -> Look:
    """What ``user``'s memory prefers for a scene like ``photo``'s (labels it has +
    ``global``); :class:`NotFoundError` when nothing is remembered for such scenes."""
    from pertouch.graph.nodes.recall import RECALL_K, RECALL_MIN_SIMILARITY
    from pertouch.memory.descriptors import image_descriptor
    from pertouch.tools.perception import perceive

    scene = perceive(photo, segmenter)
    labels = sorted({r.label for r in scene.regions})
    description = "a photo with " + (", ".join(labels) or "no distinct regions")
    got = memory.recall(user, description, image_descriptor(photo.pixels, scene.regions),
                        k=RECALL_K, min_similarity=RECALL_MIN_SIMILARITY)
    overall = got.preferences.get(GLOBAL)
    levels = {label: row for label, row in got.targets(x for x in labels if x not in UNMATCHED_LABELS).items()
              if label == GLOBAL or label in got.preferences or got.levels_for(label) != overall}  # not global's echo
    if not levels:
        raise NotFoundError(f"{user!r} has no remembered taste for a scene like this ({description})",
                            hint=f"teach it: pertouch retouch PHOTO \"…\" --user {user} --remember, or pertouch memory feedback")
    best = got.evidence[0].similarity if got.evidence else 0.0
    return Look(levels, f"memory of {user} ({len(got.evidence)} memories, best similarity {best:.2f})")
