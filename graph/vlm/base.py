"""The VLM interface: four typed roles behind one class, and what they share.

Every provider (``builtin``, ``openai:MODEL``, ``hf:PATH``, ``fake:FILE``)
implements :class:`VLM`:

- ``describe(image_ref, scene) -> SceneDescription``
- ``classify(instruction, scene) -> Intent``
- ``plan(intent, scene, preferences, critique) -> Plan``
- ``critique(before_ref, after_ref, instruction, intent, achieved, scene=None) -> Critique``

Images are passed as references — a file path or a PIL image — never as pixel
arrays in graph state. A provider that fails (network, server, unparseable or
invalid answer after its retry) raises :class:`VLMError`; nothing is ever silently
counted as "satisfied".

:func:`plan_to_recipe` turns a :class:`Plan` into an engine :class:`Recipe`.
"""

from __future__ import annotations

import abc
from pathlib import Path
from typing import Any, Iterable, Mapping, Union

from pertouch.engine.schema.recipe import GLOBAL, Edit, Recipe
from pertouch.core.errors import ModelError, NotFoundError
from pertouch.graph.vlm.schemas import (
    Critique, Intent, Measured, Plan, SceneDescription, SceneInfo,
)

#: A photo reference: a path on disk or a PIL image.
ImageRef = Union[str, Path, "Image.Image"]  # noqa: F821  (PIL is imported lazily)
#: Remembered preferences: label → attribute → {"level": float, "weight": float} (or a bare level).
Preferences = Mapping[str, Mapping[str, Any]]

ROLES = ("describe", "classify", "plan", "critique")


class VLMError(ModelError):
    """A model call that failed: unreachable, refused, or whose answer does not validate.

    ``role`` names the call (describe/classify/plan/critique); ``provider`` the spec.
    The graph turns this into an error entry in state.
    """

    def __init__(self, message: str, *, role: str | None = None, provider: str | None = None,
                 hint: str | None = None) -> None:
        self.role, self.provider = role, provider
        where = " ".join(p for p in (provider, role) if p)
        super().__init__(f"{where}: {message}" if where else message, hint=hint)


class VLM(abc.ABC):
    """A model that can play the four roles. ``name`` is its spec string."""

    name: str = "vlm"

    @abc.abstractmethod
    def describe(self, image_ref: ImageRef, scene: SceneInfo) -> SceneDescription:
        """Tags, a description and names for the numbered regions of a Set-of-Mark overlay."""

    @abc.abstractmethod
    def classify(self, instruction: str, scene: SceneInfo | None = None) -> Intent:
        """Parse an instruction into an :class:`Intent`."""

    @abc.abstractmethod
    def plan(self, intent: Intent, scene: SceneInfo, preferences: Preferences | None = None,
             critique: Critique | None = None) -> Plan:
        """Recipe entries for ``intent`` on ``scene`` (given preferences and a previous critique)."""

    @abc.abstractmethod
    def critique(self, before_ref: ImageRef, after_ref: ImageRef, instruction: str, intent: Intent,
                 achieved: Iterable[Any], scene: SceneInfo | None = None) -> Critique:
        """Judge a render: ``achieved`` holds engine ``Achieved`` records (or :class:`Measured`)."""

    def __repr__(self) -> str:  # never shows settings such as keys
        return f"<{type(self).__name__} {self.name}>"


# --- shared helpers ----------------------------------------------------------------

def load_image(ref: ImageRef, max_side: int | None = None) -> "Image.Image":  # noqa: F821
    """Open an image reference as an RGB PIL image, optionally downscaled to ``max_side``."""
    from PIL import Image

    if isinstance(ref, Image.Image):
        img = ref
    else:
        path = Path(ref)
        if not path.is_file():
            raise NotFoundError(f"image not found: {path}")
        try:
            with Image.open(path) as im:
                img = im.convert("RGB")
        except OSError as exc:
            raise ModelError(f"cannot read image {path}: {exc}") from None
    img = img.convert("RGB")
    if max_side and max(img.size) > max_side:
        img = img.copy()
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return img


def to_measured(achieved: Iterable[Any]) -> list[Measured]:
    """Engine ``Achieved`` records, :class:`Measured` or dicts → :class:`Measured`."""
    out = []
    for a in achieved or ():
        if isinstance(a, Measured):
            out.append(a)
        elif isinstance(a, Mapping):
            out.append(Measured.model_validate(a))
        else:
            out.append(Measured(region=a.region, attribute=a.attribute, before=a.before,
                                target=a.target, achieved=a.achieved))
    return out


def normalize_preferences(preferences: Preferences | None) -> dict[str, dict[str, tuple[float, float]]]:
    """``label → attribute → (level, weight)``; a bare number means weight 1. Weights clip to [0, 1]."""
    from pertouch.engine.schema.attributes import canonical_name

    out: dict[str, dict[str, tuple[float, float]]] = {}
    for label, attrs in (preferences or {}).items():
        for attr, value in (attrs or {}).items():
            name = canonical_name(attr)
            if name is None:
                continue
            if isinstance(value, Mapping):
                level, weight = value.get("level"), value.get("weight", 1.0)
            else:
                level, weight = value, 1.0
            if level is None:
                continue
            level = max(-1.0, min(1.0, float(level)))
            out.setdefault(str(label).lower(), {})[name] = (level, max(0.0, min(1.0, float(weight))))
    return out


def resolve_region(region: str, scene: SceneInfo) -> list[str]:
    """Region names a plan entry means: ``global``, a region name, or every region with that label."""
    if region == GLOBAL:
        return [GLOBAL]
    if scene.region(region) is not None:
        return [region]
    return [r.name for r in scene.with_label(region)]


def plan_to_recipe(plan: Plan, scene: SceneInfo, base: Recipe | None = None) -> Recipe:
    """The engine recipe of ``plan``: entries resolved to the scene's region names.

    Later entries override earlier ones for the same region and attribute. A region
    that is neither ``global``, a region name nor a label in ``scene`` raises
    :class:`NotFoundError` naming the regions that exist.
    """
    recipe = base if base is not None else Recipe()
    labels = {r.name: r.label for r in scene.regions}
    for e in plan.edits:
        names = resolve_region(e.region, scene)
        if not names:
            have = ", ".join(r.name for r in scene.regions) or "none"
            raise NotFoundError(f"the plan names region {e.region!r}, which this photo does not have",
                                hint=f"regions found: {have}")
        edit = Edit(to=e.to) if e.to is not None else Edit(by=e.by)
        for name in names:
            recipe = recipe.with_edit(name, e.attribute, edit, label=labels.get(name))
    if plan.notes:
        recipe = recipe.model_copy(update={"notes": plan.notes})
    return recipe
