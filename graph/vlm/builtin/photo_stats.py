"""Photo statistics for weak-optimize: what a photo's pixels say, and what it means.

:class:`PhotoStats` (luma percentiles, clipping, chroma, the greys' and the brightest
pixels' cast in CIE Lab) measured on the 512×512 measuring image; :class:`SceneIntent`
(high-key, low-key, night, warm light, monochrome: looks that are meant, not errors);
:func:`global_corrections` (the operator strengths that move a statistic part of the way
to its target, simulated with the engine's operators); :func:`measuring_image` (the
photo behind a scene, or why there is none). Used by
:mod:`pertouch.graph.vlm.builtin.optimize`; the rules are tabled there.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np



#: A region edit needs a label at least this sure ...
REGION_MIN_CONFIDENCE = 0.6
#: ... and a region at least this large (fraction of the photo).
REGION_MIN_AREA = 0.02
#: A rule moves its statistic this fraction of the way to its target.
FRACTION = 0.5

# Rule constants (luma Y in [0, 1], Lab a*/b*/chroma in CIE units).
HIGH_KEY_MEDIAN, HIGH_KEY_MAX_DARK = 0.6, 0.05
LOW_KEY_MEDIAN, LOW_KEY_MIN_DARK, LOW_KEY_LIT = 0.3, 0.45, (0.02, 0.35)
#: Night: median below NIGHT_MEDIAN and lights: the top 1 % above NIGHT_LIGHTS and NIGHT_CONTRAST × the median.
NIGHT_MEDIAN, NIGHT_LIGHTS, NIGHT_CONTRAST = 0.25, 0.5, 3.0
WARM_WHITE_B, WARM_MEDIAN_B, WARM_SKY = 5.0, 8.0, 0.3
MONO_CHROMA = 4.0
#: Underexposed: median below this with no bright part (Y95 below UNDER_TOP) ...
UNDER_MEDIAN, UNDER_TOP, MEDIAN_TARGET = 0.33, 0.75, 0.42
#: Flat: the 1–99 % luma spread below this; the target spread.
FLAT_SPREAD, SPREAD_TARGET = 0.75, 0.85
#: Dull: mean chroma below this (and above MONO_CHROMA); the target chroma.
DULL_CHROMA, CHROMA_TARGET = 14.0, 18.0
#: Oversaturated: mean chroma above this and this share of pixels both vivid (chroma > 70) and clipped.
LOUD_CHROMA, LOUD_CLIPPED, LOUD_TARGET = 45.0, 0.05, 40.0
#: Near-neutral pixels: chroma below this; a cast is read only when they cover NEUTRAL_SHARE of the photo ...
NEUTRAL_CHROMA, NEUTRAL_SHARE = 10.0, 0.10
#: ... and fixed only where the greys and the brightest pixels both lie beyond these |b*| / |a*|
#: the same way (a cast smaller than this is a mood, not an error; a colour only the greys
#: show is the subject's: a tabby's fur, foliage, a blue dusk sky).
CAST_B, CAST_A = 6.0, 6.0
#: A dull daylight sky: colourfulness level below this, brightness level above SKY_DAYLIGHT.
SKY_DULL, SKY_DAYLIGHT, SKY_GOAL = -0.4, -0.2, -0.2
#: A region paler than this colourfulness level gets no colour edit of its own: there a small
#: level step is a large chroma gain (+0.1 on china's hazy sky took ×1.5), and whatever the
#: mask's edge catches gets it too (the pagoda's finial turned neon orange). Haze has no
#: colour to bring out; the global edit reaches it anyway.
PALE = -0.65
#: A dark face: brightness level at least FACE_GAP below the photo's and below FACE_DARK.
FACE_GAP, FACE_DARK = 0.35, -0.2
#: The photo on disk no longer matches the scene's levels (edited earlier in the session) beyond this.
STALE = 0.06


@dataclass(frozen=True)
class PhotoStats:
    """What the rules look at, measured on the 512×512 measuring image.

    Luma ``y*`` is Rec. 709 luma of sRGB-encoded values in [0, 1] (``y50`` the median);
    ``dark``/``bright`` the shares of pixels with Y < 0.2 / Y > 0.55; ``clip_hi`` the share
    with a channel ≥ 0.99, ``clip_lo`` with Y ≤ 0.01. ``cast_a``/``cast_b`` the mean
    Lab a*/b* of the photo's greys (:func:`_neutral`) and ``neutral_share`` their share;
    ``white_a``/``white_b`` the mean a*/b* of the brightest 2 % of unclipped pixels; ``median_b`` the photo's median b*; ``chroma``
    the mean Lab chroma, ``loud`` the share of vivid (chroma > 70) clipped pixels;
    ``colorfulness`` Hasler–Süsstrunk M (0–255 units).
    """

    y01: float
    y05: float
    y50: float
    y95: float
    y99: float
    mean_y: float
    dark: float
    bright: float
    clip_hi: float
    clip_lo: float
    cast_a: float
    cast_b: float
    neutral_share: float
    white_a: float
    white_b: float
    median_b: float
    chroma: float
    loud: float
    colorfulness: float

    def summary(self) -> str:
        return (f"median luma {self.y50:.2f}, 1–99 % luma {self.y01:.2f}–{self.y99:.2f}, "
                f"mean chroma {self.chroma:.0f}"
                + (f", neutral greys at a* {self.cast_a:+.1f} b* {self.cast_b:+.1f}"
                   if self.neutral_share >= NEUTRAL_SHARE else ""))


def luma(rgb: np.ndarray) -> np.ndarray:
    """Rec. 709 luma of ``(..., 3)`` sRGB-encoded values."""
    return rgb @ np.array([0.2126, 0.7152, 0.0722], np.float32)


def lab(rgb: np.ndarray) -> np.ndarray:
    """``(..., 3)`` float sRGB in [0, 1] → CIE Lab (D65), L* 0–100, a*/b* about ±100."""
    import cv2

    flat = np.ascontiguousarray(np.clip(rgb, 0.0, 1.0).reshape(-1, 1, 3), np.float32)
    return cv2.cvtColor(flat, cv2.COLOR_RGB2Lab).reshape(np.shape(rgb))


def _neutral(L: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(mask, a*, b*) of the photo's greys: pixels within NEUTRAL_CHROMA of their own mean
    colour, found from chroma 20 inward (a grey under a cast is not grey, but it is near
    the other greys); L* 15–95."""
    ok = (L[:, 0] > 15.0) & (L[:, 0] < 95.0)
    c = np.zeros(2, np.float32)
    mask = ok & (np.hypot(L[:, 1], L[:, 2]) < NEUTRAL_CHROMA)
    for radius in (20.0, 14.0, NEUTRAL_CHROMA):
        m = ok & (np.hypot(L[:, 1] - c[0], L[:, 2] - c[1]) < radius)
        if m.sum() < 50:
            break
        mask, c = m, np.array([L[m, 1].mean(), L[m, 2].mean()], np.float32)
    return mask, float(c[0]), float(c[1])


