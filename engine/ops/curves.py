"""The per-pixel colour edit as maths: white-balance gains, tone curves, the colourfulness
matrix, and the tables one set of strengths compiles to.

Every operator of :mod:`.operators` but clarity is built from these functions, and
together they make one per-pixel transform: a per-channel :func:`curve` (white balance
and brightness in linear light, then contrast, highlights, shadows on encoded values)
followed by the colourfulness matrix (:func:`saturation_matrix`, about the colour mid-grey
gets: :func:`cast_vector`). :func:`transform_tables` samples that transform into a LUT, the
matrix and the range of its outputs: compiled by :mod:`.lutcurve` when numba is installed,
else in NumPy here (:func:`_tables_numpy`, the same arithmetic).

``p`` below is an :class:`pertouch.engine.ops.operators.Params` (only its fields are read);
this module imports nothing of the engine but the colour maths and :mod:`.lutcurve`, so
:mod:`.operators` builds on it, never the other way round.
"""

from __future__ import annotations

import bisect
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from pertouch.engine.ops import lutcurve
from pertouch.engine.ops.colormath import cct_to_xy_kang2002, srgb_decode, srgb_encode, xy_to_linear_srgb

if TYPE_CHECKING:
    from pertouch.engine.ops.operators import Params

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

def exposure(lin: np.ndarray, strength: float) -> np.ndarray:
    g = 4.0 ** strength
    if g >= 1.0:  # Reinhard-style shoulder: lifts mids, 1 stays near 1
        return g * lin / (1.0 + (g - 1.0) * np.maximum(lin, 0.0))
    return lin * g


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def contrast_curve(v: np.ndarray, strength: float, pivot: float) -> np.ndarray:
    return pivot + (v - pivot) * (2.0 ** strength)


def highlights_curve(v: np.ndarray, strength: float) -> np.ndarray:
    return v + 0.4 * strength * _smoothstep(0.35, 1.0, v)


def shadows_curve(v: np.ndarray, strength: float) -> np.ndarray:
    return v + 0.35 * strength * (1.0 - _smoothstep(0.0, 0.6, v))


def cast_vector(p: Params) -> np.ndarray:
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


def curve(v: np.ndarray, p: Params) -> np.ndarray:
    """The per-channel part of the chain on ``(..., 3)`` encoded values (after clarity)."""
    v = np.asarray(v, np.float64)
    gains = temperature_gains(p.temperature) * tint_gains(p.tint)
    if p.brightness != 0.0 or np.any(gains != 1.0):
        v = srgb_encode(exposure(srgb_decode(v) * gains, p.brightness))
    if p.contrast != 0.0:
        v = contrast_curve(v, p.contrast, p.pivot)
    if p.highlights != 0.0:
        v = highlights_curve(v, p.highlights)
    if p.shadows != 0.0:
        v = shadows_curve(v, p.shadows)
    return v


# --- the tables a transform compiles to ---------------------------------------------

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


def transform_tables(p: Params, n: int) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(lut (3, n) float32, matrix (3, 3) float64, lo, hi) of the transform for ``p``:
    the LUT sampled at x = i / (n − 1), the colourfulness matrix about the cast mid-grey
    gets, and the extremes of the transform's outputs (the soft clip's range, before
    :func:`.operators.knees`). Compiled (:mod:`.lutcurve`) when numba is installed, else
    :func:`_tables_numpy`.

    >>> from pertouch.engine.ops.operators import Params
    >>> p = Params(temperature=0.4, brightness=0.3, contrast=0.2, highlights=-0.3, shadows=0.2)
    >>> lut, m, lo, hi = transform_tables(p, 9)
    >>> bool(np.allclose(lut, curve(_grid(9), p)[:9].T, rtol=0, atol=1e-6))
    True
    """
    if not lutcurve.COMPILED:
        return _tables_numpy(p, n)
    gains = temperature_gains(p.temperature) * tint_gains(p.tint)
    return lutcurve.compiled_tables(p, _grid(n), _lin_grid(n), gains)


def _tables_numpy(p: Params, n: int) -> tuple[np.ndarray, np.ndarray, float, float]:
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
