"""The edit recipe: what an edit is, stored as parameters, never pixels.

A recipe is versioned JSON::

    {
      "format": "pertouch-recipe", "version": 1,
      "global": {"attributes": {"brightness": {"by": 0.1}}},
      "regions": {
        "sky":  {"label": "sky", "mask": "masks/sky.png",
                 "attributes": {"temperature": {"to": -0.3}, "brightness": {"by": 0.2}}},
        "face": {"label": "face", "attributes": {"temperature": {"by": 0.15}}}
      }
    }

Each attribute edit is either ``to`` an absolute level in [−1, 1] (PerTouch
semantics: 0 is a typical well-retouched level, not "no change") or ``by`` a shift
from the region's level measured in the input. Regions are applied in order, later
ones over earlier ones; ``global`` lies under every region. Measured levels, and so
``by`` targets, may lie beyond ±1 (a region past every photo of the level table,
see :mod:`pertouch.engine.schema.levels`); the engine solves for them as for any other. A region's ``mask`` is a
reference (a PNG path relative to the recipe file, or ``null`` when the region is
given by name or label at render time).

Old versions migrate forward on load (see :data:`MIGRATIONS`).

>>> r = Recipe.model_validate({"regions": {"sky": {"attributes": {"saturation": {"by": 0.2}}}}})
>>> r.regions["sky"].attributes["colorfulness"].by
0.2
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pertouch.engine.schema.attributes import REGISTRY, clamp_level, get_attribute

FORMAT = "pertouch-recipe"
VERSION = 1
GLOBAL = "global"


class Edit(BaseModel):
    """One attribute's edit: exactly one of ``to`` (absolute level) or ``by`` (shift)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    to: float | None = Field(None, description="absolute target level in [-1, 1]; 0 = typical well-retouched level")
    by: float | None = Field(None, description="shift from the region's measured level in the input, in [-2, 2]")

    @model_validator(mode="after")
    def _one_of(self) -> "Edit":
        if (self.to is None) == (self.by is None):
            raise ValueError("give exactly one of 'to' (a level) or 'by' (a shift)")
        value = self.to if self.to is not None else self.by
        if not math.isfinite(value):
            raise ValueError("value must be a finite number, not NaN or infinity")
        return self

    @property
    def is_noop(self) -> bool:
        return self.by is not None and self.by == 0.0

    def target(self, measured: float) -> float:
        """The absolute level this edit asks for, given the measured input level.

        A ``by`` target may lie beyond ±1 (up to ±LEVEL_EXTENDED), like the measured
        levels it starts from: "cooler" still means cooler for a sky beyond the table.
        """
        if self.to is not None:
            return self.to
        if measured is None or not math.isfinite(measured):
            raise ValueError("a 'by' edit needs the region's measured level")
        return clamp_level(measured + self.by)


def _check_attributes(value: dict[str, Any]) -> dict[str, Edit]:
    out: dict[str, Edit] = {}
    for key, edit in (value or {}).items():
        attr = get_attribute(key)  # raises RecipeError naming the closest attribute
        if not isinstance(edit, Edit):
            edit = Edit.model_validate(edit)
        lo, hi = attr.level_range if edit.to is not None else attr.shift_range
        v = edit.to if edit.to is not None else edit.by
        if not lo <= v <= hi:
            kind = "level" if edit.to is not None else "shift"
            raise ValueError(f"{attr.name}: {kind} {v:g} is outside [{lo:g}, {hi:g}]")
        if attr.name in out:
            raise ValueError(f"{attr.name} is given twice (as {key!r} and another synonym)")
        out[attr.name] = edit
    return out


class RegionEdit(BaseModel):
    """The edits of one region (or of the whole photo, for ``global``)."""

    model_config = ConfigDict(extra="forbid")

    label: str | None = Field(None, description="semantic label, e.g. 'sky'; defaults to the region's key")
    mask: str | None = Field(None, description="mask reference: PNG path relative to the recipe, or null")
    confidence: float | None = Field(None, ge=0.0, le=1.0, description=(
        "how sure the segmenter was of the mask (absent: 1, the user's own mask); below 1 the engine "
        "re-fits the mask's unsure bands to the photo, so a sidecar keeps it to reproduce its render"))
    attributes: dict[str, Edit] = Field(default_factory=dict)

    @field_validator("attributes", mode="before")
    @classmethod
    def _canon(cls, value: Any) -> dict[str, Edit]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValueError("attributes must be an object of {attribute: {to|by: number}}")
        return _check_attributes(value)

    @property
    def is_noop(self) -> bool:
        return all(e.is_noop for e in self.attributes.values())