def photo_stats(rgb: np.ndarray) -> PhotoStats:
    """:class:`PhotoStats` of float RGB ``(H, W, 3)`` in [0, 1].

    >>> grey = np.full((8, 8, 3), 0.5, np.float32)
    >>> s = photo_stats(grey); round(s.y50, 2), round(s.chroma, 1), s.neutral_share
    (0.5, 0.0, 1.0)
    """
    px = np.clip(rgb.reshape(-1, 3).astype(np.float32), 0.0, 1.0)
    y = luma(px)
    q = np.percentile(y, [1, 5, 50, 95, 99])
    L = lab(px)
    chroma = np.hypot(L[:, 1], L[:, 2])
    neutral, cast_a, cast_b = _neutral(L)
    hi = px.max(axis=1) >= 0.99
    pool = ~hi if (~hi).sum() >= 50 else np.ones_like(hi)
    top = pool & (y >= np.percentile(y[pool], 98))
    r, g, b = px[:, 0] * 255, px[:, 1] * 255, px[:, 2] * 255
    rg, yb = np.abs(r - g), np.abs(0.5 * (r + g) - b)
    m = float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))
    clipped = hi | (px.min(axis=1) <= 0.01)
    return PhotoStats(
        y01=float(q[0]), y05=float(q[1]), y50=float(q[2]), y95=float(q[3]), y99=float(q[4]),
        mean_y=float(y.mean()), dark=float((y < 0.2).mean()), bright=float((y > 0.55).mean()),
        clip_hi=float(hi.mean()), clip_lo=float((y <= 0.01).mean()),
        cast_a=cast_a, cast_b=cast_b,
        neutral_share=float(neutral.mean()),
        white_a=float(L[top, 1].mean()), white_b=float(L[top, 2].mean()), median_b=float(np.median(L[:, 2])),
        chroma=float(chroma.mean()), loud=float(((chroma > 70.0) & clipped).mean()), colorfulness=m)


