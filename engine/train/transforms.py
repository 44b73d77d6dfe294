"""The reference's training augmentations, as dataset transforms ``(sample, rng) → sample``.

Samples are those of :class:`pertouch.engine.train.data.TrainDataset`: ``input``/
``target`` uint8 H×W×3, ``map`` float32 4×H×W levels in [−1, 1], ``labels`` uint16
H×W, ``others()`` → the other experts' ``(expert, target, map)`` of the same input.

- :class:`SemanticReplacement`: with probability ``p`` (0.05) one region, chosen
  area-weighted, takes the target pixels and map values of the other expert whose
  map differs most there (the model learns that regions follow their own levels).
- :class:`ParameterPerturbation`: on every sample the map is Gaussian-blurred
  (σ = 5, odd kernel 7–19) and each channel shifted by up to ±20 px in x and y
  (edges replicated), so the model tolerates imprecise region boundaries; the map
  stays in [−1, 1].
- :class:`RandomCrop`: one 512² window of every image-sized field.

Each is switchable (``enabled``) and records what it did in the sample
(``"replaced"``, ``"perturbation"``, ``"crop"``) for tests and logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

#: The reference's values (see ../shared/DESIGN.md).
REPLACEMENT_P = 0.05
BLUR_SIGMA = 5.0
KERNEL_RANGE = (7, 19)
MAX_SHIFT = 20
CROP = 512

Transform = Callable[[dict, np.random.Generator], dict]


@dataclass
class SemanticReplacement:
    """With probability ``p``, one region's target pixels and map values from another expert."""

    p: float = REPLACEMENT_P
    enabled: bool = True

    def __call__(self, sample: dict, rng: np.random.Generator) -> dict:
        sample["replaced"] = None
        if not self.enabled or rng.random() >= self.p:
            return sample
        labels = sample["labels"]
        counts = np.bincount(labels.ravel())
        ids = np.nonzero(counts[1:])[0] + 1
        others = sample["others"]() if callable(sample.get("others")) else list(sample.get("others") or [])
        others = [o for o in others if o[1].shape == sample["target"].shape]
        if ids.size == 0 or not others:
            return sample
        region = int(rng.choice(ids, p=counts[ids] / counts[ids].sum()))
        m = labels == region
        own = sample["map"][:, m].mean(1)
        diffs = [float(np.abs(omap[:, m].mean(1) - own).sum()) for _, _, omap in others]
        expert, otgt, omap = others[int(np.argmax(diffs))]
        target, pmap = sample["target"].copy(), sample["map"].copy()
        target[m] = otgt[m]
        pmap[:, m] = omap[:, m]
        sample.update(target=target, map=pmap, replaced={"region": region, "expert": expert})
        return sample


def perturb_map(pmap: np.ndarray, ksize: int, shifts: np.ndarray, sigma: float = BLUR_SIGMA) -> np.ndarray:
    """``pmap`` (C×H×W) blurred with an odd ``ksize`` Gaussian of ``sigma``, then channel c moved
    by ``shifts[c] = (dx, dy)`` pixels (edges replicated); clipped to [−1, 1]."""
    import cv2

    if ksize % 2 == 0 or ksize < 1:
        raise ValueError(f"Gaussian kernel size must be odd and positive, not {ksize}")
    out = np.empty_like(pmap, dtype=np.float32)
    h, w = pmap.shape[1:]
    for c in range(pmap.shape[0]):
        blurred = cv2.GaussianBlur(np.asarray(pmap[c], np.float32), (ksize, ksize), sigma,
                                   borderType=cv2.BORDER_REPLICATE)
        dx, dy = (int(v) for v in shifts[c])
        mat = np.float32([[1, 0, dx], [0, 1, dy]])
        out[c] = cv2.warpAffine(blurred, mat, (w, h), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
    return np.clip(out, -1.0, 1.0, out=out)


@dataclass
class ParameterPerturbation:
    """Blur (σ = 5, odd kernel drawn in ``kernel_range``) and per-channel shifts ≤ ``max_shift``."""

    sigma: float = BLUR_SIGMA
    kernel_range: tuple[int, int] = KERNEL_RANGE
    max_shift: int = MAX_SHIFT
    enabled: bool = True

    def __call__(self, sample: dict, rng: np.random.Generator) -> dict:
        if not self.enabled:
            sample["perturbation"] = None
            return sample
        lo, hi = self.kernel_range
        odd = np.arange(lo | 1, hi + 1, 2)
        ksize = int(rng.choice(odd))
        shifts = rng.integers(-self.max_shift, self.max_shift + 1, size=(sample["map"].shape[0], 2))
        sample["map"] = perturb_map(sample["map"], ksize, shifts, self.sigma)
        sample["perturbation"] = {"kernel": ksize, "shifts": shifts.tolist()}
        return sample


@dataclass
class RandomCrop:
    """One ``size``² window of ``input``, ``target``, ``map`` and ``labels`` (a smaller photo is
    scaled up first so its short side is ``size``)."""

    size: int = CROP
    enabled: bool = True

    def __call__(self, sample: dict, rng: np.random.Generator) -> dict:
        if not self.enabled:
            return sample
        import cv2

        h, w = sample["input"].shape[:2]
        s = self.size / min(h, w)
        if s > 1.0:
            nw, nh = max(self.size, round(w * s)), max(self.size, round(h * s))
            for k in ("input", "target"):
                sample[k] = cv2.resize(sample[k], (nw, nh), interpolation=cv2.INTER_LINEAR)
            sample["labels"] = cv2.resize(sample["labels"], (nw, nh), interpolation=cv2.INTER_NEAREST)
            sample["map"] = np.stack([cv2.resize(c, (nw, nh), interpolation=cv2.INTER_NEAREST)
                                      for c in sample["map"]])
            h, w = nh, nw
        y, x = int(rng.integers(0, h - self.size + 1)), int(rng.integers(0, w - self.size + 1))
        win = (slice(y, y + self.size), slice(x, x + self.size))
        for k in ("input", "target", "labels"):
            sample[k] = np.ascontiguousarray(sample[k][win])
        sample["map"] = np.ascontiguousarray(sample["map"][(slice(None), *win)])
        sample["crop"] = (y, x)
        return sample


def training_transforms(replacement: bool = True, perturbation: bool = True, crop: int | None = CROP,
                        p: float = REPLACEMENT_P) -> list[Transform]:
    """The reference's pipeline: replacement (on the full photo, where the other experts'
    targets align), then the crop, then perturbation of the cropped map."""
    out: list[Transform] = [SemanticReplacement(p, enabled=replacement)]
    if crop:
        out.append(RandomCrop(crop))
    out.append(ParameterPerturbation(enabled=perturbation))
    return out
