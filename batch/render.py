"""One recipe onto one photo: render, then write the output and its sidecar, all or nothing.

The one code path behind ``pertouch apply`` (one photo or many), ``pertouch match`` and
the batch executors (:mod:`pertouch.batch.executor`): :func:`render_one` loads the photo,
asks ``regions_of`` for its regions (the CLI's resolvers, or segmentation in a batch
worker), renders with the job's engine and writes ``OUT`` and ``OUT.pertouch.json``
(+ masks, + parameter maps) — each through a temp file and ``os.replace``; on any
failure the files it made are removed again.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pertouch.core.errors import InputError
from pertouch.engine.io.outputs import relative_to, sidecar_masks, sidecar_path, write_json_atomic
from pertouch.engine.schema.recipe import Recipe

DEFAULT_ENGINE = "parametric"


@dataclass
class Job:
    """Everything that is the same for every photo of one run."""

    recipe: Recipe
    recipe_dir: Path | None
    masks: dict[str, Path]
    engine: str
    table: Any  # LevelTable | None (None: the packaged default)
    table_path: Path | None
    batch: bool = False
    save_maps: bool = False
    overwrite: bool = False
    quality: int = 95
    allow_outside_masks: bool = False
    warnings: list[str] = field(default_factory=list)


#: ``regions_of(photo, recipe) -> {region name: Region}``.
RegionsOf = Callable[[Any, Recipe], dict]


def level_table(option: Path | None, recipe: Recipe, recipe_dir: Path | None) -> tuple[Any, Path | None]:
    """``--levels`` wins, else the table a sidecar recipe names, else the default."""
    from pertouch.engine.schema.levels import load_table

    path = option
    if path is None:
        src = recipe.meta.get("levels")
        if src and src != "default":
            path = Path(src) if Path(src).is_absolute() or recipe_dir is None else recipe_dir / src
    if path is None:
        return None, None
    if not Path(path).is_file():
        raise InputError(f"level table not found: {path}")
    return load_table(path), Path(path)


def render(pixels, recipe: Recipe, regions: dict, job: Job):
    """The job's engine (with its level table) rendering ``recipe`` onto ``pixels``."""
    from pertouch.engine.engines import get_engine

    engine = get_engine(job.engine, table=job.table) if job.table is not None else get_engine(job.engine)
    return engine.render(pixels, recipe, regions)


def sidecar(job: Job, recipe: Recipe, photo, regions: dict, out: Path, result, created: list[Path]) -> dict:
    """The recipe that reproduces ``out`` from ``photo``, with its masks beside it."""
    from pertouch import __version__
    from pertouch.engine.io.read import pixel_hash

    data = recipe.to_json()
    for name, rel in sidecar_masks(regions, out, created).items():
        data["regions"][name]["mask"] = rel
    data["meta"] = {
        "input": photo.path.name if photo.path else None,
        "input_hash": photo.content_hash,
        "output_hash": pixel_hash(result.image),
        "engine": job.engine,
        "levels": relative_to(job.table_path, out.parent) if job.table_path else "default",
        "pertouch": __version__,
    }
    return data


def save_maps(job: Job, recipe: Recipe, regions: dict, photo, out: Path, created: list[Path]) -> list[str]:
    """The 4-channel PerTouch parameter map as ``OUT.map.<attribute>.png`` (16-bit grey)."""
    from pertouch.engine.schema.attributes import CORE_NAMES
    from pertouch.engine.diffusion.paramap import rasterize, save_maps as save

    prefix = out.with_name(out.name + ".map")
    created += [prefix.with_name(f"{prefix.name}.{a}.png") for a in CORE_NAMES]  # cleaned up on failure
    pmap = rasterize(recipe, regions, photo.shape, image=photo.pixels, table=job.table)
    return [str(p) for p in save(pmap, prefix)]


def report(result) -> dict[str, dict[str, dict[str, float]]]:
    """``{region: {attribute: {"before", "target", "achieved"}}}`` of a render."""
    rep: dict[str, dict[str, dict[str, float]]] = {}
    for a in result.report:
        rep.setdefault(a.region, {})[a.attribute] = {
            "before": round(a.before, 4), "target": round(a.target, 4), "achieved": round(a.achieved, 4)}
    return rep


def render_one(inp: Path, out: Path, job: Job, regions_of: RegionsOf, *,
               recipe_of: Callable[[Any], Recipe] | None = None, photo=None) -> dict:
    """Render one photo and write output + sidecar (+ maps); all or nothing.

    ``recipe_of(photo)``: the recipe for this photo (default: the job's), e.g. the
    reference's levels for the labels this photo has. ``photo``: already loaded.
    Returns the summary (``input``, ``output``, ``sidecar``, ``regions`` report, …).
    """
    from pertouch.engine.io.read import load_image, save_image

    t0 = time.perf_counter()
    photo = photo if photo is not None else load_image(inp)
    recipe = recipe_of(photo) if recipe_of is not None else job.recipe
    made_for = recipe.meta.get("input_hash")
    if made_for and made_for != photo.content_hash:
        job.warnings.append(f"{inp}: the recipe was made for another photo; its 'by' shifts start from this one's levels")
    regions = regions_of(photo, recipe)
    result = render(photo.pixels, recipe, regions, job)
    created: list[Path] = []
    try:
        save_image(out, result.image, alpha=photo.alpha, exif=photo.exif, quality=job.quality,
                   bit_depth=photo.bit_depth, source=inp, overwrite=job.overwrite)
        created.append(out)
        side = sidecar_path(out)
        data = sidecar(job, recipe, photo, regions, out, result, created)
        maps = save_maps(job, recipe, regions, photo, out, created) if job.save_maps else []
        write_json_atomic(side, data)
        created.append(side)
    except BaseException:
        for p in reversed(created):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
        raise
    return {
        "input": str(inp), "output": str(out), "sidecar": str(side), "size": list(photo.size),
        "bit_depth": photo.bit_depth, "engine": job.engine, "input_hash": photo.content_hash,
        "regions": report(result), "maps": maps, "ms": round((time.perf_counter() - t0) * 1000, 1),
    }
