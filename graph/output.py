"""Writing a result: the full-resolution render of a recipe, plus its recipe sidecar.

The sidecar ``OUT.pertouch.json`` is the recipe with each region's mask saved as a
PNG beside it (``OUT.masks/<region>.png``, referenced relative to the sidecar), so
``pertouch apply INPUT --recipe OUT.pertouch.json`` reproduces OUT.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from pertouch.errors import InputError
from pertouch.graph import runtime as rt
from pertouch.graph.context import RunContext
from pertouch.graph.state import ImageRef


def _save_masks(ref: ImageRef, recipe_json: dict, out: Path, segmenter: str) -> dict:
    """Write the recipe's region masks as 8-bit PNGs; return the recipe with mask refs."""
    from PIL import Image

    data = json.loads(json.dumps(recipe_json))
    regions = rt.regions_by_name(ref, segmenter, list(data.get("regions") or {}))
    if not regions:
        return data
    folder = out.parent / f"{out.name}.masks"
    folder.mkdir(parents=True, exist_ok=True)
    for name, reg in regions.items():
        png = folder / f"{name}.png"
        tmp = png.with_suffix(".tmp.png")
        Image.fromarray((np.clip(reg.mask, 0, 1) * 255 + 0.5).astype(np.uint8)).save(tmp)
        os.replace(tmp, png)
        data["regions"][name]["mask"] = f"{folder.name}/{png.name}"
    return data


def write_result(ref: ImageRef, recipe_json: dict, out: str | Path, *, ctx: RunContext,
                 meta: dict[str, Any] | None = None) -> Path:
    """Render ``recipe_json`` at full resolution, write ``out`` and its sidecar; returns ``out``."""
    from pertouch.commands._common import plan_outputs, sidecar_path, write_json_atomic
    from pertouch.engine.io import save_image

    out = Path(out).expanduser()
    if out.is_dir():
        raise InputError(f"{out} is a folder", hint="give a file name such as out.jpg")
    plan_outputs([Path(ref["path"])], out, overwrite=False)  # format, folder, not the input
    photo = rt.photo(ref)
    result = rt.render(ref, recipe_json, segmenter=ctx.segmenter, engine=ctx.engine, long_side=None)
    save_image(out, result.image, alpha=photo.alpha, exif=photo.exif)
    data = _save_masks(ref, recipe_json, out, ctx.segmenter)
    data.setdefault("meta", {}).update({"input_hash": ref["hash"], "engine": ctx.engine,
                                        "segmenter": ctx.segmenter, **(meta or {})})
    write_json_atomic(sidecar_path(out), data)
    return out
