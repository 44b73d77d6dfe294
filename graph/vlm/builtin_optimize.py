"""Weak-optimize ("make it look better", "enhance", "fix the colours"): a restrained plan.

:func:`optimize_plan` ``(scene, prefs=None, regions=None) -> OptimizePlan`` (``.edits``:
``by`` shifts; ``.notes``: what each edit corrects, what was left as meant, the statistics).

A photographer's "make it better" is a nudge, not a re-grade. So:

1. **Global first**, from the photo's own statistics (:class:`PhotoStats`, measured on
   the photo at ``scene.image_path`` resized to the 512×512 measuring image): luma
   percentiles and clipping (exposure: only ever lifted; tonal spread: only ever
   stretched), a grey-world cast of the photo's greys and a white patch in CIE Lab
   (white balance: fixed only where both agree, and a warm cast is read as warm
   light, so temperature only ever warms a cool daylight photo), the mean chroma
   (saturation: a dull photo more, a loud clipped one less). Each rule names a target for
   a statistic and moves :data:`FRACTION` of the way there; the operator strength
   that does so is simulated with the engine's own operators
   (:mod:`pertouch.engine.operators`) and the level it lands on is measured the
   engine's way, so the plan's ``by`` shifts are what the engine will render.
2. **Caps**: a global shift is at most :data:`GLOBAL_CAP` (0.15) per attribute and a
   region's at most :data:`REGION_CAP` (0.10) beyond the global shift under it.
   Levels are quantiles of expert-retouched photos ([−1, 1] spans them all), so 0.15
   moves a photo past about 7 % of them — a visible but quiet correction (the issue's
   cat got +0.47 contrast: past a quarter of them); a region edit has an edge where it
   meets the rest of the photo, so it gets less. Shifts under :data:`MIN_EDIT` are
   dropped (nobody would see them).
3. **Evident intent is not an error** (:class:`SceneIntent`, rules below): the
   attributes an intent explains are left alone and the plan's notes say so.

   =============  ==============================================  ==================
   intent         rule (luma Y in [0, 1], Lab a*/b*)               left alone
   =============  ==============================================  ==================
   high-key       median Y > 0.6, < 5 % of pixels below Y 0.2      brightness, contrast
   low-key        median Y < 0.3, > 45 % below Y 0.2, a lit part:  brightness, contrast
                  2–35 % above Y 0.55
   night          median Y < 0.25 and lights (Y99 > 0.5 and >      all: brightness,
                  3 × the median) or a dark, cool sky region       contrast, white
                                                                   balance, saturation
   warm light     the brightest pixels warm (b* > 5) over a warm   white balance
                  photo (median b* > 8), or a sure sky region
                  warmer than level 0.3: golden hour, sunset,
                  lamplight
   monochrome     mean chroma < 4                                  saturation, white
                                                                   balance
   =============  ==============================================  ==================

4. **Regions** only where a region clearly needs it and its label is sure
   (confidence ≥ :data:`REGION_MIN_CONFIDENCE`): a dull daylight sky gets a little
   colour (not a hazy white one: :data:`PALE`), a face well darker than the photo a
   little light. No temperature or tint edit of a region's own (a remembered taste may
   ask for one), and region shifts never go against the global shift or against each
   other (:func:`one_way`): opposite colour shifts on neighbours make seams.
5. **Nothing to fix** → no edits; the notes say the photo is already balanced.

Without a readable photo (no ``image_path``, or a photo edited earlier in the
session so the file no longer matches the levels) the rules fall back to the levels
alone, more timidly: only levels far below the expert range are lifted.
Remembered preferences pull an attribute toward the preferred level (capped the
same way), except attributes an intent holds.

The styles' restraint lives here too (:func:`gentle_global`, :func:`one_way`,
:func:`region_temperature_step`): operator strengths chosen on the photo and the levels
planned from them, so a look can be strong without clipping, tinting whites or pushing
neighbouring regions opposite ways.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

#: A global shift of one attribute is at most this (level units).
GLOBAL_CAP = 0.15
#: A region's shift of one attribute is at most this.
REGION_CAP = 0.10
#: Shifts smaller than this are dropped.
MIN_EDIT = 0.03
#: A region edit needs a label at least this sure ...
REGION_MIN_CONFIDENCE = 0.6
#: ... and a region at least this large (fraction of the photo).
REGION_MIN_AREA = 0.02
#: A rule moves its statistic this fraction of the way to its target.
FRACTION = 0.5
#: A face needs only this much of the photo (faces are small).
FACE_MIN_AREA = 0.005
#: How far a remembered preference of weight 1 pulls an attribute's goal (0 → the preferred level) ...
PREF_PULL = 0.7
#: ... and the part of the way to it one request moves (then capped like every shift).
PREF_STEP = 0.7

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
    """One global rule's operator strength (:mod:`pertouch.engine.operators` units) and why."""

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
    from pertouch.engine import operators as op

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


