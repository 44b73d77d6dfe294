"""Edge-aware mask upsampling: low-resolution soft masks → full-resolution masks.

The fast guided filter (He & Sun 2015): the local linear model ``q = a·I + b`` of
the mask ``p`` against the guide ``I`` (the photo's luminance) is fitted on the
low-resolution proxy, its coefficients ``a, b`` are smoothed and upsampled
bilinearly, and applied to the full-resolution guide. Mask borders therefore
follow the photo's edges (skylines, hair, branches) instead of the proxy's pixels.

All masks are float32 ``(h, w)`` in [0, 1]; guides are ``(H, W)`` float32 in
[0, 1]; outputs are ``(H, W)`` float32 in [0, 1]. :func:`refine_masks` (what
perception uses) does the same from the photo itself, with the full-resolution
work fused into one compiled pass; :func:`upsample_masks` is its reference.

>>> import numpy as np
>>> guide = np.zeros((8, 8), np.float32); guide[:, 4:] = 1
>>> m = np.zeros((4, 4), np.float32); m[:, 2:] = 1
>>> up = upsample_masks([m], guide)[0]
>>> bool(up[:, :4].max() < 0.2 and up[:, 4:].min() > 0.8)
True
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from pertouch.engine.parametric.guided import guide_stats
from pertouch.engine.parametric.guided import guided_coefficients as blend_coefficients


def luminance(rgb: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` uint8/uint16/float RGB → ``(H, W)`` float32 luma in [0, 1]."""
    if rgb.ndim == 2:
        y = rgb.astype(np.float32)
    else:
        y = cv2.cvtColor(np.ascontiguousarray(rgb[..., :3]), cv2.COLOR_RGB2GRAY).astype(np.float32)
    scale = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(rgb.dtype, 1.0)
    return y / scale


