"""Whole sidecars from a :class:`~.plan.SliderPlan`, and a recipe from a Camera Raw preset.

- :func:`to_xmp`: Camera Raw / Lightroom XMP text, plus what it could not express;
- :func:`to_pp3`: RawTherapee ``.pp3`` text (global edits only), plus the same;
- :func:`recipe_from_xmp`: a preset's global sliders → a recipe of ``by`` shifts.

Every "not expressed" line names the edit and why, so a user knows what the editor
will not reproduce. Values written are listed per tag (``Export.values``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from pertouch.engine.interop import camera_raw as cr
from pertouch.engine.interop.controls import (ATTRIBUTE_CONTROL, CONTROLS, FittedTable, coordinate_of, fitted_table,
                                              level_of)
from pertouch.engine.interop.plan import UNTANGLED, SliderPlan
from pertouch.engine.interop.pp3 import merge, pp3_text
from pertouch.engine.interop.xmp import AI_MASKS, MaskGroup, read_settings, read_structures, xmp_text
from pertouch.engine.schema.levels import LevelTable, default_table
from pertouch.engine.schema.recipe import GLOBAL, Recipe

HEADER = "made by PerTouch from a recipe; sliders mapped by measurement (see pertouch export --help)"


@dataclass
class Export:
    """A sidecar's text, the values written (``where`` → tag → value) and what was left out."""

    text: str
    values: dict[str, dict[str, float]] = field(default_factory=dict)
    not_expressed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RegionInfo:
    """What the XMP writer knows of a region's mask: its file and centroid (x, y in [0, 1])."""

    mask_file: str | None = None
    centroid: tuple[float, float] = (0.5, 0.5)


def centroid(mask: np.ndarray) -> tuple[float, float]:
    """The mask-weighted centre of a region, (x, y) as fractions of width and height."""
    m = np.asarray(mask, float)
    total = m.sum()
    if total <= 0:
        return 0.5, 0.5
    ys, xs = np.indices(m.shape)
    return float((xs * m).sum() / total / max(1, m.shape[1] - 1)), float((ys * m).sum() / total / max(1, m.shape[0] - 1))


def to_xmp(p: SliderPlan, regions: Mapping[str, RegionInfo] | None = None, *, raw_input: bool = False,
           about: dict[str, str] | None = None) -> Export:
    """The XMP sidecar of a plan. ``raw_input``: the photo is a raw file, whose white
    balance Camera Raw sets in absolute kelvin (unknown here), so temperature/tint are left out."""
    out = Export("", notes=list(p.notes))
    settings: dict[str, float | str] = {}
    for s in p.of(GLOBAL):
        tag = cr.TAGS[s.attribute][0]
        if raw_input and s.attribute in ("temperature", "tint"):
            out.not_expressed.append(f"global.{s.attribute}: on a raw photo Camera Raw's white balance is absolute "
                                     "kelvin/tint from the as-shot value, which PerTouch does not read")
            continue
        settings[tag] = cr.acr_value(s, p.fitted)
        if cr.at_limit(tag, settings[tag]):
            out.notes.append(f"{s.where}: crs:{tag} at Camera Raw's limit {settings[tag]:+g}; the edit goes further")
    if any(t in settings for t in ("IncrementalTemperature", "IncrementalTint")):
        settings = {"WhiteBalance": "Custom", **settings}
    out.values[GLOBAL] = {k: v for k, v in settings.items() if not isinstance(v, str)}
    groups = []
    for region in p.regions():
        sliders = p.of(region)
        label = sliders[0].label
        ai = AI_MASKS.get(label.lower()) or AI_MASKS.get(region.lower())
        if ai is None:
            out.not_expressed.append(
                f"{region} (label {label!r}): an XMP cannot carry a mask's pixels, and Lightroom has no "
                f"AI selection for {label!r} (only Select Sky and Select Subject); its edits "
                + ", ".join(s.attribute for s in sliders) + " are left out")
            continue
        info = (regions or {}).get(region, RegionInfo())
        values = {cr.TAGS[s.attribute][1]: cr.local_value(s.attribute, cr.acr_value(s, p.fitted)) for s in sliders}
        g = MaskGroup(region, label, values, ai[0], ai[1], info.centroid, info.mask_file)
        groups.append(g)
        out.values[region] = dict(values)
        out.notes.append(f"{region}: Lightroom's own Select {ai[1]} mask (it re-detects the {ai[1].lower()} on the "
                         "photo; PerTouch's mask pixels are not carried)")
    for s in p.sliders:  # notes on RawTherapee's curve, where the Camera Raw value comes from it
        if s.attribute not in ("temperature", "tint"):
            out.notes += [f"{s.where}: {n}" for n in s.notes if "one way" not in n]
    out.text = xmp_text(settings, groups, out.not_expressed, about)
    return out