def _tame_clipping(rgb: np.ndarray, strengths: dict[str, float]) -> dict[str, float]:
    """Scale the strengths down until they clip at most 0.5 % more pixels (a nudge never blows out)."""
    from pertouch.engine import operators as op

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
    from pertouch.engine import operators as op
    from pertouch.engine.measure import measure_image_levels

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
    from pertouch.engine.io import load_image
    from pertouch.engine.measure import measure_rgb

    rgb = (measure_rgb(load_image(path).pixels) / 255.0).astype(np.float32)
    rgb.setflags(write=False)
    return rgb


def measuring_image(scene) -> tuple[np.ndarray | None, str]:
    """The photo of ``scene`` as the 512×512 float measuring image, or (None, why not).

    None too when the file's levels differ from the scene's (the scene carries the
    levels after earlier edits in a session; the file is the original).
    """
    from pertouch.engine.attributes import CORE_NAMES
    from pertouch.engine.measure import measure_image_levels

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


# --- gentle global shifts: the styles' restraint (the planner's _style uses it) ------------

#: A plan may newly clip at most this share of the photo (the critic's defect limit is 2 % of a
#: 256-px preview; half of it leaves room for the full-size render).
CLIP_BUDGET = 0.01
#: A level moves at most its cap by its own operator, and at most this many times the cap with the
#: other operators' coupling (a darker photo has darker shadows; a warmer one measures more colourful).
COUPLED = 2.0
#: How far (Lab |b*|) a look may tint the photo's whites: a white that turns clearly blue or
#: yellow reads as a colour cast, not as light.
WHITE_CAST = 12.0
#: Shifts that can blow or crush pixels (colour amount only upward: taking colour out never
#: clips anything that was not at the edge already).
TONE = ("brightness", "contrast", "highlights", "shadows", "colorfulness")


def newly_clipped(before: np.ndarray, after: np.ndarray) -> float:
    """Share of pixels blown (two channels ≥ 252) or crushed (all channels ≤ 3) in ``after``
    that were not in ``before``; uint8 ``(H, W, 3)`` each."""
    def clipped(x: np.ndarray) -> np.ndarray:
        s = np.sort(x.reshape(-1, 3), axis=1)
        return (s[:, 1] >= 252) | (s[:, 2] <= 3)

    return float((clipped(after) & ~clipped(before)).mean())


def apply_fast(rgb: np.ndarray, p) -> np.ndarray:
    """The engine's compiled per-pixel transform of :class:`~pertouch.engine.operators.Params`
    ``p`` (what the parametric engine applies: per-channel LUT → 3×3 matrix → soft clip, after
    clarity) on float RGB ``(H, W, 3)`` in [0, 1] → same, float32."""
    from pertouch.engine import operators as op

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


def white_b(rgb: np.ndarray) -> float:
    """Mean Lab b* of the brightest 2 % of the unclipped pixels of float RGB ``(H, W, 3)``:
    how yellow (+) or blue (−) the photo's whites look."""
    px = rgb.reshape(-1, 3)
    pool = px[px.max(axis=1) < 0.99]
    if len(pool) < 50:
        pool = px
    y = luma(pool)
    return float(lab(pool[y >= np.percentile(y, 98)])[:, 2].mean())


