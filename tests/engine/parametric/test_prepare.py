"""Region preparation on worker threads (engine/parametric/prepare.py)."""

from __future__ import annotations

import threading

import cv2
import numpy as np

from pertouch.engine.measure import stats as ms
from pertouch.engine.ops import operators as op
from pertouch.engine.parametric.cache import LayerCache
from pertouch.engine.parametric.prepare import copy_image, executor, opencv_threads, region_sample, region_weights


def test_weights_and_sample_are_built_once_and_cached(astro_small):
    cache = LayerCache()
    h, w = astro_small.shape[:2]
    mask = np.zeros((h // 2, w // 2), np.float32)
    mask[: h // 4] = 1.0
    key = (False, "photo", 1)
    lock, guides = threading.Lock(), {}
    mdig, weights = region_weights(cache, mask, mask, astro_small, key, guides, lock)
    assert "spans" in weights.__dict__  # the kernel's row spans are made with the weights
    assert region_weights(cache, mask, mask, astro_small, key, guides, lock)[1] is weights  # cached
    src = ms.Measurer(astro_small).rgb / 255.0
    m512 = ms.measure_mask(mask)
    _, _, prep = region_sample(cache, mdig, weights, m512, astro_small, src, None, key, op.Params(), False)
    w_src, sample, support = prep
    assert w_src.shape == support.shape == m512.shape and not sample.empty
    assert region_sample(cache, mdig, weights, m512, astro_small, src, None, key, op.Params(), False)[2] is prep


def test_thread_helpers(astro_small):
    old = cv2.getNumThreads()
    with opencv_threads(1):
        assert cv2.getNumThreads() == 1
    assert cv2.getNumThreads() == old
    assert executor("plan", 2) is executor("plan", 2)
    c = copy_image(astro_small)
    assert c is not astro_small and np.array_equal(c, astro_small)
    assert np.array_equal(copy_image(astro_small[:, ::2]), astro_small[:, ::2])  # not contiguous


def test_the_copy_thread_runs_at_a_lower_priority_where_the_os_allows():
    import os
    import sys

    import pytest

    if not sys.platform.startswith("linux"):
        pytest.skip("per-thread nice values are a Linux feature")
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    theirs = executor("copy", 1).submit(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())).result()
    assert theirs >= min(mine + 10, 19)  # nicer: it takes idle moments, not the planners' time
    assert mine == os.getpriority(os.PRIO_PROCESS, threading.get_native_id())  # the caller's is unchanged
