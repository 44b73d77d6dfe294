"""Make docs/border-crop.png: sky edits at sky/tree and sky/tower borders, zoomed.

    python scripts/border_crop.py [--out docs/border-crop.png]

Each row: the photo, the edit with the builtin segmenter's sky mask, and the change
|after − before| amplified ×4 (a halo shows as a bright fringe outside the sky, a
seam as an unedited band inside it). Rows: scikit-learn's china.jpg (a tree and a
pagoda roof against a hazy sky; sky cooler and deeper) and scikit-image's rocket
(lattice towers and lamp flares against a dusk sky; sky warmer and lighter).
Also prints, per row, the mean change on the sky side and just outside it.
"""

from __future__ import annotations

import argparse
import sys

import cv2
import numpy as np
from PIL import Image

ROWS = [
    # photo, sky edit, crop (y, x, size) at full resolution
    ("sklearn:china.jpg", {"temperature": {"by": -0.4}, "brightness": {"by": -0.3}}, (90, 440, 200)),
    ("skimage:rocket", {"temperature": {"by": 0.3}, "brightness": {"by": 0.3}}, (250, 40, 160)),
]
TILE = 320


def edit(photo: np.ndarray, sky_edit: dict) -> tuple[np.ndarray, np.ndarray]:
    """(edited photo, full-resolution sky mask) with the builtin segmenter."""
    from pertouch.engine.parametric.engine import ParametricEngine
    from pertouch.engine.schema.recipe import Recipe
    from pertouch.engine.schema.regions import Region
    from pertouch.tools.perception import perceive

    scene = perceive(photo, cache=False)
    sky = scene.full_mask(scene.region("sky"))
    recipe = Recipe.model_validate({"regions": {"sky": {"label": "sky", "attributes": sky_edit}}})
    out = ParametricEngine().render(photo, recipe, {"sky": Region("sky", sky)}).image
    return out, sky


def leak(before: np.ndarray, after: np.ndarray, sky: np.ndarray) -> tuple[float, float]:
    """Mean |change| (0–255) deep in the sky and in a 2–8 px ring just outside it."""
    d = np.abs(after.astype(np.float32) - before.astype(np.float32)).mean(axis=2)
    inside = sky > 0.5
    deep = cv2.erode(inside.astype(np.uint8), np.ones((17, 17), np.uint8)).astype(bool)
    near = cv2.dilate(inside.astype(np.uint8), np.ones((17, 17), np.uint8)).astype(bool)
    ring = near & ~cv2.dilate(inside.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    return float(d[deep].mean()), float(d[ring].mean())


def tile(a: np.ndarray, y: int, x: int, s: int) -> np.ndarray:
    return np.asarray(Image.fromarray(a[y:y + s, x:x + s]).resize((TILE, TILE), Image.Resampling.NEAREST))


def main(argv: list[str] | None = None) -> int:
    from pertouch.evals.segmentation import load_photo

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/border-crop.png")
    args = ap.parse_args(argv)
    rows = []
    for spec, sky_edit, (y, x, s) in ROWS:
        photo = load_photo(spec)
        out, sky = edit(photo, sky_edit)
        diff = np.clip(np.abs(out.astype(np.int16) - photo).max(axis=2) * 4, 0, 255).astype(np.uint8)
        diff = np.repeat(diff[..., None], 3, axis=2)
        rows.append(np.concatenate([tile(photo, y, x, s), tile(out, y, x, s), tile(diff, y, x, s)], axis=1))
        deep, ring = leak(photo, out, sky)
        print(f"{spec}: mean change deep in the sky {deep:.1f}, 2-8 px outside it {ring:.1f} (0-255)")
    gap = np.full((6, rows[0].shape[1], 3), 255, np.uint8)
    Image.fromarray(np.concatenate([rows[0], gap, rows[1]], axis=0)).save(args.out, optimize=True)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