def gentle_global(scene, shifts: dict[str, float], strength_caps: dict[str, tuple[float, float]],
                  directions: dict[str, int] | None = None, level_caps: dict[str, float] | None = None,
                  white_cast: float = WHITE_CAST) -> tuple[dict[str, float], dict[str, str]]:
    """Global ``by`` shifts the engine renders gently on this photo: (shifts, attribute → why changed).

    Level units are not physical units, and levels are coupled. Where a photo sits on a
    scale decides how strong an operator a level step takes (+0.3 temperature was 240
    mired on the flower — a tungsten cast; +0.25 contrast near the top of the scale blew
    70 % of china's hazy sky), and several level targets solved jointly let one edit pay
    for another (warming raises the colourfulness level, so "warmer and more colourful"
    was solved as warmer and DEsaturated, with contrast and exposure compensating;
    clamping one coupled target sent highlights to +0.94 against contrast −0.75). So the
    operators are chosen first and the levels follow from them, on the photo's
    measuring image:

    1. each shift is solved alone by the engine (:meth:`ParametricEngine.plan`) into an
       operator strength, clamped to ``strength_caps[attr]`` = (most down, most up);
    2. the strengths are applied together with the engine's operators and scaled back,
       each limit by the operators that break it (bisection for the largest share that
       keeps it): a level past ``level_caps[attr]`` by that attribute's own operator
       first; the temperature while the photo's whites (:func:`white_b`, when the
       brightest pixels are whites at all) would turn past b* ±``white_cast``; the tone
       operators (:data:`TONE`) while more than CLIP_BUDGET of the photo would be newly
       clipped; all of them while coupling takes a level past :data:`COUPLED` × its cap. An operator
       whose measured level comes out against ``directions[attr]`` (contrast taken down
       lowers the measured warmth of a warm photo) is left out and the limits checked
       again;
    3. the shifts returned are the level changes measured on that result, for exactly
       the operators kept: a consistent set of targets, which the engine's joint solve
       meets with those same strengths (checked on china, coffee and the flower: within
       0.06). Shifts of operators left out are 0 and should be left out of the plan.

    Without a readable photo the shifts come back as they are.
    """
    from pertouch.engine import operators as op
    from pertouch.engine.measure import measure_image_levels
    from pertouch.engine.parametric import ParametricEngine
    from pertouch.engine.recipe import Recipe

    rgb, _ = measuring_image(scene)
    if rgb is None or not any(shifts.values()):
        return shifts, {}
    img = (rgb * 255.0 + 0.5).astype(np.uint8)
    engine = ParametricEngine()
    notes: dict[str, str] = {}
    st: dict[str, float] = {}
    for a, v in shifts.items():
        if not v:
            continue
        plan = engine.plan(img, Recipe.model_validate({"global": {"attributes": {a: {"by": v}}}}), {})
        s0 = float(getattr(plan.layers[0].params, a)) if plan.layers else 0.0
        lo, hi = strength_caps.get(a, (-np.inf, np.inf))
        if not lo <= s0 <= hi:
            s0 = float(np.clip(s0, lo, hi))
            notes[a] = "held to a gentle strength on this photo"
        st[a] = s0
    pivot = float(luma(rgb.reshape(-1, 3)).mean())
    names = list(st)
    if not names:
        return {a: 0.0 for a in shifts}, notes
    before = measure_image_levels(rgb, attributes=names)
    w0 = white_b(rgb)
    whites_apply = abs(w0) <= white_cast  # the brightest pixels are whites, not a bright coloured subject
    caps = level_caps or {}

    def render(strengths: dict[str, float]) -> np.ndarray:
        return apply_fast(rgb, op.Params(**strengths, pivot=pivot))

    def levels(out: np.ndarray) -> dict[str, float]:
        after = measure_image_levels(out, attributes=names)
        return {a: after[a] - before[a] for a in names}

    def clips(out: np.ndarray) -> bool:
        return newly_clipped(img, (out * 255.0 + 0.5).astype(np.uint8)) > CLIP_BUDGET

    def tints_whites(out: np.ndarray, t: float) -> bool:
        w = white_b(out)
        return whites_apply and ((t < 0 and w < -white_cast) or (t > 0 and w > white_cast))

    def over_caps(out: np.ndarray) -> bool:  # with the others' coupling: twice the cap at most
        d = levels(out)
        return any(st[a] and a in caps and abs(d[a]) > COUPLED * caps[a] for a in names)

    def shrink(group: list[str], broken, why: str) -> None:
        """Scale the strengths of ``group`` by the largest share (bisection) for which ``broken`` is false."""
        nonlocal st
        group = [a for a in group if st.get(a)]
        if not group or not broken(render(st)):
            return
        full = dict(st)
        lo, hi = 0.0, 1.0
        for _ in range(6):
            mid = 0.5 * (lo + hi)
            trial = {a: (mid * v if a in group else v) for a, v in full.items()}
            if broken(render(trial)):
                hi = mid
            else:
                lo = mid
        st = {a: (lo * v if a in group else v) for a, v in full.items()}
        for a in group:
            notes[a] = f"{'scaled to ' + format(lo, '.0%') if lo else 'left out'} to keep {why}"

    for _ in range(4):  # a level past its cap: that attribute's own operator less, first
        d = levels(render(st))
        own = [a for a in names if abs(st[a]) > 0.02 and a in caps and abs(d[a]) > caps[a] + 0.004]
        if not own:
            break
        for a in own:
            st[a] *= max(0.3, (caps[a] - 0.004) / abs(d[a]))
            notes[a] = "held to the style's cap"
    for attempt in range(2):
        shrink(["temperature"], lambda out: tints_whites(out, st.get("temperature", 0.0)),
               f"the photo's whites within b* ±{white_cast:g}")
        shrink([a for a in TONE if st.get(a) and not (a == "colorfulness" and st[a] < 0)], clips,
               f"no more than {CLIP_BUDGET:.0%} of the photo newly clipped")
        shrink(names, over_caps, f"every level within {COUPLED:g}× the style's caps")  # what coupling adds
        d = levels(render(st))
        against = [a for a in names if st[a] and (directions or {}).get(a, 0) * d[a] < -0.005]
        if not against:
            break
        for a in against:  # coupling moves these the other way: leave their operators out, look again
            st[a] = 0.0
            notes[a] = "left out: the other edits move it the other way"
    d = levels(render(st))
    return {a: round(d.get(a, 0.0), 3) if st.get(a) else 0.0 for a in shifts}, notes


