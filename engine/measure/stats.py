"""Measure attribute levels of regions, the reference way.

The photo is resized (aspect NOT kept) to 512×512 with cv2 INTER_LINEAR in its own
dtype (as the reference does on the 8-bit image it reads), each
region's mask to 512×512 with nearest neighbour and thresholded at 0.5; raw values
come from the estimators of :mod:`pertouch.engine.measure.estimators` (vectorised here so
that ~10 regions cost a few milliseconds: per-image planes are computed once and
reduced per region; the regions of a partition and the whole frame together, in ONE
label-sum pass of :mod:`pertouch.engine.measure.labels`, finished per attribute by
:data:`BY_LABEL`) and are mapped to levels in [−1, 1] by a
:class:`~pertouch.engine.schema.levels.LevelTable` (the packaged default unless given).

>>> import numpy as np
>>> img = np.full((64, 64, 3), 120, np.uint8)
>>> round(measure_image_raw(img, attributes=["brightness"])["brightness"], 3)
120.0
"""

from __future__ import annotations

import math
from typing import Callable, Iterable, Mapping

import numpy as np

from pertouch.engine.measure.estimators import (CONTRAST_CAP, MEASURE_SIZE, hasler_colorfulness, perceived_brightness,
                                                temperature_of_xyz)
from pertouch.engine.measure.labels import COLUMNS, HAVE_LABEL_PASS, grouped, label_sums, partition_labels
from pertouch.engine.ops.colormath import SRGB_TO_XYZ
from pertouch.engine.schema.attributes import REGISTRY
from pertouch.engine.schema.levels import LevelTable, default_table

WHOLE = "global"


def to_unit_float(image: np.ndarray) -> np.ndarray:
    """uint8/uint16/float ``(H, W, 3)`` → float32 in [0, 1]."""
    if image.dtype == np.uint8:
        return image.astype(np.float32) / 255.0
    if image.dtype == np.uint16:
        return image.astype(np.float32) / 65535.0
    return image.astype(np.float32)


def measure_rgb(image: np.ndarray) -> np.ndarray:
    """The measuring image: ``(512, 512, 3)`` float32 RGB on the 0–255 scale."""
    import cv2

    small = cv2.resize(np.ascontiguousarray(image[..., :3]), MEASURE_SIZE, interpolation=cv2.INTER_LINEAR)
    return to_unit_float(small) * 255.0


def measure_mask(mask: np.ndarray) -> np.ndarray:
    """A soft or binary mask → ``(512, 512)`` bool (nearest neighbour, > 0.5)."""
    import cv2

    m = np.asarray(mask, np.float32)
    if np.asarray(mask).dtype == np.uint8:
        m = m / 255.0
    return cv2.resize(m, MEASURE_SIZE, interpolation=cv2.INTER_NEAREST) > 0.5


def _mask_of(r) -> np.ndarray:
    return r.mask if hasattr(r, "mask") else np.asarray(r)


def _names(attributes: Iterable[str] | None) -> list[str]:
    return list(REGISTRY) if attributes is None else [REGISTRY[a].name if a in REGISTRY else a for a in attributes]


# --- vectorised pieces of the estimators ---------------------------------------------

def luma(px: np.ndarray) -> np.ndarray:
    return 0.2126 * px[..., 0] + 0.7152 * px[..., 1] + 0.0722 * px[..., 2]


def colorfulness_px(px: np.ndarray) -> float:
    """Hasler–Süsstrunk over ``(N, 3)`` 0–255 pixels."""
    if len(px) == 0:
        return float("nan")
    rg = np.abs(px[:, 0] - px[:, 1])
    yb = np.abs(0.5 * (px[:, 0] + px[:, 1]) - px[:, 2])
    return float(hasler_colorfulness(rg.var(), yb.var(), rg.mean(), yb.mean()))


def brightness_of_mean(m: np.ndarray) -> np.ndarray:
    return perceived_brightness(m[..., 0], m[..., 1], m[..., 2])


def _xyz_of_mean(m: np.ndarray) -> np.ndarray:
    """colour.sRGB_to_XYZ of clip(m / 255, 1e-3, 0.999), written out (it is called per solver step)."""
    rgb = np.clip(np.asarray(m, np.float64) / 255.0, 1e-3, 0.999)
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return lin @ SRGB_TO_XYZ.T


def temperature_of_mean(m: np.ndarray) -> np.ndarray:
    """Temperature raw value (−CCT, continued past its ends) of mean colours ``(..., 3)`` 0–255, as the estimator."""
    return temperature_of_xyz(_xyz_of_mean(m))


_SRGB_TO_XYZ_ROWS = SRGB_TO_XYZ.tolist()


