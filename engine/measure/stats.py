"""Measure attribute levels of regions, the reference way.

The photo is resized (aspect NOT kept) to 512×512 with cv2 INTER_LINEAR in its own
dtype (as the reference does on the 8-bit image it reads), each
region's mask to 512×512 with nearest neighbour and thresholded at 0.5; raw values
come from the estimators of :mod:`pertouch.engine.measure.estimators` (vectorised here so
that ~10 regions cost a few milliseconds: per-image planes are computed once and
reduced per region) and are mapped to levels in [−1, 1] by a
:class:`~pertouch.engine.schema.levels.LevelTable` (the packaged default unless given).

>>> import numpy as np
>>> img = np.full((64, 64, 3), 120, np.uint8)
>>> round(measure_image_raw(img, attributes=["brightness"])["brightness"], 3)
120.0
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping

import numpy as np

from pertouch.engine.measure.estimators import (CONTRAST_CAP, MEASURE_SIZE, hasler_colorfulness, perceived_brightness,
                                                temperature_of_xyz)
from pertouch.engine.ops.colormath import SRGB_TO_XYZ
from pertouch.engine.ops.jit import HAVE_NUMBA
from pertouch.engine.schema.attributes import REGISTRY
from pertouch.engine.schema.levels import LevelTable, default_table

WHOLE = "global"
#: Attributes :meth:`Measurer.raw_many` computes per label (sums only).
_BY_LABEL = frozenset({"brightness", "temperature", "tint", "colorfulness", "contrast"})


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


def tail_mean(y: np.ndarray, top: bool) -> float:
    """Mean of the top (or bottom) 10 % of ``y`` as the estimators define it."""
    if len(y) == 0:
        return float("nan")
    cut = np.percentile(y, 90 if top else 10)
    sel = y[y >= cut] if top else y[y <= cut]
    return float(sel.mean())


class Measurer:
    """Per-image planes for fast repeated region measurements at 512×512."""

    def __init__(self, image: np.ndarray, *, measured: bool = False) -> None:
        self.rgb = image.astype(np.float32) if measured else measure_rgb(image)
        self._planes: dict[str, np.ndarray] = {}

    def _plane(self, name: str) -> np.ndarray:
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
        return self._planes[name]

    def raw(self, mask: np.ndarray, attributes: Iterable[str] | None = None) -> dict[str, float]:
        """Raw estimator values of one ``(512, 512)`` bool mask."""
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
                count = int(vh.sum() + vv.sum())
                dh = self._plane("dh")[y0:y1, x0:x1 - 1]
                dv = self._plane("dv")[y0:y1 - 1, x0:x1]
                total = float(dh[vh].sum(dtype=np.float64) + dv[vv].sum(dtype=np.float64))
                out[n] = 0.0 if count == 0 else float(min(total / (4.0 * count), CONTRAST_CAP))
            elif n == "temperature":
                out[n] = float(temperature_of_mean(mean))
            elif n == "brightness":
                out[n] = float(brightness_of_mean(mean))
            elif n == "tint":
                out[n] = float(tint_of_mean(mean))
            elif n in ("highlights", "shadows"):
                out[n] = tail_mean(self._plane("luma")[y0:y1, x0:x1][mask], n == "highlights")
            elif n == "clarity":
                out[n] = float(self._plane("detail")[y0:y1, x0:x1][mask].mean())
            else:
                raise KeyError(f"no estimator for {n!r}")
        return out

    def raw_many(self, masks: list[np.ndarray], attributes: Iterable[str] | None = None) -> list[dict[str, float]]:
        """:meth:`raw` of several ``(512, 512)`` bool masks at once (same values).

        Masks that overlap no other one (a segmenter's partition) are measured together
        from a label image: means, colourfulness and contrast need only sums per label
        (compiled passes; without numba every mask goes through :meth:`raw`). Overlapping
        masks and the other attributes (percentiles, clarity) go through :meth:`raw`.
        The label image of the last mask objects is reused: do not edit masks in place.
        """
        names = _names(attributes)
        fast = [n for n in names if n in _BY_LABEL]
        out: list[dict[str, float]] = [{} for _ in masks]
        if fast and masks and _label_sums is not None:
            label, shared = _label_image(masks)
            stats = self._label_stats(label, len(masks) + 1, "contrast" in fast)
            for i in np.flatnonzero(shared == 0):
                out[i] = {n: stats[n][i + 1] for n in fast}
        for i, m in enumerate(masks):
            rest = [n for n in names if n not in out[i]]
            if rest:
                out[i].update(self.raw(m, rest))
            out[i] = {n: out[i][n] for n in names}
        return out

    def _label_stats(self, label: np.ndarray, n: int, contrast: bool) -> dict[str, np.ndarray]:
        """Per-label raw values of :data:`_BY_LABEL` attributes (label 0 = unmeasured)."""
        acc = np.zeros((n, 10), np.float64)
        _label_sums(np.ascontiguousarray(self.rgb, np.float32), label, acc, contrast)
        cnt, pairs = acc[:, 0], acc[:, 9]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = acc[:, 1:4] / cnt[:, None]
            mrg, myb = acc[:, 4] / cnt, acc[:, 6] / cnt
            vrg = np.maximum(acc[:, 5] / cnt - mrg ** 2, 0.0)
            vyb = np.maximum(acc[:, 7] / cnt - myb ** 2, 0.0)
            out = {"brightness": brightness_of_mean(mean), "temperature": temperature_of_mean(mean),
                   "tint": tint_of_mean(mean),
                   "colorfulness": hasler_colorfulness(vrg, vyb, mrg, myb),
                   "contrast": np.where(pairs > 0, np.minimum(acc[:, 8] / (4.0 * np.maximum(pairs, 1)),
                                                              CONTRAST_CAP), 0.0)}
        return {k: np.where(cnt > 0, v, np.nan).astype(np.float64) for k, v in out.items()}


_LAST_LABELS: list = []  # [(weak refs to the masks, label image, shared flags)]


def _label_image(masks: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(label, shared) of :func:`_labels_py` for these masks; the last result is kept for
    the same mask objects (a plan's masks are measured again by its report)."""
    import weakref

    if _LAST_LABELS:
        refs, label, shared = _LAST_LABELS[0]
        if len(refs) == len(masks) and all(r() is m for r, m in zip(refs, masks)):
            return label, shared
    label = np.zeros(masks[0].shape, np.int32)  # 0 = none or shared, i + 1 = masks[i]
    shared = np.zeros(len(masks), np.uint8)
    _labels(np.stack(masks), label, shared)
    try:
        _LAST_LABELS[:] = [([weakref.ref(m) for m in masks], label, shared)]
    except TypeError:  # not weak-referenceable: do not remember
        _LAST_LABELS.clear()
    return label, shared


def _labels_py(stack, label, shared):
    """label = i + 1 where only mask i covers a pixel (0 elsewhere); shared[i] = 1 for
    every mask that shares a pixel with another one."""
    n, h, w = stack.shape
    for y in range(h):
        for x in range(w):
            first = -1
            for i in range(n):
                if stack[i, y, x]:
                    if first < 0:
                        first = i
                    else:
                        shared[first] = 1
                        shared[i] = 1
                        label[y, x] = 0
            if first >= 0 and shared[first] == 0:
                label[y, x] = first + 1


def _label_sums_py(rgb, label, acc, pairs):
    """acc[l] += (1, R, G, B, rg, rg², yb, yb², Σ|Δ|² over same-label 4-neighbour pairs, pairs).

    Sums run along each row's runs of one label in registers and are added to ``acc``
    when the label changes (a partition's labels come in long runs). ``pairs``: whether
    to sum the contrast pairs at all.
    """
    h, w = label.shape
    loc = np.zeros(10)
    for i in range(h):
        cur = 0
        for j in range(w + 1):
            lab = label[i, j] if j < w else -1
            if lab != cur:
                if cur > 0:
                    for k in range(10):
                        acc[cur, k] += loc[k]
                        loc[k] = 0.0
                cur = lab
            if lab <= 0:
                continue
            r = np.float64(rgb[i, j, 0])
            g = np.float64(rgb[i, j, 1])
            b = np.float64(rgb[i, j, 2])
            rg = abs(r - g)
            yb = abs(0.5 * (r + g) - b)
            loc[0] += 1.0
            loc[1] += r
            loc[2] += g
            loc[3] += b
            loc[4] += rg
            loc[5] += rg * rg
            loc[6] += yb
            loc[7] += yb * yb
            if not pairs:
                continue
            if j + 1 < w and label[i, j + 1] == lab:
                d = 0.0
                for c in range(3):
                    d += np.float64(np.float32(rgb[i, j + 1, c] - rgb[i, j, c]) ** 2)
                loc[8] += d
                loc[9] += 1.0
            if i + 1 < h and label[i + 1, j] == lab:
                d = 0.0
                for c in range(3):
                    d += np.float64(np.float32(rgb[i + 1, j, c] - rgb[i, j, c]) ** 2)
                loc[8] += d
                loc[9] += 1.0


if HAVE_NUMBA:
    import numba as _nb

    _label_sums = _nb.njit(cache=True, nogil=True)(_label_sums_py)
    _labels = _nb.njit(cache=True, nogil=True)(_labels_py)
else:  # pragma: no cover - no numba: raw_many measures mask by mask
    _label_sums = _labels = None

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
