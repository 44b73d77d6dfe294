"""The pictures the web app shows: the photo, previews of a recipe, the regions overlay.

All at screen size (:data:`VIEW_SIDE` on the long side), encoded in memory (JPEG for
photos, PNG with transparency for the overlay). Recipes render through the graph's
runtime (:func:`pertouch.graph.runtime.render`) with the web app's runtime cache: the
decoded photo, its proxy and the masks at proxy size stay cached there, so a slider
change costs one engine pass on the proxy plus the encoding; the last previews are
kept by the app's :class:`Views` too (same recipe → same bytes, no render).
"""

from __future__ import annotations

import json
from typing import Any, Sequence

import cv2
import numpy as np

from pertouch.core.lru import LRU
from pertouch.graph import runtime as rt

#: Long side of what the browser is sent (px).
VIEW_SIDE = 1024
JPEG_QUALITY = 88
#: Previews a :class:`Views` keeps (the least recently used goes first).
PREVIEWS = 32

#: Overlay colours (RGB), one per region in order.
PALETTE = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
           (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128), (170, 110, 40)]


def jpeg(pixels8: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(pixels8, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - cv2 fails only on empty arrays
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


def view_size(ref: dict) -> tuple[int, int]:
    return rt.proxy_size(ref, VIEW_SIDE)


class Views:
    """The photo and recipe previews of one web app: rendered through its runtime cache
    (``cache``, a :class:`~pertouch.graph.runtime.RuntimeCache`), the last :data:`PREVIEWS`
    encoded ones kept here."""

    def __init__(self, cache: rt.RuntimeCache, size: int = PREVIEWS) -> None:
        self.cache = cache
        self._previews = LRU(size)  # key -> encoded picture

    def before(self, ref: dict) -> bytes:
        """The photo as it is, at view size."""
        key = f"before:{ref['hash']}"
        return self._previews.get_or(key, lambda: jpeg(rt.proxy8(ref, VIEW_SIDE, cache=self.cache)))

    def preview(self, ref: dict, recipe_json: dict, *, segmenter: str, engine: str) -> bytes:
        """``recipe_json`` rendered at view size (cached by photo, recipe and settings)."""
        key = json.dumps([ref["hash"], segmenter, engine, recipe_json], sort_keys=True)

        def make() -> bytes:
            result = rt.render(ref, recipe_json, segmenter=segmenter, engine=engine, long_side=VIEW_SIDE,
                               cache=self.cache)
            return jpeg(rt.to8(result.image))

        return self._previews.get_or(key, make)

    def clear(self) -> None:
        """Forget the kept previews."""
        self._previews.clear()


def file_view(path: str) -> bytes:
    """A preview file the graph wrote (already JPEG at working size), as bytes."""
    with open(path, "rb") as f:
        return f.read()


def overlay(ref: dict, regions: Sequence[Any]) -> bytes:
    """A transparent PNG at view size: each region tinted in its colour with a thin outline
    and its name at its centre (regions: :class:`Region` objects with full-size masks)."""
    w, h = view_size(ref)
    out = np.zeros((h, w, 4), np.uint8)
    labels = []
    for i, reg in enumerate(regions):
        m = cv2.resize(np.asarray(reg.mask, np.float32), (w, h), interpolation=cv2.INTER_AREA) > 0.5
        if not m.any():
            continue
        colour = PALETTE[i % len(PALETTE)]
        out[m, :3] = colour
        out[m, 3] = 90
        edges = cv2.morphologyEx(m.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
        out[edges, :3] = colour
        out[edges, 3] = 255
        ys, xs = np.nonzero(m)
        # the label sits at the mask pixel nearest the centroid (a ring's centroid is outside it)
        cy, cx = ys.mean(), xs.mean()
        j = int(np.argmin((ys - cy) ** 2 + (xs - cx) ** 2))
        labels.append((reg.name, int(xs[j]), int(ys[j]), colour))
    placed: list[tuple[int, int, int, int]] = []
    for name, x, y, colour in labels:
        scale = max(0.45, w / 1400)
        (tw, th), _ = cv2.getTextSize(name, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        x0, y0 = max(0, min(w - tw - 6, x - tw // 2 - 3)), max(th + 6, min(h - 2, y + th // 2 + 3))
        while any(x0 < bx1 and bx0 < x0 + tw + 6 and y0 - th - 6 < by1 and by0 < y0 + 2
                  for bx0, by0, bx1, by1 in placed) and y0 + th + 10 < h:
            y0 += th + 10  # below a label already there
        placed.append((x0, y0 - th - 6, x0 + tw + 6, y0 + 2))
        cv2.rectangle(out, (x0, y0 - th - 6), (x0 + tw + 6, y0 + 2), (0, 0, 0, 200), -1)
        cv2.putText(out, name, (x0 + 3, y0 - 3), cv2.FONT_HERSHEY_SIMPLEX, scale, (*colour, 255), 1, cv2.LINE_AA)
    rgba = cv2.cvtColor(out, cv2.COLOR_RGBA2BGRA)
    ok, buf = cv2.imencode(".png", rgba)
    return buf.tobytes()
