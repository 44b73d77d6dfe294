"""The region masks of a case drawn on its photo: the thumbnails the HTML report shows.

Each region is tinted in its own colour with a solid outline on a slightly dimmed
photo; the legend says which colour is which region and whether the mask was given by
the case (``case``: scoring does not depend on the agent) or found by the agent's
segmentation (``agent``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Distinct, colour-blind-friendly-ish tints (Okabe–Ito), RGB.
PALETTE = ((230, 159, 0), (86, 180, 233), (0, 158, 115), (240, 228, 66), (0, 114, 178), (213, 94, 0),
           (204, 121, 167), (255, 255, 255))


def hex_colour(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def draw_masks(pixels: np.ndarray, masks: dict[str, tuple[np.ndarray, str]],
               alpha: float = 0.55) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """``pixels`` (uint8 RGB) with every mask tinted and outlined; returns the image and
    the legend ``[{"name", "colour", "source", "area"}]``. ``masks``: name → (bool mask, source)."""
    import cv2

    out = pixels.astype(np.float32) * 0.6
    legend = []
    for i, (name, (mask, source)) in enumerate(masks.items()):
        colour = PALETTE[i % len(PALETTE)]
        m = mask.astype(bool)
        if m.shape != pixels.shape[:2]:
            m = cv2.resize(m.astype(np.uint8), (pixels.shape[1], pixels.shape[0]),
                           interpolation=cv2.INTER_NEAREST).astype(bool)
        out[m] = out[m] * (1 - alpha) + np.asarray(colour, np.float32) * alpha
        edge = cv2.morphologyEx(m.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)).astype(bool)
        out[edge] = colour
        legend.append({"name": name, "colour": hex_colour(colour), "source": source, "area": round(float(m.mean()), 4)})
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), legend
