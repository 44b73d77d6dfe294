"""A recipe as editor slider values: from/to level per region and attribute → sliders.

PerTouch levels are absolute: ``to`` names where a region should end, ``by`` how far
it should move from where it is. A slider editor only knows relative moves, so each
edit becomes the coordinate change (see :mod:`.controls`) from the region's level
measured in the photo the recipe was made for to the level the edit asks for, and
that change becomes the RawTherapee slider value by the measured curve. Camera Raw
values are derived from it in :mod:`.camera_raw`.

Without the photo, a ``by`` edit is taken from level 0 (a typical well-retouched
region) and says so; a ``to`` edit cannot be placed and is an error.

>>> from pertouch.engine.schema.recipe import Recipe
>>> p = plan(Recipe.model_validate({"global": {"attributes": {"brightness": {"by": 0.2}}}}),
...          {"global": {"brightness": 0.0}})
>>> s = p.sliders[0]
>>> (s.region, s.attribute, s.control, s.pp3 > 0)
('global', 'brightness', 'exposure', True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from pertouch.engine.interop.controls import ATTRIBUTE_CONTROL, CONTROLS, FittedTable, coordinate_of, fitted_table
from pertouch.engine.schema.levels import LevelTable, default_table
from pertouch.engine.schema.recipe import GLOBAL, Recipe

#: Attributes whose sliders' side effects on each other are untangled: the two-sided ones.
#: Highlights, shadows and clarity are left alone: their tools clip and move one way, and
#: exposure's pull on highlights (measured 143 luma per log unit) would drive them to their limits.
UNTANGLED = ("brightness", "contrast", "colorfulness", "temperature", "tint")
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
    delta: float  # change the slider set must make in the attribute's coordinate (a region: beyond the global's)
    pp3: float | None  # RawTherapee slider value; None: the .pp3 cannot express it
    primary: float = 0.0  # what the slider itself is set to change, after the other sliders' side effects
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
    under: dict[str, float] = {}  # what the global sliders change in every region (coordinate units)
    for region, entry in recipe.entries():
        wanted = []
        for attribute, edit in entry.attributes.items():
            if edit.is_noop:
                continue
            measured = (levels or {}).get(region, {}).get(attribute)
            assumed = measured is None
            if assumed and edit.to is not None:
                raise RecipeError(f"{region}.{attribute} sets level {edit.to:+.2f}, and how far a slider must move "
                                  "depends on where the photo starts",
                                  hint="give the photo it was made for: --photo INPUT")
            start = 0.0 if assumed else float(measured)
            wanted.append((attribute, start, edit.target(start), assumed))
        scales = [table[a] for a, *_ in wanted]
        deltas = [coordinate_of(sc, t) - coordinate_of(sc, f) - under.get(a, 0.0)
                  for sc, (a, f, t, _) in zip(scales, wanted)]
        primaries = untangle([a for a, *_ in wanted], deltas, fitted)
        for (attribute, start, target, assumed), delta, primary in zip(wanted, deltas, primaries):
            out.sliders.append(_slider(region, entry.label or region, attribute, start, target, delta, primary,
                                       assumed, fitted))
        if region == GLOBAL:
            under = global_effect(out.of(GLOBAL), fitted)
    if any(s.assumed_from for s in out.sliders):
        out.notes.append("no photo given: 'by' shifts were converted as if each region started at level 0 "
                         "(a typical well-retouched photo); give --photo INPUT for this photo's own sliders")
    return out


def global_effect(sliders: list[Slider], fitted: FittedTable) -> dict[str, float]:
    """Attribute → coordinate change the global sliders make in a region under them.

    A slider editor adds a mask group's sliders to the global ones, while a PerTouch
    region's target is absolute (measured from the input), so a region's sliders are
    what is left after the global edit, taken as moving the region as it moves the frame."""
    effect: dict[str, float] = {}
    for s in sliders:
        if s.pp3 is None and s.attribute not in UNTANGLED:
            continue
        effect[s.attribute] = effect.get(s.attribute, 0.0) + s.primary
        if s.attribute in UNTANGLED:
            for a, k in fitted.cross.get(s.control, {}).items():
                if a in UNTANGLED:
                    effect[a] = effect.get(a, 0.0) + k * s.primary
    return effect


def untangle(attributes: list[str], deltas: list[float], fitted: FittedTable) -> list[float]:
    """What each slider must change itself so that, with the side effects the others were
    measured to have (``fitted.cross``), every attribute changes by its wanted delta:
    solves ``d_i + Σ_j cross[j][i] · d_j = delta_i`` over the :data:`UNTANGLED` attributes
    edited together.
    Left as the deltas when the system is ill-conditioned (side effects near 1:1)."""
    k = len(attributes)
    if k < 2 or not fitted.cross:
        return list(deltas)
    m = np.eye(k)
    for i, a in enumerate(attributes):
        for j, b in enumerate(attributes):
            if i != j and a in UNTANGLED and b in UNTANGLED:
                m[i, j] = fitted.cross.get(ATTRIBUTE_CONTROL[b], {}).get(a, 0.0)
    from pertouch.engine.schema.levels import default_table

    table = default_table()  # condition judged in level units (a mired and a log unit are not alike)
    per = np.asarray([0.2 / (coordinate_of(table[a], 0.1) - coordinate_of(table[a], -0.1)) for a in attributes])
    if np.linalg.cond(per[:, None] * m / per[None, :]) > 10.0:
        return list(deltas)
    return [float(v) for v in np.linalg.solve(m, np.asarray(deltas, float))]


def _slider(region: str, label: str, attribute: str, start: float, target: float, delta: float, primary: float,
            assumed: bool, fitted: FittedTable) -> Slider:
    control = ATTRIBUTE_CONTROL[attribute]
    value, clamped = fitted.curve(control).slider_of(primary)
    s = Slider(region, label, attribute, control, start, target, delta, value, primary, clamped, assumed)
    lo, hi = fitted.curve(control).reach()
    if control in ONE_SIDED and not lo - 1e-9 <= primary <= hi + 1e-9 and (primary < 0) == (lo >= 0):
        s.pp3, s.clamped = None, False
        s.notes.append(f"RawTherapee's [{CONTROLS[control].section}] can only move one way: it cannot "
                       f"{ONE_SIDED[control]}")
    elif clamped:
        c = CONTROLS[control]
        s.notes.append(f"beyond what [{c.section}] {c.key} reached in the fit: set to its fitted limit {value:g}")
    return s
