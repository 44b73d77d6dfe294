"""Writing a result: the full-resolution render of a recipe, plus its recipe sidecar.

The sidecar ``OUT.pertouch.json`` has the format ``pertouch apply`` writes (the same writer,
:mod:`pertouch.engine.io.outputs`): the recipe with each region's mask saved beside it
(``OUT.masks/<region>.png``, 16-bit, referenced relative to the sidecar) and the
same ``meta`` keys, so ``pertouch apply INPUT --recipe OUT.pertouch.json``
reproduces OUT.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pertouch.core.errors import InputError
from pertouch.graph import runtime as rt
from pertouch.graph.context import RunContext
from pertouch.graph.state import ImageRef


def write_result(ref: ImageRef, recipe_json: dict, out: str | Path, *, ctx: RunContext,
                 meta: dict[str, Any] | None = None, overwrite: bool = False,
                 overwrite_flag: str | None = None) -> Path:
    """Render ``recipe_json`` at full resolution, write ``out`` and its sidecar; returns ``out``.

    ``overwrite``: the input itself may be written over (``retouch --overwrite``).
    """
    from pertouch.engine.io.read import save_image
    from pertouch.engine.io.outputs import plan_outputs, sidecar_path, sidecar_masks, write_json_atomic

    out = Path(out).expanduser()
    if out.is_dir():
        raise InputError(f"{out} is a folder", hint="give a file name such as out.jpg")
    plan_outputs([Path(ref["path"])], out, overwrite=overwrite, overwrite_flag=overwrite_flag)
    photo = rt.photo(ref, cache=ctx.cache)
    result = rt.render(ref, recipe_json, segmenter=ctx.segmenter, engine=ctx.engine, long_side=None,
                       cache=ctx.cache)
    save_image(out, result.image, alpha=photo.alpha, exif=photo.exif)
    from pertouch import __version__
    from pertouch.engine.io.read import pixel_hash

    data = json.loads(json.dumps(recipe_json))
    regions = rt.regions_by_name(ref, ctx.segmenter, list(data.get("regions") or {}), cache=ctx.cache)
    for name, rel in sidecar_masks(regions, out, []).items():
        data["regions"][name]["mask"] = rel
        if regions[name].confidence < 1.0:  # a guessed mask: the engine feathers it; apply must too
            data["regions"][name]["confidence"] = float(regions[name].confidence)
    data["meta"] = {"input": Path(ref["path"]).name, "input_hash": ref["hash"],
                    "output_hash": pixel_hash(result.image), "engine": ctx.engine, "levels": "default",
                    "pertouch": __version__, "segmenter": ctx.segmenter, **(meta or {})}
    write_json_atomic(sidecar_path(out), data)
    return out


#: Longest file name accepted for a save (most file systems stop at 255 bytes).
MAX_NAME = 200


def output_dir(ctx: RunContext | None) -> Path:
    """Where bare file names are saved (created): ``ctx.output_dir``, else ``$PERTOUCH_OUTPUT_DIR``,
    else ``app_home()/outputs``. ``ctx`` None: the server's own setting, which a client's
    context cannot change."""
    import os

    from pertouch.core.home import app_home

    given = (ctx.output_dir if ctx is not None else None) or os.environ.get("PERTOUCH_OUTPUT_DIR")
    d = Path(given).expanduser() if given else app_home() / "outputs"
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output folder {d}: {exc.strerror or exc}",
                         hint="set PERTOUCH_OUTPUT_DIR (or output_dir in the run's context) to a writable folder")
    return d.resolve()


def resolve_output(path: str, ref: ImageRef, ctx: RunContext, *, anywhere: bool, overwrite: bool) -> Path:
    """Check where a run may write ``path`` and return it, or raise InputError saying why not.

    A bare name goes to :func:`output_dir`; other paths are taken as given when
    ``anywhere`` (the CLI) and must lie inside the output folder otherwise (a server's
    clients, whose folder is the server's ``$PERTOUCH_OUTPUT_DIR`` whatever their context says). Refused: an empty or over-long name, a missing folder, an unsupported
    format, the photo itself, and an existing file unless ``overwrite`` (the user
    confirmed).
    """
    from pertouch.engine.io.read import output_format, same_file

    text = (path or "").strip()
    if not text:
        raise InputError("no file name given", hint="say e.g. 'save as out.jpg'")
    p = Path(text).expanduser()
    if len(p.name) > MAX_NAME:
        raise InputError(f"the file name is {len(p.name)} characters long", hint=f"use at most {MAX_NAME}")
    if p.parent == Path(".") and not text.startswith("./"):
        p = output_dir(ctx if anywhere else None) / p
    elif not anywhere:
        root = output_dir(None)
        full = (p if p.is_absolute() else root / p).resolve()
        if not full.is_relative_to(root):
            raise InputError(f"{text} is outside the output folder {root}",
                             hint="give a file name (it is saved there) or a path inside that folder")
        p = full
    if p.is_dir():
        raise InputError(f"{p} is a folder", hint="give a file name such as out.jpg")
    output_format(p)
    if not p.parent.is_dir():
        raise InputError(f"output folder {p.parent} does not exist", hint="create it first")
    if same_file(Path(ref["path"]), p):
        raise InputError(f"{p} is the photo being retouched", hint="save under another name")
    if p.exists() and not overwrite:
        raise InputError(f"{p} already exists", hint=f"say 'save as {text}, overwrite' to replace it")
    return p
