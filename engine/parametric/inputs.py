"""What the engine takes in: a photo checked, a region's mask found, a photo downsized.

Errors say how to fix the input (:mod:`pertouch.core.errors`).
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from pertouch.engine.schema.regions import Region


def check_image(image: np.ndarray) -> np.ndarray:
    """Validate an engine input: ``(H, W, 3)`` uint8 or uint16."""
    from pertouch.core.errors import InputError

    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", None)
        raise InputError(f"the engine needs an (H, W, 3) RGB image, got shape {shape}",
                         hint="convert grey/alpha images to RGB first (pertouch.engine.imageio does)")
    if image.dtype not in (np.uint8, np.uint16):
        raise InputError(f"the engine needs uint8 or uint16 pixels, got {image.dtype}")
    return image


def region_mask(name: str, regions: Mapping, shape: tuple[int, int]) -> np.ndarray:
    """The soft mask of recipe region ``name``; clear errors for missing or mismatched masks."""
    from pertouch.core.errors import InputError, NotFoundError

    if name not in regions:
        known = ", ".join(regions) or "none"
        raise NotFoundError(f"recipe region {name!r} has no mask (regions given: {known})",
                            hint=f"pass a mask for it, e.g. --mask {name}=mask.png")
    r = regions[name]
    m = r.mask if isinstance(r, Region) else Region(name, np.asarray(r)).mask
    h, w = shape
    mh, mw = m.shape
    if (mh, mw) != (h, w) and abs(mh / mw - h / w) > 0.02 * (h / w) + 1.0 / min(mh, mw):
        raise InputError(f"mask of region {name!r} is {mw}×{mh} but the photo is {w}×{h}",
                         hint="masks must have the photo's size or at least its aspect ratio")
    return m


def fit_long_side(image: np.ndarray, side: int) -> np.ndarray:
    """``image`` area-averaged so its long side is at most ``side`` (aspect kept); itself if already small."""
    import cv2

    h, w = image.shape[:2]
    s = side / max(h, w)
    if s >= 1.0:
        return image
    return cv2.resize(image, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


def downsize(image: np.ndarray, max_pixels: int) -> np.ndarray:
    """``image`` area-averaged to at most ``max_pixels`` (aspect kept); itself if already small."""
    import cv2

    h, w = image.shape[:2]
    if h * w <= max_pixels:
        return image
    s = math.sqrt(max_pixels / (h * w))
    return cv2.resize(image, (max(1, int(w * s)), max(1, int(h * s))), interpolation=cv2.INTER_AREA)


def check_aspect(shape: tuple[int, int], planned: tuple[int, int]) -> None:
    from pertouch.core.errors import InputError

    (h, w), (ph, pw) = shape, planned
    if abs(h / w - ph / pw) > 0.02 * (ph / pw) + 1.0 / min(h, w):
        raise InputError(f"the plan was solved for a {pw}×{ph} photo, this one is {w}×{h}",
                         hint="apply a plan to the photo it was solved on or to a resized copy of it")


def is_guess(region) -> bool:
    """A region whose mask a model guessed (a :class:`Region` with label confidence below 1):
    its unsure bands are re-fitted to the photo (:meth:`Weights.build`). A bare array
    or a confidence-1 region (the user's own mask) is taken as meant."""
    return isinstance(region, Region) and region.confidence < 1.0


def mask_array(r) -> np.ndarray:
    """The array a region's mask comes from (its identity keys the mask digest cache)."""
    return r.mask if isinstance(r, Region) else r if isinstance(r, np.ndarray) else np.asarray(r)
