"""``pertouch export`` and ``pertouch import-xmp``: editor sidecars from and to recipes.

    pertouch export out.jpg --to xmp            # out.jpg.pertouch.json beside it → photo.xmp beside photo.jpg
    pertouch export warm.json --to pp3 --photo photo.jpg -o photo.jpg.pp3
    pertouch import-xmp preset.xmp -o preset.pertouch.json [--photo photo.jpg]

A recipe's levels are absolute; slider editors move relatively. So export measures the
photo the recipe was made for (``--photo``, else the sidecar's ``meta.input`` found by
its pixel hash) per region, turns each edit's from→to levels into slider values by the
mapping measured with RawTherapee (:mod:`pertouch.engine.interop`), and says what the
format cannot express. The sidecar goes beside that photo, named as the editor looks
for it (``photo.xmp``, ``photo.jpg.pp3``); a file there that PerTouch did not write is
never replaced without ``--overwrite``. Without the photo it goes beside the recipe as
``NAME.pertouch.xmp`` / ``.pp3``, a name no editor applies by itself. Lightroom and Camera
Raw read a sidecar ``.xmp`` for raw files only; for a JPEG/TIFF embed it:
``exiftool "-xmp<=photo.xmp" photo.jpg``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from pertouch.core.errors import InputError

FORMATS = ("xmp", "pp3")
MARKER = "PerTouch"  # in every sidecar this writes: such a file may be replaced
EXPORT_HELP = ("Also write an editor sidecar beside the input photo: xmp (Camera Raw / Lightroom: INPUT-STEM.xmp) "
               "or pp3 (RawTherapee: INPUT.pp3).")


def check_format(fmt: str | None, option: str = "--to") -> str | None:
    if fmt is None:
        return None
    if fmt.lower() not in FORMATS:
        raise InputError(f"{option} {fmt!r}: choose xmp or pp3", hint=f"e.g. {option} xmp")
    return fmt.lower()


def find_recipe(source: Path) -> tuple[Path, Path | None]:
    """``(recipe file, output image or None)`` for a recipe JSON or an output image."""
    from pertouch.engine.io.outputs import sidecar_path

    if not source.exists():
        raise InputError(f"file not found: {source}")
    if source.is_dir():
        raise InputError(f"{source} is a folder", hint="give a recipe JSON or an output image with its sidecar")
    if source.suffix.lower() == ".json":
        return source, None
    side = sidecar_path(source)
    if not side.is_file():
        raise InputError(f"no recipe beside {source}: expected {side.name}",
                         hint="give the recipe JSON itself, or an output of pertouch apply/retouch")
    return side, source


def target_path(fmt: str, recipe_path: Path, photo: Path | None) -> Path:
    """Where the sidecar goes by default: beside the photo it edits, named the way the editor
    looks for it (``photo.xmp``, ``photo.jpg.pp3``); without the photo, beside the recipe under
    a name no editor picks up by itself (``NAME.pertouch.xmp``), so it never lands on an output."""
    if photo is not None:
        return photo.with_name(photo.stem + ".xmp" if fmt == "xmp" else photo.name + ".pp3")
    base = recipe_path.name.removesuffix(".json").removesuffix(".pertouch")
    return recipe_path.with_name(f"{base}.pertouch.{fmt}")


def check_target(path: Path, overwrite: bool) -> None:
    """InputError unless ``path`` may be written: absent, written by PerTouch, or --overwrite."""
    if path.is_dir():
        raise InputError(f"-o {path} is a folder", hint="give a file name, e.g. photo.xmp")
    if not path.parent.is_dir():
        raise InputError(f"output folder {path.parent} does not exist", hint="create it first")
    if path.exists() and not overwrite:
        try:
            head = path.read_text(encoding="utf-8", errors="replace")[:4000]
        except OSError:
            head = ""
        if MARKER not in head:
            raise InputError(f"{path} exists and was not written by PerTouch (an editor's own settings?)",
                             hint="pass --overwrite to replace it, or -o another file")


def _write_text(path: Path, text: str) -> None:
    import os

    from pertouch.engine.io.write import temp_beside

    fd, tmp = temp_beside(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _photo_for(recipe, recipe_path: Path, photo: Path | None, warnings: list[str]):
    from pertouch.engine.io.read import load_image

    if photo is not None:
        return load_image(photo)
    name = recipe.meta.get("input")
    if not name:
        return None
    # beside the recipe, then where apply was likely run from; the pixel hash says which is the one
    folders = dict.fromkeys(p.resolve() for p in (recipe_path.parent, Path.cwd(), recipe_path.parent.parent))
    seen = []
    for candidate in (f / Path(name).name for f in folders):
        if not candidate.is_file():
            continue
        found = load_image(candidate)
        if not recipe.meta.get("input_hash") or recipe.meta["input_hash"] == found.content_hash:
            return found
        seen.append(str(candidate))
    if seen:
        warnings.append(f"{', '.join(seen)}: not the photo the recipe was made for (its pixels differ); "
                        "give it with --photo")
    return None


def _levels(recipe, recipe_path: Path, photo, table, allow_outside: bool) -> tuple[dict, dict]:
    """Measured levels per region (``global``: the whole frame) and each region's info."""
    import numpy as np

    from pertouch.commands._common import RegionContext, resolve_regions
    from pertouch.engine.interop.sidecars import RegionInfo, centroid
    from pertouch.engine.measure.stats import measure_image_levels, measure_levels
    from pertouch.engine.io.outputs import relative_to
    from pertouch.engine.schema.recipe import GLOBAL, Recipe

    masked = {k: v for k, v in recipe.regions.items() if v.mask}
    sub = Recipe.model_validate({**recipe.to_json(), "regions": {k: v.model_dump(exclude_none=True)
                                                                 for k, v in masked.items()}})
    regions = resolve_regions(sub, RegionContext(photo, recipe_path.parent, {}, False,
                                                 {"allow_outside_masks": allow_outside}))
    levels = {GLOBAL: measure_image_levels(photo.pixels, table)}
    levels.update(measure_levels(photo.pixels, regions, table))
    info = {k: RegionInfo(relative_to(Path(r.source), recipe_path.parent) if r.source else None,
                          centroid(np.asarray(r.mask))) for k, r in regions.items()}
    return levels, info