def guided_coefficients(guide: np.ndarray, masks: list[np.ndarray], radius: int, eps: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per mask, the guided-filter coefficients ``(a, b)`` at the guide's resolution (the
    engine's guided filter, :func:`pertouch.engine.parametric.guided.guided_coefficients`, with the
    guide's statistics shared by every mask and no exact ends)."""
    g = guide.astype(np.float32, copy=False)
    stats = guide_stats(g, radius)
    return [blend_coefficients(g, p.astype(np.float32, copy=False), radius, eps, stats, exact_ends=False)
            for p in masks]


def upsample_masks(
    masks: list[np.ndarray],
    guide_full: np.ndarray,
    *,
    radius: int = 2,
    eps: float = 1e-3,
    out_size: tuple[int, int] | None = None,
) -> list[np.ndarray]:
    """Bring proxy masks to the guide's resolution (or ``out_size`` = (W, H)), edge-aware.

    ``masks`` are float32 ``(h, w)`` at the proxy size (same aspect as the guide);
    ``guide_full`` is the full-resolution luma ``(H, W)`` in [0, 1]. ``radius`` is in
    proxy pixels. Returns float32 masks in [0, 1] at full resolution.
    """
    if not masks:
        return []
    h, w = masks[0].shape
    H, W = guide_full.shape[:2]
    if out_size is not None and out_size != (W, H):
        guide_full = cv2.resize(guide_full, out_size, interpolation=cv2.INTER_AREA)
        H, W = guide_full.shape[:2]
    if (H, W) == (h, w):
        guide_low = guide_full
    else:
        guide_low = cv2.resize(guide_full, (w, h), interpolation=cv2.INTER_AREA)
    coeffs = guided_coefficients(guide_low, masks, radius, eps)
    result = []
    for a, b in coeffs:
        if (H, W) != (h, w):
            a = cv2.resize(a, (W, H), interpolation=cv2.INTER_LINEAR)
            b = cv2.resize(b, (W, H), interpolation=cv2.INTER_LINEAR)
        q = cv2.multiply(a, guide_full, dtype=cv2.CV_32F)
        cv2.add(q, b, dst=q)
        np.clip(q, 0.0, 1.0, out=q)
        result.append(q)
    return result


def _vertical_py(ha, hb, guide, scale, out):  # pragma: no cover - compiled by numba
    """``out[k] = clip(A_k · guide·scale + B_k, 0, 1)``, ``A_k``/``B_k`` interpolated
    vertically (cv2.INTER_LINEAR's pixel-centre mapping and edge clamping) from rows
    ``ha[k]``/``hb[k]`` that are already at the output width: one contiguous pass per
    output row, and every mask's full-resolution plane is written once."""
    k, h, W = ha.shape
    H = guide.shape[0]
    sy = h / H
    for y in range(H):
        f = (y + 0.5) * sy - 0.5
        i = int(np.floor(f))
        f -= i
        if i < 0:
            i, f = 0, 0.0
        if i >= h - 1:
            i, f = h - 1, 0.0
        j = min(i + 1, h - 1)
        fy = np.float32(f)
        g = guide[y]
        for m in range(k):
            a0, a1, b0, b1, o = ha[m, i], ha[m, j], hb[m, i], hb[m, j], out[m, y]
            for x in range(W):
                q = (a0[x] + (a1[x] - a0[x]) * fy) * (np.float32(g[x]) * scale) + (b0[x] + (b1[x] - b0[x]) * fy)
                o[x] = min(max(q, np.float32(0.0)), np.float32(1.0))


@lru_cache(maxsize=1)
def _vertical():
    """:func:`_vertical_py` compiled once, on first use (:func:`pertouch.engine.ops.jit.compiled`)."""
    from pertouch.engine.ops.jit import compiled

    return compiled(_vertical_py, cache=True, nogil=True)


def grey_guide(rgb: np.ndarray, size: tuple[int, int] | None = None) -> tuple[np.ndarray, float]:
    """The guide for :func:`refine_masks`: ``(grey, scale)`` with ``grey·scale`` the luma in
    [0, 1] at ``size`` = (W, H) (default: the photo's). uint8 grey at full size (one
    cv2 pass); resized photos are averaged (INTER_AREA) from their full-size grey."""
    H, W = rgb.shape[:2]
    size = size or (W, H)
    if rgb.ndim == 3:
        grey = cv2.cvtColor(np.ascontiguousarray(rgb[..., :3]), cv2.COLOR_RGB2GRAY)
    else:
        grey = rgb
    scale = {np.dtype(np.uint8): 1 / 255.0, np.dtype(np.uint16): 1 / 65535.0}.get(grey.dtype, 1.0)
    if size != (W, H):
        grey = cv2.resize(grey.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    return grey, scale


def refine_masks(masks: list[np.ndarray], rgb: np.ndarray, *, size: tuple[int, int] | None = None,
                 radius: int = 2, eps: float = 1e-3) -> list[np.ndarray]:
    """Proxy masks → float32 masks at ``size`` = (W, H) (default: the photo's), edge-aware.

    The same guided filter as :func:`upsample_masks` with the photo's luma as guide
    (``upsample_masks(masks, luminance(rgb), radius=…)`` is the reference it is tested
    against), with the upsampling, the linear model and the clip fused into one
    compiled pass per output pixel.
    """
    if not masks:
        return []
    grey, scale = grey_guide(rgb, size)
    h, w = masks[0].shape
    H, W = grey.shape
    guide_low = cv2.resize(grey.astype(np.float32) * np.float32(scale), (w, h), interpolation=cv2.INTER_AREA)
    coeffs = guided_coefficients(guide_low, masks, radius, eps)
    # horizontal half of the bilinear upsampling by OpenCV (h rows only), the rest compiled
    ha = np.stack([cv2.resize(a, (W, h), interpolation=cv2.INTER_LINEAR) for a, _ in coeffs])
    hb = np.stack([cv2.resize(b, (W, h), interpolation=cv2.INTER_LINEAR) for _, b in coeffs])
    out = np.empty((len(masks), H, W), np.float32)
    _vertical()(ha, hb, np.ascontiguousarray(grey), np.float32(scale), out)
    return list(out)


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Plain bilinear resize of a float mask to ``size`` = (W, H) (no edge awareness)."""
    interp = cv2.INTER_AREA if size[0] < mask.shape[1] else cv2.INTER_LINEAR
    return np.clip(cv2.resize(mask.astype(np.float32), size, interpolation=interp), 0.0, 1.0)
