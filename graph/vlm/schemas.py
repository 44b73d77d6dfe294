"""Typed inputs and results of the four VLM roles: describe, classify, plan, critique.

The pydantic models' field descriptions are the instructions a model sees (their
JSON schema goes into the prompt and into ``response_format``), so they state the
level semantics: a level is an ABSOLUTE position in [−1, 1] where 0 is the typical
well-retouched level (not "no change"); a shift ``by`` is relative to the level
measured in the input photo.

:class:`SceneInfo` is what the graph hands every role: the regions perception
found (name, label, confidence, area fraction, measured levels), the global
measured levels, tags/description when known and the photo's path.

>>> Target(region="sky", attribute="warmth", direction="up", shift=0.2).attribute
'temperature'
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Iterable, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from pertouch.engine.schema.attributes import LEVEL_MAX, LEVEL_MIN, SHIFT_MAX, SHIFT_MIN, canonical_name

GLOBAL = "global"
Kind = Literal["strong", "weak-optimize", "weak-style", "out-of-scope", "no-op", "question", "undo"]
#: Kinds that never edit: the answer is words (targets empty, style null).
NO_EDIT_KINDS = ("no-op", "question", "undo")
Direction = Literal["up", "down", "set"]
Verdict = Literal["changed_enough", "not_enough", "not_changed", "overshoot", "wrong_direction"]


def _attribute(value: Any) -> str:
    canon = canonical_name(str(value))
    if canon is None:
        from pertouch.engine.schema.attributes import REGISTRY

        raise ValueError(f"unknown attribute {value!r}; use one of {', '.join(REGISTRY)}")
    return canon


def _finite(value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


AttrName = Annotated[str, BeforeValidator(_attribute)]
Finite = Annotated[float, AfterValidator(_finite)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


# --- scene -------------------------------------------------------------------------

class SceneRegion(_Model):
    """One region perception found."""

    name: str = Field(description="unique region key used in recipes, e.g. 'sky' or 'person_2'")
    label: str = Field(description="semantic class, e.g. sky, person, vegetation")
    confidence: float = Field(1.0, ge=0.0, le=1.0, description="how sure perception is of the label")
    area: float = Field(0.0, ge=0.0, le=1.0, description="fraction of the photo the region covers")
    levels: dict[str, float] = Field(default_factory=dict, description="measured absolute level per attribute")


class SceneInfo(_Model):
    """What the roles know about the photo. Region ``i`` of a Set-of-Mark overlay is ``regions[i-1]``."""

    regions: list[SceneRegion] = Field(default_factory=list)
    global_levels: dict[str, float] = Field(default_factory=dict, description="measured levels of the whole photo")
    tags: list[str] = Field(default_factory=list)
    description: str = ""
    image_path: str | None = None

    @classmethod
    def from_regions(cls, regions: Iterable[Any], global_levels: dict[str, float] | None = None,
                     image_path: str | None = None, **extra: Any) -> "SceneInfo":
        """Build from engine :class:`~pertouch.engine.schema.regions.Region` objects (or dicts with the same keys)."""
        out = []
        for r in regions:
            get = r.get if isinstance(r, dict) else (lambda k, d=None, r=r: getattr(r, k, d))
            area = get("area_fraction", None)
            if area is None:
                area = get("area", 0.0)
            out.append(SceneRegion(name=get("name"), label=get("label") or get("name"),
                                   confidence=float(get("confidence", 1.0)), area=float(area or 0.0),
                                   levels={k: float(v) for k, v in (get("levels") or {}).items()}))
        return cls(regions=out, global_levels=dict(global_levels or {}),
                   image_path=None if image_path is None else str(image_path), **extra)

    def labels(self) -> list[str]:
        """Distinct region labels in order of first appearance."""
        return list(dict.fromkeys(r.label for r in self.regions))

    def with_label(self, label: str) -> list[SceneRegion]:
        return [r for r in self.regions if r.label == label]

    def region(self, name: str) -> SceneRegion | None:
        return next((r for r in self.regions if r.name == name), None)

    def levels_of(self, name: str) -> dict[str, float]:
        """Measured levels of a region name, or of the whole photo for ``"global"``."""
        if name == GLOBAL:
            return self.global_levels
        r = self.region(name)
        return r.levels if r else {}


# --- describe ----------------------------------------------------------------------

class RegionName(_Model):
    index: int = Field(ge=1, description="the number drawn on the region in the overlay image")
    label: str = Field(description="one or two lowercase words naming what the region shows, e.g. 'sky', 'person', 'tree'")


class SceneDescription(_Model):
    """Result of ``describe``."""

    tags: list[str] = Field(default_factory=list, max_length=8,
                            description="up to 8 short lowercase scene tags, e.g. 'landscape', 'sunset', 'portrait'")
    description: str = Field("", description="one paragraph describing the scene, its light and colours")
    regions: list[RegionName] = Field(default_factory=list,
                                      description="a name for each numbered region of the overlay, if there is one")


# --- classify ----------------------------------------------------------------------

class Target(_Model):
    """One thing the instruction asks to change."""

    region: str = Field(GLOBAL, description="region label the change applies to (e.g. 'sky', 'person', 'skin'), or 'global' for the whole photo")
    attribute: AttrName = Field(description="attribute name from the attribute table (synonyms are accepted)")
    direction: Direction = Field(description="'up' to raise the level, 'down' to lower it, 'set' for an explicit absolute level")
    shift: Finite | None = Field(None, ge=SHIFT_MIN, le=SHIFT_MAX,
                                description="signed relative shift from the measured level (positive for up, negative for down); from the magnitude scale or explicit numbers; null when direction is 'set' or when 'like' names the reference region")
    level: Finite | None = Field(None, ge=LEVEL_MIN, le=LEVEL_MAX,
                                description="absolute level in [-1, 1] when direction is 'set' (null when 'like' names the reference region), else null")
    magnitude: str | None = Field(None, description="the size words used ('slightly', 'a lot'), or null")
    like: str | None = Field(None, description="a reference region label when the level is relative to another region, "
                                               "else null: 'make the sky as bright as the water' is region 'sky', "
                                               "direction 'set', level null, like 'water'; 'the ground should be "
                                               "darker than the sky' is region 'ground', direction 'down', shift "
                                               "null, like 'sky'. The planner reads the reference's measured level")

    @field_validator("region", mode="before")
    @classmethod
    def _region(cls, value: Any) -> str:
        return (str(value or GLOBAL)).strip().lower() or GLOBAL

    @field_validator("like", mode="before")
    @classmethod
    def _like(cls, value: Any) -> str | None:
        text = str(value).strip().lower() if value is not None else ""
        return text or None

    @model_validator(mode="after")
    def _consistent(self) -> "Target":
        if self.direction == "set":
            if self.level is None and self.like is None:
                raise ValueError("direction 'set' needs 'level' (an absolute level in [-1, 1]) or 'like' (a region)")
        else:
            if self.shift is None and self.like is None:
                raise ValueError(f"direction {self.direction!r} needs 'shift' (a signed number) or 'like' (a region)")
            if self.shift is not None and self.shift != 0 and (self.shift > 0) != (self.direction == "up"):
                raise ValueError(f"shift {self.shift:g} has the wrong sign for direction {self.direction!r}")
        return self

    def key(self) -> tuple[str, str, str]:
        return (self.region, self.attribute, self.direction)


class Intent(_Model):
    """Result of ``classify``: what kind of request this is and what it asks for."""

    kind: Kind = Field(description="'strong': names attributes and/or regions to change; 'weak-optimize': asks to make the photo better without saying how; 'weak-style': asks for a look or mood (film, season, time of day); 'no-op': asks for no change ('don't change anything', 'it's fine as is', 'leave it') or only says what to leave alone ('keep the skin tones'); 'question': asks about the photo or for advice without asking for an edit ('what would you improve?', 'is it too dark?'); 'undo': asks to undo or revert ('undo', 'go back to the original'); 'out-of-scope': not a tone/colour retouch (adding or removing objects, files, anything else). no-op, question and undo have no targets and no style")
    targets: list[Target] = Field(default_factory=list, description="every requested change; empty unless kind is 'strong'")
    protected: list[str] = Field(default_factory=list, description="region labels the person said to leave alone ('leave the sky alone', 'don't touch the skin')")
    regions: list[str] = Field(default_factory=list, description="for weak requests: region labels the request is limited to ('make the sky look better'); empty = whole photo")
    style: str | None = Field(None, description="the style name from the style list for 'weak-style' (or a strong request that also names a style), else null")
    explanation: str = Field("", description="one sentence: what was understood, or why the request is out of scope")

    @field_validator("protected", mode="before")
    @classmethod
    def _labels(cls, value: Any) -> list[str]:
        return [str(v).strip().lower() for v in (value or [])]

    @model_validator(mode="after")
    def _scope(self) -> "Intent":
        if self.kind == "out-of-scope" and self.targets:
            raise ValueError("an out-of-scope request has no targets")
        if self.kind == "out-of-scope" and not self.explanation.strip():
            raise ValueError("explain why the request is out of scope")
        if self.kind == "weak-style" and not self.style:
            raise ValueError("a weak-style request needs 'style'")
        if self.kind in NO_EDIT_KINDS and (self.targets or self.style):  # nothing to edit, whatever came with it
            self.targets, self.style = [], None
        return self


# --- plan --------------------------------------------------------------------------

class PlanEdit(_Model):
    """One recipe entry."""

    region: str = Field(description="region NAME from the scene's region list (or its label, meaning every region with it), or 'global'")
    attribute: AttrName = Field(description="attribute name from the attribute table")
    to: Finite | None = Field(None, ge=LEVEL_MIN, le=LEVEL_MAX, description="absolute target level in [-1, 1] (0 = typical well-retouched level, NOT 'no change'); give either 'to' or 'by'")
    by: Finite | None = Field(None, ge=SHIFT_MIN, le=SHIFT_MAX, description="shift relative to the region's measured level (0 = keep as is); give either 'to' or 'by'")
    reason: str = Field("", description="a few words on why")


    @model_validator(mode="after")
    def _one_of(self) -> "PlanEdit":
        if (self.to is None) == (self.by is None):
            raise ValueError("give exactly one of 'to' (absolute level) or 'by' (shift)")
        return self


class Plan(_Model):
    """Result of ``plan``: the recipe entries to render."""

    edits: list[PlanEdit] = Field(default_factory=list, description="recipe entries; later entries win over earlier ones for the same region and attribute")
    missing: list[str] = Field(default_factory=list, description="region labels the instruction named that the photo does not have")
    impossible: list[str] = Field(default_factory=list, description="requested changes that cannot be made, each a sentence saying why (e.g. the region is already at the end of the level scale)")
    notes: str = Field("", description="one sentence summarising the plan")


# --- critique ----------------------------------------------------------------------

class Measured(_Model):
    """Measured outcome of one edited region/attribute (from the engine's report)."""

    region: str
    attribute: str
    before: float
    target: float
    achieved: float


class TargetCheck(_Model):
    region: str = Field(description="region label or name, or 'global'")
    attribute: AttrName = Field(description="attribute name")
    verdict: Verdict = Field(description="'changed_enough', 'not_enough' (right way, too little), 'not_changed', 'overshoot' (too much), 'wrong_direction'")
    size_fits_wording: bool = Field(description="does the size of the change match the words ('slightly' small, 'a lot' large)?")
    before: float | None = None
    achieved: float | None = None



class Adjustment(_Model):
    region: str = Field(description="region name or label, or 'global'")
    attribute: AttrName = Field(description="attribute name")
    by: Finite = Field(ge=SHIFT_MIN, le=SHIFT_MAX, description="extra signed shift to add to the previous plan's edit of this region/attribute")
    reason: str = ""



class Critique(_Model):
    """Result of ``critique``: was the instruction carried out, and what to do next."""

    satisfied: bool = Field(description="true only if every requested change happened, in the right direction, at a size that fits the wording, with no defects")
    targets: list[TargetCheck] = Field(default_factory=list, description="one check per requested change")
    size_fits_wording: bool = Field(True, description="overall: does the size of the change fit the wording?")
    defects: list[str] = Field(default_factory=list, description="visible problems: clipped highlights, crushed shadows, a region pushed out of range, a protected region changed, colour casts")
    advice: list[Adjustment] = Field(default_factory=list, description="what to change in the next attempt; empty when satisfied")
    explanation: str = Field("", description="one or two sentences for the person")


ROLE_SCHEMAS: dict[str, type[BaseModel]] = {
    "describe": SceneDescription, "classify": Intent, "plan": Plan, "critique": Critique,
}