def export_sidecar(source: Path, fmt: str, *, output: Path | None = None, photo: Path | None = None,
                   overwrite: bool = False, allow_outside_masks: bool = False) -> dict[str, Any]:
    """Write the ``fmt`` sidecar of a recipe (or of an output image's sidecar); returns a summary."""
    from pertouch.batch.render import level_table
    from pertouch.engine.interop.plan import plan
    from pertouch.engine.interop.sidecars import to_pp3, to_xmp
    from pertouch.engine.io.read import RAW_EXTENSIONS
    from pertouch.engine.schema.levels import default_table
    from pertouch.engine.schema.recipe import load_recipe

    recipe_path, _ = find_recipe(source)
    recipe = load_recipe(recipe_path)
    warnings: list[str] = []
    found = _photo_for(recipe, recipe_path, photo, warnings)
    target = output or target_path(fmt, recipe_path, found.path if found is not None else None)
    check_target(target, overwrite)
    table, _ = level_table(None, recipe, recipe_path.parent)
    table = table or default_table()
    levels, info = _levels(recipe, recipe_path, found, table, allow_outside_masks) if found is not None else (None, {})
    p = plan(recipe, levels, table=table)
    about = {"Recipe": recipe_path.name, **({"Photo": found.path.name} if found is not None and found.path else {})}
    if fmt == "xmp":
        name = str(recipe.meta.get("input") or (found.path.name if found is not None and found.path else ""))
        raw = (found is not None and found.format == "RAW") or Path(name).suffix.lower() in RAW_EXTENSIONS
        info = {k: type(v)(_rel(v.mask_file, recipe_path.parent, target.parent), v.centroid) for k, v in info.items()}
        done = to_xmp(p, info, raw_input=raw, about=about)
    else:
        done = to_pp3(p, about=f"recipe {recipe_path.name}")
    _write_text(target, done.text)
    return {"output": str(target), "format": fmt, "recipe": str(recipe_path),
            "photo": str(found.path) if found is not None and found.path else None,
            "values": done.values, "not_expressed": done.not_expressed, "notes": done.notes, "warnings": warnings,
            "levels": [{"region": s.region, "attribute": s.attribute, "from": round(s.from_level, 3),
                        "to": round(s.to_level, 3), "assumed_from": s.assumed_from} for s in p.sliders]}


def _rel(mask_file: str | None, recipe_dir: Path, out_dir: Path) -> str | None:
    from pertouch.engine.io.outputs import relative_to

    return relative_to(recipe_dir / mask_file, out_dir) if mask_file else None


def print_export(s: dict[str, Any]) -> None:
    typer.echo(f"wrote {s['output']} ({'Camera Raw / Lightroom XMP' if s['format'] == 'xmp' else 'RawTherapee pp3'})")
    lv = {(x["region"], x["attribute"]): x for x in s["levels"]}
    for where, values in s["values"].items():
        for tag, v in values.items():
            typer.echo(f"  {where:<10} {tag:<28} {v:>+9g}")
    for (region, attr), x in lv.items():
        how = "assumed" if x["assumed_from"] else "measured"
        typer.echo(f"  level {region}.{attr}: {x['from']:+.2f} ({how}) → {x['to']:+.2f}")
    for n in s["not_expressed"]:
        typer.echo(f"  not expressed: {n}")
    for n in s["notes"]:
        typer.echo(f"  note: {n}")
    for w in s["warnings"]:
        typer.echo(f"warning: {w}", err=True)


