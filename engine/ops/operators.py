"""Attribute operators: pure functions on float RGB with a strength where 0 = identity.

Contract shared by every operator here: ``fn(rgb, strength) -> rgb`` where ``rgb``
is float32 ``(..., 3)`` sRGB-encoded RGB, nominally in [0, 1] (values may leave it
inside a chain), and the result has the same shape and dtype and is NOT clipped;
:func:`soft_clip` brings a chain's result back into [0, 1] with a smooth roll-off.
Every operator is monotone in ``strength``: a higher strength raises the attribute's
measured level. Strength ranges live in :data:`STRENGTH_RANGE`.

All but clarity are per-pixel colour transforms, and they compose into ONE
:class:`PixelTransform` (a per-channel curve followed by a 3×3 matrix and the soft
clip), which is what the fast engine applies once per pixel. The chain order is::

    clarity → sRGB decode → white-balance gains (temperature × tint) → brightness
    (in linear light) → sRGB encode → contrast → highlights → shadows →
    colourfulness (3×3 matrix about luma) → soft clip

>>> import numpy as np
>>> x = np.full((2, 2, 3), 0.5, np.float32)
>>> bool(np.allclose(brightness(x, 0.0), x)), bool(brightness(x, 0.5).mean() > 0.5)
(True, True)
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, fields, replace
from functools import lru_cache

import numpy as np

from pertouch.engine.ops import lutcurve
from pertouch.engine.ops.colormath import cct_to_xy_kang2002, srgb_decode, srgb_encode, xy_to_linear_srgb

#: Rec. 709 luma weights (on sRGB-encoded values), used for saturation and clarity.
LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)

#: Strength bounds the solver searches within, per operator.
STRENGTH_RANGE: dict[str, tuple[float, float]] = {
    "temperature": (-2.5, 3.5),   # mired shift / 100 from D65 (+ = warmer)
    "tint": (-2.0, 2.0),          # log2 of the green gain / 0.5 (+ = greener)
    "brightness": (-2.5, 2.5),    # log4 of a linear-light gain (Reinhard shoulder when > 0)
    "contrast": (-2.5, 2.0),      # log2 of the slope about the pivot
    "highlights": (-1.0, 1.0),    # lift/lower of the upper tones
    "shadows": (-1.0, 1.0),       # lift/lower of the lower tones
    "colorfulness": (-6.0, 2.5),  # log2 of the chroma gain about luma
    "clarity": (-1.0, 4.0),       # gain of the luma detail layer
}

D65_MIRED = 1e6 / 6504.0


# --- white balance gains ----------------------------------------------------------

@lru_cache(maxsize=1)
def _temperature_table() -> tuple[np.ndarray, np.ndarray]:
    """Linear-sRGB gains for strengths on a grid: white → the Planckian white of the CCT.

    CCT for strength s is 1e6 / (D65 mired + 100 s); xy by Kang 2002, normalised to
    luminance Y = 1 and divided by the gains at s = 0 (so 0 = identity).
    """
    lo, hi = STRENGTH_RANGE["temperature"]
    s = np.round(np.arange(lo, hi + 1e-9, 0.01), 6)  # 0 lies exactly on the grid
    mired = D65_MIRED + 100.0 * s
    valid = mired >= 1e6 / 24000.0  # Kang 2002 holds for 1667–25000 K
    rgb = xy_to_linear_srgb(cct_to_xy_kang2002(1e6 / mired[valid]))
    log_g = np.log(rgb / rgb[np.flatnonzero(s[valid] == 0.0)[0]])
    # beyond 25000 K: continue the log-gains linearly (bluer and bluer)
    slope = (log_g[1] - log_g[0]) / (s[valid][1] - s[valid][0])
    n_out = int((~valid).sum())
    ext = log_g[0] + np.outer(s[:n_out] - s[valid][0], slope)
    return s, np.exp(np.concatenate([ext, log_g])).astype(np.float64)


def temperature_gains(strength: float) -> np.ndarray:
    """(3,) linear-light RGB gains for a temperature strength (+ = warmer)."""
    if strength == 0.0:
        return np.ones(3)
    s, table, s_list, rows = _temperature_lists()
    if not s_list[0] < strength < s_list[-1]:
        return np.array([np.interp(strength, s, table[:, c]) for c in range(3)])
    j = bisect.bisect_right(s_list, strength) - 1  # np.interp's formula, without arrays
    x0, x1, f0, f1 = s_list[j], s_list[j + 1], rows[j], rows[j + 1]
    return np.array([(f1[c] - f0[c]) / (x1 - x0) * (strength - x0) + f0[c] for c in range(3)])


@lru_cache(maxsize=1)
def _temperature_lists() -> tuple[np.ndarray, np.ndarray, list, list]:
    s, table = _temperature_table()
    return s, table, s.tolist(), table.tolist()


def tint_gains(strength: float) -> np.ndarray:
    """(3,) linear gains moving green against magenta, luminance of white kept at 1."""
    if strength == 0.0:
        return np.ones(3)
    k = 2.0 ** (0.5 * strength)
    a = 1.0 / (LUMA[0] + LUMA[2] + LUMA[1] * k)
    return np.array([a, a * k, a], np.float64)


# --- tone curves (per channel) ------------------------------------------------------

def _exposure(lin: np.ndarray, strength: float) -> np.ndarray:
    g = 4.0 ** strength
    if g >= 1.0:  # Reinhard-style shoulder: lifts mids, 1 stays near 1
        return g * lin / (1.0 + (g - 1.0) * np.maximum(lin, 0.0))
    return lin * g


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _contrast(v: np.ndarray, strength: float, pivot: float) -> np.ndarray:
    return pivot + (v - pivot) * (2.0 ** strength)


def _highlights(v: np.ndarray, strength: float) -> np.ndarray:
    return v + 0.4 * strength * _smoothstep(0.35, 1.0, v)


def _shadows(v: np.ndarray, strength: float) -> np.ndarray:
    return v + 0.35 * strength * (1.0 - _smoothstep(0.0, 0.6, v))


def cast_vector(p: "Params") -> np.ndarray:
    """(3,) colour the per-channel curves give mid-grey (sRGB 0.46), luma-normalised.

    Colourfulness scales chroma about this "neutral" rather than about pure grey, so a
    temperature or tint cast survives a saturation change (the two do not fight), also
    after contrast or tone curves have squeezed the cast.
    """
    if p.temperature == 0.0 and p.tint == 0.0:
        return np.ones(3)
    c = curve(np.full((1, 3), 0.46), p)[0]
    lum = float(LUMA @ c)
    return c / lum if lum > 1e-6 else np.ones(3)


def saturation_matrix(strength: float, cast: np.ndarray | None = None) -> np.ndarray:
    """3×3 matrix scaling chroma about luma by 2**strength: ``k·I + (1 − k)·cast·lumaᵀ``."""
    k = 2.0 ** strength
    c = np.ones(3) if cast is None else np.asarray(cast, np.float64)
    return (k * np.eye(3) + (1.0 - k) * np.outer(c, LUMA)).astype(np.float64)


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


def curve(v: np.ndarray, p: Params) -> np.ndarray:
    """The per-channel part of the chain on ``(..., 3)`` encoded values (after clarity)."""
    v = np.asarray(v, np.float64)
    gains = temperature_gains(p.temperature) * tint_gains(p.tint)
    if p.brightness != 0.0 or np.any(gains != 1.0):
        v = srgb_encode(_exposure(srgb_decode(v) * gains, p.brightness))
    if p.contrast != 0.0:
        v = _contrast(v, p.contrast, p.pivot)
    if p.highlights != 0.0:
        v = _highlights(v, p.highlights)
    if p.shadows != 0.0:
        v = _shadows(v, p.shadows)
    return v


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

    ``lut`` is ``(3, N)`` float32 sampling :func:`curve` at ``x = i / (N − 1)``;
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
def _grid(n: int) -> np.ndarray:
    """(n + 1, 3): the LUT's sample points x = i / (n − 1), plus mid-grey (for the cast)."""
    x = np.linspace(0.0, 1.0, n)
    g = np.repeat(np.append(x, 0.46)[:, None], 3, axis=1)
    g.setflags(write=False)
    return g