def temperature_of_mean1(m0: float, m1: float, m2: float) -> float:
    """:func:`temperature_of_mean` of ONE mean colour in scalar arithmetic (the solver calls
    it per evaluation; ~20 array calls cost more than the whole compiled sample pass)."""
    from pertouch.engine.measure.estimators import HA_EPICENTRE, HA_TERMS, JOINTS, TEMPERATURE_ENDS

    lin = []
    for v in (m0, m1, m2):
        c = min(max(v / 255.0, 1e-3), 0.999)
        lin.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    x, y, z = (r[0] * lin[0] + r[1] * lin[1] + r[2] * lin[2] for r in _SRGB_TO_XYZ_ROWS)
    total = x + y + z
    xe, ye = HA_EPICENTRE
    phi = math.atan2(y / total - ye, xe - x / total)
    psi = phi if phi > -math.pi / 2 else phi + 2 * math.pi
    (psi_c, d_c), (psi_w, d_w) = JOINTS
    if psi < psi_c:
        return -TEMPERATURE_ENDS[0] + d_c * (psi - psi_c)
    if psi > psi_w:
        return -TEMPERATURE_ENDS[1] + d_w * (psi - psi_w)
    n = -1.0 / math.tan(psi)
    return -(-949.86315 + sum(a * math.exp(-n / t) for a, t in HA_TERMS))


def tint_of_mean(m: np.ndarray) -> np.ndarray:
    """Duv × 1000 of mean colours (Ohno 2014 closed form; within ~0.1 of the Ohno 2013 estimator)."""
    xyz = _xyz_of_mean(m)
    den = xyz[..., 0] + 15 * xyz[..., 1] + 3 * xyz[..., 2]
    u, v = 4 * xyz[..., 0] / den, 6 * xyz[..., 1] / den
    lfp = np.hypot(u - 0.292, v - 0.24)
    a = np.arccos((u - 0.292) / lfp)
    k = (-0.471106, 1.925865, -2.4243787, 1.5317403, -0.5179722, 0.0893944, -0.00616793)
    lbb = sum(c * a ** i for i, c in enumerate(k))
    return (lfp - lbb) * 1000.0


def tail_means(y: np.ndarray, tops: tuple[bool, ...] = (False, True)) -> tuple[float, ...]:
    """Means of the bottom (``False``) or top (``True``) 10 % of ``y`` as the estimators
    define them (shadows, highlights), one percentile call for all."""
    if len(y) == 0:
        return tuple(float("nan") for _ in tops)
    cuts = np.percentile(y, [90 if top else 10 for top in tops])
    return tuple(float((y[y >= cut] if top else y[y <= cut]).mean()) for top, cut in zip(tops, cuts))


def tail_mean(y: np.ndarray, top: bool) -> float:
    """Mean of the top (or bottom) 10 % of ``y`` (:func:`tail_means`)."""
    return tail_means(y, (top,))[0]


def contrast_of_sums(total, pairs):
    """Contrast raw value of Σ |Δ RGB|² over ``pairs`` 4-neighbour pairs (0 without a pair)."""
    return np.where(pairs > 0, np.minimum(total / (4.0 * np.maximum(pairs, 1)), CONTRAST_CAP), 0.0)


