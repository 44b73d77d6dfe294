"""Fit the slider ↔ level mapping of editor sidecars (engine/data/interop_rawtherapee.json) by measuring.

How: six colour photos that dependencies ship (scikit-image's astronaut, chelsea,
coffee, rocket; scikit-learn's china and flower), resized to SIZE px on the long side,
are rendered by ``rawtherapee-cli`` with one slider at a time set to each value of
its grid (:data:`pertouch.engine.interop.controls.CONTROLS`; every other setting
neutral). Each render is measured with the engine's estimator of the slider's
attribute over the whole frame, and the change from the slider's neutral render is
taken in the attribute's level coordinate (log, mired or raw). The curve is the
median change over the photos at each slider value, made monotone
(pool-adjacent-violators).

Errors, stated per control in the table and printed:

- ``loo_level_mae`` / ``loo_level_p90``: leave one photo out, fit the curve on the
  other five, predict the left-out photo's level at each slider value from its neutral
  level; mean and 90th percentile of |predicted − measured| level.
- ``inverse_level_mae``: the mapping as export uses it: for each photo and each wanted
  shift in SHIFTS (from its neutral level), the slider the curve gives is rendered by
  RawTherapee and the achieved level measured; mean |achieved − wanted| over the
  shifts the slider can reach (``inverse_reached`` of ``inverse_tried``).

Usage: ``python scripts/fit_interop.py [OUT.json] [--size N]`` (default: the packaged
file, 320 px). Takes about a minute on two cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from pertouch.engine.interop.controls import CONTROLS, Curve, coordinate_of, dump_fitted, level_of, monotone
from pertouch.engine.interop.pp3 import pp3_text, render_many
from pertouch.engine.measure.stats import measure_image_raw
from pertouch.engine.schema.levels import default_table, to_coordinate

PHOTOS = ("skimage:astronaut", "skimage:chelsea", "skimage:coffee", "skimage:rocket",
          "sklearn:china.jpg", "sklearn:flower.jpg")
SHIFTS = (-0.4, -0.2, 0.2, 0.4)
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "engine" / "data" / "interop_rawtherapee.json"


def write_photos(folder: Path, size: int) -> list[Path]:
    from pertouch.engine.parametric.inputs import fit_long_side
    from pertouch.engine.io.read import save_image
    from pertouch.evals.photos import load_photo

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for src in PHOTOS:
        p = folder / (src.split(":")[1].split(".")[0] + ".png")
        save_image(p, fit_long_side(load_photo(src), size))
        paths.append(p)
    return paths


ATTRIBUTES = tuple(dict.fromkeys(c.attribute for c in CONTROLS.values()))


def measure_all(paths: list[Path]) -> dict[str, np.ndarray]:
    """Attribute → each photo's value in the attribute's level coordinate."""
    from pertouch.engine.io.read import load_image

    raws = [measure_image_raw(load_image(p).pixels, ATTRIBUTES) for p in paths]
    table = default_table()
    return {a: np.asarray(to_coordinate(table[a].coordinate, np.asarray([r[a] for r in raws])), float)
            for a in ATTRIBUTES}


def measure(paths: list[Path], attribute: str) -> np.ndarray:
    return measure_all(paths)[attribute]


def sweep(photos: list[Path], work: Path) -> tuple[dict[str, np.ndarray], dict[str, dict[str, float]]]:
    """Control → (grid values × photos) change of its attribute from the neutral render, and
    control → other attribute → its change per unit change of the control's own (median
    over photos of a least-squares slope through the origin)."""
    out, cross = {}, {}
    for name, c in CONTROLS.items():
        rows = [measure_all(render_many(photos, pp3_text(c.pp3(v)), work / f"{name}_{k}"))
                for k, v in enumerate(c.grid)]
        n = list(c.grid).index(c.neutral)
        change = {a: np.asarray([r[a] for r in rows]) - rows[n][a] for a in ATTRIBUTES}
        out[name] = change[c.attribute]
        x = change[c.attribute]
        denom = np.maximum((x * x).sum(axis=0), 1e-12)
        cross[name] = {a: float(np.median((change[a] * x).sum(axis=0) / denom))
                       for a in ATTRIBUTES if a != c.attribute}
        print(f"  {name:<12} median change per slider value: "
              + " ".join(f"{d:+.3f}" for d in np.median(out[name], axis=1)), file=sys.stderr)
    return out, cross


def fit_curve(grid: tuple[float, ...], deltas: np.ndarray) -> np.ndarray:
    med = np.median(deltas, axis=1)
    return monotone(med, increasing=med[-1] >= med[0])


def loo_errors(name: str, deltas: np.ndarray, neutral_c: np.ndarray) -> list[float]:
    c = CONTROLS[name]
    scale = default_table()[c.attribute]
    errs = []
    for p in range(deltas.shape[1]):
        others = np.delete(deltas, p, axis=1)
        curve = fit_curve(c.grid, others)
        for k in range(len(c.grid)):
            pred = level_of(scale, neutral_c[p] + curve[k])
            got = level_of(scale, neutral_c[p] + deltas[k, p])
            errs.append(abs(pred - got))
    return errs


def inverse_errors(name: str, curve: Curve, photos: list[Path], neutral_c: np.ndarray, work: Path) -> tuple[list, int]:
    c = CONTROLS[name]
    scale = default_table()[c.attribute]
    errs, tried = [], 0
    for p, photo in enumerate(photos):
        start = level_of(scale, neutral_c[p])
        for shift in SHIFTS:
            tried += 1
            want = start + shift
            if abs(want) > 1.0:
                continue
            value, clamped = curve.slider_of(coordinate_of(scale, want) - neutral_c[p])
            if clamped:
                continue
            (out,) = render_many([photo], pp3_text(c.pp3(value)), work / f"inv_{name}_{p}_{shift}")
            got = level_of(scale, float(measure([out], c.attribute)[0]))
            errs.append(abs(got - want))
    return errs, tried


def combined_errors(photos: list[Path], data: dict, work: Path, seed: int = 0) -> dict[str, float]:
    """Several global attributes edited at once (each ±0.2 level, random signs, 3 per photo):
    mean |achieved − wanted| level over the four core attributes, with the measured side
    effects untangled (``cross``) and without (every slider fitted alone)."""
    from pertouch.engine.interop.controls import parse_fitted
    from pertouch.engine.interop.plan import plan
    from pertouch.engine.interop.sidecars import to_pp3
    from pertouch.engine.schema.recipe import Recipe

    core = ("brightness", "contrast", "colorfulness", "temperature")
    rng = np.random.default_rng(seed)
    with_cross = parse_fitted(data, "fit")
    alone = type(with_cross)(with_cross.curves, with_cross.renderer, with_cross.errors, with_cross.source, {})
    table = default_table()
    errs: dict[str, list[float]] = {"untangled": [], "alone": []}
    for p, photo in enumerate(photos):
        start = {a: level_of(table[a], float(v[p])) for a, v in measure_all(photos).items()}
        for k in range(3):
            shifts = {a: float(rng.choice([-0.2, 0.2])) for a in core}
            r = Recipe.model_validate({"global": {"attributes": {a: {"by": v} for a, v in shifts.items()}}})
            for key, fitted in (("untangled", with_cross), ("alone", alone)):
                text = to_pp3(plan(r, {"global": start}, fitted=fitted)).text
                (out,) = render_many([photo], text, work / f"combo_{key}_{p}_{k}")
                got = measure_all([out])
                errs[key] += [abs(level_of(table[a], float(got[a][0])) - (start[a] + shifts[a])) for a in core]
    return {f"{k}_level_mae": round(float(np.mean(v)), 4) for k, v in errs.items()} | {"edits": len(errs["alone"])}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--size", type=int, default=320)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fit-interop-") as tmp:
        work = Path(tmp)
        photos = write_photos(work / "photos", args.size)
        print(f"rendering {len(photos)} photos at {args.size} px with rawtherapee-cli…", file=sys.stderr)
        deltas, cross = sweep(photos, work)
        curves, errors = {}, {}
        neutral_cache: dict[str, np.ndarray] = {}
        for name, c in CONTROLS.items():
            d = fit_curve(c.grid, deltas[name])
            curves[name] = (list(c.grid), list(d))
            if c.attribute not in neutral_cache:
                neutral_cache[c.attribute] = measure(photos, c.attribute)
            loo = loo_errors(name, deltas[name], neutral_cache[c.attribute])
            inv, tried = inverse_errors(name, Curve(tuple(c.grid), tuple(d)), photos, neutral_cache[c.attribute], work)
            errors[name] = {"loo_level_mae": round(float(np.mean(loo)), 4),
                            "loo_level_p90": round(float(np.percentile(loo, 90)), 4),
                            "inverse_level_mae": round(float(np.mean(inv)), 4) if inv else None,
                            "inverse_reached": len(inv), "inverse_tried": tried}
        import subprocess

        version = subprocess.run(["rawtherapee-cli", "-v"], capture_output=True, text=True).stdout.splitlines()
        renderer = (version[0] if version else "rawtherapee-cli").strip()
        source = {"photos": list(PHOTOS), "size": args.size, "date": dt.date.today().isoformat()}
        data = dump_fitted(curves, errors, renderer, source, cross)
        data["combined"] = combined_errors(photos, data, work)
    args.out.write_text(json.dumps(data, indent=1) + "\n")
    print(f"{'control':<12} {'attribute':<13} {'LOO MAE':>8} {'LOO p90':>8} {'inverse MAE':>12} reached")
    for name, e in errors.items():
        inv = f"{e['inverse_level_mae']:.3f}" if e["inverse_level_mae"] is not None else "—"
        print(f"{name:<12} {CONTROLS[name].attribute:<13} {e['loo_level_mae']:>8.3f} {e['loo_level_p90']:>8.3f} "
              f"{inv:>12} {e['inverse_reached']}/{e['inverse_tried']}")
    c = data["combined"]
    print(f"four core attributes edited at once ({c['edits']} edits): level MAE {c['untangled_level_mae']:.3f} "
          f"with side effects untangled, {c['alone_level_mae']:.3f} with every slider fitted alone")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
