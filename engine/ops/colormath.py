"""Colour maths on the render path, written out so rendering never imports ``colour``.

Importing colour-science costs about 1.7 s (it pulls in scipy.interpolate and
matplotlib), which a fresh ``pertouch`` process would pay for every temperature edit.
These few formulas are copied from its definitions; ``tests/engine/ops/test_colour_free.py``
holds them to colour-science to 1e-12, so colour-science stays the reference.
"""

from __future__ import annotations

import numpy as np

#: colour-science's sRGB linear RGB → XYZ matrix (``RGB_COLOURSPACES["sRGB"].matrix_RGB_to_XYZ``).
SRGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
#: colour-science's sRGB XYZ → linear RGB matrix (``RGB_COLOURSPACES["sRGB"].matrix_XYZ_to_RGB``).
XYZ_TO_SRGB = np.array([[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415], [0.0557, -0.204, 1.057]])


def cct_to_xy_kang2002(cct: np.ndarray) -> np.ndarray:
    """CIE xy ``(..., 2)`` of CCTs (K) on the Planckian locus, Kang et al. (2002), 1667–25000 K
    (``colour.temperature.CCT_to_xy_Kang2002``)."""
    t = np.asarray(cct, np.float64)
    x = np.where(t <= 4000,
                 -0.2661239e9 / t ** 3 - 0.2343589e6 / t ** 2 + 0.8776956e3 / t + 0.179910,
                 -3.0258469e9 / t ** 3 + 2.1070379e6 / t ** 2 + 0.2226347e3 / t + 0.24039)
    y = np.select([t <= 2222, t <= 4000, t > 4000],
                  [-1.1063814 * x ** 3 - 1.34811020 * x ** 2 + 2.18555832 * x - 0.20219683,
                   -0.9549476 * x ** 3 - 1.37418593 * x ** 2 + 2.09137015 * x - 0.16748867,
                   3.0817580 * x ** 3 - 5.8733867 * x ** 2 + 3.75112997 * x - 0.37001483])
    return np.stack([x, y], axis=-1)


def xy_to_linear_srgb(xy: np.ndarray) -> np.ndarray:
    """Linear sRGB ``(..., 3)`` of chromaticities at luminance Y = 1 (D65 white, no adaptation)."""
    x, y = xy[..., 0], xy[..., 1]
    xyz = np.stack([x / y, np.ones_like(x), (1.0 - x - y) / y], axis=-1)
    return xyz @ XYZ_TO_SRGB.T


def srgb_decode(v: np.ndarray) -> np.ndarray:
    """sRGB-encoded → linear, extended sign-symmetrically outside [0, 1]."""
    a = np.abs(v)
    lin = np.where(a <= 0.04045, a / 12.92, ((a + 0.055) / 1.055) ** 2.4)
    return (np.sign(v) * lin).astype(v.dtype, copy=False)


def srgb_encode(v: np.ndarray) -> np.ndarray:
    """Linear → sRGB-encoded, extended sign-symmetrically outside [0, 1]."""
    a = np.abs(v)
    enc = np.where(a <= 0.0031308, a * 12.92, 1.055 * a ** (1 / 2.4) - 0.055)
    return (np.sign(v) * enc).astype(v.dtype, copy=False)
