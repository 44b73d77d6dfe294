"""Helpers shared by CLI commands: --set edits, --mask files, regions, inputs, outputs.

- :func:`parse_set` / :func:`build_recipe`: ``REGION.ATTRIBUTE=VALUE`` edits on top
  of a recipe file (signed value = shift, unsigned = level, ``to:``/``by:`` explicit).
- :func:`parse_masks` and :func:`resolve_regions`: turn a recipe's region names into
  :class:`~pertouch.engine.schema.regions.Region` masks through a list of resolvers, first
  match wins. Other features add resolvers with :func:`register_region_resolver`
  (e.g. masks from a ``pertouch segment`` folder); resolvers marked ``per_photo``
  work for many photos at once, file masks do not.
- :func:`parse_pointers` / :func:`use_pointers`: ``--box``/``--point`` regions
  (:mod:`pertouch.tools.pointing`), resolved before any other.
- :func:`expand_inputs`, :func:`print_json` (output paths and sidecars:
  :mod:`pertouch.engine.io.outputs`).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import typer

from pertouch.engine.schema.recipe import GLOBAL, Recipe, RegionEdit, load_recipe, parse_recipe
from pertouch.core.errors import InputError, RecipeError

# --- inline edits ------------------------------------------------------------------

SET_SYNTAX = "expected REGION.ATTRIBUTE=VALUE, e.g. global.brightness=+0.2, sky.temperature=0.4 or sky.warmth=to:-0.3"


@dataclass(frozen=True)
class SetEdit:
    """One ``--set``: region name, attribute as typed, and ``{"to": v}`` or ``{"by": v}``."""

    region: str
    attribute: str
    edit: dict[str, float]
    raw: str



#: The --segmenter option's help, for every command that takes it.
SEGMENTER_HELP = ("builtin (default), sam:PATH, hf-sam:FOLDER, sam3:FOLDER, clipseg:FOLDER, "
                  "grounded-sam:GDINO_FOLDER,SAM_FOLDER, ade20k:FOLDER, or a chain such as builtin+clipseg:FOLDER "
                  "(the first segments; the others find words it does not know).")

def parse_set(raw: str) -> SetEdit:
    """Parse ``REGION.ATTRIBUTE=VALUE``.

    ``+0.2``/``-0.1`` shift by the value; ``0.4`` sets the level; ``to:-0.3`` sets a
    negative level; ``by:0.3`` shifts explicitly.

    >>> parse_set("global.brightness=+0.2").edit, parse_set("sky.warmth=to:-0.3").edit
    ({'by': 0.2}, {'to': -0.3})
    """
    key, sep, value = raw.partition("=")
    region, dot, attribute = key.strip().rpartition(".")
    value = value.strip()
    if not sep or not dot or not region.strip() or not attribute.strip() or not value:
        raise RecipeError(f"--set {raw!r}: {SET_SYNTAX}")
    kind, colon, number = value.partition(":")
    if colon:
        if kind.strip().lower() not in ("to", "by"):
            raise RecipeError(f"--set {raw!r}: the prefix must be 'to:' or 'by:'")
        kind = kind.strip().lower()
    else:
        number = value
        kind = "by" if value[0] in "+-" else "to"
    try:
        v = float(number)
    except ValueError:
        raise RecipeError(f"--set {raw!r}: {number.strip()!r} is not a number", hint=SET_SYNTAX) from None
    if not math.isfinite(v):
        raise RecipeError(f"--set {raw!r}: the value must be a finite number")
    return SetEdit(region.strip(), attribute.strip(), {kind: v}, raw)


def build_recipe(recipe_path: str | os.PathLike | None, sets: Sequence[str]) -> tuple[Recipe, Path | None]:
    """The recipe file (if any) with ``--set`` edits applied; returns it and its folder."""
    if recipe_path is None and not sets:
        raise RecipeError("nothing to apply", hint="give --recipe FILE.json and/or --set REGION.ATTRIBUTE=VALUE")
    try:
        base = load_recipe(recipe_path) if recipe_path is not None else Recipe()
    except RecursionError:  # JSON nested thousands deep: no recipe looks like that
        raise RecipeError(f"recipe {recipe_path} is nested too deeply to be a recipe",
                          hint="a recipe is a flat object of regions and attributes; see examples/warm-sky.json") from None
    data = base.to_json()
    for s in (parse_set(r) for r in sets):
        from pertouch.engine.schema.attributes import get_attribute

        name = get_attribute(s.attribute).name  # RecipeError with a suggestion
        if s.region == GLOBAL:
            entry = data.setdefault(GLOBAL, {"attributes": {}})
        else:
            entry = data.setdefault("regions", {}).setdefault(s.region, {"attributes": {}})
        attrs = entry.setdefault("attributes", {})
        for k in [k for k in attrs if get_attribute(k).name == name]:
            del attrs[k]
        attrs[name] = s.edit
    origin = "--set" if recipe_path is None else f"{recipe_path} with --set" if sets else str(recipe_path)
    recipe = parse_recipe(data, origin) if sets else base
    return recipe, (Path(recipe_path).parent if recipe_path is not None else None)


# --- masks and regions -----------------------------------------------------------------

def parse_masks(items: Sequence[str]) -> dict[str, Path]:
    """``["sky=sky.png", …]`` → ``{"sky": Path("sky.png")}``; files must exist."""
    out: dict[str, Path] = {}
    for raw in items:
        name, sep, path = raw.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise InputError(f"--mask {raw!r}: expected NAME=FILE.png, e.g. --mask sky=sky.png")
        p = Path(path.strip()).expanduser()
        check_mask_file(p, f"--mask {raw!r}")
        out[name.strip()] = p
    return out


def check_mask_file(p: Path, what: str, hint: str | None = None) -> None:
    """:class:`InputError` unless ``p`` is a regular file (a folder, a device such as
    /dev/zero or a pipe is named as such, not as "not found")."""
    if p.is_file():
        return
    if not p.exists():
        raise InputError(f"{what}: mask file not found: {p}", hint=hint)
    kind = "a folder" if p.is_dir() else "a device or pipe"
    raise InputError(f"{what}: {p} is not a file ({kind})", hint="give a PNG mask, white = inside")


#: The option that lets a recipe read masks outside its own folder.
OUTSIDE_MASKS_FLAG = "--allow-outside-masks"


@dataclass
class RegionContext:
    """What a resolver may use: the photo, the recipe's folder, --mask files, options."""

    photo: Any  # pertouch.engine.io.read.Photo
    recipe_dir: Path | None = None
    mask_files: dict[str, Path] = field(default_factory=dict)
    batch: bool = False
    options: dict[str, Any] = field(default_factory=dict)


