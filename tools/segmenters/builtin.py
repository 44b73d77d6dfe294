"""The builtin segmenter: superpixels → labelled, merged regions. No weights needed.

On a ≤ 384-px proxy: SLIC superpixels (Lab distance, 3 iterations), each superpixel
scored by :func:`pertouch.tools.labels.class_scores`; the person cue (selfie
model gated by face/shape, :mod:`pertouch.tools.person`) overrides per pixel;
sky pieces below the horizon that do not reach the top edge become water or their
next-best label, and water that continues the sky's colour is sky; an implausible sky
(a studio backdrop, a facade) gives its superpixels their next-best label; water needs
a sky in the photo; ground must reach the bottom edge; tiny islands join their
neighbours; "other" splits by colour, the person into far-apart people, stuff stays one
region per label. The result is a partition of the proxy into a handful of labelled
segments with confidences (mean top-class probability, low when labels compete, scaled
down for small regions, mapped to the probability that the label is right by
:func:`pertouch.tools.labels.calibrate`).
"""

from __future__ import annotations

import cv2
import numpy as np

from pertouch.tools.boundary import absorb_small, refine_labels, sky_band
from pertouch.tools.labels import (LABELS, Cues, calibrate, class_scores, compute_cues, confidence_of, group_features,
                                   softmax)
from pertouch.tools.segmentation import Segment, Segmenter
from pertouch.tools.segmenters.slic import slic_lab

SKY, CLOUDS, WATER, VEGETATION, PERSON, GROUND, OTHER = (
    LABELS.index(n) for n in ("sky", "clouds", "water", "vegetation", "person", "ground", "other"))
#: Islands smaller than this fraction of the image join a neighbour.
MIN_AREA = 0.004
#: The person label's disconnected parts become separate regions when each is at least
#: this large (stuff labels stay one region each).
SPLIT_AREA = 0.08
#: A sky less plausible than this (see :func:`sky_plausibility`) takes its next-best labels.
SKY_MIN_PLAUSIBILITY = 0.35
#: A region's raw confidence is scaled by area / (area + AREA_PRIOR): sky, foliage or
#: ground seen on 1 % of the photo (a green bowl, a cat's eyes) is half as sure.
AREA_PRIOR = 0.01
#: A ground component covers at least this share of the photo's bottom edge (people aside).
GROUND_MIN_BOTTOM = 0.25


def superpixels(cues: Cues, n_segments: int = 800) -> tuple[np.ndarray, int]:
    """SLIC superpixel ids ``(h, w)`` int32 and their count.

    As ``skimage.segmentation.slic(rgb, n_segments, compactness=10, max_num_iter=3)``
    (which stretches the photo to [0, 1] before converting it to Lab), by
    :func:`~pertouch.tools.segmenters.slic.slic_lab` (the same superpixels given the
    same Lab image; OpenCV's Lab differs from skimage's by < 0.4), in half the time and
    without importing ``scipy.cluster``.
    """
    h, w = cues.lab.shape[:2]
    if h * w < 256:
        return np.zeros((h, w), np.int32), 1
    rgb = cues.rgb.astype(np.float32)
    lo, hi = float(rgb.min()), float(rgb.max())
    rgb = (rgb - lo) / (hi - lo) if hi > lo else rgb * 0
    return slic_lab(cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab), n_segments, compactness=10, max_iter=3)


def _components(mask: np.ndarray) -> tuple[int, np.ndarray]:
    n, cc = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    return n, cc


