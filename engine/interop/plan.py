"""A recipe as editor slider values: from/to level per region and attribute → sliders.

PerTouch levels are absolute: ``to`` names where a region should end, ``by`` how far
it should move from where it is. A slider editor only knows relative moves, so each
edit becomes the coordinate change (see :mod:`.controls`) from the region's level
measured in the photo the recipe was made for to the level the edit asks for, and
that change becomes the RawTherapee slider value by the measured curve. Camera Raw
values are derived from it in :mod:`.camera_raw`.

Without the photo, a ``by`` edit is taken from level 0 (a typical well-retouched
region) and says so; a ``to`` edit cannot be placed and is an error.

>>> from pertouch.engine.recipe import Recipe
>>> p = plan(Recipe.model_validate({"global": {"attributes": {"brightness": {"by": 0.2}}}}),
...          {"global": {"brightness": 0.0}})
>>> s = p.sliders[0]
>>> (s.region, s.attribute, s.control, s.pp3 > 0)
('global', 'brightness', 'exposure', True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from pertouch.engine.interop.controls import ATTRIBUTE_CONTROL, CONTROLS, FittedTable, coordinate_of, fitted_table
from pertouch.engine.levels import LevelTable, default_table
from pertouch.engine.recipe import GLOBAL, Recipe

#: Controls whose RawTherapee tool moves one way only (the other way is not in a .pp3).
ONE_SIDED = {"highlights": "raise highlights", "shadows": "deepen shadows", "clarity": "lower clarity"}


@dataclass
class Slider:
    """One attribute edit of one region as slider values."""

    region: str
    label: str
    attribute: str
    control: str
    from_level: float
    to_level: float
    delta: float  # wanted change in the attribute's level coordinate
    pp3: float | None  # RawTherapee slider value; None: the .pp3 cannot express it
    clamped: bool = False
    assumed_from: bool = False  # no photo: from level 0 assumed
    notes: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.region}.{self.attribute}"


@dataclass
class SliderPlan:
    sliders: list[Slider]
    fitted: FittedTable
    table: LevelTable
    notes: list[str] = field(default_factory=list)  # about the whole export

    def of(self, region: str) -> list[Slider]:
        return [s for s in self.sliders if s.region == region]

    def regions(self) -> list[str]:
        return list(dict.fromkeys(s.region for s in self.sliders if s.region != GLOBAL))


def plan(recipe: Recipe, levels: Mapping[str, Mapping[str, float]] | None, *,
         table: LevelTable | None = None, fitted: FittedTable | None = None) -> SliderPlan:
    """Slider values for every edit of ``recipe``; ``levels``: region → attribute → level
    measured in the photo the recipe was made for (None or missing: no photo)."""
    from pertouch.core.errors import RecipeError

    table = table or default_table()
    fitted = fitted or fitted_table()
    out = SliderPlan([], fitted, table)
    for region, entry in recipe.entries():
        for attribute, edit in entry.attributes.items():
            if edit.is_noop:
                continue
            measured = (levels or {}).get(region, {}).get(attribute)
            assumed = measured is None
            if assumed and edit.to is not None:
                raise RecipeError(f"{region}.{attribute} sets level {edit.to:+.2f}, and how far a slider must move "
                                  "depends on where the photo starts", hint="give the photo it was made for: --photo INPUT")
            start = 0.0 if assumed else float(measured)
            out.sliders.append(_slider(region, entry.label or region, attribute, start, edit.target(start),
                                       assumed, fitted, table))
    if any(s.assumed_from for s in out.sliders):
        out.notes.append("no photo given: 'by' shifts were converted as if each region started at level 0 "
                         "(a typical well-retouched photo); give --photo INPUT for this photo's own sliders")
    return out


def _slider(region: str, label: str, attribute: str, start: float, target: float, assumed: bool,
            fitted: FittedTable, table: LevelTable) -> Slider:
    scale = table[attribute]
    delta = coordinate_of(scale, target) - coordinate_of(scale, start)
    control = ATTRIBUTE_CONTROL[attribute]
    value, clamped = fitted.curve(control).slider_of(delta)
    s = Slider(region, label, attribute, control, start, target, delta, value, clamped, assumed)
    lo, hi = fitted.curve(control).reach()
    if control in ONE_SIDED and not lo - 1e-9 <= delta <= hi + 1e-9 and (delta < 0) == (lo >= 0):
        s.pp3, s.clamped = None, False
        s.notes.append(f"RawTherapee's [{CONTROLS[control].section}] can only move one way: it cannot "
                       f"{ONE_SIDED[control]}")
    elif clamped:
        c = CONTROLS[control]
        s.notes.append(f"beyond what [{c.section}] {c.key} reached in the fit: set to its fitted limit {value:g}")
    return s
