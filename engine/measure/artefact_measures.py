"""The artefact measures of the gate (:mod:`.artefacts`): one number per artefact of an edit
``before → after``, from the pixels alone, and the gate-size Lab copies they are taken on.

The neighbourhood measures (blotches, halos, noise, skin hue) run on a copy at
:data:`GATE_SIZE` pixels on the long side (:func:`decimate`), so their radii and per-pixel
thresholds mean the same on any photo: a larger photo is DECIMATED (nearest neighbour, never
averaged: every measured pixel stays a real pixel, so an edit that is a per-pixel
colour function stays one — an area average would mix the two sides of an edge,
and a strongly colour-dependent edit would look like a halo there); a smaller one
is interpolated up (bilinear: its rings of 5 and 8 px would otherwise reach twice
as far across a 256-px preview).
Banding and clipping are counted on the 8-bit pixels as given (:func:`eight_bit`). Colour
differences are CIE Lab (D65, L in [0, 100]): 1 ΔE is about one just-noticeable difference.
The measures take ``lb``, ``la`` (:func:`lab` of the before and after copies), ``gb`` (how
fast the photo changes: :func:`grad` of ``lb`` blurred σ 1.5 px) and ``b8``, ``a8`` (the
8-bit pixels as given):

- **blotches** — ΔE per pixel. ``D = G₁.₅ * R`` is the spatial part of the edit:
  ``R`` = ``Lab(after) − Lab(before)`` minus its least-squares fit by one quadratic
  colour function of ``Lab(before)`` for the whole photo (a global edit, however
  strong, is such a function and leaves nothing), Gaussian σ = 1.5 px so pixel noise
  does not count; ``g = |∇(G₁.₅ * Lab(before))|`` how fast the photo itself changes. Where
  the photo is smooth (``g`` < :data:`SMOOTH` ΔE/px) the edit field should change no
  faster than the photo does (a tone curve of slope ≤ 2 changes ``D`` at most as
  fast as ``g``); the excess ``max(0, |∇D| − g)`` is an edit that jumps across a
  smooth area — a region border through a blurred background, a seam. The value
  is the 99th percentile of the excess over the smooth pixels (0 when less than
  1 % of the photo is smooth).
- **halos** — L units. Near strong edges (``|∇L|`` > :data:`EDGE` per px, within
  3 px), each pixel's change of lightness is compared with the change of the
  pixels of the same colour (within 4 ΔE) on rings 5 and 8 px away: a per-pixel
  colour edit changes equal colours equally, so a difference is a rim the edit
  drew along the edge (clarity overshoot, a mask bleeding over an edge). The
  value is the ``|ΔL(p) − mean ΔL(same colour on the ring)|`` that the worst 0.1 %
  of the photo's pixels reach (:data:`HALO_AREA`).
- **noise** — a ratio. In flat areas (``g`` < :data:`FLAT` ΔE/px) the RMS of the
  high-pass of Lab (the pixel minus its σ = 1 px blur), after over before, each
  with a floor of 0.5 ΔE (invisible grain) added in quadrature. 1 = unchanged.
- **banding** — a fraction. In smooth areas, per channel, the fraction of the
  8-bit levels between the 2nd and 98th percentile that no pixel uses (the comb
  a steep curve leaves), after minus before; the largest channel.
- **clipping** — a fraction of the photo: pixels blown (two channels ≥ 252/255)
  or crushed (every channel ≤ 3/255) after, that were not before.
- **skin_hue** — degrees: the chroma-weighted mean hue change (Lab hue angle) over
  ``skin_mask`` (any resolution with the photo's aspect, weights in [0, 1]), or that
  change minus the same over the rest of the photo, whichever is smaller: skin toned
  along with everything (a sepia "vintage": 25° but with the photo) is the look asked
  for, and so is skin warmed a little on its own; skin turning grey, magenta or green
  both on its own and against the photo is the artefact. None without a mask or when
  it covers no coloured pixel.
"""

from __future__ import annotations

import math

import numpy as np

#: Long side (px) the neighbourhood measures decimate to.
GATE_SIZE = 512
#: Smooth: the photo (σ 1.5 px) changes by less than this many ΔE per pixel. A blurred
#: background, a sky, a wall are below it; fur, foliage, text are above.
SMOOTH = 2.0
#: Flat, for noise: the photo changes by less than this many ΔE per pixel — areas with
#: no structure at all, where grain is all there is to see.
FLAT = 0.5
#: A strong edge for halos: lightness changes by more than this per pixel (σ 1 px).
EDGE = 8.0
#: Grain below this (ΔE RMS) is invisible: the floor of the noise ratio.
NOISE_FLOOR = 0.5
#: Blotches and halos are the level the worst ``share`` of the photo reaches (a share of
#: the whole photo, not of the smooth or edge pixels: one seam across a sky counts as
#: much in a busy photo as in a plain one).
BLOTCH_AREA, HALO_AREA = 0.005, 0.001