class Recipe(BaseModel):
    """A whole edit. Serialise with :meth:`to_json`; parse with :func:`parse_recipe`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    format: str = FORMAT
    version: int = VERSION
    global_: RegionEdit = Field(default_factory=RegionEdit, alias=GLOBAL)
    regions: dict[str, RegionEdit] = Field(default_factory=dict)
    notes: str = ""
    meta: dict[str, Any] = Field(default_factory=dict, description="provenance: input hash, engine, level table")

    @field_validator("format")
    @classmethod
    def _format(cls, value: str) -> str:
        if value != FORMAT:
            raise ValueError(f"format must be {FORMAT!r}")
        return value

    @field_validator("version")
    @classmethod
    def _version(cls, value: int) -> int:
        if value != VERSION:
            raise ValueError(f"version {value} is not {VERSION}; load it with parse_recipe() to migrate")
        return value

    @field_validator("regions")
    @classmethod
    def _names(cls, value: dict[str, RegionEdit]) -> dict[str, RegionEdit]:
        for name in value:
            if not name or name == GLOBAL or name.strip() != name:
                raise ValueError(f"bad region name {name!r}")
        return value

    # -- queries -------------------------------------------------------------
    @property
    def is_identity(self) -> bool:
        """True when rendering must return the input unchanged."""
        return self.global_.is_noop and all(r.is_noop for r in self.regions.values())

    def entries(self) -> list[tuple[str, RegionEdit]]:
        """``[("global", …), (region, …), …]`` in application order."""
        return [(GLOBAL, self.global_), *self.regions.items()]

    def with_edit(self, region: str, attribute: str, edit: Edit, label: str | None = None) -> "Recipe":
        """A copy with one attribute edit set (region ``"global"`` for the whole photo)."""
        data = self.to_json()
        name = get_attribute(attribute).name
        if region == GLOBAL:
            data[GLOBAL]["attributes"][name] = edit.model_dump(exclude_none=True)
        else:
            entry = data["regions"].setdefault(region, {"attributes": {}})
            if label is not None:
                entry["label"] = label
            entry["attributes"][name] = edit.model_dump(exclude_none=True)
        return Recipe.model_validate(data)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=False)


# --- migrations -------------------------------------------------------------------

def _migrate_0(data: dict[str, Any]) -> dict[str, Any]:
    """Version 0: the reference's flat form, levels as a 4-list in channel order.

    ``{"global": [c, k, t, b] | null, "regions": [{"label": "sky", "params": [c, k, t, b]}]}``
    where a ``null`` entry in a list means "leave as is".
    """
    from pertouch.engine.schema.attributes import CORE_NAMES

    def attrs(params: list | None) -> dict:
        if params is None:
            return {}
        if len(params) != len(CORE_NAMES):
            raise ValueError(f"version-0 params need {len(CORE_NAMES)} values in channel order {CORE_NAMES}")
        return {n: {"to": v} for n, v in zip(CORE_NAMES, params) if v is not None}

    regions: dict[str, Any] = {}
    for i, reg in enumerate(data.get("regions") or []):
        label = reg.get("label") or f"region{i}"
        name = label
        k = 2
        while name in regions:
            name, k = f"{label}_{k}", k + 1
        regions[name] = {"label": label, "mask": reg.get("mask"), "attributes": attrs(reg.get("params"))}
    return {"format": FORMAT, "version": 1, GLOBAL: {"attributes": attrs(data.get(GLOBAL))}, "regions": regions}


#: version → function turning that version's JSON into the next version's.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _migrate_0}


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring recipe JSON of any known version up to :data:`VERSION`."""
    version = data.get("version", 0 if isinstance(data.get("regions"), list) else VERSION)
    if not isinstance(version, int) or version > VERSION or version < 0:
        raise ValueError(f"unknown recipe version {version!r} (this PerTouch reads versions 0–{VERSION})")
    while version < VERSION:
        data = MIGRATIONS[version](data)
        version = data["version"]
    return data


def _one_line(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "__root__")
    msg = first.get("msg", "invalid").removeprefix("Value error, ")
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {msg}{more}" if where else f"{msg}{more}"


def parse_recipe(data: Any, origin: str = "recipe") -> Recipe:
    """Validate (and migrate) recipe JSON; errors are one line naming ``origin``."""
    from pertouch.core.errors import PertouchError, RecipeError

    if not isinstance(data, dict):
        raise RecipeError(f"{origin}: a recipe must be a JSON object", hint="see README, 'The recipe'")
    try:
        return Recipe.model_validate(migrate(dict(data)))
    except ValidationError as exc:
        raise RecipeError(f"{origin}: {_one_line(exc)}") from None
    except PertouchError as exc:
        raise RecipeError(f"{origin}: {exc.one_line()}") from None
    except ValueError as exc:
        raise RecipeError(f"{origin}: {exc}") from None


def load_recipe(path: str | Path) -> Recipe:
    """Read and validate a recipe file; mask paths stay relative to it."""
    from pertouch.core.errors import RecipeError

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecipeError(f"recipe not found: {p}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(f"cannot read recipe {p}: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecipeError(f"{p} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    return parse_recipe(data, str(p))


def known_attributes() -> list[str]:
    return list(REGISTRY)
