"""PerTouch parameter maps: a recipe + masks rasterised to 4×H×W levels, and back.

Channels in :data:`~pertouch.engine.schema.attributes.CORE_NAMES` order (colorfulness,
contrast, temperature, brightness), float32 levels in [−1, 1], constant inside
each region. The ``global`` entry fills the frame; regions are painted on top in
recipe order (binary masks, > 0.5). An attribute a region does not edit is that
region's measured level, moved as much as the global edit moved the whole frame
(``global`` lies under every region); with no global edit, simply the measured level.
Measured levels and ``by`` targets may lie beyond ±1 (past every photo of the level
table, see :mod:`pertouch.engine.schema.levels`); the map clips them to [−1, 1], the range
the PerTouch model was trained on.

>>> import numpy as np
>>> from pertouch.engine.schema.recipe import Recipe
>>> r = Recipe.model_validate({"regions": {"a": {"attributes": {"brightness": {"to": 0.5}}}}})
>>> m = np.zeros((8, 8), np.float32); m[:4] = 1
>>> lv = {"global": dict.fromkeys(CORE_NAMES, 0.0), "a": dict.fromkeys(CORE_NAMES, 0.1)}
>>> pm = rasterize(r, {"a": m}, measured=lv)
>>> [round(float(v), 3) for v in (pm[3, 0, 0], pm[3, 7, 0], pm[0, 0, 0])]
[0.5, 0.0, 0.1]
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

from pertouch.engine.schema.attributes import CORE_NAMES
from pertouch.engine.schema.recipe import GLOBAL, Recipe


def _mask(r) -> np.ndarray:
    return r.mask if hasattr(r, "mask") else np.asarray(r, np.float32)


def _binary(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    import cv2

    m = np.asarray(mask, np.float32)
    if m.shape != shape:
        m = cv2.resize(m, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    return m > 0.5


def rasterize(recipe: Recipe, regions: Mapping, shape: tuple[int, int] | None = None,
              measured: Mapping[str, Mapping[str, float]] | None = None, image: np.ndarray | None = None,
              table=None) -> np.ndarray:
    """The ``(4, H, W)`` float32 parameter map of ``recipe`` over ``regions``.

    ``measured``: region name (and ``"global"``) → attribute → level of the input;
    measured from ``image`` when not given. ``shape`` defaults to the image's or the
    first mask's size.
    """
    if measured is None:
        if image is None:
            raise ValueError("rasterize needs the measured levels or the image to measure them on")
        from pertouch.engine.measure.stats import measure_image_levels, measure_levels

        measured = {**measure_levels(image, regions, table, CORE_NAMES),
                    GLOBAL: measure_image_levels(image, table, CORE_NAMES)}
    if shape is None:
        shape = image.shape[:2] if image is not None else _mask(next(iter(regions.values()))).shape
    g_meas = measured[GLOBAL]
    g_edit = recipe.global_.attributes
    g_level = {a: g_edit[a].target(g_meas[a]) if a in g_edit else g_meas[a] for a in CORE_NAMES}
    g_shift = {a: g_level[a] - g_meas[a] for a in CORE_NAMES}
    out = np.empty((len(CORE_NAMES), *shape), np.float32)
    for c, a in enumerate(CORE_NAMES):
        out[c] = g_level[a]
    for name, edit in recipe.regions.items():
        if name not in regions:
            continue
        m = _binary(_mask(regions[name]), shape)
        lv = measured.get(name, {})
        for c, a in enumerate(CORE_NAMES):
            base = lv.get(a, g_meas[a])
            base = float(np.clip(base + g_shift[a], -1, 1)) if np.isfinite(base) else g_level[a]
            out[c][m] = edit.attributes[a].target(lv.get(a, base)) if a in edit.attributes else base
    return np.clip(out, -1.0, 1.0, out=out)


def map_to_recipe(pmap: np.ndarray, regions: Mapping, labels: Mapping[str, str] | None = None) -> Recipe:
    """Read a parameter map back into ``to`` edits: the median level per region (and outside)."""
    shape = pmap.shape[1:]
    data: dict = {GLOBAL: {"attributes": {}}, "regions": {}}
    covered = np.zeros(shape, bool)
    for name, r in regions.items():
        m = _binary(_mask(r), shape)
        covered |= m
        if m.any():
            med = np.median(pmap[:, m], axis=1)
            data["regions"][name] = {"label": (labels or {}).get(name, getattr(r, "label", None) or name),
                                     "attributes": {a: {"to": round(float(np.clip(v, -1, 1)), 4)}
                                                    for a, v in zip(CORE_NAMES, med)}}
    if (~covered).any():
        med = np.median(pmap[:, ~covered], axis=1)
        data[GLOBAL]["attributes"] = {a: {"to": round(float(np.clip(v, -1, 1)), 4)} for a, v in zip(CORE_NAMES, med)}
    return Recipe.model_validate(data)


def save_maps(pmap: np.ndarray, prefix: str | Path) -> list[Path]:
    """Write one 16-bit grey PNG per channel: ``PREFIX.<attribute>.png``, level −1→0, +1→65535."""
    import cv2

    prefix = Path(prefix)
    paths = []
    for c, a in enumerate(CORE_NAMES):
        p = prefix.with_name(f"{prefix.name}.{a}.png")
        img = np.round((np.clip(pmap[c], -1, 1) + 1.0) / 2.0 * 65535.0).astype(np.uint16)
        tmp = p.with_name(p.name + ".tmp.png")
        if not cv2.imwrite(str(tmp), img):
            raise OSError(f"cannot write {p}")
        tmp.replace(p)
        paths.append(p)
    return paths


def load_maps(prefix: str | Path) -> np.ndarray:
    """Read maps written by :func:`save_maps` back into a ``(4, H, W)`` float32 array."""
    import cv2

    prefix = Path(prefix)
    chans = []
    for a in CORE_NAMES:
        p = prefix.with_name(f"{prefix.name}.{a}.png")
        img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
        if img is None:
            from pertouch.core.errors import InputError

            raise InputError(f"cannot read parameter map {p}")
        chans.append(img.astype(np.float32) / 65535.0 * 2.0 - 1.0)
    return np.stack(chans)
