"""Fit the default level table (engine/data/levels_default.json) from photos that dependencies ship.

How: every colour photograph in scikit-image's data (astronaut, chelsea, coffee,
rocket) and matplotlib's sample data (grace_hopper.jpg,
Minduka_Present_Blue_Pack.png) is measured the reference way (512×512,
:mod:`pertouch.engine.measure.stats`) over several partitions of the frame: the whole
frame, grid tiles 2×2, 3×3 and 4×4, and SLIC superpixels (~24 segments). Each
region's raw value is weighted by its area, so every partition of a photo carries
the same total weight, like sampling the pixels of a parameter map. The 101-knot
weighted quantiles of those values per attribute form the table (u → level 2u − 1).
Microscopy, medical and astronomical images (retina, immunohistochemistry,
hubble_deep_field) are left out: they are not photographs of everyday scenes.
Temperature is clamped at its warm end only, to −1000 (−CCT in K): past 25000 K the
estimator reports its continuation of −CCT (Hernández-Andrés CCT runs to infinity at
the locus's blue end), so skies bluer than that are placed by the data, not tied at
a clamp; colours warmer than 1000 K are a few saturated reds whose spread would make
the top of the scale too coarse to solve on (0.01 level ≈ 300 K). A level scale
reads the tied run a clamp leaves as a censored tail (see :mod:`pertouch.engine.schema.levels`).

Usage: ``python scripts/fit_levels.py [OUT.json]`` (default: the packaged file).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

from pertouch.engine.measure.stats import Measurer
from pertouch.engine.schema.attributes import REGISTRY

KNOTS = 101
GRIDS = (1, 2, 3, 4)
SLIC_SEGMENTS = 24
SKIMAGE = ("astronaut", "chelsea", "coffee", "rocket")
CLAMP = {"temperature": (-np.inf, -1000.0)}
MATPLOTLIB = ("grace_hopper.jpg", "Minduka_Present_Blue_Pack.png")
OUT = Path(__file__).resolve().parents[1] / "engine" / "data" / "levels_default.json"


def photos() -> dict[str, np.ndarray]:
    """name → (H, W, 3) uint8 RGB."""
    import matplotlib
    import skimage.data
    from PIL import Image

    out = {n: np.asarray(getattr(skimage.data, n)())[..., :3] for n in SKIMAGE}
    base = os.path.join(matplotlib.get_data_path(), "sample_data")
    for n in MATPLOTLIB:
        out[n] = np.asarray(Image.open(os.path.join(base, n)).convert("RGB"))
    return out


def partitions(rgb512: np.ndarray) -> list[np.ndarray]:
    """Label maps (512, 512) int: grids and SLIC superpixels."""
    from skimage.segmentation import slic

    yy, xx = np.mgrid[0:512, 0:512]
    maps = [(yy * g // 512) * g + (xx * g // 512) for g in GRIDS]
    maps.append(slic(rgb512 / 255.0, n_segments=SLIC_SEGMENTS, compactness=10, start_label=0, channel_axis=-1))
    return maps


def region_values(images: dict[str, np.ndarray]) -> dict[str, tuple[list[float], list[float]]]:
    """attribute → (values, weights) over all regions of all photos."""
    acc = {a: ([], []) for a in REGISTRY}
    for img in images.values():
        m = Measurer(img)
        for labels in partitions(m.rgb):
            for lab in np.unique(labels):
                mask = labels == lab
                if mask.sum() < 400:  # the reference drops regions under 400 px
                    continue
                for a, v in m.raw(mask).items():
                    if np.isfinite(v):
                        lo, hi = CLAMP.get(a, (-np.inf, np.inf))
                        acc[a][0].append(min(max(v, lo), hi))
                        acc[a][1].append(mask.mean())
    return acc


def weighted_quantiles(values: list[float], weights: list[float], knots: int = KNOTS) -> list[float]:
    v, w = np.asarray(values), np.asarray(weights)
    order = np.argsort(v)
    v, w = v[order], w[order]
    cw = np.cumsum(w) - 0.5 * w
    cw /= w.sum()
    q = np.interp(np.linspace(0, 1, knots), cw, v)
    return [float(x) for x in np.maximum.accumulate(q)]


def fit() -> dict:
    imgs = photos()
    acc = region_values(imgs)
    names = ", ".join(imgs)
    return {
        "format": "pertouch-levels",
        "version": 1,
        "source": (
            f"fitted by scripts/fit_levels.py: area-weighted {KNOTS}-knot quantiles of region measurements "
            f"(512x512, whole frame + {'/'.join(f'{g}x{g}' for g in GRIDS[1:])} grid tiles + SLIC ~{SLIC_SEGMENTS} "
            f"superpixels, regions >= 400 px; temperature: -CCT continued past 25000 K, clamped at -1000) "
            f"over the colour photos shipped by scikit-image and matplotlib: {names}"
        ),
        "attributes": {a: {"quantiles": weighted_quantiles(*acc[a])} for a in REGISTRY},
    }


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    out.write_text(json.dumps(fit(), indent=1) + "\n")
    print(f"wrote {out}")