@lru_cache(maxsize=8)
def _lin_grid(n: int) -> np.ndarray:
    """:func:`_grid` sRGB-decoded (read-only)."""
    g = lutcurve.decoded(_grid(n))
    g.setflags(write=False)
    return g


@lru_cache(maxsize=1024)
def _compile(p: Params, n: int) -> PixelTransform:
    lut, m, lo, hi = transform_tables(p, n)
    m32 = m.astype(np.float32)
    lut.setflags(write=False)
    m32.setflags(write=False)
    return PixelTransform(lut, m32, knees(lo, hi), p.clarity)


def transform_tables(p: Params, n: int) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(lut (3, n) float32, matrix (3, 3) float64, lo, hi) of the transform for ``p``:
    the LUT sampled at x = i / (n − 1), the colourfulness matrix about the cast mid-grey
    gets, and the extremes of the transform's outputs (the soft clip's range, before
    :func:`knees`). Compiled (:mod:`.lutcurve`) when numba is installed, else
    :func:`_tables_numpy`.

    >>> p = Params(temperature=0.4, brightness=0.3, contrast=0.2, highlights=-0.3, shadows=0.2)
    >>> lut, m, lo, hi = transform_tables(p, 9)
    >>> bool(np.allclose(lut, curve(_grid(9), p)[:9].T, rtol=0, atol=1e-6))
    True
    """
    if not lutcurve.COMPILED:
        return _tables_numpy(p, n)
    gains = temperature_gains(p.temperature) * tint_gains(p.tint)
    return lutcurve.compiled_tables(p, _grid(n), _lin_grid(n), gains)


def _tables_numpy(p, n: int) -> tuple[np.ndarray, np.ndarray, float, float]:
    """:func:`transform_tables` in NumPy (the same arithmetic, array by array)."""
    v = curve(_grid(n), p)  # the LUT and the colour mid-grey gets (cast_vector), in one pass
    lut = v[:n].T.astype(np.float32)
    cast = np.ones(3)
    if p.temperature != 0.0 or p.tint != 0.0:
        lum = float(LUMA @ v[n])
        cast = v[n] / lum if lum > 1e-6 else np.ones(3)
    m = saturation_matrix(p.colorfulness, cast)
    # extremes of m @ (one LUT end per channel) over the 8 combinations, term by term
    lo_end, hi_end = lut[:, 0].astype(np.float64), lut[:, -1].astype(np.float64)
    terms_a, terms_b = m * lo_end[None, :], m * hi_end[None, :]
    lo = float((np.minimum(terms_a, terms_b).sum(axis=1)).min())
    hi = float((np.maximum(terms_a, terms_b).sum(axis=1)).max())
    return lut, m, lo, hi


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
    return _per_channel(rgb, lambda v: srgb_encode(_exposure(srgb_decode(v), strength)))


def contrast(rgb: np.ndarray, strength: float, pivot: float = 0.5) -> np.ndarray:
    """Slope 2**strength about ``pivot`` (encoded values)."""
    return _per_channel(rgb, lambda v: _contrast(v, strength, pivot))


def highlights(rgb: np.ndarray, strength: float) -> np.ndarray:
    """Raise (+) or lower (−) the tones above ~0.35, most at white."""
    return _per_channel(rgb, lambda v: _highlights(v, strength))


def shadows(rgb: np.ndarray, strength: float) -> np.ndarray:
    """Lift (+) or deepen (−) the tones below ~0.6, most at black."""
    return _per_channel(rgb, lambda v: _shadows(v, strength))


def colorfulness(rgb: np.ndarray, strength: float, cast: np.ndarray | None = None) -> np.ndarray:
    """Scale chroma about luma by 2**strength (a 3×3 matrix; ``cast`` see :func:`cast_vector`)."""
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