class Measurer:
    """Per-image planes for fast repeated region measurements at 512×512."""

    def __init__(self, image: np.ndarray, *, measured: bool = False) -> None:
        self.rgb = image.astype(np.float32) if measured else measure_rgb(image)
        self._planes: dict[str, np.ndarray] = {}

    def plane(self, name: str) -> np.ndarray:
        """A per-pixel plane, computed once: ``dh``/``dv`` (squared RGB differences to the
        right/lower neighbour), ``luma`` (float64), ``detail`` (|luma − 5×5 box mean|)."""
        if name not in self._planes:
            x = self.rgb
            if name == "dh":
                self._planes[name] = ((x[:, 1:] - x[:, :-1]) ** 2).sum(axis=2)
            elif name == "dv":
                self._planes[name] = ((x[1:] - x[:-1]) ** 2).sum(axis=2)
            elif name == "luma":
                self._planes[name] = luma(x.astype(np.float64))
            elif name == "detail":
                import cv2

                y = luma(x).astype(np.float32)
                self._planes[name] = np.abs(y - cv2.blur(y, (5, 5), borderType=cv2.BORDER_REFLECT))
            else:
                raise KeyError(f"no plane {name!r}: one of dh, dv, luma, detail")
        return self._planes[name]

    def raw(self, mask: np.ndarray, attributes: Iterable[str] | None = None) -> dict[str, float]:
        """Raw estimator values of one ``(512, 512)`` bool mask (the reference way)."""
        names = _names(attributes)
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if rows.size == 0:
            return {n: float("nan") for n in names}
        y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        mask = mask[y0:y1, x0:x1]  # everything below works on the mask's bounding box
        out: dict[str, float] = {}
        px = None
        mean = None
        for n in names:
            if n in ("colorfulness", "temperature", "brightness", "tint") and px is None:
                px = self.rgb[y0:y1, x0:x1][mask].astype(np.float64)
                mean = px.mean(axis=0)
            if n == "colorfulness":
                out[n] = colorfulness_px(px)
            elif n == "contrast":
                vh = mask[:, 1:] & mask[:, :-1]
                vv = mask[1:] & mask[:-1]
                dh = self.plane("dh")[y0:y1, x0:x1 - 1]
                dv = self.plane("dv")[y0:y1 - 1, x0:x1]
                total = float(dh[vh].sum(dtype=np.float64) + dv[vv].sum(dtype=np.float64))
                out[n] = float(contrast_of_sums(total, int(vh.sum() + vv.sum())))
            elif n == "temperature":
                out[n] = float(temperature_of_mean(mean))
            elif n == "brightness":
                out[n] = float(brightness_of_mean(mean))
            elif n == "tint":
                out[n] = float(tint_of_mean(mean))
            elif n in ("highlights", "shadows"):
                out[n] = tail_mean(self.plane("luma")[y0:y1, x0:x1][mask], n == "highlights")
            elif n == "clarity":
                out[n] = float(self.plane("detail")[y0:y1, x0:x1][mask].mean())
            else:
                raise KeyError(f"no estimator for {n!r}")
        return out

    def raw_by_label(self, label: np.ndarray, n: int, attributes: Iterable[str] | None = None, *,
                     frame: bool = False) -> dict[str, np.ndarray]:
        """Attribute → ``(n,)`` raw values per label of the int32 ``label`` image (see
        :mod:`.labels`; labels with no pixel get NaN), from ONE label-sum pass and the
        planes the attributes need (:data:`BY_LABEL`). Index 0 is NaN, or with ``frame``
        the whole frame (every pixel, from the same pass).

        Each value is :meth:`raw` of the label's mask to float64 rounding (sums in another
        order); highlights, shadows and clarity are exactly :meth:`raw`'s."""
        names = _names(attributes)
        missing = [a for a in names if a not in BY_LABEL]
        if missing:
            raise KeyError(f"no per-label reduction for {missing}: add one to BY_LABEL in {__name__}")
        with np.errstate(invalid="ignore", divide="ignore"):  # labels with no pixel: NaN
            by = _LabelPass(self, label, n, pairs="contrast" in names, frame=frame)
            return {a: np.where(by.cnt > 0, BY_LABEL[a](by), np.nan).astype(np.float64) for a in names}

    def raw_frame(self, attributes: Iterable[str] | None = None) -> dict[str, float]:
        """Raw values of the whole frame in one label pass (:meth:`raw` of an all-True mask
        to float64 rounding)."""
        return self.raw_many([], attributes, frame=True)[0]

    def raw_many(self, masks: list[np.ndarray], attributes: Iterable[str] | None = None, *,
                 frame: bool = False) -> list[dict[str, float]]:
        """:meth:`raw` of several bool masks of the measuring image's size at once; with
        ``frame``, one more dict at the end: the whole frame, measured in the same pass.

        Masks that overlap no other one (a segmenter's partition) are measured together
        by :meth:`raw_by_label` (every attribute of :data:`BY_LABEL`); overlapping masks,
        and every mask without numba, go through :meth:`raw`. The label image of the
        last mask objects is reused: do not edit masks in place.
        """
        names = _names(attributes)
        masks = list(masks) + ([np.ones(self.rgb.shape[:2], bool)] if frame else [])
        k = len(masks) - frame  # the frame, if asked, is masks[k]
        out: list[dict[str, float]] = [{} for _ in masks]
        fast = [a for a in names if a in BY_LABEL]
        if fast and masks and HAVE_LABEL_PASS:
            label, shared = partition_labels(masks[:k]) if k else (np.zeros(self.rgb.shape[:2], np.int32), [])
            by = self.raw_by_label(label, k + 1, fast, frame=frame)
            for i in np.flatnonzero(np.asarray(shared) == 0):
                out[i] = {a: float(v[i + 1]) for a, v in by.items()}
            if frame:
                out[k] = {a: float(v[0]) for a, v in by.items()}
        for i, m in enumerate(masks):
            rest = [a for a in names if a not in out[i]]
            if rest:
                out[i].update(self.raw(m, rest))
            out[i] = {a: out[i][a] for a in names}
        return out


