"""Raw attribute estimators over a masked region.

Contract for every estimator: ``fn(rgb, mask) -> float`` where ``rgb`` is a
float32 array ``(H, W, 3)`` in **RGB order, 0–255** (the reference works on 8-bit
values) and ``mask`` a bool array ``(H, W)``; an empty mask returns ``nan``.

The four core estimators reproduce the public PerTouch reference
(``data/utils/cal_metrics.py``) so that maps we produce are compatible with its
weights; the reference measures at 512×512 (see :data:`MEASURE_SIZE`).

>>> import numpy as np
>>> grey = np.full((4, 4, 3), 128, np.float32)
>>> round(colorfulness(grey, np.ones((4, 4), bool)), 3)
0.0
"""

from __future__ import annotations

import numpy as np

#: The reference measures every region on the photo resized (not cropped) to 512×512.
MEASURE_SIZE = (512, 512)

#: Contrast is capped, as in the reference.
CONTRAST_CAP = 20000.0


def _pixels(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return rgb[mask].astype(np.float64, copy=False)


def colorfulness(rgb: np.ndarray, mask: np.ndarray) -> float:
    """Hasler–Süsstrunk colourfulness of the region (0 for grey, ~100+ for vivid)."""
    px = _pixels(rgb, mask)
    if px.size == 0:
        return float("nan")
    r, g, b = px[:, 0], px[:, 1], px[:, 2]
    rg = np.abs(r - g)
    yb = np.abs(0.5 * (r + g) - b)
    std_root = np.sqrt(rg.std() ** 2 + yb.std() ** 2)
    mean_root = np.sqrt(rg.mean() ** 2 + yb.mean() ** 2)
    return float(std_root + 0.3 * mean_root)


def contrast(rgb: np.ndarray, mask: np.ndarray) -> float:
    """Mean squared RGB difference between 4-neighbour pixel pairs inside the region.

    As in the reference: differences summed over channels, both directions of each
    pair counted, the total divided by 4 × the number of valid pairs, capped at 20000.
    """
    if not mask.any():
        return float("nan")
    x = rgb.astype(np.float32, copy=False)
    total = 0.0
    count = 0
    # horizontal and vertical neighbours; each pair appears twice in the reference's
    # four rolls, which cancels in the ratio except for the wrap-around pairs.
    dh = ((x[:, 1:] - x[:, :-1]) ** 2).sum(axis=2)
    vh = mask[:, 1:] & mask[:, :-1]
    dv = ((x[1:] - x[:-1]) ** 2).sum(axis=2)
    vv = mask[1:] & mask[:-1]
    total = float(dh[vh].sum(dtype=np.float64) + dv[vv].sum(dtype=np.float64))
    count = int(vh.sum() + vv.sum())
    if count == 0:
        return 0.0
    return float(min(total / (4.0 * count), CONTRAST_CAP))


def mean_rgb(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    px = _pixels(rgb, mask)
    if px.size == 0:
        return np.full(3, np.nan)
    return px.mean(axis=0)


def cct_of_rgb(mean: np.ndarray) -> float:
    """Correlated colour temperature (K) of an sRGB colour given 0–255 (Hernández-Andrés 1999)."""
    import colour

    rgb = np.clip(np.asarray(mean, np.float64) / 255.0, 1e-3, 0.999)
    xyz = colour.sRGB_to_XYZ(rgb)
    xy = colour.XYZ_to_xy(xyz)
    return float(colour.xy_to_CCT(xy, method="Hernandez 1999"))


def temperature(rgb: np.ndarray, mask: np.ndarray) -> float:
    """−CCT of the region's mean colour, so that higher = warmer (reference convention)."""
    m = mean_rgb(rgb, mask)
    if np.isnan(m).any():
        return float("nan")
    return -cct_of_rgb(m)


def brightness(rgb: np.ndarray, mask: np.ndarray) -> float:
    """Perceived brightness sqrt(.241 R̄² + .691 Ḡ² + .068 B̄²) of the region's mean colour."""
    m = mean_rgb(rgb, mask)
    if np.isnan(m).any():
        return float("nan")
    return float(np.sqrt(0.241 * m[0] ** 2 + 0.691 * m[1] ** 2 + 0.068 * m[2] ** 2))


# --- extended attributes (not part of the diffusion contract) -------------------


def tint(rgb: np.ndarray, mask: np.ndarray) -> float:
    """Green–magenta balance of the mean colour: Duv × 1000 (negative = magenta)."""
    import colour

    m = mean_rgb(rgb, mask)
    if np.isnan(m).any():
        return float("nan")
    xyz = colour.sRGB_to_XYZ(np.clip(m / 255.0, 1e-3, 0.999))
    uv = colour.UCS_to_uv(colour.XYZ_to_UCS(xyz))
    _, duv = colour.temperature.uv_to_CCT_Ohno2013(uv)
    return float(duv * 1000.0)


def _luma(px: np.ndarray) -> np.ndarray:
    return 0.2126 * px[:, 0] + 0.7152 * px[:, 1] + 0.0722 * px[:, 2]


def highlights(rgb: np.ndarray, mask: np.ndarray) -> float:
    """Mean luma (0–255) of the brightest 10 % of the region's pixels."""
    px = _pixels(rgb, mask)
    if px.size == 0:
        return float("nan")
    y = _luma(px)
    cut = np.percentile(y, 90)
    return float(y[y >= cut].mean())


def shadows(rgb: np.ndarray, mask: np.ndarray) -> float:
    """Mean luma (0–255) of the darkest 10 % of the region's pixels."""
    px = _pixels(rgb, mask)
    if px.size == 0:
        return float("nan")
    y = _luma(px)
    cut = np.percentile(y, 10)
    return float(y[y <= cut].mean())


def clarity(rgb: np.ndarray, mask: np.ndarray) -> float:
    """Mid-frequency local contrast: mean |luma − 5×5 box-blurred luma| inside the region."""
    import cv2

    if not mask.any():
        return float("nan")
    y = (0.2126 * rgb[..., 0] + 0.7152 * rgb[..., 1] + 0.0722 * rgb[..., 2]).astype(np.float32)
    blur = cv2.blur(y, (5, 5), borderType=cv2.BORDER_REFLECT)
    return float(np.abs(y - blur)[mask].mean())