def export_command(
    source: Path = typer.Argument(..., metavar="RECIPE_OR_OUTPUT", help="A recipe JSON, or an output image "
                                  "whose OUT.pertouch.json sits beside it."),
    to: str = typer.Option(..., "--to", metavar="xmp|pp3", help="xmp: Camera Raw / Lightroom; pp3: RawTherapee."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Sidecar file (default: beside the photo it "
                                          "edits, as the editor looks for it: photo.xmp / photo.jpg.pp3; without "
                                          "the photo NAME.pertouch.xmp beside the recipe)."),
    photo: Optional[Path] = typer.Option(None, "--photo", help="The photo the recipe was made for, measured per region "
                                         "(default: the sidecar's meta.input, beside it or in the current folder "
                                         "or the one above, if its pixels match)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing file PerTouch did not write."),
    allow_outside_masks: bool = typer.Option(False, "--allow-outside-masks", help="Let the recipe's masks lie "
                                             "outside its folder."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON summary on stdout."),
) -> None:
    """Write a Camera Raw / Lightroom XMP or a RawTherapee pp3 that approximates a recipe with sliders."""
    from pertouch.commands._common import print_json

    fmt = check_format(to)
    s = export_sidecar(source, fmt, output=output, photo=photo, overwrite=overwrite,
                       allow_outside_masks=allow_outside_masks)
    print_json(s) if as_json else print_export(s)


def import_xmp_command(
    source: Path = typer.Argument(..., metavar="FILE", help="A Camera Raw / Lightroom .xmp sidecar or preset."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Recipe JSON to write (default: print it)."),
    photo: Optional[Path] = typer.Option(None, "--photo", help="Convert the sliders to shifts from this photo's "
                                         "levels (default: from level 0, a typical photo)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing -o file."),
) -> None:
    """Read a Camera Raw preset's global sliders into an approximate recipe of 'by' shifts."""
    from pertouch.engine.interop.sidecars import recipe_from_xmp
    from pertouch.engine.io.read import load_image
    from pertouch.engine.measure.stats import measure_image_levels
    from pertouch.engine.io.outputs import write_json_atomic

    if not source.is_file():
        raise InputError(f"file not found: {source}" if not source.exists() else f"{source} is not a file")
    if output is not None and output.exists() and not overwrite:
        raise InputError(f"{output} exists", hint="pass --overwrite to replace it")
    if output is not None and not output.parent.is_dir():
        raise InputError(f"output folder {output.parent} does not exist", hint="create it first")
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {source}: {exc}", hint="give a Camera Raw / Lightroom .xmp file") from None
    levels = measure_image_levels(load_image(photo).pixels) if photo is not None else None
    recipe, notes = recipe_from_xmp(text, source.name, levels)
    if output is None:
        typer.echo(recipe.dumps())
    else:
        write_json_atomic(output, recipe.to_json())
        typer.echo(f"wrote {output}")
    for n in notes:
        typer.echo(f"note: {n}", err=True)


# --- after a render (apply --export, retouch --export) ------------------------------

def planned_targets(pairs: list[tuple[Path, Path]], fmt: str | None, overwrite: bool) -> list[Path]:
    """The sidecar each (input, output) pair will get; checked before anything renders."""
    from pertouch.engine.io.outputs import sidecar_path

    if fmt is None:
        return []
    targets = [target_path(fmt, sidecar_path(out), inp) for inp, out in pairs]
    for t in targets:
        check_target(t, overwrite)
    return targets


def export_after(pairs: list[tuple[Path, Path]], fmt: str | None, as_json: bool) -> int:
    """Export each rendered output's sidecar (checked by :func:`planned_targets`); exit code."""
    from pertouch.core.errors import PertouchError
    from pertouch.engine.io.outputs import sidecar_path

    code = 0
    for inp, out in pairs if fmt else []:
        if not sidecar_path(out).is_file():  # that photo failed; already said
            continue
        try:
            s = export_sidecar(out, fmt, output=target_path(fmt, sidecar_path(out), inp),
                               photo=inp, overwrite=True)
        except PertouchError as exc:
            typer.echo(f"error: {out}: export: {exc.one_line()}", err=True)
            code = 2
            continue
        if as_json:
            typer.echo(f"exported {s['output']}", err=True)
        else:
            print_export(s)
    return code


def register(app: typer.Typer) -> None:
    from pertouch.cli import handle_errors

    app.command("export", no_args_is_help=True)(handle_errors(export_command))
    app.command("import-xmp", no_args_is_help=True)(handle_errors(import_xmp_command))
