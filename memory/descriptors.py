"""Image descriptors: a small vector that makes similar photos match by pixels and layout.

Descriptions written by a model or a person vary ("lake at dusk" / "mountain
reflection"), so memory also compares photos by what they look like. The descriptor is
a unit float32 vector of :data:`DESCRIPTOR_DIM` values in four blocks, each centred on
typical values so that the cosine of two descriptors is near 0 for unrelated photos
and near 1 for look-alikes:

=============  ====  ===================================================================
block          size  content (computed on a 64×64 area-downsampled copy, CIELAB)
=============  ====  ===================================================================
tone           9     mean, std, 10th and 90th percentile of L*; mean and std of a*, b*;
                     mean chroma — (L−50)/25, a/20, b/20, (C−15)/15
layout         27    mean L*, a*, b* in each cell of a 3×3 grid (same centring)
hue            8     √ of the chroma-weighted hue histogram, scaled by min(1, C̄/20)
composition    12    √ area fraction per region group (:data:`GROUPS`), from regions
=============  ====  ===================================================================

Each block is scaled to unit length (blocks shorter than 1, i.e. close to typical,
are kept as they are), then weighted by :data:`BLOCK_WEIGHTS`; so the cosine of two
descriptors is about ``Σ w²·cos(block) / Σ w²``. Composition comes from
the regions perception found (label → group by keyword; unknown labels → ``other``);
without regions that block is zero and photos compare by colour and tone alone.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np

#: Region groups of the composition block, each with the label keywords that map to it.
GROUPS: dict[str, tuple[str, ...]] = {
    "sky": ("sky", "cloud", "clouds", "sun", "sunset", "sunrise"),
    "water": ("water", "sea", "ocean", "lake", "river", "pond", "wave", "waves", "beach", "waterfall"),
    "vegetation": ("tree", "trees", "grass", "plant", "plants", "forest", "foliage", "leaf", "leaves",
                   "flower", "flowers", "bush", "vegetation", "field", "meadow"),
    "terrain": ("mountain", "mountains", "hill", "hills", "rock", "rocks", "ground", "sand", "snow",
                "earth", "land", "terrain", "road", "path", "desert", "cliff", "valley", "soil"),
    "building": ("building", "buildings", "house", "wall", "architecture", "city", "bridge", "tower",
                 "roof", "window", "street", "church"),
    "person": ("person", "people", "man", "woman", "child", "boy", "girl", "body", "clothes",
               "clothing", "shirt", "suit", "human", "portrait"),
    "face": ("face", "skin", "head", "hair", "eye", "eyes", "mouth", "lips"),
    "animal": ("animal", "cat", "dog", "bird", "horse", "eagle", "fur", "pet", "cow"),
    "food": ("food", "coffee", "cup", "plate", "drink", "fruit", "dish"),
    "vehicle": ("car", "vehicle", "boat", "plane", "rocket", "bike", "motorcycle", "train"),
    "background": ("background", "backdrop", "studio", "foreground", "subject", "object"),
    "other": (),
}
GROUP_NAMES: tuple[str, ...] = tuple(GROUPS)
_KEYWORD_TO_GROUP = {kw: g for g, kws in GROUPS.items() for kw in kws}

BLOCK_SIZES = {"tone": 9, "layout": 27, "hue": 8, "composition": len(GROUPS)}
BLOCK_WEIGHTS = {"tone": 1.0, "layout": 1.0, "hue": 0.6, "composition": 1.2}
DESCRIPTOR_DIM = sum(BLOCK_SIZES.values())
WORK_SIZE = 64


def label_group(label: str) -> str:
    """The composition group of a region label ("sky_1" → sky, "woman" → person).

    >>> label_group("sky_2"), label_group("Pine trees"), label_group("teapot")
    ('sky', 'vegetation', 'other')
    """
    words = label.lower().replace("_", " ").replace("-", " ").split()
    for w in words:
        w = w.rstrip("0123456789")
        if w in _KEYWORD_TO_GROUP:
            return _KEYWORD_TO_GROUP[w]
        if w.endswith("s") and w[:-1] in _KEYWORD_TO_GROUP:
            return _KEYWORD_TO_GROUP[w[:-1]]
    return "other"


def _to_lab(image: np.ndarray) -> np.ndarray:
    """RGB uint8/uint16/float → 64×64 CIELAB float32 (L in 0–100)."""
    import cv2

    img = np.asarray(image)
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    if img.ndim != 3 or img.shape[2] < 3:
        raise ValueError(f"image must be (H, W, 3) RGB, got shape {img.shape}")
    img = img[..., :3]
    if img.dtype == np.uint8:
        f = img.astype(np.float32) / 255.0
    elif img.dtype == np.uint16:
        f = img.astype(np.float32) / 65535.0
    else:
        f = np.clip(img.astype(np.float32), 0.0, 1.0)
    small = cv2.resize(f, (WORK_SIZE, WORK_SIZE), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_RGB2Lab)


def _centre(lab: np.ndarray) -> np.ndarray:
    """(…, 3) Lab → centred/scaled (…, 3)."""
    return np.stack([(lab[..., 0] - 50.0) / 25.0, lab[..., 1] / 20.0, lab[..., 2] / 20.0], axis=-1)


def tone_block(lab: np.ndarray) -> np.ndarray:
    """Global colour/tone statistics, float32 (9,)."""
    L, a, b = lab[..., 0].ravel(), lab[..., 1].ravel(), lab[..., 2].ravel()
    chroma = np.hypot(a, b)
    p10, p90 = np.percentile(L, [10, 90])
    return np.array([
        (L.mean() - 50) / 25, L.std() / 25 - 0.8, (p10 - 50) / 25, (p90 - 50) / 25,
        a.mean() / 20, a.std() / 20, b.mean() / 20, b.std() / 20, (chroma.mean() - 15) / 15,
    ], np.float32)


def layout_block(lab: np.ndarray) -> np.ndarray:
    """Mean centred Lab per cell of a 3×3 grid, row-major, float32 (27,)."""
    h, w = lab.shape[:2]
    cells = []
    for i in range(3):
        for j in range(3):
            cell = lab[i * h // 3:(i + 1) * h // 3, j * w // 3:(j + 1) * w // 3]
            cells.append(_centre(cell.reshape(-1, 3).mean(axis=0)))
    return np.concatenate(cells).astype(np.float32)


def hue_block(lab: np.ndarray, bins: int = 8) -> np.ndarray:
    """√ chroma-weighted hue histogram × min(1, mean chroma / 20), float32 (bins,)."""
    a, b = lab[..., 1].ravel(), lab[..., 2].ravel()
    chroma = np.hypot(a, b)
    total = chroma.sum()
    if total <= 1e-6:
        return np.zeros(bins, np.float32)
    hue = (np.arctan2(b, a) + np.pi) / (2 * np.pi)
    hist = np.bincount(np.minimum((hue * bins).astype(int), bins - 1), weights=chroma, minlength=bins)
    return (np.sqrt(hist / total) * min(1.0, chroma.mean() / 20.0)).astype(np.float32)


def composition_block(regions: Iterable[Any] | Mapping[str, float] | None) -> np.ndarray:
    """√ area fraction per group, float32 (len(GROUPS),).

    ``regions``: :class:`~pertouch.engine.schema.regions.Region` objects (``label``,
    ``area_fraction``), or a mapping label → area fraction in [0, 1]. Overlapping
    regions may sum past 1; the block is not renormalised.
    """
    out = np.zeros(len(GROUP_NAMES), np.float32)
    if not regions:
        return out
    items = regions.items() if isinstance(regions, Mapping) else (
        (getattr(r, "label", "") or getattr(r, "name", ""), float(r.area_fraction)) for r in regions)
    for label, area in items:
        out[GROUP_NAMES.index(label_group(str(label)))] += max(0.0, float(area))
    return np.sqrt(out).astype(np.float32)


def _unitish(block: np.ndarray) -> np.ndarray:
    """Scale a block to unit length, leaving blocks shorter than 1 (near-typical) as they are."""
    return block / max(float(np.linalg.norm(block)), 1.0)


def image_descriptor(image: np.ndarray, regions: Iterable[Any] | Mapping[str, float] | None = None) -> np.ndarray:
    """The unit-length descriptor of a photo, float32 ``(DESCRIPTOR_DIM,)``.

    ``image``: ``(H, W, 3)`` RGB, uint8/uint16 or float in [0, 1]; any size (it is
    area-downsampled to 64×64 first, ~1 ms). ``regions``: see
    :func:`composition_block`.
    """
    lab = _to_lab(image)
    blocks = {"tone": tone_block(lab), "layout": layout_block(lab), "hue": hue_block(lab),
              "composition": composition_block(regions)}
    vec = np.concatenate([BLOCK_WEIGHTS[k] * _unitish(blocks[k]) for k in BLOCK_SIZES]).astype(np.float32)
    n = float(np.linalg.norm(vec))
    return vec / n if n > 0 else vec


def descriptor_similarity(a: np.ndarray | list[float] | None, b: np.ndarray | list[float] | None) -> float | None:
    """Cosine of two descriptors in [−1, 1]; None when either is missing or zero."""
    if a is None or b is None or len(a) == 0 or len(b) == 0:
        return None
    x, y = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    if x.size != y.size:
        return None
    nx, ny = np.linalg.norm(x), np.linalg.norm(y)
    if nx == 0 or ny == 0:
        return None
    return float(np.clip(x @ y / (nx * ny), -1.0, 1.0))