# --- the plan --------------------------------------------------------------------------

@dataclass
class OptimizePlan:
    """What :func:`optimize_plan` decided: edits, and notes saying why (or why nothing)."""

    edits: list = field(default_factory=list)
    kept: list[str] = field(default_factory=list)   # intents: what was left alone and why
    basis: str = ""                                 # the statistics, or why only levels were used

    @property
    def notes(self) -> str:
        if self.edits:
            text = "; ".join(f"{e.region} {e.attribute} {e.by:+.2f} ({e.reason})" for e in self.edits)
        else:
            text = "the photo is already well exposed and balanced, so there is nothing to change"
        if self.kept:
            text += "; kept as meant: " + "; ".join(self.kept)
        if self.basis:
            text += f"; measured: {self.basis}"
        return text


def _cap(v: float, cap: float) -> float:
    return float(max(-cap, min(cap, v)))


def _goal(prefs: dict, label: str, attr: str, pull: float) -> float | None:
    level, weight = prefs.get(label, {}).get(attr, (0.0, 0.0))
    return pull * weight * level if weight > 0 else None


def _global(scene, prefs: dict, rgb: np.ndarray | None, stats: PhotoStats | None,
            intents: list[SceneIntent], pull: float) -> tuple[dict[str, float], dict[str, str]]:
    """Global level shifts (capped) and their reasons."""
    shifts: dict[str, float] = {}
    why: dict[str, str] = {}
    hold = held(intents)
    if rgb is not None and stats is not None:
        corr = global_corrections(rgb, stats, intents)
        strengths = _tame_clipping(rgb, {c.attribute: c.strength for c in corr})
        for a, d in simulate(rgb, strengths).items():
            shifts[a] = _cap(d, GLOBAL_CAP)
            why[a] = next(c.why for c in corr if c.attribute == a)
    else:  # levels only: lift what is far below every expert photo, nothing else
        lv = scene.global_levels
        for a, floor in (("brightness", -0.6), ("contrast", -0.6), ("colorfulness", -0.6)):
            m = lv.get(a)
            if m is not None and m < floor and not (a == "colorfulness" and m < -1.2):  # < −1.2: monochrome
                shifts[a] = _cap(FRACTION * (floor + 0.3 - m), GLOBAL_CAP)
                why[a] = f"{a} level {m:+.2f} far below the expert range"
    for a in list(prefs.get("global", {})):
        goal, m = _goal(prefs, "global", a, pull), scene.global_levels.get(a)
        if goal is None or m is None or a in hold or abs(m - goal) <= 0.1:
            continue
        shifts[a] = _cap(PREF_STEP * (goal - m), GLOBAL_CAP)
        why[a] = f"{a} toward your remembered taste ({goal:+.2f})"
    return {a: round(v, 3) for a, v in shifts.items() if abs(v) >= MIN_EDIT}, why


