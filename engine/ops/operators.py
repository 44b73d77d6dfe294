"""Attribute operators: pure functions on float RGB with a strength where 0 = identity.

Contract shared by every operator here: ``fn(rgb, strength) -> rgb`` where ``rgb``
is float32 ``(..., 3)`` sRGB-encoded RGB, nominally in [0, 1] (values may leave it
inside a chain), and the result has the same shape and dtype and is NOT clipped;
:func:`soft_clip` brings a chain's result back into [0, 1] with a smooth roll-off.
Every operator is monotone in ``strength``: a higher strength raises the attribute's
measured level. Strength ranges live in :data:`.curves.STRENGTH_RANGE`.

All but clarity are per-pixel colour transforms, and they compose into ONE
:class:`PixelTransform` (a per-channel curve followed by a 3×3 matrix and the soft
clip), which is what the fast engine applies once per pixel; the gains, curves and
matrix they are made of, and the tables they compile to, are :mod:`.curves`. The chain
order is::

    clarity → sRGB decode → white-balance gains (temperature × tint) → brightness
    (in linear light) → sRGB encode → contrast → highlights → shadows →
    colourfulness (3×3 matrix about luma) → soft clip

>>> import numpy as np
>>> x = np.full((2, 2, 3), 0.5, np.float32)
>>> bool(np.allclose(brightness(x, 0.0), x)), bool(brightness(x, 0.5).mean() > 0.5)
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import lru_cache

import numpy as np

from pertouch.engine.ops.colormath import srgb_decode, srgb_encode
from pertouch.engine.ops.curves import (
    LUMA, cast_vector, contrast_curve, exposure, highlights_curve, saturation_matrix, shadows_curve, temperature_gains,
    tint_gains, transform_tables)


# --- the composed transform ---------------------------------------------------------

@dataclass(frozen=True)
class Params:
    """Operator strengths for one region (0 = identity) and the contrast pivot."""

    temperature: float = 0.0
    tint: float = 0.0
    brightness: float = 0.0
    contrast: float = 0.0
    highlights: float = 0.0
    shadows: float = 0.0
    colorfulness: float = 0.0
    clarity: float = 0.0
    pivot: float = 0.5

    @property
    def is_identity(self) -> bool:
        return all(getattr(self, f.name) == 0.0 for f in fields(self) if f.name != "pivot")

    def with_(self, **kw: float) -> "Params":
        return replace(self, **kw)


def knees(lo_out: float, hi_out: float) -> tuple[float, float]:
    """The soft clip's range arguments for a transform whose outputs span [lo_out, hi_out]."""
    return float(min(lo_out, 0.0)), float(max(hi_out, 1.0))


def soft_clip(v: np.ndarray, lo_out: float = 0.0, hi_out: float = 1.0) -> np.ndarray:
    """Map [lo_out, hi_out] smoothly onto [0, 1]: identity in the middle, power-curve toe/shoulder.

    The toe spans [lo_out, m] with m = min(0.25, −lo_out) and the shoulder [1 − m', hi_out]
    with m' = min(0.25, hi_out − 1); each meets the identity with slope 1 and reaches 0
    (or 1) exactly at lo_out (or hi_out), so black stays black and nothing is hard-clipped
    inside the range. With lo_out = 0 and hi_out = 1 it is the identity on [0, 1].
    """
    out = np.clip(v, lo_out, hi_out)
    if hi_out > 1.0:
        m = min(0.25, hi_out - 1.0)
        k = 1.0 - m
        p = (hi_out - k) / m
        t = np.clip((hi_out - out) / (hi_out - k), 0.0, 1.0)
        out = np.where(out > k, 1.0 - m * t ** p, out)
    if lo_out < 0.0:
        m = min(0.25, -lo_out)
        p = (m - lo_out) / m
        t = np.clip((out - lo_out) / (m - lo_out), 0.0, 1.0)
        out = np.where(out < m, m * t ** p, out)
    return np.clip(out, 0.0, 1.0)


@dataclass(frozen=True)
class PixelTransform:
    """A region's whole per-pixel edit: ``soft_clip(M @ lut[c][x])``.

    ``lut`` is ``(3, N)`` float32 sampling :func:`.curves.curve` at ``x = i / (N − 1)``;
    ``matrix`` the 3×3 colourfulness matrix; ``margins`` the soft clip's (lo_out, hi_out).
    """

    lut: np.ndarray
    matrix: np.ndarray
    margins: tuple[float, float]
    clarity: float = 0.0


def compile_transform(p: Params, n: int = 256) -> PixelTransform:
    """Compose the per-pixel operators of ``p`` into one :class:`PixelTransform`.

    Memoised (the solver asks for the same strengths many times); the arrays are read-only.
    """
    return _compile(p, n)


@lru_cache(maxsize=1024)
def _compile(p: Params, n: int) -> PixelTransform:
    lut, m, lo, hi = transform_tables(p, n)
    m32 = m.astype(np.float32)
    lut.setflags(write=False)
    m32.setflags(write=False)
    return PixelTransform(lut, m32, knees(lo, hi), p.clarity)


# --- clarity (the one neighbourhood operator) --------------------------------------

def clarity_sigma(height: int, width: int) -> float:
    """Detail scale in pixels: 2 px at the 512-pixel measuring size, scaled with the photo."""
    return max(0.8, 2.0 * min(height, width) / 512.0)


#: Clarity (raising it) leaves luma detail below about this size (on [0, 1]; 2.5 of 255
#: levels, the grain of sensors and JPEG) mostly alone: the detail is cored,
#: ``d·d²/(d² + F²)``, so flat areas do not turn gritty.
CLARITY_FLOOR = 0.01
#: Raising clarity separates detail from an edge-preserving base (a guided filter of the
#: luma by itself, this ε = 0.06²): across an edge stronger than ~0.06 the base keeps the
#: edge, so the detail there is small and the edge gets no bright or dark rim (a halo);
#: texture, weaker than that, is raised. (A Gaussian base, the same detail energy:
#: twice the halo on the tuning photos.)
CLARITY_EDGE_EPS = 0.06 ** 2