# --- intent --------------------------------------------------------------------------

@dataclass(frozen=True)
class SceneIntent:
    """A look the photographer evidently meant: ``holds`` are the attributes left alone."""

    name: str
    why: str
    holds: tuple[str, ...]

    def note(self) -> str:
        return f"{self.name} ({self.why}): {', '.join(self.holds)} left alone"


def _sure(scene, label: str, min_area: float = REGION_MIN_AREA) -> list:
    return [r for r in scene.regions if r.label == label and r.confidence >= REGION_MIN_CONFIDENCE
            and r.area >= min_area]


def scene_intents(stats: PhotoStats, scene) -> list[SceneIntent]:
    """The evident intents of the photo (module table); ``scene`` lends its sky regions."""
    out: list[SceneIntent] = []
    skies = _sure(scene, "sky")
    if stats.y50 > HIGH_KEY_MEDIAN and stats.dark < HIGH_KEY_MAX_DARK:
        out.append(SceneIntent("high-key", f"median luma {stats.y50:.2f}, {100 * stats.dark:.0f} % dark pixels",
                               ("brightness", "contrast")))
    lo, hi = LOW_KEY_LIT
    if stats.y50 < LOW_KEY_MEDIAN and stats.dark > LOW_KEY_MIN_DARK and lo <= stats.bright <= hi:
        out.append(SceneIntent("low-key", f"{100 * stats.dark:.0f} % dark, a lit part of {100 * stats.bright:.0f} %",
                               ("brightness", "contrast")))
    elif stats.y50 < NIGHT_MEDIAN:
        lights = stats.y99 > max(NIGHT_LIGHTS, NIGHT_CONTRAST * stats.y50)
        dark_sky = any(r.levels.get("brightness", 0.0) < -0.3 and r.levels.get("temperature", 0.0) < 0.0 for r in skies)
        if lights or dark_sky:
            out.append(SceneIntent("night", "a dark photo with " + ("point lights" if lights else "a dark, cool sky"),
                                   ("brightness", "contrast", "temperature", "tint", "colorfulness")))
    warm_sky = [r for r in skies if r.levels.get("temperature", 0.0) > WARM_SKY]
    if warm_sky or (stats.white_b > WARM_WHITE_B and stats.median_b > WARM_MEDIAN_B):
        why = "a warm sky" if warm_sky else "warm highlights over a warm photo"
        out.append(SceneIntent("warm light", why + ", as at golden hour, sunset or under lamps", ("temperature", "tint")))
    if stats.chroma < MONO_CHROMA:
        out.append(SceneIntent("monochrome", f"mean chroma {stats.chroma:.1f}", ("colorfulness", "temperature", "tint")))
    return out


def held(intents: list[SceneIntent]) -> set[str]:
    return {a for i in intents for a in i.holds}


# --- global corrections: operator strengths ------------------------------------------

@dataclass(frozen=True)
class Correction:
    """One global rule's operator strength (:mod:`pertouch.engine.ops.operators` units) and why."""

    attribute: str
    strength: float
    why: str


