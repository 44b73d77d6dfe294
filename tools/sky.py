"""A general sky detector: the sky-border optimisation of Shen & Wang (2013), refined.

Shen & Wang, "Sky region detection in a single image for autonomous ground robot
navigation" (IJARS 2013): for a gradient threshold ``t`` the sky border of each column
is the first row whose (smoothed) gradient exceeds ``t``; every ``t`` gives a border,
and the best one minimises the colour spread of both parts — it maximises

    J(t) = 1 / (γ·|Σs| + |Σg| + γ·λs + λg)

with ``Σs``/``Σg`` the RGB covariances of the part above the border (sky) and below it
(ground), ``|·|`` their determinants and ``λ`` their largest eigenvalues (γ = 2).

Refined here (on the ≤ 384-px cue proxy the builtin segmenter works on):

- columns without sky are allowed: a column whose border is within a few rows of the top
  holds no sky;
- a colour model of the sky (CIELAB mean and covariance of the border's smooth sky
  pixels) then decides every pixel of the upper photo: sky where it is low-texture and
  within the model's colour range, connected to the border's sky — so sky seen between
  branches and beyond a column's first edge is kept, and a bright facade inside the
  sky part is not;
- whether the photo has a sky at all (indoors, close-ups, studio backdrops have none):
  :func:`sky_evidence` — from the sky part's share of the top edge, its brightness
  against the rest of the photo, its colour (daylight blue, grey-white, a dusk or night
  sky), its texture, the border energy and a portrait subject filling the frame —
  with thresholds fitted leave-one-photo-out on the hand-labelled tune photos only.

Clouds, haze and sunset skies are sky here (the builtin labeller names clouds apart).
Cost: ~25 thresholds × one column scan on the proxy, a few ms.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: Gradient thresholds tried (|∇L| units of :class:`~pertouch.tools.labels.Cues.grad`).
THRESHOLDS = np.geomspace(0.4, 12.0, 25)
#: Shen & Wang's weight of the sky part's covariance.
GAMMA = 2.0
#: A column whose border lies within this share of the height from the top has no sky.
MIN_COLUMN = 0.03
#: Sky pixels are within this squared Mahalanobis distance of the sky colour model…
MAX_COLOUR_D2 = 12.0
#: …and their local texture (mean |∇L| over a few pixels) is under this.
MAX_TEXTURE = 2.0
#: A photo whose sky evidence (see :func:`sky_evidence`) is under this has no sky (fitted
#: leave-one-photo-out on the tune photos by scripts/fit_sky.py: 18 of 19 right).
MIN_EVIDENCE = 0.44


@dataclass
class SkyResult:
    """What :func:`detect_sky` found on a proxy: ``mask`` bool ``(h, w)`` (empty when no
    sky), ``evidence`` in [0, 1] that the photo shows a sky at all, ``border`` the chosen
    per-column border (row index; 0 = no sky in that column), ``threshold`` the chosen
    gradient threshold and ``features`` the evidence's inputs (for reports and fitting)."""

    mask: np.ndarray
    evidence: float
    border: np.ndarray
    threshold: float
    features: dict[str, float]

    @property
    def present(self) -> bool:
        return self.evidence >= MIN_EVIDENCE and bool(self.mask.any())


def _ramp(x: float, lo: float, hi: float) -> float:
    return float(np.clip((x - lo) / (hi - lo), 0.0, 1.0))


def _hue_band(h: float, centre: float, half: float, fall: float) -> float:
    return 1 - _ramp(abs((h - centre + 180) % 360 - 180), half, half + fall)


def _stats(rgb: np.ndarray) -> np.ndarray:
    """Per pixel the 9 moments (r, g, b, rr, rg, rb, gg, gb, bb) as float64 ``(h, w, 9)``."""
    x = rgb.astype(np.float64)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    return np.stack([r, g, b, r * r, r * g, r * b, g * g, g * b, b * b], axis=2)


