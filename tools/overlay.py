"""Overlays: numbered regions drawn on the photo.

- :func:`som_overlay` — a Set-of-Mark image for a VLM: each region's outline in a
  distinct colour, a light tint, and its number in a filled badge at the region's
  most interior point, so a model can answer "1: sky, 2: person…".
- :func:`preview_overlay` — the same for people, with label names in the badges.

Input photos are ``(H, W, 3)`` uint8 RGB; masks float32 ``(h, w)`` in [0, 1] at
any resolution with the photo's aspect ratio. Output is uint8 RGB at the photo's
size, or smaller when ``max_side`` is given.
"""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

#: Distinct, saturated colours (RGB) for regions 1, 2, …
PALETTE: tuple[tuple[int, int, int], ...] = (
    (230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
    (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128), (170, 110, 40),
)


def colour_of(i: int) -> tuple[int, int, int]:
    return PALETTE[i % len(PALETTE)]


def _anchor(mask: np.ndarray) -> tuple[int, int] | None:
    """The most interior point of the mask's largest component, ``(x, y)``."""
    m = (mask > 0.5).astype(np.uint8)
    if not m.any():
        return None
    dist = cv2.distanceTransform(np.pad(m, 1), cv2.DIST_L2, 3)[1:-1, 1:-1]
    y, x = np.unravel_index(int(dist.argmax()), dist.shape)
    return int(x), int(y)


def _badge(img: np.ndarray, text: str, at: tuple[int, int], colour: tuple[int, int, int], scale: float) -> None:
    font = cv2.FONT_HERSHEY_SIMPLEX
    thick = max(1, round(2 * scale))
    (tw, th), base = cv2.getTextSize(text, font, scale, thick)
    x = int(np.clip(at[0] - tw // 2, 2, max(2, img.shape[1] - tw - 4)))
    y = int(np.clip(at[1] + th // 2, th + 4, max(th + 4, img.shape[0] - 4)))
    pad = max(2, round(4 * scale))
    cv2.rectangle(img, (x - pad, y - th - pad), (x + tw + pad, y + base), colour, -1)
    lum = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]
    cv2.putText(img, text, (x, y), font, scale, (0, 0, 0) if lum > 140 else (255, 255, 255), thick, cv2.LINE_AA)


def _draw(image: np.ndarray, masks: Sequence[np.ndarray], texts: Sequence[str], max_side: int | None,
          alpha: float) -> np.ndarray:
    img = np.ascontiguousarray(image[..., :3] if image.ndim == 3 else np.repeat(image[..., None], 3, 2))
    if img.dtype != np.uint8:
        img = (img >> 8).astype(np.uint8) if img.dtype == np.uint16 else (np.clip(img, 0, 1) * 255).astype(np.uint8)
    h, w = img.shape[:2]
    if max_side and max(h, w) > max_side:
        s = max_side / max(h, w)
        img = cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        h, w = img.shape[:2]
    out = img.astype(np.float32)
    scale = max(0.35, min(h, w) / 700)
    binaries = []
    for i, m in enumerate(masks):
        mm = cv2.resize(m.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR) if m.shape != (h, w) else m
        b = mm > 0.5
        binaries.append(b)
        out[b] = (1 - alpha) * out[b] + alpha * np.array(colour_of(i), np.float32)
    out = out.astype(np.uint8)
    for i, b in enumerate(binaries):
        contours, _ = cv2.findContours(b.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, contours, -1, colour_of(i), max(1, round(2 * scale)), cv2.LINE_AA)
    for i, (b, text) in enumerate(zip(binaries, texts)):
        at = _anchor(b)
        if at is not None:
            _badge(out, text, at, colour_of(i), scale)
    return out


def som_overlay(image: np.ndarray, masks: Sequence[np.ndarray], numbers: Sequence[int] | None = None,
                *, max_side: int | None = 1024) -> np.ndarray:
    """Set-of-Mark image: region ``i`` tinted, outlined and numbered ``numbers[i]`` (default i + 1)."""
    nums = list(numbers) if numbers is not None else list(range(1, len(masks) + 1))
    if len(nums) != len(masks):
        raise ValueError(f"{len(masks)} masks but {len(nums)} numbers")
    return _draw(image, masks, [str(n) for n in nums], max_side, alpha=0.25)


def preview_overlay(image: np.ndarray, regions: Sequence, *, max_side: int | None = 1600) -> np.ndarray:
    """A preview for people: regions tinted and outlined with ``"N name"`` badges."""
    texts = [f"{i + 1} {r.name}" for i, r in enumerate(regions)]
    return _draw(image, [r.mask for r in regions], texts, max_side, alpha=0.35)
