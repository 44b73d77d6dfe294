"""Preparing regions for the solve, on worker threads (weights, samples, support).

:func:`region_weights` builds a region's edge-aware weights (and the kernel's row
spans); :func:`region_sample` its sample of the measuring image, its weights there and
its support. Both consult the engine's :class:`~pertouch.engine.parametric.cache.LayerCache`
first, and run on the ``plan`` :func:`executor` (OpenCV, NumPy and the compiled passes
release the GIL) while the planning thread measures the photo and solves.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from functools import lru_cache

import numpy as np

from pertouch.engine.measure.estimators import MEASURE_SIZE
from pertouch.engine.parametric.blend import Weights, guide_for, guide_stats_for, support_at
from pertouch.engine.parametric.sample import RegionSample


@lru_cache(maxsize=None)
def executor(name: str, workers: int):
    """A named pool of worker threads, made on first use: ``plan`` (two, for the regions'
    preparation) and ``copy`` (one, for output copies, so they do not delay planning: its
    thread runs at a lower priority where the OS allows it, so the copy takes the cores'
    idle moments while planning rather than time from the preparation)."""
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"pertouch-{name}",
                              initializer=_lower_priority if name == "copy" else None)


def _lower_priority() -> None:
    """Lower the calling thread's scheduling priority (Linux: a thread's own nice value)."""
    import os

    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):  # not Linux, or not allowed: the normal priority
        pass


@contextmanager
def opencv_threads(n: int):
    """OpenCV's own thread count set to ``n`` for a while (while the planning workers run,
    OpenCV's own threads would oversubscribe the cores)."""
    import cv2

    old = cv2.getNumThreads()
    cv2.setNumThreads(n)
    try:
        yield
    finally:
        cv2.setNumThreads(old)


def copy_image(image: np.ndarray) -> np.ndarray:
    """A copy of ``image`` (OpenCV's copy releases the GIL: 12 MP take ~10 ms)."""
    import cv2

    return cv2.copyTo(image, None) if image.flags.c_contiguous else image.copy()


def region_weights(cache, mask_source: np.ndarray, mask: np.ndarray, image: np.ndarray, src_key: tuple,
                   guide_cache: dict, lock: threading.Lock, feather: bool = False) -> tuple[str, Weights]:
    """(mask digest, weights) of a region whose mask is ``mask`` (from ``mask_source``;
    ``feather``: a guessed mask, see :meth:`Weights.build`).

    The grid's guide is shared (``guide_cache``) and made once, by whichever worker asks
    first (``lock``); the kernel's row spans are made here too, off the critical path."""
    mdig = cache.mask_digest(mask_source)
    wkey = (mdig, image.shape[:2], src_key, feather)
    weights = cache.weights.get(wkey)
    if weights is None:
        def guide() -> np.ndarray:
            with lock:
                return guide_for(mask.shape, image, guide_cache)

        def stats(r: int) -> tuple[np.ndarray, np.ndarray]:
            with lock:
                return guide_stats_for(mask.shape, image, guide_cache, r)

        weights = Weights.build(mask, image, guide, stats, feather)
        weights.spans  # noqa: B018 - computed and cached now
        cache.weights.put(wkey, weights)
    return mdig, weights


def region_sample(cache, mdig: str, weights: Weights, mask512: np.ndarray, image: np.ndarray, src: np.ndarray,
                  lum_src: np.ndarray | None, src_key: tuple, under, exact: bool) -> tuple[str, Weights, tuple]:
    """(mask digest, weights, (weights at ``src``, sample, support)) of a region.

    ``src`` is what the solve samples (the measuring image after the global edit
    ``under``, or the photo itself when ``exact``); ``lum_src``: the input's luma there."""
    skey = (mdig, image.shape[:2], src_key, under)
    prep = cache.samples.get(skey)
    if prep is None:
        w_src = weights.full(image) if exact else weights.resized(MEASURE_SIZE[::-1]).full(src, luma=lum_src)
        prep = (w_src, RegionSample.build(src, mask512, weights=w_src), support_at(weights, MEASURE_SIZE))
        cache.samples.put(skey, prep)
    return mdig, weights, prep