def detail_layer(rgb: np.ndarray, sigma: float | None = None, strength: float = 0.0) -> np.ndarray:
    """Luma minus a blur of it at scale ``sigma``, ``(H, W)`` float32 (what clarity amplifies).

    Lowering clarity (``strength`` ≤ 0) subtracts the Gaussian detail: all detail
    softens alike. Raising it (``strength`` > 0) adds edge-aware, cored detail (the
    luma minus its guided filter, radius 2σ, :data:`CLARITY_EDGE_EPS`; cored by
    :data:`CLARITY_FLOOR`): texture rises, grain and strong edges much less.
    """
    import cv2

    y = (rgb[..., :3].astype(np.float32) @ LUMA).astype(np.float32)
    s = sigma if sigma is not None else clarity_sigma(*y.shape[:2])
    if strength <= 0.0:
        return y - cv2.GaussianBlur(y, (0, 0), s, borderType=cv2.BORDER_REFLECT)
    k = 2 * max(1, int(round(2.0 * s))) + 1
    box = lambda x: cv2.boxFilter(x, cv2.CV_32F, (k, k), borderType=cv2.BORDER_REFLECT)  # noqa: E731
    mean = box(y)
    var = box(y * y) - mean * mean
    a = var / (var + np.float32(CLARITY_EDGE_EPS))
    d = y - (box(a) * y + box(mean - a * mean))
    d2 = d * d
    return (d * d2 / (d2 + np.float32(CLARITY_FLOOR ** 2))).astype(np.float32)


def clarity(rgb: np.ndarray, strength: float, sigma: float | None = None) -> np.ndarray:
    """Local contrast: add ``strength`` × the luma detail layer to every channel, clamp to [0, 1].

    ``(H, W, 3)`` float → same. The clamp keeps the rest of the chain a curve on [0, 1].
    """
    if strength == 0.0:
        return rgb.copy()
    out = rgb + strength * detail_layer(rgb, sigma, strength)[..., None]
    return np.clip(out, 0.0, 1.0).astype(rgb.dtype)


# --- single operators, each a pure function (the reference chain uses these) --------

def _per_channel(rgb: np.ndarray, fn) -> np.ndarray:
    return np.asarray(fn(rgb.astype(np.float64)), np.float64).astype(rgb.dtype)


def temperature(rgb: np.ndarray, strength: float) -> np.ndarray:
    """White balance toward the Planckian white 100·strength mired warmer than D65."""
    g = temperature_gains(strength)
    return _per_channel(rgb, lambda v: srgb_encode(srgb_decode(v) * g))


def tint(rgb: np.ndarray, strength: float) -> np.ndarray:
    """Green (+) / magenta (−) white-balance gains in linear light."""
    g = tint_gains(strength)
    return _per_channel(rgb, lambda v: srgb_encode(srgb_decode(v) * g))


def brightness(rgb: np.ndarray, strength: float) -> np.ndarray:
    """Linear-light gain 4**strength; brightening rolls off toward white (Reinhard)."""
    return _per_channel(rgb, lambda v: srgb_encode(exposure(srgb_decode(v), strength)))


def contrast(rgb: np.ndarray, strength: float, pivot: float = 0.5) -> np.ndarray:
    """Slope 2**strength about ``pivot`` (encoded values)."""
    return _per_channel(rgb, lambda v: contrast_curve(v, strength, pivot))


def highlights(rgb: np.ndarray, strength: float) -> np.ndarray:
    """Raise (+) or lower (−) the tones above ~0.35, most at white."""
    return _per_channel(rgb, lambda v: highlights_curve(v, strength))


def shadows(rgb: np.ndarray, strength: float) -> np.ndarray:
    """Lift (+) or deepen (−) the tones below ~0.6, most at black."""
    return _per_channel(rgb, lambda v: shadows_curve(v, strength))


def colorfulness(rgb: np.ndarray, strength: float, cast: np.ndarray | None = None) -> np.ndarray:
    """Scale chroma about luma by 2**strength (a 3×3 matrix; ``cast`` see :func:`.curves.cast_vector`)."""
    m = saturation_matrix(strength, cast)
    return (rgb.astype(np.float64) @ m.T).astype(rgb.dtype)


#: name → operator, in chain order.
OPERATORS = {
    "clarity": clarity,
    "temperature": temperature,
    "tint": tint,
    "brightness": brightness,
    "contrast": contrast,
    "highlights": highlights,
    "shadows": shadows,
    "colorfulness": colorfulness,
}


def apply_chain(rgb: np.ndarray, p: Params, sigma: float | None = None) -> np.ndarray:
    """The straightforward chain: one pass per operator, then the soft clip. (H, W, 3) float32."""
    x = rgb.astype(np.float32)
    for name, op in OPERATORS.items():
        s = getattr(p, name)
        if s == 0.0:
            continue
        if name == "clarity":
            x = op(x, s, sigma)
        elif name == "contrast":
            x = op(x, s, p.pivot)
        elif name == "colorfulness":
            x = op(x, s, cast_vector(p))
        else:
            x = op(x, s)
    t = compile_transform(p, 2)
    return soft_clip(x, *t.margins).astype(np.float32)


def apply(rgb: np.ndarray, name: str, strength: float, **kw: float) -> np.ndarray:
    """One operator on its own, soft-clipped to [0, 1]. (H, W, 3) float32 → same."""
    return apply_chain(rgb, Params(**{name: strength}, **kw))
