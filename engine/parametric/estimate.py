"""Estimate the recipe that turns ``source`` into ``target`` (the reference's data preparation).

For each region, the target's measured levels become ``to`` edits (a level past ±1,
which only a region beyond every photo of the level table has, becomes the ``by``
shift from the source's level that reaches it: ``to`` is limited to [−1, 1]). Pixels outside
every region are covered by a ``global`` edit when they changed: its strengths are
solved so the complement of the regions in the source reaches the target's levels
there, and the recipe stores the whole-frame level that this edit produces, because
the engine solves ``global`` on the whole frame. So ``render(source,
estimate(source, target))`` reproduces synthetic edits closely.

>>> import numpy as np
>>> img = np.random.default_rng(0).integers(40, 200, (64, 64, 3), dtype=np.uint8)
>>> r = estimate(img, img, {"all": np.ones((64, 64), np.float32)})
>>> sorted(r.regions["all"].attributes)
['brightness', 'colorfulness', 'contrast', 'temperature']
"""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np

from pertouch.engine.measure import stats as ms
from pertouch.engine.ops import operators as op
from pertouch.engine.parametric.solve import RegionSample, solve_region
from pertouch.engine.schema.attributes import CORE_NAMES
from pertouch.engine.schema.levels import LevelTable, default_table
from pertouch.engine.schema.recipe import GLOBAL, Recipe

#: Below this fraction of the frame, pixels outside the regions are ignored.
MIN_COMPLEMENT = 0.02
#: Complement levels closer than this to the source's count as unchanged.
UNCHANGED = 0.01


def _mask(r) -> np.ndarray:
    return r.mask if hasattr(r, "mask") else np.asarray(r, np.float32)


def estimate(source: np.ndarray, target: np.ndarray, regions: Mapping, table: LevelTable | None = None,
             attributes: Iterable[str] = CORE_NAMES) -> Recipe:
    """The recipe (``to`` edits) whose rendering of ``source`` matches ``target``.

    ``source``/``target``: ``(H, W, 3)`` uint8/uint16 of one size; ``regions``: name →
    Region or soft mask (later regions over earlier ones, as in a recipe).
    """
    from pertouch.core.errors import InputError

    if source.shape != target.shape:
        raise InputError(f"source {source.shape} and target {target.shape} differ in size",
                         hint="estimate needs the same photo before and after the edit")
    table = table or default_table()
    names = list(attributes)
    src, tgt = ms.Measurer(source), ms.Measurer(target)
    masks = {k: ms.measure_mask(_mask(r)) for k, r in regions.items()}
    data: dict = {"global": {"attributes": {}}, "regions": {}}
    for k, m in masks.items():
        if not m.any():
            continue
        lv = ms.to_levels(tgt.raw(m, names), table)
        data["regions"][k] = {"label": getattr(regions[k], "label", None) or k,
                              "attributes": _edits(lv, lambda: ms.to_levels(src.raw(m, names), table))}
    rest = ~np.logical_or.reduce(list(masks.values())) if masks else np.ones((512, 512), bool)
    if rest.mean() >= MIN_COMPLEMENT:
        data[GLOBAL]["attributes"] = _global_edits(src, tgt, rest, names, table)
    data["meta"] = {"estimated_from": "source/target pair", "level_table": table.source[:80]}
    return Recipe.model_validate(data)


def _global_edits(src: ms.Measurer, tgt: ms.Measurer, rest: np.ndarray, names: list[str],
                  table: LevelTable) -> dict:
    before = ms.to_levels(src.raw(rest, names), table)
    after = ms.to_levels(tgt.raw(rest, names), table)
    if all(abs(after[a] - before[a]) < UNCHANGED for a in names):
        return {}
    proxy = src.rgb / 255.0
    raw_t = {a: float(table[a].to_raw(after[a])) for a in names}
    sol = solve_region(RegionSample.build(proxy, rest), raw_t, table, measured=src.raw(rest, names))
    edited = op.apply_chain(proxy, sol.params, op.clarity_sigma(512, 512)) * 255.0
    frame = np.ones((512, 512), bool)
    whole = ms.to_levels(ms.Measurer(edited, measured=True).raw(frame, names), table)
    return _edits(whole, lambda: ms.to_levels(src.raw(frame, names), table))


def _edits(levels: Mapping[str, float], source_levels) -> dict:
    """``to`` edits for levels in [−1, 1]; a ``by`` shift from the source for levels past them."""
    out, src = {}, None
    for a, v in levels.items():
        if abs(v) <= 1.0:
            out[a] = {"to": round(float(v), 4)}
        else:
            src = src if src is not None else source_levels()
            out[a] = {"by": round(float(v - src[a]), 4)}
    return out
