"""Writing a result: the full-resolution render of a recipe, plus its recipe sidecar.

The sidecar ``OUT.pertouch.json`` has the format ``pertouch apply`` writes (the same writer,
:mod:`pertouch.engine.outputs`): the recipe with each region's mask saved beside it
(``OUT.masks/<region>.png``, 16-bit, referenced relative to the sidecar) and the
same ``meta`` keys, so ``pertouch apply INPUT --recipe OUT.pertouch.json``
reproduces OUT.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pertouch.errors import InputError
from pertouch.graph import runtime as rt
from pertouch.graph.context import RunContext
from pertouch.graph.state import ImageRef


def write_result(ref: ImageRef, recipe_json: dict, out: str | Path, *, ctx: RunContext,
                 meta: dict[str, Any] | None = None, overwrite: bool = False,
                 overwrite_flag: str | None = None) -> Path:
    """Render ``recipe_json`` at full resolution, write ``out`` and its sidecar; returns ``out``.

    ``overwrite``: the input itself may be written over (``retouch --overwrite``).
    """
    from pertouch.engine.io import save_image
    from pertouch.engine.outputs import plan_outputs, sidecar_path, sidecar_masks, write_json_atomic

    out = Path(out).expanduser()
    if out.is_dir():
        raise InputError(f"{out} is a folder", hint="give a file name such as out.jpg")
    plan_outputs([Path(ref["path"])], out, overwrite=overwrite, overwrite_flag=overwrite_flag)
    photo = rt.photo(ref)
    result = rt.render(ref, recipe_json, segmenter=ctx.segmenter, engine=ctx.engine, long_side=None)
    save_image(out, result.image, alpha=photo.alpha, exif=photo.exif)
    from pertouch import __version__
    from pertouch.engine.io import pixel_hash

    data = json.loads(json.dumps(recipe_json))
    regions = rt.regions_by_name(ref, ctx.segmenter, list(data.get("regions") or {}))
    for name, rel in sidecar_masks(regions, out, []).items():
        data["regions"][name]["mask"] = rel
    data["meta"] = {"input": Path(ref["path"]).name, "input_hash": ref["hash"],
                    "output_hash": pixel_hash(result.image), "engine": ctx.engine, "levels": "default",
                    "pertouch": __version__, "segmenter": ctx.segmenter, **(meta or {})}
    write_json_atomic(sidecar_path(out), data)
    return out
