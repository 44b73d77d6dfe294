"""Semantic labels for image regions from colour, position, texture and shape cues.

The same scorer labels the builtin segmenter's superpixels and the class-agnostic
masks of SAM-like backends. Cues are computed once per photo on a small proxy
(:func:`compute_cues`); :func:`group_features` summarises any partition or mask
list; :func:`class_scores` turns features into one score per label; a softmax
over the scores gives the raw confidence, which is LOW when two labels compete;
:func:`calibrate` maps a region's raw confidence to the probability that its label is
right (constants in ``tools/data/label_calibration.json``, fitted and scored
leave-one-photo-out by ``scripts/eval_segmentation.py``).

Labels: ``sky, clouds, water, vegetation, person, building, ground, snow, other``;
parts found inside a person on request: ``face, skin, hair, face_skin, eyes, lips,
eyebrows`` (see
:mod:`pertouch.tools.perception`). Synonyms (``trees`` → vegetation, ``road`` →
ground…) live in :data:`SYNONYMS`.

A Set-of-Mark hook, :func:`label_with`, lets a VLM (or any callable) name
numbered regions drawn on the photo instead.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping, Sequence

import cv2
import numpy as np

from pertouch.tools.person import PersonEvidence

LABELS: tuple[str, ...] = ("sky", "clouds", "water", "vegetation", "person", "building", "ground", "snow", "other")
PARTS: tuple[str, ...] = ("face", "skin", "hair", "face_skin", "eyes", "lips", "eyebrows")

#: Words people use → our label.
SYNONYMS: dict[str, str] = {
    "heaven": "sky", "skies": "sky", "cloud": "clouds", "cloudy": "clouds",
    "sea": "water", "ocean": "water", "lake": "water", "river": "water", "pond": "water",
    "trees": "vegetation", "tree": "vegetation", "grass": "vegetation", "foliage": "vegetation",
    "plants": "vegetation", "plant": "vegetation", "leaves": "vegetation", "forest": "vegetation",
    "greenery": "vegetation", "bushes": "vegetation", "lawn": "vegetation",
    "people": "person", "man": "person", "woman": "person", "human": "person",
    "portrait": "person", "her": "person", "him": "person", "girl": "person", "boy": "person",
    "figure": "person", "body": "person",
    "buildings": "building", "house": "building", "architecture": "building", "tower": "building",
    "temple": "building", "city": "building", "wall": "building",
    "road": "ground", "sand": "ground", "beach": "ground", "floor": "ground", "earth": "ground",
    "soil": "ground", "street": "ground", "field": "ground", "land": "ground", "path": "ground",
    "ice": "snow", "face": "face", "faces": "face", "skin": "skin", "hair": "hair",
    "eye": "eyes", "eyes": "eyes", "lip": "lips", "lips": "lips", "mouth": "lips", "eyebrow": "eyebrows",
    "eyebrows": "eyebrows", "brows": "eyebrows", "complexion": "face_skin",
}


def canonical_label(text: str) -> str | None:
    """``"the trees"`` → ``"vegetation"``; None when the text names no known label."""
    whole = "_".join(text.lower().replace("-", " ").split())
    if whole in LABELS or whole in PARTS:  # "face_skin", "face skin"
        return whole
    words = [w for w in text.lower().replace("_", " ").replace("-", " ").split() if w not in ("the", "a", "an", "her", "his", "their")]
    for w in reversed(words or text.lower().split()):
        w = w.strip(".,!?'\"")
        if w in LABELS or w in PARTS:
            return w
        if w in SYNONYMS:
            return SYNONYMS[w]
    return None


@dataclass
class Cues:
    """Per-photo proxy maps: ``rgb`` uint8 ``(h, w, 3)``; ``lab`` float32 (L 0–100);
    ``grad`` |∇L| float32; ``person`` the gated person cue; ``grey`` no colour;
    ``closeup`` a salient non-person foreground object fills much of the frame
    (a cat, a cup, a flower: its background is rarely sky); ``lines`` and ``structure``
    float32 ``(h, w)`` in [0, 1], the fine and coarse density of long straight
    horizontal/vertical edges (:func:`straight_lines`, :func:`structure_of`; None: not
    computed, taken as none)."""

    rgb: np.ndarray
    lab: np.ndarray
    grad: np.ndarray
    person: PersonEvidence
    grey: bool
    closeup: float = 0.0
    median_L: float = 50.0
    lines: np.ndarray | None = None
    structure: np.ndarray | None = None


#: Straight edges at least this share of the proxy's diagonal long, within
#: ``LINE_ANGLE_TOL`` degrees of horizontal or vertical, are man-made structure
#: (facades, window and door frames, walls' corners); foliage, fur and clouds have none.
LINE_MIN_LENGTH = 0.04
LINE_ANGLE_TOL = 12.0


def straight_lines(rgb: np.ndarray) -> np.ndarray:
    """Density of long horizontal/vertical straight edges around each pixel of a uint8
    RGB proxy ``(h, w, 3)``: float32 ``(h, w)`` in [0, 1], the share of a window about
    one superpixel wide (±√(hw/800) px) that such edges cross. Line segments from
    OpenCV's LSD detector."""
    h, w = rgb.shape[:2]
    out = np.zeros((h, w), np.float32)
    if min(h, w) < 16:
        return out
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    found = cv2.createLineSegmentDetector().detect(grey)[0]
    if found is None:
        return out
    seg = found.reshape(-1, 4)
    d = seg[:, 2:] - seg[:, :2]
    length = np.hypot(d[:, 0], d[:, 1])
    ang = np.degrees(np.arctan2(d[:, 1], d[:, 0])) % 180
    square = (np.minimum(ang, 180 - ang) < LINE_ANGLE_TOL) | (np.abs(ang - 90) < LINE_ANGLE_TOL)
    for x0, y0, x1, y1 in seg[square & (length >= LINE_MIN_LENGTH * np.hypot(h, w))]:
        cv2.line(out, (int(round(x0)), int(round(y0))), (int(round(x1)), int(round(y1))), 1.0, 1)
    k = max(2, int(round(np.sqrt(h * w / 800))))
    return cv2.boxFilter(out, -1, (2 * k + 1, 2 * k + 1))