def _bisect(f, target: float, lo: float, hi: float, steps: int = 24) -> float:
    """x in [lo, hi] with f(x) ≈ target for an increasing f."""
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        if f(mid) < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _sample(rgb: np.ndarray, n: int = 8192) -> np.ndarray:
    px = rgb.reshape(-1, 3)
    step = max(1, px.shape[0] // n)
    return np.ascontiguousarray(px[::step], np.float32)


def global_corrections(rgb: np.ndarray, stats: PhotoStats, intents: list[SceneIntent]) -> list[Correction]:
    """Exposure, contrast, saturation and white-balance strengths the photo's statistics call for."""
    from pertouch.engine.ops import operators as op

    hold = held(intents)
    px = _sample(rgb)
    out: list[Correction] = []
    # exposure: lift an underexposed photo (never darken: that greys clipped whites, and bright is often meant)
    if "brightness" not in hold and stats.y50 < UNDER_MEDIAN and stats.y95 < UNDER_TOP:
        goal = stats.y50 + FRACTION * (MEDIAN_TARGET - stats.y50)
        s = _bisect(lambda x: float(np.median(luma(op.apply(px, "brightness", x)))), goal, 0.0, 1.5)
        out.append(Correction("brightness", s, f"underexposed: median luma {stats.y50:.2f} → {goal:.2f}"))
    # contrast: stretch a flat tonal range a little
    spread = stats.y99 - stats.y01
    if "contrast" not in hold and spread < FLAT_SPREAD:
        goal = spread + FRACTION * (SPREAD_TARGET - spread)
        s = float(np.log2(goal / max(spread, 0.05)))
        out.append(Correction("contrast", s, f"flat: 1–99 % luma spread {spread:.2f} → {goal:.2f}"))
    # saturation: a dull photo a little more colour, a loud one a little less
    if "colorfulness" not in hold and MONO_CHROMA <= stats.chroma < DULL_CHROMA:
        goal = stats.chroma + FRACTION * (CHROMA_TARGET - stats.chroma)
        out.append(Correction("colorfulness", float(np.log2(goal / stats.chroma)),
                              f"dull: mean chroma {stats.chroma:.1f} → {goal:.1f}"))
    elif "colorfulness" not in hold and stats.chroma > LOUD_CHROMA and stats.loud > LOUD_CLIPPED:
        goal = stats.chroma + FRACTION * (LOUD_TARGET - stats.chroma)
        out.append(Correction("colorfulness", float(np.log2(goal / stats.chroma)),
                              f"oversaturated: mean chroma {stats.chroma:.0f}, {100 * stats.loud:.0f} % clipped colour"))
    # white balance: a cast the greys AND the brightest pixels agree on, half of the common part;
    # a warm cast is read as warm light (kept), so temperature only ever warms a cool photo
    if stats.neutral_share >= NEUTRAL_SHARE:
        neutral = px[_neutral(lab(px))[0]]
        common_b = min(-stats.cast_b, -stats.white_b)
        t = 0.0
        if "temperature" not in hold and common_b > CAST_B and len(neutral) >= 50:
            goal = stats.cast_b + FRACTION * common_b
            t = _bisect(lambda x: float(lab(op.apply(neutral, "temperature", x))[:, 2].mean()), goal, -2.0, 2.0)
            out.append(Correction("temperature", t, f"cool cast on the greys and whites: b* {stats.cast_b:+.1f} "
                                                    f"→ {goal:+.1f}"))
        sign = 1.0 if stats.cast_a > 0 else -1.0
        common_a = min(sign * stats.cast_a, sign * stats.white_a)
        if "tint" not in hold and common_a > CAST_A and len(neutral) >= 50:
            goal = stats.cast_a - sign * FRACTION * common_a
            base = op.apply(neutral, "temperature", t) if t else neutral
            # tint + = greener = lower a*: −a* increases with the strength
            k = _bisect(lambda x: -float(lab(op.apply(base, "tint", x))[:, 1].mean()), -goal, -2.0, 2.0)
            out.append(Correction("tint", k, f"{'magenta' if sign > 0 else 'green'} cast on the greys and whites: "
                                              f"a* {stats.cast_a:+.1f} → {goal:+.1f}"))
    return out


def tame_clipping(rgb: np.ndarray, strengths: dict[str, float]) -> dict[str, float]:
    """Scale the strengths down until they clip at most 0.5 % more pixels (a nudge never blows out)."""
    from pertouch.engine.ops import operators as op

    px = _sample(rgb)
    pivot = float(luma(px).mean())

    def clipped(x: np.ndarray) -> float:
        return float(((x.max(axis=1) >= 0.995) | (luma(x) <= 0.005)).mean())

    base = clipped(px)
    k = 1.0
    for _ in range(6):
        p = op.Params(**{a: k * s for a, s in strengths.items()}, pivot=pivot)
        if clipped(op.apply_chain(px, p)) <= base + 0.005:
            break
        k *= 0.7
    return {a: k * s for a, s in strengths.items()}


def simulate(rgb: np.ndarray, strengths: dict[str, float]) -> dict[str, float]:
    """Level shift of each attribute in ``strengths`` when the engine's operators apply them
    together (contrast about the mean luma, as the engine's solver does), measured the engine's way."""
    from pertouch.engine.ops import operators as op
    from pertouch.engine.measure.stats import measure_image_levels

    if not strengths:
        return {}
    names = list(strengths)
    p = op.Params(**strengths, pivot=float(luma(rgb.reshape(-1, 3)).mean()))
    before = measure_image_levels(rgb, attributes=names)
    after = measure_image_levels(apply_fast(rgb, p), attributes=names)
    return {a: after[a] - before[a] for a in names}


# --- the photo -------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _measuring_image(path: str, mtime_ns: int, size: int) -> np.ndarray:
    from pertouch.engine.io.read import load_image
    from pertouch.engine.measure.stats import measure_rgb

    rgb = (measure_rgb(load_image(path).pixels) / 255.0).astype(np.float32)
    rgb.setflags(write=False)
    return rgb


def measuring_image(scene) -> tuple[np.ndarray | None, str]:
    """The photo of ``scene`` as the 512×512 float measuring image, or (None, why not).

    None too when the file's levels differ from the scene's (the scene carries the
    levels after earlier edits in a session; the file is the original).
    """
    from pertouch.engine.schema.attributes import CORE_NAMES
    from pertouch.engine.measure.stats import measure_image_levels

    if not scene.image_path:
        return None, "no photo to measure"
    p = Path(scene.image_path)
    try:
        st = p.stat()
        rgb = _measuring_image(str(p), st.st_mtime_ns, st.st_size)
    except Exception as exc:  # InputError, OSError: plan from the levels instead
        return None, f"the photo could not be read ({exc})"
    lv = measure_image_levels(rgb, attributes=CORE_NAMES)
    gap = max((abs(lv[a] - scene.global_levels[a]) for a in CORE_NAMES if a in scene.global_levels), default=0.0)
    if gap > STALE:
        return None, "the photo was already edited in this session"
    return rgb, ""


def apply_fast(rgb: np.ndarray, p) -> np.ndarray:
    """The engine's compiled per-pixel transform of :class:`~pertouch.engine.ops.operators.Params`
    ``p`` (what the parametric engine applies: per-channel LUT → 3×3 matrix → soft clip, after
    clarity) on float RGB ``(H, W, 3)`` in [0, 1] → same, float32."""
    from pertouch.engine.ops import operators as op

    x = rgb.astype(np.float32) if not p.clarity else op.clarity(rgb.astype(np.float32), p.clarity)
    t = op.compile_transform(p, 1024)
    n = t.lut.shape[1]
    pos = np.clip(x, 0.0, 1.0) * (n - 1)
    i0 = np.minimum(pos.astype(np.int32), n - 2)
    f = pos - i0
    v = np.empty_like(x)
    for c in range(3):
        lut = t.lut[c]
        v[..., c] = lut[i0[..., c]] * (1.0 - f[..., c]) + lut[i0[..., c] + 1] * f[..., c]
    return op.soft_clip(v @ t.matrix.T, *t.margins).astype(np.float32)