def to_pp3(p: SliderPlan, about: str | None = None) -> Export:
    """The RawTherapee profile of a plan's global edits."""
    out = Export("", notes=list(p.notes))
    parts = []
    for s in p.of(GLOBAL):
        c = CONTROLS[s.control]
        if s.pp3 is None:
            out.not_expressed.append(f"global.{s.attribute}: " + "; ".join(s.notes))
            continue
        parts.append(c.pp3(s.pp3))
        out.values.setdefault(GLOBAL, {})[f"{c.section}/{c.key}"] = round(s.pp3, c.digits)
        out.notes += [f"{s.where}: {n}" for n in s.notes]
    sections = merge(*parts)
    wb = sections.get("White Balance")
    if wb is not None:  # temperature and tint share the tool: each at its neutral unless it moves
        for control in ("temperature", "tint"):
            c = CONTROLS[control]
            moved = [s.pp3 for s in p.of(GLOBAL) if s.control == control and s.pp3 is not None]
            wb[c.key] = c.pp3(moved[0] if moved else c.neutral)[c.section][c.key]
    for region in p.regions():
        names = ", ".join(s.attribute for s in p.of(region))
        out.not_expressed.append(f"{region}: RawTherapee's Local Adjustments select areas by shape and colour "
                                 f"range, not by an image mask; its edits {names} are left out")
    comments = [HEADER] + ([about] if about else []) + [f"not expressed: {n}" for n in out.not_expressed]
    out.text = pp3_text(sections, comments)
    return out


def recipe_from_xmp(text: str, origin: str, levels: Mapping[str, float] | None = None, *,
                    table: LevelTable | None = None, fitted: FittedTable | None = None) -> tuple[Recipe, list[str]]:
    """A recipe of global ``by`` shifts from a Camera Raw preset's global sliders.

    ``levels``: the photo's measured whole-frame levels (None: every attribute starts
    at level 0, a typical photo). Sliders on one attribute (Saturation and Vibrance)
    add up in its coordinate, and each slider's measured side effects on the other
    attributes set are added (the inverse of :func:`.plan.untangle`). Returns the recipe
    and notes on what was skipped.
    """
    from pertouch.core.errors import InputError
    from pertouch.engine.schema.attributes import clamp_shift

    table, fitted = table or default_table(), fitted or fitted_table()
    settings = read_settings(text, origin)
    deltas: dict[str, float] = {}
    used, notes = [], []
    for tag in cr.READ_TAGS:
        v = settings.get(tag)
        if isinstance(v, float) and v != 0.0:
            attribute, d = cr.delta_of(tag, v, fitted)
            deltas[attribute] = deltas.get(attribute, 0.0) + d
            used.append(f"{tag}={v:g}")
    for tag in ("Temperature", "Tint"):
        if isinstance(settings.get(tag), float):
            notes.append(f"crs:{tag}={settings[tag]:g} is a raw photo's absolute white balance; "
                         "without its as-shot value it is not read")
    skipped = [t for t, v in settings.items() if isinstance(v, float) and v != 0.0 and t not in cr.READ_TAGS
               and t not in ("Temperature", "Tint", "Version", "ProcessVersion")]
    if skipped:
        notes.append("not read (no PerTouch attribute): " + ", ".join(sorted(skipped)))
    structures = read_structures(text, origin)
    if structures:
        notes.append("not read (local or curve structures): " + ", ".join(dict.fromkeys(structures)))
    if not used:
        raise InputError(f"{origin} sets none of the sliders PerTouch reads",
                         hint="a Camera Raw preset with " + ", ".join(cr.READ_TAGS))
    own = dict(deltas)  # each slider's own change, plus the side effects the others were measured to have
    for attribute in set(deltas) & set(UNTANGLED):
        deltas[attribute] += sum(fitted.cross.get(ATTRIBUTE_CONTROL[b], {}).get(attribute, 0.0) * d
                                 for b, d in own.items() if b != attribute and b in UNTANGLED)
    attributes = {}
    for attribute, d in deltas.items():
        scale = table[attribute]
        start = float((levels or {}).get(attribute, 0.0))
        attributes[attribute] = {"by": round(clamp_shift(level_of(scale, coordinate_of(scale, start) + d) - start), 4)}
    recipe = Recipe.model_validate({GLOBAL: {"attributes": attributes},
                                    "notes": f"imported from {origin}: " + ", ".join(used),
                                    "meta": {"imported_from": origin, "start_levels": "photo" if levels else 0.0}})
    return recipe, notes