def _region_extra(r, scene, stats: PhotoStats | None, hold: set[str], named: bool) -> dict[str, tuple[float, str]]:
    """A region's own shifts on top of the global ones: a dull daylight sky, a dark face
    (and, when the person named the region, levels far below the expert range)."""
    out: dict[str, tuple[float, str]] = {}
    lv, g = r.levels, scene.global_levels
    mono = stats is not None and stats.chroma < MONO_CHROMA
    if r.label in ("sky", "clouds"):
        c, b, t = lv.get("colorfulness"), lv.get("brightness", 0.0), lv.get("temperature", 0.0)
        if (c is not None and PALE <= c < SKY_DULL and b > SKY_DAYLIGHT and t <= WARM_SKY
                and not {"colorfulness"} & hold and not mono):
            out["colorfulness"] = (min(REGION_CAP, FRACTION * (SKY_GOAL - c)), f"dull daylight sky (colour {c:+.2f})")
        return out
    if r.label in ("face", "skin") or (named and r.label == "person"):
        b, gb = lv.get("brightness"), g.get("brightness", 0.0)
        if b is not None and b < FACE_DARK and (named or b < gb - FACE_GAP) and "brightness" not in hold:
            goal = max(gb - 0.15, FACE_DARK) if not named else 0.0
            out["brightness"] = (min(REGION_CAP, FRACTION * (goal - b)), f"dark {r.label} (brightness {b:+.2f})")
        return out
    if named:
        for a, floor in (("brightness", -0.5), ("contrast", -0.5), ("colorfulness", -0.4)):
            m = lv.get(a)
            if m is not None and m < floor and a not in hold and not (a == "colorfulness" and (mono or m < -1.2)):
                out[a] = (min(REGION_CAP, FRACTION * (floor + 0.3 - m)), f"{a} level {m:+.2f} low")
    return out


#: A region's own temperature step may ask for at most this many mired, as the level table
#: reads it (the engine needs more still): near the warm end of the scale a small level step
#: is a strong white-balance shift, and on a region alone it reads as a filter over it (+0.05
#: on the astronaut, measured at +0.67, turned her face and hair yellow inside a visible outline).
REGION_MIRED = 15.0


def region_temperature_step(level: float, step: float) -> float:
    """``step`` shrunk so that moving a region's temperature level from ``level`` asks, by the
    level table, at most REGION_MIRED of white balance; 0 when even a hundredth asks more."""
    from pertouch.engine.levels import default_table

    scale = default_table()["temperature"]

    def mired(lv: float) -> float:
        return 1e6 / -float(scale.to_raw(lv))

    m0 = mired(level)
    if abs(mired(level + step) - m0) <= REGION_MIRED:
        return step
    lo, hi = 0.0, 1.0
    for _ in range(12):
        mid = 0.5 * (lo + hi)
        if abs(mired(level + mid * step) - m0) <= REGION_MIRED:
            lo = mid
        else:
            hi = mid
    return round(lo * step, 3) if abs(lo * step) >= 0.01 else 0.0


