"""Recipe arithmetic for turns that build on earlier ones.

All functions take and return recipe JSON (dicts, as the state stores them) plus
``levels``: the measured input levels ``{region name | "global": {attr: level}}``.
A target is the absolute level an edit asks for (``to``, or measured + ``by``; the
latter, like measured levels, may lie beyond ±1, up to ±LEVEL_EXTENDED).

>>> lv = {"global": {"brightness": 0.0}}
>>> r = compose({}, {"global": {"attributes": {"brightness": {"by": 0.2}}}}, lv)
>>> r2 = compose(r, {"global": {"attributes": {"brightness": {"by": 0.2}}}}, lv)
>>> targets(r2, lv)[("global", "brightness")]
0.4
"""

from __future__ import annotations

import copy
from typing import Any, Iterable

from pertouch.engine.schema.attributes import clamp_level
from pertouch.engine.schema.recipe import GLOBAL, Recipe, parse_recipe

Key = tuple[str, str]


def _edits(recipe: dict | None) -> Iterable[tuple[str, str | None, str, dict]]:
    """(region, label, attribute, edit) for every edit in the recipe JSON."""
    if not recipe:
        return
    for attr, e in (recipe.get(GLOBAL, {}) or {}).get("attributes", {}).items():
        yield GLOBAL, None, attr, e
    for name, reg in (recipe.get("regions") or {}).items():
        for attr, e in (reg.get("attributes") or {}).items():
            yield name, reg.get("label"), attr, e


def _target(edit: dict, measured: float) -> float:
    if edit.get("to") is not None:
        return float(edit["to"])
    return clamp_level(measured + float(edit.get("by", 0.0)))


def targets(recipe: dict | None, levels: dict[str, dict[str, float]]) -> dict[Key, float]:
    """``{(region, attr): absolute target}`` of a recipe."""
    return {(reg, attr): round(_target(e, levels.get(reg, {}).get(attr, 0.0)), 4)
            for reg, _lab, attr, e in _edits(recipe)}


def _labels_of(recipe: dict | None) -> dict[str, str]:
    return {reg: lab for reg, lab, _a, _e in _edits(recipe) if reg != GLOBAL and lab}


def from_targets(tg: dict[Key, float], levels: dict[str, dict[str, float]], lab: dict[str, str]) -> dict:
    """A valid recipe JSON whose edits shift each region to its target ("by" edits)."""
    data: dict[str, Any] = {GLOBAL: {"attributes": {}}, "regions": {}}
    for (reg, attr), t in tg.items():
        t = clamp_level(t)
        by = round(t - levels.get(reg, {}).get(attr, 0.0), 4)
        if reg == GLOBAL:
            data[GLOBAL]["attributes"][attr] = {"by": by}
        else:
            entry = data["regions"].setdefault(reg, {"attributes": {}})
            if reg in lab:
                entry["label"] = lab[reg]
            entry["attributes"][attr] = {"by": by}
    return parse_recipe(data, "session recipe").to_json()


def current_levels(base: dict | None, levels: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """The measured levels as they stand after ``base`` (what a planner should see)."""
    out = copy.deepcopy(levels)
    for (reg, attr), t in targets(base, levels).items():
        out.setdefault(reg, {})[attr] = t
    return out


def compose(base: dict | None, new: dict, levels: dict[str, dict[str, float]]) -> dict:
    """``new`` on top of ``base``: new edits win; a new ``by`` shifts from base's target."""
    cur = current_levels(base, levels)
    tg = targets(base, levels)
    tg.update(targets(new, cur))
    return from_targets(tg, levels, {**_labels_of(base), **_labels_of(new)})


def effective_targets(recipe: dict | None, levels: dict[str, dict[str, float]],
                      regions: Iterable[str]) -> dict[Key, float]:
    """The recipe's targets, plus, for each of ``regions`` without its own edit of an
    attribute the global entry edits, the level the global shift gives it there."""
    tg = targets(recipe, levels)
    glob = {a: t - levels.get(GLOBAL, {}).get(a, 0.0) for (r, a), t in tg.items() if r == GLOBAL}
    for name in regions:
        for attr, shift in glob.items():
            if (name, attr) not in tg:
                tg[(name, attr)] = round(clamp_level(levels.get(name, {}).get(attr, 0.0) + shift), 4)
    return tg


def scale_change(prev: dict | None, cur: dict | None, factor: float, levels: dict[str, dict[str, float]],
                 regions: set[str] | None = None, labels: dict[str, str] | None = None) -> dict:
    """Extend (factor > 0) or pull back (factor < 0) the change from ``prev`` to ``cur``.

    ``regions`` limits it to those region names (``"less on the face"``); a region
    that only had the global change gets its own entry. ``labels``: name → label.
    """
    names = regions or set()
    t0, t1 = effective_targets(prev, levels, names), effective_targets(cur, levels, names)
    out = targets(cur, levels)
    for key, t in t1.items():
        if regions is not None and key[0] not in regions:
            continue
        start = t0.get(key, levels.get(key[0], {}).get(key[1], 0.0))
        out[key] = round(t + factor * (t - start), 4)
    lab = {**(labels or {}), **_labels_of(prev), **_labels_of(cur)}
    return from_targets(out, levels, {k: v for k, v in lab.items() if any(r == k for r, _ in out)})


def only(recipe: dict | None, regions: set[str]) -> dict:
    """The recipe restricted to ``regions`` (global edits dropped)."""
    data = Recipe().to_json()
    for name, reg in ((recipe or {}).get("regions") or {}).items():
        if name in regions:
            data["regions"][name] = reg
    return parse_recipe(data, "session recipe").to_json()


def is_empty(recipe: dict | None) -> bool:
    return not any(True for _ in _edits(recipe))