def _fix_sky(labels: np.ndarray, scores: np.ndarray, sp: np.ndarray, conf_px: np.ndarray) -> None:
    """Sky must reach the top edge; detached sky below the horizon takes its next-best label
    (and that label's probability as confidence); clouds need a sky."""
    sky = labels == SKY
    if not sky.any() or sky[: max(1, labels.shape[0] // 40)].sum() == 0:
        _next_best(labels, (labels == SKY) | (labels == CLOUDS), scores, sp, conf_px, (SKY, CLOUDS))
        return
    n, cc = _components(sky)
    top_ids = set(np.unique(cc[: max(1, labels.shape[0] // 40)][sky[: max(1, labels.shape[0] // 40)]]))
    main = np.isin(cc, list(top_ids)) & sky
    horizon = np.percentile(np.nonzero(main)[0], 90) if main.any() else -1
    for i in range(1, n):
        if i in top_ids:
            continue
        comp = cc == i
        if np.nonzero(comp)[0].mean() > horizon:
            alt = scores[sp[comp]]
            alt[:, SKY] = -np.inf
            k = int(alt.mean(axis=0).argmax())
            labels[comp] = k
            conf_px[comp] = confidence_of(softmax(alt)[:, k])


def _split_horizon(labels: np.ndarray, cues: Cues, prob: np.ndarray | None = None, sp: np.ndarray | None = None,
                   conf_px: np.ndarray | None = None) -> None:
    """Water seen through haze merges with the sky; a textured shoreline band across the
    sky separates them. Sky below such a band, darker than above it, becomes water (in a
    grey photo, where water and a far field look alike, ground), as sure as its
    superpixels are sky-like (sky, clouds or water) when ``prob``/``sp``/``conf_px`` are given."""
    sky = labels == SKY
    h = labels.shape[0]
    count = sky.sum(axis=1)
    if count.max() == 0:
        return
    tex = ((cues.grad > 1.0) & sky).sum(axis=1) / np.maximum(count, 1)
    tex = np.convolve(tex, np.ones(3) / 3, mode="same")
    wide = count >= 0.3 * count.max()
    L = cues.lab[..., 0]
    for r in range(int(0.25 * h), int(0.85 * h)):
        if not (wide[r] and tex[r] > 0.45 and tex[max(0, r - 20): r - 8].max(initial=0.0) < 0.3):
            continue
        below = sky.copy()
        below[:r] = False
        if below.mean() < 0.02:
            return
        above = sky.copy()
        above[r:] = False
        if L[above].mean() - L[below].mean() >= 4:
            labels[below] = LABELS.index("ground") if cues.grey else WATER
            if prob is not None and sp is not None and conf_px is not None:
                # the band says which of the two a sky-like surface is: as sure as it is sky-like
                conf_px[below] = confidence_of(prob[sp[below]][:, [SKY, CLOUDS, WATER]].sum(axis=1))
        return


def _ramp(x: float, lo: float, hi: float) -> float:
    return float(np.clip((x - lo) / (hi - lo), 0.0, 1.0))


def _hue_band(h: float, centre: float, half: float, fall: float) -> float:
    """1 within ``half`` degrees of ``centre``, falling to 0 over ``fall`` more."""
    return 1 - _ramp(abs((h - centre + 180) % 360 - 180), half, half + fall)


def _mask_colour(cues: Cues, mask: np.ndarray) -> tuple[float, float, float, float]:
    """Mean L, chroma, hue (degrees) and texture of ``mask``'s pixels, as
    :func:`~pertouch.tools.labels.group_features` defines them (without its full-frame passes)."""
    L, a, b = (float(cues.lab[..., i][mask].mean(dtype=np.float64)) for i in range(3))
    tex = float(cues.grad[mask].mean(dtype=np.float64))
    return L, float(np.hypot(a, b)), float(np.degrees(np.arctan2(b, a)) % 360), tex


def sky_plausibility(cues: Cues, sky: np.ndarray) -> float:
    """How much a proxy mask ``sky`` (bool ``(h, w)``) looks like a real sky, in [0, 1].

    A sky spans the top border, is smooth, and is blue, grey-white, or (at night)
    dark and neutral; warm saturated colours, texture, little top-border contact
    (indoor close-ups: a cup, a cat) and a large portrait subject in front of a
    plain backdrop that is not daylight-blue or overcast-white (studio portraits)
    all lower it. Multiplies the labeller's sky confidence.
    """
    if not sky.any():
        return 0.0
    h = sky.shape[0]
    L, C, hue, tex = _mask_colour(cues, sky)
    top_cover = float(sky[: max(1, h // 40)].any(axis=0).mean())
    neutral = 1.0 if cues.grey else 1 - _ramp(C, 5, 10)
    blue = 0.0 if cues.grey else _hue_band(hue, 262, 35, 25) * _ramp(C, 3, 8)
    warm = 0.0 if cues.grey else _hue_band(hue, 60, 35, 30) * _ramp(C, 8, 16)
    # a night or dusk sky: dark and neutral across the top (in a grey photo, where a dusk
    # sky's blue is lost, up to a mid grey)
    night = neutral * (1 - (_ramp(L, 25, 45) if cues.grey else _ramp(L, 15, 30))) * _ramp(top_cover, 0.7, 0.9)
    colour = float(np.clip(max(blue, neutral * _ramp(L, 40, 60), night) - warm, 0, 1))
    smooth = 1 - _ramp(tex, 1.5, 2.5)
    top = _ramp(top_cover, 0.3, 0.7)
    person = cues.person
    pm = person.mask > 0.5
    # a subject filling the frame up to its top tenth: a portrait, often in a studio
    portrait = _ramp(float(pm.mean()), 0.3, 0.45) * _ramp(float(pm[: max(2, h // 10)].any(axis=0).mean()), 0.05, 0.15) \
        if person.confidence >= 0.5 else 0.0
    daylight = max(blue * _ramp(L, 55, 70) * _ramp(C, 8, 15), neutral * _ramp(L, 84, 92))
    return top * colour * smooth * (1 - portrait * (1 - daylight))


def _gate_sky(labels: np.ndarray, cues: Cues, scores: np.ndarray, sp: np.ndarray, conf_px: np.ndarray) -> None:
    """Scale sky confidences by :func:`sky_plausibility`; an implausible sky (a studio
    backdrop, a wall behind a cup, a sunlit facade) and its clouds take their next-best
    label other than sky, clouds or water ("other" when none is any good), so nothing
    downstream edits a sky that is not there."""
    sky = labels == SKY
    if not sky.any():
        return
    p = sky_plausibility(cues, sky)
    if p >= SKY_MIN_PLAUSIBILITY:
        conf_px[sky] *= p
        return
    # not a sky: each of its superpixels takes its best other label (a facade, a wall;
    # "other" — score 0 — when none is any good)
    _next_best(labels, (labels == SKY) | (labels == CLOUDS), scores, sp, conf_px, (SKY, CLOUDS, WATER))


def _next_best(labels: np.ndarray, m: np.ndarray, scores: np.ndarray, sp: np.ndarray, conf_px: np.ndarray,
               exclude: tuple[int, ...]) -> None:
    """Pixels ``m`` take their superpixel's best label outside ``exclude`` (never the
    person), with that label's share of the remaining probability as confidence."""
    if not m.any():
        return
    alt = scores[sp[m]]
    alt[:, list(exclude) + [PERSON]] = -np.inf
    prob = softmax(alt)
    labels[m] = prob.argmax(axis=1)
    conf_px[m] = confidence_of(prob.max(axis=1))


def _water_needs_a_sky(labels: np.ndarray, scores: np.ndarray, sp: np.ndarray, conf_px: np.ndarray) -> None:
    """Water is told from a blue or grey floor, sheet or bus by the sky it mirrors: in a
    photo with no sky (indoors, a close-up) water takes its next-best label."""
    if not (labels == SKY).any():
        _next_best(labels, labels == WATER, scores, sp, conf_px, (SKY, CLOUDS, WATER))


def _ground_on_the_bottom(labels: np.ndarray, cues: Cues, scores: np.ndarray, sp: np.ndarray,
                          conf_px: np.ndarray) -> None:
    """Ground is what the photo stands on: each ground component must cover at least
    ``GROUND_MIN_BOTTOM`` of the bottom edge not hidden by people; others (a roof in
    shadow, a dark band mid-frame) take their next-best label."""
    ground = labels == GROUND
    if not ground.any():
        return
    h = labels.shape[0]
    band = np.zeros_like(ground)
    band[-max(1, h // 20):] = True
    band &= cues.person.mask <= 0.5
    if not band.any():
        return
    n, cc = _components(ground)
    for i in range(1, n):
        comp = cc == i
        if (comp & band).sum() < GROUND_MIN_BOTTOM * band.sum():
            _next_best(labels, comp, scores, sp, conf_px, (GROUND, SKY, CLOUDS, WATER))


#: Water whose border with the sky is at least this share of its border is sky; so is
#: water touching the sky along ``WATER_SKY_SOME`` of its border when no colour edge
#: (ΔE under ``WATER_SKY_STEP``) separates them — a dusk sky darkening to the horizon.
WATER_SKY_BORDER = 0.25
WATER_SKY_SOME = 0.1
WATER_SKY_STEP = 3.0


def _water_touching_sky(labels: np.ndarray, lab: np.ndarray | None = None) -> None:
    """Water that shares a long border with the sky, or continues its colour across their
    border, is sky (a gradient near the horizon). ``lab``: the proxy's CIELAB image."""
    sky = (labels == SKY).astype(np.uint8)
    if not sky.any():
        return
    n, cc = _components(labels == WATER)
    near_sky = cv2.dilate(sky, np.ones((5, 5), np.uint8)) > 0
    for i in range(1, n):
        comp = (cc == i).astype(np.uint8)
        border = (comp > 0) & (cv2.erode(comp, np.ones((3, 3), np.uint8)) == 0)
        shared = border & near_sky
        if not border.any() or not shared.any():
            continue
        share = shared.sum() / border.sum()
        if share <= WATER_SKY_SOME:
            continue
        if share <= WATER_SKY_BORDER:
            if lab is None:
                continue
            near = cv2.dilate(shared.astype(np.uint8), np.ones((13, 13), np.uint8)) > 0
            step = lab[near & (comp > 0)].mean(axis=0) - lab[near & (sky > 0)].mean(axis=0)
            if float(np.linalg.norm(step)) >= WATER_SKY_STEP:
                continue
        labels[comp > 0] = SKY


def _painted(cues: Cues, mask: np.ndarray) -> float:
    """How much a green region looks painted rather than grown, in [0, 1]: smooth (mean
    |∇L| under 1–2) and even (lightness spread under 4–8 L units) — a painted wall, a felt
    table. Foliage, sharp or blurred, is blotchy with light and shade."""
    L = cues.lab[..., 0][mask]
    if L.size == 0:
        return 0.0
    tex = float(cues.grad[mask].mean(dtype=np.float64))
    return (1 - _ramp(tex, 1.0, 2.0)) * (1 - _ramp(float(L.std()), 4.0, 8.0))


def _absorb_islands(labels: np.ndarray) -> None:
    """Components under MIN_AREA take the most common label around them (each island is
    handled in its bounding box, one pixel wider: the same result as on the whole map)."""
    h, w = labels.shape
    kernel = np.ones((3, 3), np.uint8)
    for lab in _present(labels):
        n, cc, stats, _ = cv2.connectedComponentsWithStats((labels == lab).view(np.uint8), connectivity=8)
        for i in range(1, n):
            x, y, bw, bh, area = stats[i]
            if area >= MIN_AREA * h * w:
                continue
            y0, y1, x0, x1 = max(y - 1, 0), min(y + bh + 1, h), max(x - 1, 0), min(x + bw + 1, w)
            comp = (cc[y0:y1, x0:x1] == i).view(np.uint8)
            ring = (cv2.dilate(comp, kernel) > 0) & (comp == 0)
            if ring.any():
                crop = labels[y0:y1, x0:x1]
                around = np.bincount(crop[ring], minlength=len(LABELS))
                crop[comp > 0] = int(around.argmax())


def _present(labels: np.ndarray) -> np.ndarray:
    """The label ids present, sorted (``np.unique`` without its sort of every pixel)."""
    return np.flatnonzero(np.bincount(labels.ravel(), minlength=len(LABELS)))


def _split_other(cues: Cues, region_mask: np.ndarray, k_max: int = 3) -> list[np.ndarray]:
    """Split an "other" mask into up to ``k_max`` colour clusters of ≥ 5 % area."""
    area = region_mask.mean()
    if area < 0.15:
        return [region_mask]
    lab = cues.lab[region_mask].astype(np.float32)
    k = min(k_max, max(1, int(area / 0.1)))
    if k == 1 or len(lab) < 50:
        return [region_mask]
    crit = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)
    cv2.setRNGSeed(0)
    _, assign, _ = cv2.kmeans(lab[::4].copy(), k, None, crit, 2, cv2.KMEANS_PP_CENTERS)
    centres = np.stack([lab[::4][assign.ravel() == j].mean(axis=0) for j in range(k)])
    d = ((lab[:, None, :] - centres[None]) ** 2).sum(axis=2)
    idx = np.full(region_mask.shape, -1, np.int32)
    idx[region_mask] = d.argmin(axis=1)
    idx = cv2.medianBlur((idx + 1).astype(np.uint8), 5).astype(np.int32) - 1
    idx[~region_mask] = -1
    parts = [idx == j for j in range(k)]
    big = [p for p in parts if p.mean() >= 0.05]
    if len(big) <= 1:
        return [region_mask]
    rest = region_mask & ~np.any(big, axis=0)
    big[int(np.argmax([p.sum() for p in big]))] |= rest
    return big


class BuiltinSegmenter(Segmenter):
    """Superpixel + cue-based semantic segmentation (see module docstring)."""

    spec = "builtin"
    proxy_side = 384
    semantic = True

    def segment(self, rgb: np.ndarray, cues: Cues | None = None) -> list[Segment]:
        cues = cues if cues is not None else compute_cues(rgb)
        h, w = cues.lab.shape[:2]
        sp, n = superpixels(cues)
        f = group_features(cues, sp, n)
        scores = class_scores(f, cues.grey)
        prob = softmax(scores)
        labels = prob.argmax(axis=1)[sp]
        person = cues.person.mask > 0.5
        labels[labels == PERSON] = OTHER if cues.person.confidence == 0 else PERSON
        labels[(labels == PERSON) & ~person] = OTHER
        labels[person] = PERSON
        conf_px = confidence_of(prob.max(axis=1))[sp]
        _fix_sky(labels, scores, sp, conf_px)
        _water_touching_sky(labels, cues.lab)
        _split_horizon(labels, cues, prob, sp, conf_px)
        # sky borders are off by up to a superpixel: re-decide them by local colour
        labels[:] = refine_labels(absorb_small(labels, SKY, {CLOUDS}), cues.lab, band=sky_band(labels.shape),
                                  frozen={PERSON}, only=SKY)
        _gate_sky(labels, cues, scores, sp, conf_px)
        _water_needs_a_sky(labels, scores, sp, conf_px)
        _ground_on_the_bottom(labels, cues, scores, sp, conf_px)
        if h * w >= 1024:
            _absorb_islands(labels)
        segments: list[Segment] = []
        for lab in _present(labels):
            mask = labels == lab
            name = LABELS[lab]
            # stuff (sky, foliage, a facade) stays one region however many pieces it is in:
            # find("vegetation") answers with the region of that name, so it must be all of it
            parts = _split_other(cues, mask) if lab == OTHER else self._split_far(mask) if lab == PERSON else [mask]
            for part in parts:
                if lab == PERSON:
                    conf = cues.person.confidence
                    soft = np.where(part, np.maximum(cues.person.mask, 0.5), 0).astype(np.float32)
                else:
                    conf = float(conf_px[part].mean())
                    if lab == OTHER:
                        conf = min(conf, 0.5)
                    else:  # a label backed by a few superpixels is less sure
                        area = float(part.mean())
                        conf *= area / (area + AREA_PRIOR)
                    if lab == VEGETATION:
                        conf *= 1 - _painted(cues, part)
                    soft = part.astype(np.float32)
                segments.append(Segment(mask=soft, label=name, confidence=round(calibrate(name, round(conf, 3)), 3)))
        segments.sort(key=lambda s: -float(s.mask.mean()))
        return segments

    @staticmethod
    def _split_far(mask: np.ndarray) -> list[np.ndarray]:
        n, cc = _components(mask)
        if n <= 2:
            return [mask]
        sizes = np.bincount(cc.ravel())[1:]
        big = [i + 1 for i in np.argsort(-sizes) if sizes[i] >= SPLIT_AREA * mask.size]
        if len(big) <= 1:
            return [mask]
        parts = [cc == i for i in big]
        parts[0] |= mask & ~np.any(parts, axis=0)
        return parts