def structure_of(lines: np.ndarray) -> np.ndarray:
    """Coarse straight-edge density: :func:`straight_lines` averaged over a window a
    tenth of the proxy's diagonal (a facade between its windows, a wall between frames)."""
    h, w = lines.shape
    s = max(1.0, 0.05 * float(np.hypot(h, w)))
    return cv2.GaussianBlur(lines, (0, 0), s)


def compute_cues(rgb: np.ndarray, person: PersonEvidence | None = None) -> Cues:
    """Cue maps for a uint8 RGB proxy ``(h, w, 3)``. ``person``: the person cue when the
    caller already has it (perception runs the detectors on a larger proxy); else the
    detectors run on ``rgb``."""
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    L = cv2.GaussianBlur(lab[..., 0], (3, 3), 0)
    gx = cv2.Sobel(L, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(L, cv2.CV_32F, 0, 1, ksize=3)
    grad = cv2.magnitude(gx, gy) / 8.0
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    grey = bool(np.percentile(chroma, 99) < 3.0)
    from pertouch.tools.person import person_probability

    prob = person_probability(rgb)
    if person is None:
        from pertouch.tools.detection import detect

        person = detect(rgb).evidence(rgb.shape[:2])
    salient = float((prob > 0.5).mean())
    # A close-up object, or a person filling much of the frame (a portrait): the
    # background is rarely sky.
    closeup = salient if (person.confidence == 0 and salient > 0.08) or salient > 0.35 else 0.0
    lines = straight_lines(rgb)
    return Cues(rgb=rgb, lab=lab, grad=grad, person=person, grey=grey, closeup=closeup,
                median_L=float(np.median(lab[..., 0])), lines=lines, structure=structure_of(lines))


def group_features(cues: Cues, groups: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Features of each group id ``0..n-1`` in an int map ``groups`` ``(h, w)``; each ``(n,)``."""
    h, w = groups.shape
    g = groups.ravel()
    cnt = np.maximum(np.bincount(g, minlength=n), 1).astype(np.float64)

    def mean(x: np.ndarray) -> np.ndarray:
        return np.bincount(g, weights=x.ravel().astype(np.float64), minlength=n) / cnt

    L, a, b = (cues.lab[..., i] for i in range(3))
    ys = np.broadcast_to(np.linspace(0, 1, h, dtype=np.float32)[:, None], (h, w))
    top = np.zeros((h, w), np.float32)
    top[: max(1, h // 40)] = 1
    mL = mean(L)
    f = {
        "L": mL, "a": mean(a), "b": mean(b), "sdL": np.sqrt(np.maximum(mean(L * L) - mL**2, 0)),
        "tex": mean(cues.grad), "y": mean(ys), "top": mean(top) * 40, "person": mean(cues.person.mask),
        "area": cnt / (h * w),
        "lines": mean(cues.lines) if cues.lines is not None else np.zeros(n),
        "structure": mean(cues.structure) if cues.structure is not None else np.zeros(n),
    }
    f["relL"] = mL - cues.median_L
    f["closeup"] = np.full(n, cues.closeup)
    f["C"] = np.hypot(f["a"], f["b"])
    f["hue"] = np.degrees(np.arctan2(f["b"], f["a"])) % 360
    return f


def _ramp(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0)


def _hue_near(h: np.ndarray, centre: float, width: float) -> np.ndarray:
    d = np.abs((h - centre + 180) % 360 - 180)
    return np.clip(1 - d / width, 0, 1)


def _hue_band(h: np.ndarray, centre: float, half: float, fall: float) -> np.ndarray:
    """1 within ``half`` degrees of ``centre``, falling to 0 over ``fall`` more degrees."""
    d = np.abs((h - centre + 180) % 360 - 180)
    return 1 - _ramp(d, half, half + fall)


def class_scores(f: Mapping[str, np.ndarray], grey: bool = False) -> np.ndarray:
    """Scores ``(n, len(LABELS))`` from :func:`group_features` output (higher = likelier)."""
    L, C, hue, tex, y = f["L"], f["C"], f["hue"], f["tex"], f["y"]
    colour = 0.0 if grey else 1.0
    chroma = _ramp(C, 4, 14) * colour
    blue = _hue_near(hue, 265, 55) * chroma
    green = _hue_band(hue, 145, 40, 25) * _ramp(C, 2, 8) * colour
    neutral = 1 - _ramp(C, 4, 12) if not grey else np.ones_like(C)
    smooth = _ramp(-tex, -3.0, -0.8)
    rough = _ramp(tex, 1.5, 5.0)
    upper, lower = _ramp(-y, -0.7, -0.15), _ramp(y, 0.4, 0.85)
    bright = _ramp(L, 45, 80)
    warm = _hue_near(hue, 55, 40) * _ramp(C, 12, 25) * colour
    skin = _hue_near(hue, 55, 30) * _ramp(C, 8, 20) * colour
    person = f["person"]
    zero = np.zeros_like(L)
    rel = f.get("relL", zero)
    closeup = _ramp(f.get("closeup", zero), 0.08, 0.3)
    lines, struct = f.get("lines", zero), f.get("structure", zero)
    s = np.zeros((L.size, len(LABELS)), np.float64)
    s[:, 0] = 1.6 * upper + 1.4 * smooth + 1.5 * blue + 0.9 * neutral * bright * (1 - colour * 0.3) \
        + 0.5 * _ramp(f["top"], 0, 0.5) - 3.5 * green - 1.5 * rough - 1.0 * lower \
        + 0.6 * _ramp(rel, -10, 10) - 1.2 * _ramp(-rel, 5, 25) - 3.0 * closeup - 2.5 * warm
    s[:, 1] = 1.2 * upper + 1.4 * neutral * _ramp(L, 70, 90) + 0.6 * _ramp(tex, 0.6, 2.0) \
        - 1.5 * _ramp(tex, 4, 8) - 1.5 * green - 1.0 * lower - 0.6 - 2.5 * warm - 2.0 * closeup
    s[:, 2] = 1.2 * _ramp(y, 0.3, 0.7) + 1.2 * smooth + 1.2 * (blue + 0.6 * neutral * bright) \
        - 1.5 * green - 1.0 * rough - 1.2 * upper - 0.9 - 2.0 * closeup - (3.0 if grey else 0.0)
    # texture and shade say foliage only where there is some green (a grey photo cannot tell)
    leafy = 0.5 if grey else _ramp(green, 0.1, 0.4)
    s[:, 3] = 2.6 * green + (0.8 * rough + 0.4 * _ramp(-L, -45, -15) * colour) * leafy - 1.0 * smooth * upper - 0.4 \
        - 2.0 * _ramp(lines, 0.03, 0.08)
    s[:, 4] = 6.0 * person - 2.0
    s[:, 5] = 1.0 * rough + 0.6 * _ramp(y, 0.15, 0.45) * (1 - lower) + 0.5 * _ramp(f["sdL"], 6, 18) \
        - 1.2 * green - 0.8 * blue * smooth - 0.6 \
        + 1.5 * _ramp(struct, 0.02, 0.06) + 0.6 * _ramp(lines, 0.02, 0.08) - 1.0 * (1 - _ramp(struct, 0.01, 0.03)) \
        - 2.0 * closeup - 0.8 * lower
    s[:, 6] = 1.6 * lower + 0.6 * _ramp(tex, 0.8, 3.0) + 0.4 * (neutral + skin * 0.5) - 0.3 * rough \
        - 1.0 * upper - 1.0 * green - 0.8 * blue - 0.5 - 2.0 * closeup
    s[:, 7] = 1.5 * _ramp(L, 80, 92) * neutral * (1 - upper) + 0.5 * smooth - 1.0 * upper - 1.2
    s[:, 8] = 0.0
    s[:, :4] -= 2.5 * person[:, None]
    s[:, 5:8] -= 2.5 * person[:, None]
    return s


def softmax(s: np.ndarray, temperature: float = 0.6) -> np.ndarray:
    z = (s - s.max(axis=1, keepdims=True)) / temperature
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


#: Exponent that sharpens the top softmax probability of each superpixel (raw
#: probabilities of weak labels — building, ground, clouds — were right far less often
#: than they claimed). Region confidences built from it are then mapped to
#: probabilities by :func:`calibrate`, whose constants were fitted on top of this.
CALIBRATION_POWER = 1.8


def confidence_of(p_top: np.ndarray | float) -> np.ndarray | float:
    """Calibrated confidence from the top class probability (same shape)."""
    return np.asarray(p_top) ** CALIBRATION_POWER if np.ndim(p_top) else float(p_top) ** CALIBRATION_POWER


#: Label → calibration family (clouds are scored as part of the sky).
FAMILIES: dict[str, str] = {"clouds": "sky"}
_CALIBRATION_FILE = "label_calibration.json"
_table: dict | None = None
_table_loaded = False


def calibration_table() -> dict | None:
    """The fitted region-confidence map (``tools/data/label_calibration.json``), or None
    while calibration is switched off (:func:`use_calibration`)."""
    global _table, _table_loaded
    if not _table_loaded:
        import json
        from importlib import resources

        _table = json.loads(resources.files("pertouch.tools").joinpath("data", _CALIBRATION_FILE).read_text())
        _table_loaded = True
    return _table


@contextmanager
def use_calibration(table: dict | None) -> Iterator[None]:
    """Calibrate with ``table`` (None: report raw confidences) inside the block; the
    evaluation uses this to fit and score the map without the fitted one in the way."""
    global _table, _table_loaded
    saved = _table, _table_loaded
    _table, _table_loaded = table, True
    try:
        yield
    finally:
        _table, _table_loaded = saved


def calibrate(label: str, confidence: float, table: dict | None = None) -> float:
    """A region's raw confidence → the probability that its label is right.

    Platt scaling of the raw confidence's logit with one slope and intercept plus a
    shrunk offset per label family (``"families"`` in the table), fitted on the
    hand-labelled photos by ``scripts/eval_segmentation.py --fit-calibration``.
    ``other`` and labels the table does not know keep the shared map; ``other``
    itself is not calibrated (it names no class). Kept within the table's ``floor``
    and ``ceiling``: a map fitted on n regions cannot back odds beyond about n + 1 to 1.
    Monotone in ``confidence``, so it never changes which of two same-family regions
    is surer.
    """
    table = table if table is not None else calibration_table()
    if table is None or label == "other":
        return float(confidence)
    c = float(np.clip(confidence, 1e-3, 1 - 1e-3))
    fam = FAMILIES.get(label, label)
    z = table["slope"] * np.log(c / (1 - c)) + table["intercept"] + table["families"].get(fam, 0.0)
    return float(np.clip(1 / (1 + np.exp(-z)), table.get("floor", 0.0), table.get("ceiling", 1.0)))


def label_masks(cues: Cues, masks: Sequence[np.ndarray]) -> list[tuple[str, float]]:
    """``(label, confidence)`` for each boolean proxy mask (masks may overlap)."""
    out = []
    for m in masks:
        groups = m.astype(np.int32)
        f = group_features(cues, groups, 2)
        f1 = {k: v[1:] for k, v in f.items()}
        p = softmax(class_scores(f1, cues.grey))[0]
        k = int(p.argmax())
        conf = float(confidence_of(p[k]))
        if LABELS[k] == "person":
            conf = min(conf, cues.person.confidence)
        out.append((LABELS[k], calibrate(LABELS[k], conf)))
    return out


Namer = Callable[[np.ndarray, list[int]], Mapping[int, str]]


def label_with(regions: Sequence, namer: Namer, image: np.ndarray, *, confidence: float = 0.8) -> list:
    """Relabel regions with names from ``namer`` (e.g. a VLM) via a Set-of-Mark overlay.

    ``namer(overlay_rgb, numbers) -> {number: name}``: it sees the photo with region
    ``i`` drawn and numbered ``i + 1``. Names are mapped to our labels when they
    match one (``"trees"`` → vegetation) and kept verbatim otherwise. Regions the
    namer skips keep their label. Returns the same :class:`Region` objects.
    """
    from pertouch.tools.overlay import som_overlay

    numbers = list(range(1, len(regions) + 1))
    overlay = som_overlay(image, [r.mask for r in regions], numbers)
    names = dict(namer(overlay, numbers) or {})
    for num, r in zip(numbers, regions):
        name = names.get(num)
        if name:
            r.label = canonical_label(str(name)) or str(name).strip().lower()
            r.confidence = confidence
            r.source = (r.source + "+namer").lstrip("+")
    return list(regions)