def _cov(s: np.ndarray, n: float) -> np.ndarray:
    m = s[:3] / n
    rr, rg, rb, gg, gb, bb = s[3:] / n
    second = np.array([[rr, rg, rb], [rg, gg, gb], [rb, gb, bb]])
    return second - np.outer(m, m)


def border_energy(cum: np.ndarray, total: np.ndarray, border: np.ndarray) -> float:
    """Shen & Wang's J for a per-column ``border`` given the column-cumulative moments
    ``cum`` ``(h + 1, w, 9)`` and the photo's ``total`` moments (9,)."""
    w = border.size
    sky = cum[border, np.arange(w)].sum(axis=0)
    ns = float(border.sum())
    ng = float(cum.shape[0] - 1) * w - ns
    if ns < 0.02 * ng or ng < 0.02 * ns:
        return 0.0
    cs, cg = _cov(sky, ns), _cov(total - sky, ng)
    det_s, det_g = max(np.linalg.det(cs), 0.0), max(np.linalg.det(cg), 0.0)
    ls, lg = np.linalg.eigvalsh(cs)[-1], np.linalg.eigvalsh(cg)[-1]
    return float(1.0 / (GAMMA * det_s + det_g + GAMMA * ls + lg + 1e-9))


def optimal_border(rgb: np.ndarray, grad: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Shen & Wang's border: per column the first row whose gradient exceeds the threshold
    that maximises :func:`border_energy`. Returns (border ``(w,)`` int, threshold, J)."""
    h, w = grad.shape
    mom = _stats(rgb / 255.0 * 100)
    cum = np.zeros((h + 1, w, 9), np.float64)
    np.cumsum(mom, axis=0, out=cum[1:])
    total = cum[-1].sum(axis=0)
    best = (np.zeros(w, np.int64), 0.0, 0.0)
    for t in THRESHOLDS:
        over = grad > t
        border = np.where(over.any(axis=0), over.argmax(axis=0), h)
        border[border < MIN_COLUMN * h] = 0
        j = border_energy(cum, total, border)
        if j > best[2]:
            best = (border, float(t), j)
    return best


def _refine(lab: np.ndarray, grad: np.ndarray, seed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sky colour model (Lab mean, inverse covariance) from the seed's smooth pixels,
    and every low-texture pixel within the model's colour range connected to the seed."""
    tex = cv2.blur(grad, (5, 5))
    core = seed & (tex < MAX_TEXTURE)
    if core.sum() < 20:
        core = seed
    px = lab[core].astype(np.float64)
    mean = px.mean(axis=0)
    cov = np.cov(px.T) + np.diag([4.0, 1.0, 1.0])  # floors: JPEG noise, haze
    inv = np.linalg.inv(cov)
    d = lab.reshape(-1, 3) - mean
    d2 = np.einsum("ij,jk,ik->i", d, inv, d).reshape(lab.shape[:2])
    # sky between branches: textured around it, but the very colour of the sky
    cand = ((d2 < MAX_COLOUR_D2) & (tex < MAX_TEXTURE)) | ((d2 < 0.25 * MAX_COLOUR_D2) & (tex < 2.5 * MAX_TEXTURE))
    n, cc = cv2.connectedComponents((cand | core).astype(np.uint8), connectivity=8)
    keep = np.zeros(n, bool)
    keep[np.unique(cc[core])] = True
    keep[0] = False
    return keep[cc], mean, d2


def sky_evidence(lab: np.ndarray, grad: np.ndarray, sky: np.ndarray, energy: float, grey: bool,
                 portrait: float) -> tuple[float, dict[str, float]]:
    """How sure a sky candidate ``sky`` (bool) is a real sky, in [0, 1], and its features.

    A sky spans much of the top edge, lies mostly in the upper photo, is brighter than
    the rest of it (or a dark, neutral night sky across the top), smooth, and daylight blue, grey-white or a dusk
    sky — not a warm, saturated or very dark backdrop; a portrait subject filling the
    frame before a plain backdrop lowers it (a studio board is plain and often blue).
    """
    h = sky.shape[0]
    if not sky.any() or sky.all():
        return 0.0, {}
    L, a, b = (float(lab[..., i][sky].mean()) for i in range(3))
    rest_L = float(lab[..., 0][~sky].mean())
    C = float(np.hypot(a, b))
    hue = float(np.degrees(np.arctan2(b, a)) % 360)
    top = float(sky[: max(1, h // 40)].any(axis=0).mean())
    tex = float(grad[sky].mean())
    centre = float(np.nonzero(sky)[0].mean() / h)
    f = {"L": L, "dL": L - rest_L, "C": C, "hue": hue, "top": top, "tex": tex, "area": float(sky.mean()),
         "energy": float(np.log10(energy + 1e-12)), "portrait": portrait, "centre": centre}
    neutral = 1.0 if grey else 1 - _ramp(C, 6, 14)
    blue = 0.0 if grey else _hue_band(hue, 262, 40, 25) * _ramp(C, 3, 8)
    warm = 0.0 if grey else _hue_band(hue, 60, 35, 30) * _ramp(C, 10, 20)
    # a night or dusk sky: dark, neutral or deep blue, across the top — but not a clipped,
    # noiseless black (a cut-out's backdrop)
    night = max(neutral, blue) * (1 - _ramp(L, 25, 40)) * _ramp(L, 2, 6) * _ramp(top, 0.7, 0.9)
    colour = float(np.clip(max(blue, neutral * _ramp(L, 35, 55), night) - warm, 0, 1))
    brighter = max(_ramp(f["dL"], -5, 10), night)
    smooth = 1 - _ramp(tex, 1.5, 3.0)
    high = 1 - _ramp(centre, 0.45, 0.56)  # a sky lies mostly in the upper photo
    reach = _ramp(top, 0.15, 0.4)
    daylight = max(blue * _ramp(L, 55, 70) * _ramp(C, 8, 15), neutral * _ramp(L, 84, 92))
    ev = reach * colour * brighter * smooth * high * (1 - portrait * (1 - daylight))
    return float(ev), f


def portrait_share(person_mask: np.ndarray, confidence: float) -> float:
    """How much the person cue is a portrait subject filling the frame to its top tenth, in [0, 1]."""
    if confidence < 0.5:
        return 0.0
    pm = person_mask > 0.5
    h = pm.shape[0]
    return _ramp(float(pm.mean()), 0.25, 0.4) * _ramp(float(pm[: max(2, h // 10)].any(axis=0).mean()), 0.05, 0.15)


def detect_sky(rgb: np.ndarray, lab: np.ndarray, grad: np.ndarray, *, grey: bool = False,
               person: np.ndarray | None = None, person_confidence: float = 0.0) -> SkyResult:
    """Find the sky on a proxy: ``rgb`` uint8 ``(h, w, 3)``, ``lab`` float32 CIELAB,
    ``grad`` |∇L| (as :func:`~pertouch.tools.labels.compute_cues` makes them); ``person``
    the person cue's soft mask (its pixels are never sky)."""
    h, w = grad.shape
    border, t, j = optimal_border(rgb, grad)
    rows = np.arange(h)[:, None]
    seed = rows < border[None, :]
    people = person > 0.5 if person is not None else np.zeros((h, w), bool)
    seed &= ~people
    empty = np.zeros((h, w), bool)
    if seed.sum() < 0.005 * h * w:
        return SkyResult(empty, 0.0, border, t, {"energy": float(np.log10(j + 1e-12))})
    mask, _, _ = _refine(lab, grad, seed)
    mask &= ~people
    portrait = portrait_share(person, person_confidence) if person is not None else 0.0
    ev, feats = sky_evidence(lab, grad, mask, j, grey, portrait)
    return SkyResult(mask if ev >= MIN_EVIDENCE else empty, ev, border, t, feats)