def one_way(edits: list, area: dict[str, float]) -> list:
    """Region ``by`` shifts that never pull against each other or against the whole photo.

    A region shift the other way from the photo's shift of the same attribute is
    dropped (the region follows the photo: holding it would draw a seam as strong as the
    photo's shift — kodachrome's held sky over a warmed horizon read as a yellow band);
    where the photo has no shift of an attribute, the region shifts of it all go the way
    of the larger total area and the others are dropped. Neighbours pushed opposite ways meet in a seam (the issue's
    blotches: temperature −0.23 on one region, −0.36 on the next, +0.2 on a third).
    """
    from pertouch.graph.vlm.schemas import GLOBAL

    g = {e.attribute: e.by for e in edits if e.region == GLOBAL and e.by}
    out = [e for e in edits
           if e.region == GLOBAL or e.by is None or g.get(e.attribute, 0.0) * e.by >= 0]
    for attr in {e.attribute for e in out if e.region != GLOBAL and e.attribute not in g}:
        mine = [e for e in out if e.region != GLOBAL and e.attribute == attr and e.by]
        up = sum(area.get(e.region, 0.0) for e in mine if e.by > 0)
        down = sum(area.get(e.region, 0.0) for e in mine if e.by < 0)
        out = [e for e in out if e.region == GLOBAL or e.attribute != attr or not e.by or (e.by > 0) == (up >= down)]
    return out


def optimize_plan(scene, prefs: dict | None = None, regions: list[str] | None = None,
                  pull: float = PREF_PULL) -> OptimizePlan:
    """The weak-optimize plan for ``scene`` (a :class:`SceneInfo`).

    ``prefs`` are normalised preferences (``label → attr → (level, weight)``);
    ``regions`` the region names the request is limited to ("make the sky look
    better"), None for the whole photo. Edits are ``by`` shifts, global ones within
    ±GLOBAL_CAP, region ones within ±REGION_CAP of the global shift under them.
    """
    from pertouch.graph.vlm.schemas import GLOBAL, PlanEdit

    prefs = prefs or {}
    plan = OptimizePlan()
    rgb, missing_photo = measuring_image(scene)
    stats = photo_stats(rgb) if rgb is not None else None
    intents = scene_intents(stats, scene) if stats is not None else []
    plan.kept = [i.note() for i in intents]
    plan.basis = stats.summary() if stats is not None else f"levels only: {missing_photo}"
    hold = held(intents)
    area = {r.name: r.area for r in scene.regions}

    shifts: dict[str, float] = {}
    if not regions or GLOBAL in regions:
        shifts, why = _global(scene, prefs, rgb, stats, intents, pull)
        for a, v in shifts.items():
            plan.edits.append(PlanEdit(region=GLOBAL, attribute=a, by=v, reason=why[a]))
    targets = ([scene.region(n) for n in regions if n != GLOBAL] if regions else
               [r for r in scene.regions if r.confidence >= REGION_MIN_CONFIDENCE
                and r.area >= (FACE_MIN_AREA if r.label == "face" else REGION_MIN_AREA)])
    for r in (t for t in targets if t is not None):
        extra = _region_extra(r, scene, stats, hold, named=bool(regions))
        for a in prefs.get(r.label, {}):
            goal, m = _goal(prefs, r.label, a, pull), r.levels.get(a)
            if goal is not None and m is not None and a not in hold and abs(m + shifts.get(a, 0.0) - goal) > 0.1:
                extra[a] = (_cap(PREF_STEP * (goal - m - shifts.get(a, 0.0)), REGION_CAP),
                            f"{r.label} {a} toward your remembered taste ({goal:+.2f})")
        for a, (v, why) in extra.items():
            g = shifts.get(a, 0.0)
            v = _cap(v, REGION_CAP)
            if a == "temperature":
                v = region_temperature_step(r.levels.get(a, 0.0) + g, v)
            if abs(v) < MIN_EDIT or g * v < 0:  # too small to see, or against the global shift
                continue
            plan.edits.append(PlanEdit(region=r.name, attribute=a, by=round(g + v, 3), reason=why))
    plan.edits = one_way(plan.edits, area)
    return plan
