"""``pertouch segment``: find the regions of a photo and write them as masks.

    pertouch segment photo.jpg --out photo.regions/ [--segmenter builtin] [--json]
                     [--box flower=160,80,452,362] [--point flower=310,215]

writes one 8-bit PNG mask per region (white = inside, full resolution),
``overlay.png`` (numbered regions on the photo) and ``regions.json`` (labels,
confidence, area, bbox, measured levels, mask file names). ``pertouch apply
photo.jpg --regions photo.regions/ --set sky.brightness=+0.2`` then edits the
region named or labelled ``sky``. ``--box``/``--point`` add regions the user
points at, named by the user (:mod:`pertouch.tools.pointing`). Everything is
written to a temporary folder first: a failure leaves no partial output.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Optional

import numpy as np
import typer

from pertouch.commands._common import BOX_HELP, POINT_HELP, SEGMENTER_HELP
from pertouch.core.errors import InputError, NotFoundError

FORMAT = "pertouch-regions"
INDEX = "regions.json"
OVERLAY = "overlay.png"


def write_segmentation(scene: Any, photo: Any, out: Path, source: str, instances: list | None = None) -> dict[str, Any]:
    """Write masks, overlay and ``regions.json`` for ``scene`` into ``out`` atomically;
    ``instances`` (people and faces, which overlap the partition) go under ``"instances"``."""
    from pertouch.engine.io.read import save_image
    from pertouch.tools.overlay import preview_overlay
    from pertouch.tools.perception import as_rgb8

    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file", hint="give a folder (it is created if missing)")
    if not out.parent.is_dir():
        raise InputError(f"output folder {out.parent} does not exist", hint="create it first")
    data = scene.to_json()
    data = {"format": FORMAT, "version": 1, "input": source, **data}
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        from pertouch.tools.perception import region_json

        data["instances"] = [region_json(r) for r in instances or []]
        for entry, region in [*zip(data["regions"], scene.regions), *zip(data["instances"], instances or [])]:
            entry["mask"] = f"{region.name}.png"
            mask = scene.full_mask(region)
            save_image(tmp / entry["mask"], (np.clip(mask, 0, 1) * 255 + 0.5).astype(np.uint8)[..., None].repeat(3, 2))
        rgb, _ = as_rgb8(photo)
        save_image(tmp / OVERLAY, preview_overlay(rgb, scene.regions))
        (tmp / INDEX).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        out.mkdir(exist_ok=True)
        old = out / INDEX
        if old.is_file():  # replacing an earlier segmentation: drop its masks
            for e in json.loads(old.read_text()).get("regions", []):
                (out / str(e.get("mask", ""))).unlink(missing_ok=True)
        for f in tmp.iterdir():
            os.replace(f, out / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return data


def with_pointed(scene: Any, photo: Any, pointers: list, segmenter: Any) -> Any:
    """``scene`` with the regions the user pointed at (``--box``/``--point``) added after
    its own (they may overlap them); ``segmenter``: a spec or a loaded segmenter."""
    import dataclasses

    from pertouch.tools.pointing import check_names, pointed_region

    if not pointers:
        return scene
    check_names(pointers, [r.name for r in scene.regions])
    pointed = [pointed_region(photo.pixels, p, segmenter) for p in pointers]
    return dataclasses.replace(scene, regions=[*scene.regions, *pointed])


def read_index(folder: Path) -> dict[str, Any]:
    """``regions.json`` of a ``pertouch segment`` folder, validated."""
    p = folder / INDEX
    if not p.is_file():
        raise InputError(f"--regions {folder}: no {INDEX} there", hint="make it with: pertouch segment PHOTO --out FOLDER")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read {p}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("regions"), list):
        raise InputError(f"{p} is not a pertouch segment index", hint=f'expected "format": "{FORMAT}"')
    return data


def folder_resolver(folder: Path):
    """A region resolver for ``pertouch apply --regions FOLDER``: by region name, then label."""
    from pertouch.commands._common import RegionResolver
    from pertouch.engine.io.masks import load_mask
    from pertouch.engine.schema.regions import Region
    from pertouch.tools.labels import canonical_label

    data = read_index(folder)

    def resolve(name: str, edit: Any, ctx: Any):
        if data.get("hash") and getattr(ctx.photo, "content_hash", data["hash"]) != data["hash"]:
            raise InputError(f"--regions {folder} was made for another photo ({data.get('input')})",
                             hint="run pertouch segment on this photo")
        entries = [e for e in data["regions"] if e.get("name") == name]
        if not entries:
            label = canonical_label(name)
            entries = [e for e in data["regions"] if label and e.get("label") == label]
            if not entries and label:
                have = ", ".join(f"{e.get('name')} ({e.get('label')})" for e in data["regions"])
                raise NotFoundError(f"no {label} found in this photo (segmentation in {folder})", hint=f"regions: {have}")
        if not entries:
            return None
        masks = [load_mask(folder / str(e["mask"]), ctx.photo.shape) for e in entries]
        mask = np.maximum.reduce(masks)
        conf = min(float(e.get("confidence", 1.0)) for e in entries)
        return Region(name, mask, label=entries[0].get("label", name), confidence=conf, source=str(folder))

    return RegionResolver(RESOLVER, resolve, False, "--regions FOLDER (from pertouch segment)")


RESOLVER = "--regions"
SEGMENTER_RESOLVER = "--segmenter"


def segmenter_resolver(spec: str):
    """A region resolver for ``pertouch apply --segmenter S``: segments each photo (cached by
    content hash) and finds a region by its name or label — per photo, so batches work too."""
    from pertouch.batch.looks import segmented_region
    from pertouch.commands._common import RegionResolver
    from pertouch.tools.perception import perceive
    from pertouch.tools.perception_cache import process_perception_cache

    def resolve(name: str, edit: Any, ctx: Any):
        scene = perceive(ctx.photo, spec, cache=process_perception_cache())  # the CLI's: this process's
        return segmented_region(scene, name, getattr(edit, "label", None) or name, spec)

    return RegionResolver(SEGMENTER_RESOLVER, resolve, True, "--segmenter builtin (finds '{name}' by label)")


def use_segmenter(spec: Optional[str]) -> None:
    """Install the ``--segmenter`` resolver for this run (last: file masks and --regions win),
    or remove one left from an earlier run in the same process when ``spec`` is None."""
    from pertouch.commands._common import REGION_RESOLVERS, register_region_resolver
    from pertouch.tools.perception_cache import process_perception_cache
    from pertouch.tools.segmentation import get_segmenter

    if spec is None:
        REGION_RESOLVERS[:] = [r for r in REGION_RESOLVERS if r.name != SEGMENTER_RESOLVER]
        return
    # a bad spec or checkpoint: one clear error before any work
    get_segmenter(spec, cache=process_perception_cache())
    register_region_resolver(segmenter_resolver(spec))


def use_regions_folder(folder: Optional[Path]) -> None:
    """Install the ``--regions`` resolver for this run (after ``--mask`` and recipe masks),
    or remove one left from an earlier run in the same process when ``folder`` is None."""
    from pertouch.commands._common import REGION_RESOLVERS, register_region_resolver

    if folder is None:
        REGION_RESOLVERS[:] = [r for r in REGION_RESOLVERS if r.name != RESOLVER]
        return
    if not folder.is_dir():
        raise InputError(f"--regions {folder}: folder not found", hint="make it with: pertouch segment PHOTO --out FOLDER")
    register_region_resolver(folder_resolver(folder))


def segment_command(
    input: Path = typer.Argument(..., help="The photo."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for masks, overlay.png and regions.json."),
    segmenter: str = typer.Option("builtin", "--segmenter", help=SEGMENTER_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print regions.json on stdout."),
    box: list[str] = typer.Option([], "--box", metavar="[NAME=]X0,Y0,X1,Y1", help=BOX_HELP),
    point: list[str] = typer.Option([], "--point", metavar="[NAME=]X,Y", help=POINT_HELP),
) -> None:
    """Find the regions of a photo; write one mask PNG per region, overlay.png and regions.json."""
    from pertouch.commands._common import parse_pointers
    from pertouch.engine.io.read import load_image
    from pertouch.tools.perception import perceive
    from pertouch.tools.perception_cache import process_perception_cache
    from pertouch.tools.segmentation import get_segmenter

    pointers = parse_pointers(box, point)
    photo = load_image(input)
    for p in pointers:  # outside the photo: exit 2 before segmenting
        p.check(photo.pixels.shape[1], photo.pixels.shape[0])
    cache = process_perception_cache()  # the CLI's: this process's
    scene = perceive(photo, segmenter, cache=cache)
    scene = with_pointed(scene, photo, pointers, get_segmenter(segmenter, cache=cache))
    instances = [*scene.instances("person"), *scene.instances("face")]
    data = write_segmentation(scene, photo, out, str(input), instances)
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False))
        return
    typer.echo(f"{input}: {scene.summary}")
    for e in data["regions"]:
        typer.echo(f"  {e['name']:<14} {e['label']:<11} confidence {e['confidence']:.2f}  area {e['area']:.1%}")
    if data["instances"]:
        typer.echo("  people and faces (they overlap the regions above):")
    for e in data["instances"]:
        x0, y0, x1, y1 = e["bbox"]
        typer.echo(f"  {e['name']:<14} {e['label']:<11} confidence {e['confidence']:.2f}  area {e['area']:.1%}"
                   f"  box {x0},{y0},{x1},{y1}")
    n = len(data["regions"]) + len(data["instances"])
    typer.echo(f"wrote {n} masks, {OVERLAY} and {INDEX} to {out}")


def register(app: typer.Typer) -> None:
    from pertouch.cli import handle_errors

    app.command("segment")(handle_errors(segment_command))
