"""Region masks from PNG files: white = inside, black = outside, grey = soft.

:func:`load_mask` reads grey, grey+alpha, RGB, RGBA or palette PNGs (also JPEG,
TIFF, WebP) into a float32 ``(H, W)`` array in [0, 1] the size of the photo:

- grey/RGB: the luminance, 0–255 (or 0–65535) → 0–1;
- with an alpha channel: a mask painted on transparency (uniform colour, varying
  alpha) uses the alpha; otherwise luminance × alpha (transparent = outside).

A mask whose size differs from the photo's but whose aspect ratio matches within
1 % is resized (area-averaged when shrinking, bilinear when enlarging); any other
size is an :class:`~pertouch.core.errors.InputError` naming both sizes.

>>> import numpy as np, tempfile, os
>>> from PIL import Image
>>> p = os.path.join(tempfile.mkdtemp(), "m.png")
>>> Image.fromarray(np.full((2, 3), 255, np.uint8)).save(p)
>>> load_mask(p, (4, 6)).shape, float(load_mask(p, (4, 6)).min())
((4, 6), 1.0)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from pertouch.engine.io.read import DEFAULT_MAX_PIXELS, load_image
from pertouch.core.errors import InputError

#: Largest relative difference of aspect ratios still accepted (then resized).
ASPECT_TOLERANCE = 0.01


def load_mask(path: str | os.PathLike, shape: tuple[int, ...], *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read a mask image and fit it to a photo of ``shape`` ``(H, W[, C])``.

    Returns float32 ``(H, W)`` in [0, 1]. Bad file or size → :class:`InputError`.
    """
    p = Path(path)
    photo = load_image(p, max_pixels=max_pixels)
    m = mask_from_pixels(photo.pixels, photo.alpha)
    return fit_mask(m, shape, name=p.name)


def mask_from_pixels(pixels: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    """``(H, W, 3)`` uint8/uint16 (+ alpha) → float32 ``(H, W)`` weight in [0, 1]."""
    peak = 65535.0 if pixels.dtype == np.uint16 else 255.0
    rgb = pixels.astype(np.float32) / peak
    lum = 0.2126 * rgb[..., 0] + 0.7152 * rgb[..., 1] + 0.0722 * rgb[..., 2]
    if alpha is None:
        return np.clip(lum, 0.0, 1.0)
    a = alpha.astype(np.float32) / peak
    if float(a.min()) >= 1.0:
        return np.clip(lum, 0.0, 1.0)
    opaque = a > 0.5
    ref = lum[opaque] if opaque.any() else lum
    if float(ref.max() - ref.min()) < 1e-3:  # one colour painted on transparency
        return np.clip(a, 0.0, 1.0)
    return np.clip(lum * a, 0.0, 1.0)


def fit_mask(mask: np.ndarray, shape: tuple[int, ...], *, name: str = "mask") -> np.ndarray:
    """Resize ``mask`` ``(h, w)`` to ``shape[:2]`` when the aspect ratios match within 1 %."""
    h, w = mask.shape[:2]
    H, W = int(shape[0]), int(shape[1])
    if (h, w) == (H, W):
        return mask.astype(np.float32, copy=False)
    if abs((w / h) / (W / H) - 1.0) > ASPECT_TOLERANCE:
        raise InputError(f"mask {name} is {w}×{h} but the photo is {W}×{H}",
                         hint="give a mask of the photo's size (or at least its aspect ratio)")
    import cv2

    interp = cv2.INTER_AREA if w > W else cv2.INTER_LINEAR
    out = cv2.resize(mask.astype(np.float32), (W, H), interpolation=interp)
    return np.clip(out, 0.0, 1.0)