#: ``resolver(name, edit, ctx) -> Region | None``; None means "not mine, ask the next".
Resolve = Callable[[str, RegionEdit, RegionContext], Any]


@dataclass(frozen=True)
class RegionResolver:
    name: str
    resolve: Resolve
    per_photo: bool  # True when it finds a region in any photo (segmentation), not one file
    hint: str  # how a user makes this resolver apply, for the "no mask" error


def _file_region(name: str, path: Path, ctx: RegionContext, label: str | None, confidence: float | None = None):
    from pertouch.engine.io.masks import load_mask
    from pertouch.engine.schema.regions import Region

    mask = load_mask(path, ctx.photo.shape)
    return Region(name=name, mask=mask, label=label or name, source=str(path),
                  confidence=1.0 if confidence is None else float(confidence))


def _from_mask_option(name: str, edit: RegionEdit, ctx: RegionContext):
    path = ctx.mask_files.get(name)
    return None if path is None else _file_region(name, path, ctx, edit.label)  # the user's own mask: as meant


def _from_recipe_mask(name: str, edit: RegionEdit, ctx: RegionContext):
    if not edit.mask:
        return None
    p = Path(edit.mask)
    if not p.is_absolute() and ctx.recipe_dir is not None:
        p = ctx.recipe_dir / p
    check_mask_file(p, f"region {name!r}", hint="mask paths are relative to the recipe file")
    if ctx.recipe_dir is not None and not ctx.options.get("allow_outside_masks"):
        folder = ctx.recipe_dir.resolve()
        if folder not in p.resolve().parents:  # a recipe is data: it may not read (and copy) any file
            raise InputError(f"region {name!r}: the recipe's mask {edit.mask!r} is outside the recipe's folder {folder}",
                             hint=f"move the mask beside the recipe, or pass {OUTSIDE_MASKS_FLAG} if you trust it")
    return _file_region(name, p, ctx, edit.label, edit.confidence)  # a sidecar's guessed mask stays a guess


REGION_RESOLVERS: list[RegionResolver] = [
    RegionResolver("--mask", _from_mask_option, False, "--mask {name}=FILE.png"),
    RegionResolver("recipe", _from_recipe_mask, False, 'a "mask" path for it in the recipe'),
]


def register_region_resolver(resolver: RegionResolver, *, first: bool = False) -> None:
    """Add a resolver (e.g. segmentation output); ``first`` puts it before file masks."""
    if any(r.name == resolver.name for r in REGION_RESOLVERS):
        REGION_RESOLVERS[:] = [r for r in REGION_RESOLVERS if r.name != resolver.name]
    REGION_RESOLVERS.insert(0 if first else len(REGION_RESOLVERS), resolver)