class _LabelPass:
    """One label image's sums (:func:`.labels.label_sums`) and its planes grouped by label;
    with ``frame``, index 0 is the whole frame."""

    def __init__(self, meas: Measurer, label: np.ndarray, n: int, pairs: bool, frame: bool) -> None:
        self.meas, self.label, self.n, self.frame = meas, label, n, frame
        self.acc = label_sums(meas.rgb, label, n, pairs=pairs, frame=frame)
        self.cnt = self.col("count")
        self.mean = self.acc[:, 1:4] / self.cnt[:, None]  # R, G, B
        self._groups: tuple | None = None
        self._tails: np.ndarray | None = None

    def col(self, name: str) -> np.ndarray:
        """One column of the sums (:data:`.labels.COLUMNS`), per label."""
        return self.acc[:, COLUMNS.index(name)]

    def per_label(self, plane: str, reduce: Callable[[np.ndarray], float | tuple[float, ...]], width: int = 1
                  ) -> np.ndarray:
        """``reduce`` of each label's pixels of a :meth:`Measurer.plane`, in raster order as
        :meth:`Measurer.raw` takes them: ``(n,)``, or ``(n, width)`` for ``width`` values each."""
        values = self.meas.plane(plane).ravel()
        out = np.full((self.n, width), np.nan)
        if self.frame:
            out[0] = reduce(values)
        if self.cnt[1:].any():
            if self._groups is None:
                self._groups = grouped(self.label, self.n)
            order, off = self._groups
            y = values[order]
            for i in range(1, self.n):
                if off[i + 1] > off[i]:
                    out[i] = reduce(y[off[i]:off[i + 1]])
        return out if width > 1 else out[:, 0]

    def tails(self) -> np.ndarray:
        """``(n, 2)``: shadows and highlights of each label (one percentile call each)."""
        if self._tails is None:
            self._tails = self.per_label("luma", tail_means, 2)
        return self._tails


def _colorfulness_of_sums(by: _LabelPass) -> np.ndarray:
    """Hasler–Süsstrunk from the sums of rg, rg², yb, yb² (variance = E[x²] − E[x]²)."""
    mrg, myb = by.col("rg") / by.cnt, by.col("yb") / by.cnt
    vrg = np.maximum(by.col("rg2") / by.cnt - mrg ** 2, 0.0)
    vyb = np.maximum(by.col("yb2") / by.cnt - myb ** 2, 0.0)
    return hasler_colorfulness(vrg, vyb, mrg, myb)


#: Attribute → its per-label raw values from a :class:`_LabelPass` (vectorised over labels).
#: Every attribute of the schema has one (tests/engine/measure/test_measure.py checks it):
#: one that has not would make :meth:`Measurer.raw_by_label` raise and :meth:`raw_many` go mask by mask.
BY_LABEL: dict[str, Callable[[_LabelPass], np.ndarray]] = {
    "brightness": lambda by: brightness_of_mean(by.mean),
    "temperature": lambda by: temperature_of_mean(by.mean),
    "tint": lambda by: tint_of_mean(by.mean),
    "colorfulness": _colorfulness_of_sums,
    "contrast": lambda by: contrast_of_sums(by.col("grad2"), by.col("pairs")),
    "highlights": lambda by: by.tails()[:, 1],
    "shadows": lambda by: by.tails()[:, 0],
    "clarity": lambda by: by.per_label("detail", lambda d: float(d.mean())),
}


def measure_raw(image: np.ndarray, regions: Mapping, attributes: Iterable[str] | None = None) -> dict[str, dict[str, float]]:
    """Region name → attribute → raw value. ``regions`` maps names to Region or mask arrays."""
    m = Measurer(image)
    return {name: m.raw(measure_mask(_mask_of(r)), attributes) for name, r in regions.items()}


def to_levels(raw: Mapping[str, float], table: LevelTable | None = None) -> dict[str, float]:
    """Attribute → raw value  ⟶  attribute → level (NaN stays NaN).

    Levels lie in [−1, 1] over the table and up to ±EXTENDED beyond it (see :mod:`.levels`).
    """
    t = table or default_table()
    return {k: float(t[k].to_level(v)) for k, v in raw.items()}


def measure_levels(image: np.ndarray, regions: Mapping, table: LevelTable | None = None,
                   attributes: Iterable[str] | None = None) -> dict[str, dict[str, float]]:
    """Region name → attribute → level, measured the reference way (see module doc)."""
    return {k: to_levels(v, table) for k, v in measure_raw(image, regions, attributes).items()}


def measure_image_raw(image: np.ndarray, attributes: Iterable[str] | None = None) -> dict[str, float]:
    """Raw values of the whole frame."""
    return Measurer(image).raw(np.ones(MEASURE_SIZE[::-1], bool), attributes)


def measure_image_levels(image: np.ndarray, table: LevelTable | None = None,
                         attributes: Iterable[str] | None = None) -> dict[str, float]:
    """Levels of the whole frame (the ``global`` entry of a recipe)."""
    return to_levels(measure_image_raw(image, attributes), table)