# --- the measures ---------------------------------------------------------------------

def _top(values: np.ndarray, n_pixels: int, share: float) -> float:
    """The level that ``share`` of a photo of ``n_pixels`` pixels reaches: the k-th largest
    of ``values``, k = ⌈share·n_pixels⌉ (0 when fewer values than that)."""
    k = int(math.ceil(share * n_pixels))
    if values.size < k or k < 1:
        return 0.0
    return float(np.partition(values.ravel(), values.size - k)[values.size - k])


def _spatial_part(lb: np.ndarray, la: np.ndarray) -> np.ndarray:
    """The edit ``la − lb`` minus its best fit by ONE colour function of ``lb`` for the whole
    photo (quadratic in L, a, b, least squares): what is left is what the edit does
    differently in different places — regions, masks — and no global edit, however strong,
    leaves anything there to blotch."""
    x = lb.reshape(-1, 3).astype(np.float64) / np.array([100.0, 128.0, 128.0])
    basis = np.column_stack([np.ones(len(x)), x, x * x, x[:, :1] * x[:, 1:], x[:, 1:2] * x[:, 2:]])
    d = (la - lb).reshape(-1, 3).astype(np.float64)
    step = max(1, len(x) // 20000)  # the fit on a sample, applied to every pixel
    coef, *_ = np.linalg.lstsq(basis[::step], d[::step], rcond=None)
    return (d - basis @ coef).reshape(lb.shape).astype(np.float32)


def blotches(lb: np.ndarray, la: np.ndarray, gb: np.ndarray) -> tuple[float, np.ndarray]:
    """Blotches (ΔE/px) and the per-pixel excess they are the top of (0 outside smooth areas)."""
    smooth = gb < SMOOTH
    excess = np.maximum(grad(blur(_spatial_part(lb, la), 1.5)) - gb, 0.0)
    excess[~smooth] = 0.0
    return _top(excess[smooth], smooth.size, BLOTCH_AREA), excess


#: Ring offsets for halos: 12 directions at 5 and 8 px.
_RING = [(round(r * math.sin(2 * math.pi * k / 12)), round(r * math.cos(2 * math.pi * k / 12)))
         for r in (5, 8) for k in range(12)]


def halos(lb: np.ndarray, la: np.ndarray, gb: np.ndarray) -> float:
    """Halos (L units) along strong edges."""
    import cv2

    lum = lb[..., 0]
    near = cv2.dilate((grad(blur(lum, 1.0)) > EDGE).astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    if near.sum() < 50:
        return 0.0
    ys, xs = np.nonzero(near)
    dl = la[..., 0] - lum
    smooth = gb < SMOOTH  # the plateaus beside an edge, not texture
    h, w = lum.shape
    col = lb[ys, xs]
    num = np.zeros(ys.size, np.float32)
    den = np.zeros(ys.size, np.float32)
    for dy, dx in _RING:  # the same pixels' ring neighbours (reflected at the border)
        yy = np.abs(ys + dy)
        yy = np.where(yy >= h, 2 * h - 2 - yy, yy)
        xx = np.abs(xs + dx)
        xx = np.where(xx >= w, 2 * w - 2 - xx, xx)
        dc = lb[yy, xx] - col
        same = (((dc[:, 0] ** 2 + dc[:, 1] ** 2 + dc[:, 2] ** 2) < 16.0) & smooth[yy, xx]).astype(np.float32)
        num += same * dl[yy, xx]
        den += same
    ok = den >= 2
    diff = np.abs(dl[ys, xs][ok] - num[ok] / den[ok])
    return _top(diff, lum.size, HALO_AREA)


def noise(lb: np.ndarray, la: np.ndarray, gb: np.ndarray) -> float:
    """Noise: the ratio of flat-area grain after over before (1 = unchanged)."""
    flat = gb < FLAT
    if flat.mean() < 0.01:
        return 1.0
    hb = (lb - blur(lb, 1.0))[flat]
    ha = (la - blur(la, 1.0))[flat]
    eb = float(np.mean(hb * hb)) * 3.0  # mean over pixels of the squared Lab vector
    ea = float(np.mean(ha * ha)) * 3.0
    f2 = NOISE_FLOOR ** 2
    return math.sqrt((ea + f2) / (eb + f2))


def banding(b8: np.ndarray, a8: np.ndarray, gb: np.ndarray) -> float:
    """Banding: the share of smooth areas' 8-bit levels newly left empty (the worst channel)."""
    import cv2

    h, w = b8.shape[:2]
    smooth = cv2.resize((gb < SMOOTH).astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
    if smooth.sum() < 1000:
        return 0.0
    worst = 0.0
    for c in range(3):
        eb, ea = _empty_fraction(b8[..., c][smooth]), _empty_fraction(a8[..., c][smooth])
        worst = max(worst, ea - eb)
    return worst


def _empty_fraction(v: np.ndarray) -> float:
    """Fraction of the 8-bit levels between the 2nd and 98th percentile of ``v`` no pixel uses."""
    hist = np.bincount(v.ravel(), minlength=256)
    cdf = np.cumsum(hist) / max(1, v.size)
    lo, hi = int(np.searchsorted(cdf, 0.02)), int(np.searchsorted(cdf, 0.98))
    if hi - lo < 8:  # a near-constant channel has no gradient to band
        return 0.0
    return float((hist[lo:hi + 1] == 0).mean())


def clipping(b8: np.ndarray, a8: np.ndarray) -> float:
    """Clipping: the share of the photo newly blown or crushed."""
    return float((_clipped(a8) & ~_clipped(b8)).mean())


def _clipped(px: np.ndarray) -> np.ndarray:
    """Blown (the middle channel value ≥ 252: two channels at the top) or crushed (every
    channel ≤ 3); the margins of 3 levels absorb a JPEG preview's rounding."""
    r, g, b = px[..., 0], px[..., 1], px[..., 2]
    hi, lo = np.maximum(np.maximum(r, g), b), np.minimum(np.minimum(r, g), b)
    mid = r.astype(np.int16) + g + b - hi - lo
    return (mid >= 252) | (hi <= 3)


def skin_hue(lb: np.ndarray, la: np.ndarray, mask: np.ndarray) -> float | None:
    """Skin hue shift (degrees) over the soft ``mask``, or None when it covers no coloured pixel."""
    import cv2

    h, w = lb.shape[:2]
    m = np.asarray(mask, np.float32)
    if np.asarray(mask).dtype == np.uint8:
        m = m / 255.0
    m = cv2.resize(m, (w, h), interpolation=cv2.INTER_NEAREST)
    cb = np.hypot(lb[..., 1], lb[..., 2])
    d = np.angle(np.exp(1j * (np.arctan2(la[..., 2], la[..., 1]) - np.arctan2(lb[..., 2], lb[..., 1]))))
    coloured = (cb > 5.0) * cb  # hue is only defined on coloured pixels; weighted by chroma
    skin, rest = coloured * m, coloured * (1.0 - m)
    if skin.sum() < 20 * 5.0:
        return None
    shift = float((skin * d).sum() / skin.sum())
    toned = float((rest * d).sum() / rest.sum()) if rest.sum() > 0 else 0.0
    return min(abs(math.degrees(shift)), abs(math.degrees(shift - toned)))


# --- the copies they are taken on ------------------------------------------------------

def eight_bit(img: np.ndarray) -> np.ndarray:
    """The first three channels as uint8 (uint16 and float [0, 1] rounded)."""
    x = img[..., :3]
    if x.dtype == np.uint8:
        return x
    if x.dtype == np.uint16:
        return (x.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)
    return (np.clip(x.astype(np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def decimate(img8: np.ndarray) -> np.ndarray:
    """float32 [0, 1] at :data:`GATE_SIZE` on the long side: decimated (nearest neighbour) when
    larger, interpolated (bilinear) when smaller."""
    import cv2

    h, w = img8.shape[:2]
    s = GATE_SIZE / max(h, w)
    if s != 1.0:
        size = (max(1, round(w * s)), max(1, round(h * s)))
        img8 = cv2.resize(img8, size, interpolation=cv2.INTER_NEAREST if s < 1.0 else cv2.INTER_LINEAR)
    return img8.astype(np.float32) / 255.0


def lab(rgb: np.ndarray) -> np.ndarray:
    """CIE Lab (D65) of float [0, 1] sRGB, float32."""
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(rgb, np.float32), cv2.COLOR_RGB2Lab)


def grad(x: np.ndarray) -> np.ndarray:
    """|∇x| (central differences, per pixel), channels summed in quadrature; (h, w) float32."""
    import cv2

    gx = cv2.Sobel(x, cv2.CV_32F, 1, 0, ksize=1, borderType=cv2.BORDER_REFLECT) * 0.5
    gy = cv2.Sobel(x, cv2.CV_32F, 0, 1, ksize=1, borderType=cv2.BORDER_REFLECT) * 0.5
    g2 = gx * gx + gy * gy
    if g2.ndim == 3:
        g2 = g2.sum(axis=2)
    return np.sqrt(g2)


def blur(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of σ ``sigma`` px (reflected at the border)."""
    import cv2

    return cv2.GaussianBlur(x, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
