"""Recipes as the web app shows them: rows of (region, attribute, shift) for sliders.

A slider moves one attribute of one region (or of the whole photo, region
``global``) *by* a shift; its range is the attribute registry's shift range
(:mod:`pertouch.engine.schema.attributes`). :func:`rows` turns a recipe into rows (a ``to``
level becomes the shift from the region's measured level) and :func:`recipe_from`
turns rows the browser sent back into a recipe, refusing unknown regions and
attributes and values outside their range.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from pertouch.engine.schema.attributes import attributes, canonical_name, get_attribute
from pertouch.core.errors import InputError

GLOBAL = "global"
#: Most slider rows one request may send.
MAX_ROWS = 64


def attribute_table() -> list[dict[str, Any]]:
    """Every attribute with its label, description and slider range (the registry's)."""
    return [{"name": a.name, "label": a.label, "description": a.description,
             "min": a.shift_range[0], "max": a.shift_range[1], "level_min": a.level_range[0],
             "level_max": a.level_range[1]} for a in attributes()]


def empty_recipe() -> dict[str, Any]:
    return {"format": "pertouch-recipe", "version": 1, "global": {"attributes": {}}, "regions": {},
            "notes": "", "meta": {}}


def rows(recipe: Mapping[str, Any] | None, levels: Mapping[str, Mapping[str, float]]) -> list[dict[str, Any]]:
    """Slider rows of ``recipe``: region, attribute, shift, measured level (``levels``: region → levels)."""
    out = []
    recipe = recipe or empty_recipe()
    parts = [(GLOBAL, (recipe.get("global") or {}).get("attributes") or {})]
    parts += [(name, (r or {}).get("attributes") or {}) for name, r in (recipe.get("regions") or {}).items()]
    for region, attrs in parts:
        for attr, spec in attrs.items():
            level = (levels.get(region) or {}).get(attr)
            if "by" in spec:
                shift = float(spec["by"])
            elif "to" in spec and level is not None:
                shift = float(spec["to"]) - float(level)
            else:
                continue
            out.append({"region": region, "attribute": attr, "by": round(shift, 3),
                        "level": None if level is None else round(float(level), 3)})
    return out


def recipe_from(entries: Any, labels: Mapping[str, str]) -> dict[str, Any]:
    """A recipe from slider rows ``[{"region", "attribute", "by"}]`` (``labels``: the
    photo's region names → labels; ``global`` is the whole photo). Zero shifts are left out."""
    if not isinstance(entries, Sequence) or isinstance(entries, (str, bytes)):
        raise InputError("sliders must be a list of {region, attribute, by}")
    if len(entries) > MAX_ROWS:
        raise InputError(f"at most {MAX_ROWS} slider rows")
    recipe = empty_recipe()
    for e in entries:
        if not isinstance(e, Mapping):
            raise InputError("each slider row must be {region, attribute, by}")
        region, attr, value = e.get("region"), e.get("attribute"), e.get("by")
        if not isinstance(region, str) or (region != GLOBAL and region not in labels):
            raise InputError(f"no region {str(region)[:40]!r} in this photo",
                             hint=f"regions: {', '.join([GLOBAL, *labels])}")
        name = canonical_name(attr) if isinstance(attr, str) else None
        if name is None:
            raise InputError(f"no attribute {str(attr)[:40]!r}",
                             hint=f"attributes: {', '.join(a.name for a in attributes())}")
        lo, hi = get_attribute(name).shift_range
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or not lo <= value <= hi:
            raise InputError(f"{region}.{name} must be a number from {lo} to {hi}, got {str(value)[:20]}")
        if abs(value) < 1e-4:
            continue
        if region == GLOBAL:
            recipe["global"]["attributes"][name] = {"by": round(float(value), 4)}
        else:
            reg = recipe["regions"].setdefault(region, {"label": labels[region], "attributes": {}})
            reg["attributes"][name] = {"by": round(float(value), 4)}
    return recipe


def describe(recipe: Mapping[str, Any]) -> str:
    """``sky.temperature by -0.10; global.brightness by +0.05`` (or ``no change``)."""
    parts = [f"{r['region']}.{r['attribute']} by {r['by']:+.2f}" for r in rows(recipe, {})]
    return "; ".join(parts) or "no change"
