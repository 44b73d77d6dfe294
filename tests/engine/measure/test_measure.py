"""Measurement the reference way, vectorised: equals the estimators."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.engine.measure import estimators as est
from pertouch.engine.measure.stats import (measure_image_levels, measure_levels, measure_mask, measure_raw,
                                           measure_rgb)
from pertouch.engine.schema.attributes import REGISTRY
from pertouch.engine.schema.regions import Region


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


def test_raw_many_matches_raw_for_partitions_and_overlaps():
    from pertouch.engine.measure.stats import Measurer
    """Masks measured together (label pass) or one by one give the same raw values."""
    rng = np.random.default_rng(5)
    img = (rng.random((300, 400, 3)) * 255).astype(np.uint8)
    m = Measurer(img)
    yy, xx = np.mgrid[0:512, 0:512]
    part = [xx < 200, (xx >= 200) & (yy < 256), (xx >= 200) & (yy >= 256)]
    overl = [(xx - 300) ** 2 + (yy - 300) ** 2 < 90 ** 2, np.zeros((512, 512), bool)]
    masks = part + [part[0] | part[1]] + overl
    names = ["colorfulness", "contrast", "temperature", "brightness", "tint", "shadows"]
    got = m.raw_many(masks, names)
    for mask, g in zip(masks, got):
        want = m.raw(mask, names)
        for a in names:
            assert (np.isnan(g[a]) and np.isnan(want[a])) or g[a] == pytest.approx(want[a], rel=1e-9), (a, g, want)
