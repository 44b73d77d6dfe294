"""Measurement the reference way, vectorised: equals the estimators."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.engine import estimators as est
from pertouch.engine.attributes import REGISTRY
from pertouch.engine.measure import (measure_image_levels, measure_levels, measure_mask, measure_raw,
                                     measure_rgb)
from pertouch.engine.regions import Region


def test_raw_equals_reference_estimators(coffee_small):
    h, w = coffee_small.shape[:2]
    m = np.zeros((h // 2, w // 2), np.float32)  # low-res, soft mask
    m[10:60, 20:110] = 0.8
    raw = measure_raw(coffee_small, {"r": Region("r", m)})["r"]
    rgb, mask = measure_rgb(coffee_small), measure_mask(m)
    assert rgb.shape == (512, 512, 3) and mask.shape == (512, 512)
    for name in REGISTRY:
        ref = getattr(est, name)(rgb, mask)
        tol = 0.2 if name == "tint" else 1e-6 * max(1.0, abs(ref))  # tint: closed-form Duv
        assert raw[name] == pytest.approx(ref, abs=tol), name


def test_levels_range_and_whole_image(astro_small):
    lv = measure_levels(astro_small, {"all": np.ones(astro_small.shape[:2], np.float32)})
    whole = measure_image_levels(astro_small)
    assert set(lv["all"]) == set(REGISTRY)
    for a, v in whole.items():
        assert -1.0 <= v <= 1.0 and v == pytest.approx(lv["all"][a])


def test_empty_region_is_nan(astro_small):
    lv = measure_levels(astro_small, {"none": np.zeros((8, 8), np.float32)}, attributes=["brightness"])
    assert np.isnan(lv["none"]["brightness"])


def test_uint16_measures_like_uint8(astro_small):
    a = measure_image_levels(astro_small)
    b = measure_image_levels(astro_small.astype(np.uint16) * 257)
    for k in a:
        assert b[k] == pytest.approx(a[k], abs=0.02), k
