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


def hasler_colorfulness(var_rg, var_yb, mean_rg, mean_yb):
    """Hasler–Süsstrunk colourfulness from the moments of rg = |R−G| and yb = |(R+G)/2 − B|:
    sqrt(σrg² + σyb²) + 0.3·sqrt(μrg² + μyb²). The one place this formula is written: every
    measurer (per region, per label, per pixel sample, compiled or not) computes the moments
    its own way and calls this; scalars or arrays, and numba-compilable."""
    return np.sqrt(var_rg + var_yb) + 0.3 * np.sqrt(mean_rg ** 2 + mean_yb ** 2)


def perceived_brightness(r, g, b):
    """sqrt(.241 R² + .691 G² + .068 B²) of a (mean) colour, 0–255: the one place this formula
    is written; scalars or arrays."""
    return np.sqrt(0.241 * r ** 2 + 0.691 * g ** 2 + 0.068 * b ** 2)


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
    return float(hasler_colorfulness(rg.std() ** 2, yb.std() ** 2, rg.mean(), yb.mean()))


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
    """Correlated colour temperature (K) of an sRGB colour given 0–255 (Hernández-Andrés 1999).

    The reference's CCT, via ``colour``; it runs to infinity at the blue end of the
    Planckian locus and is undefined past it. :func:`temperature` continues it.
    """
    import colour

    rgb = np.clip(np.asarray(mean, np.float64) / 255.0, 1e-3, 0.999)
    xyz = colour.sRGB_to_XYZ(rgb)
    xy = colour.XYZ_to_xy(xyz)
    return float(colour.xy_to_CCT(xy, method="Hernandez 1999"))


# --- temperature, continued past the ends of the CCT scale -------------------------
#
# Hernández-Andrés 1999 gives CCT as a function of n = (x − xe) / (y − ye) alone, so
# its isotherms are lines through the epicentre (xe, ye): a colour's CCT depends only
# on the angle ψ of the ray from the epicentre to its chromaticity, warmer as ψ grows.
# Blue skies sit near the locus's blue end, where CCT runs to infinity (ψ → 0) and
# then means nothing; a "cooler" white balance keeps turning ψ down smoothly. So
# between TEMPERATURE_ENDS the value is −CCT exactly (the reference's), and beyond
# them it continues along its tangent in ψ: continuous, smooth at the joins,
# monotone in ψ and defined for every colour. Level tables clamp to these ends
# (scripts/fit_levels.py), so levels within [−1, 1] are the reference's.

#: (cool, warm) CCT in K where −CCT hands over to its tangent continuation in ψ.
TEMPERATURE_ENDS = (25000.0, 1000.0)
HA_EPICENTRE = (0.3366, 0.1735)
HA_TERMS = ((6253.80338, 0.92159), (28.70599, 0.20039), (0.00004, 0.07125))


def _ha_cct(n: np.ndarray) -> np.ndarray:
    """Hernández-Andrés 1999 CCT (K) of the isotherm parameter n (its 3000–50000 K branch)."""
    return -949.86315 + sum(a * np.exp(-n / t) for a, t in HA_TERMS)


def _ha_joint(cct: float) -> tuple[float, float]:
    """(ψ, d(−CCT)/dψ) where the isotherm of ``cct`` K lies (CCT falls monotonically in n)."""
    lo, hi = -20.0, 20.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if _ha_cct(mid) > cct else (lo, mid)
    n = 0.5 * (lo + hi)
    psi = float(np.arctan2(1.0, -n))  # n = −cot ψ
    slope = sum(a / t * np.exp(-n / t) for a, t in HA_TERMS) / np.sin(psi) ** 2
    return psi, float(slope)


JOINTS = tuple(_ha_joint(t) for t in TEMPERATURE_ENDS)


def isotherm_angle(xy: np.ndarray) -> np.ndarray:
    """ψ of chromaticities ``(..., 2)``: angle (rad) around the epicentre, in (−π/2, 3π/2]; higher = warmer."""
    xe, ye = HA_EPICENTRE
    phi = np.arctan2(xy[..., 1] - ye, xe - xy[..., 0])
    return np.where(phi > -np.pi / 2, phi, phi + 2 * np.pi)


def temperature_of_xyz(xyz: np.ndarray) -> np.ndarray:
    """Temperature raw value (−CCT, continued past TEMPERATURE_ENDS) of XYZ colours ``(..., 3)``."""
    xyz = np.asarray(xyz, np.float64)
    xy = xyz[..., :2] / xyz.sum(axis=-1, keepdims=True)
    psi = isotherm_angle(xy)
    (psi_c, d_c), (psi_w, d_w) = JOINTS
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        inner = -_ha_cct(-1.0 / np.tan(np.clip(psi, psi_c, psi_w)))
    cool = -TEMPERATURE_ENDS[0] + d_c * (psi - psi_c)
    warm = -TEMPERATURE_ENDS[1] + d_w * (psi - psi_w)
    return np.where(psi < psi_c, cool, np.where(psi > psi_w, warm, inner))


def temperature(rgb: np.ndarray, mask: np.ndarray) -> float:
    """−CCT of the region's mean colour, so that higher = warmer (reference convention).

    Exactly the reference's −CCT between 1000 K and 25000 K; continued beyond (see
    :func:`temperature_of_xyz`) so that bluer-than-25000 K skies still measure, and
    order, by how blue they are.
    """
    import colour

    m = mean_rgb(rgb, mask)
    if np.isnan(m).any():
        return float("nan")
    return float(temperature_of_xyz(colour.sRGB_to_XYZ(np.clip(m / 255.0, 1e-3, 0.999))))


def brightness(rgb: np.ndarray, mask: np.ndarray) -> float:
    """Perceived brightness sqrt(.241 R̄² + .691 Ḡ² + .068 B̄²) of the region's mean colour."""
    m = mean_rgb(rgb, mask)
    if np.isnan(m).any():
        return float("nan")
    return float(perceived_brightness(m[0], m[1], m[2]))


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