def _how_to_give(name: str, batch: bool) -> str:
    usable = [r.hint.format(name=name) for r in REGION_RESOLVERS if r.per_photo or not batch]
    if not any(r.per_photo for r in REGION_RESOLVERS):
        usable.append(f"--segmenter builtin (finds '{name}' by label)")
    return "give " + " or ".join(usable) if usable else ""


def check_batch_regions(recipe: Recipe) -> None:
    """With several photos, regions need a per-photo resolver; say so before starting."""
    named = [n for n, e in recipe.regions.items() if not e.is_noop]
    if named and not any(r.per_photo for r in REGION_RESOLVERS):
        raise RecipeError(
            f"with several photos only 'global' edits apply, but the recipe edits region(s) {', '.join(named)}",
            hint="a mask belongs to one photo: segment each photo with --segmenter builtin, "
                 "or apply region edits one photo at a time with --mask",
        )


def resolve_regions(recipe: Recipe, ctx: RegionContext) -> dict:
    """Region name → :class:`Region` for every region of ``recipe``, in recipe order."""
    unknown = sorted(set(ctx.mask_files) - set(recipe.regions))
    if unknown:
        names = ", ".join(recipe.regions) or "none"
        raise RecipeError(f"--mask {unknown[0]}=…: the recipe has no region {unknown[0]!r} (regions: {names})",
                          hint=f"add an edit for it, e.g. --set {unknown[0]}.brightness=+0.1")
    regions = {}
    for name, edit in recipe.regions.items():
        for resolver in REGION_RESOLVERS:
            if ctx.batch and not resolver.per_photo:
                continue
            region = resolver.resolve(name, edit, ctx)
            if region is not None:
                regions[name] = region
                break
        else:
            raise RecipeError(f"region {name!r} has no mask", hint=_how_to_give(name, ctx.batch))
    return regions


# --- pointed regions (--box / --point) ----------------------------------------------------

BOX_HELP = "A region by a box in photo pixels: [NAME=]X0,Y0,X1,Y1 (NAME defaults to 'selection')."
POINT_HELP = "A region by a point on it, in photo pixels: [NAME=]X,Y (several with one NAME join)."
POINTER_RESOLVER = "--box/--point"


def parse_pointers(boxes: Sequence[str], points: Sequence[str]) -> list:
    """``--box`` and ``--point`` values → :class:`~pertouch.tools.pointing.Pointer` list
    (InputError with the format for bad text)."""
    from pertouch.tools.pointing import collect_pointers

    return collect_pointers(boxes, points)


def use_pointers(pointers: Sequence[Any], segmenter: str | None = None) -> None:
    """Install the ``--box``/``--point`` resolver for this run (first: the user's pointing
    wins), or remove one left from an earlier run in the same process when there are none.
    ``segmenter``: asked for the mask first when it answers prompts (SAM), else GrabCut."""
    REGION_RESOLVERS[:] = [r for r in REGION_RESOLVERS if r.name != POINTER_RESOLVER]
    if not pointers:
        return
    by_name = {p.name: p for p in pointers}

    def resolve(name: str, edit: RegionEdit, ctx: RegionContext):
        from pertouch.tools.pointing import pointed_region

        p = by_name.get(name)
        return None if p is None else pointed_region(ctx.photo.pixels, p, segmenter)

    register_region_resolver(RegionResolver(POINTER_RESOLVER, resolve, False, "--box {name}=X0,Y0,X1,Y1"), first=True)


def check_pointer_names(pointers: Sequence[Any], recipe: Recipe) -> None:
    """RecipeError when a pointed region is not edited by the recipe (a typo, most likely)."""
    for p in pointers:
        if p.name not in recipe.regions:
            names = ", ".join(recipe.regions) or "none"
            raise RecipeError(f"{p.text()}: the recipe has no region {p.name!r} (regions: {names})",
                              hint=f"edit it, e.g. --set {p.name}.brightness=+0.1")


# --- inputs and outputs ------------------------------------------------------------

def expand_inputs(items: Iterable[str]) -> list[Path]:
    """Files, folders (their image files, sorted) and globs → unique paths, in order
    (:func:`pertouch.batch.sources.expand_paths`; batches also take CSVs and URLs)."""
    from pertouch.batch.sources import expand_paths

    return expand_paths(items)


def print_json(data: Any) -> None:
    """One JSON document on stdout (machine-readable output of ``--json``)."""
    typer.echo(json.dumps(data, ensure_ascii=False))
