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


def _voronoi(k: int, seed: int = 2) -> list[np.ndarray]:
    yy, xx = np.mgrid[0:512, 0:512]
    centres = np.random.default_rng(seed).random((k, 2)) * 512
    owner = np.argmin([(yy - cy) ** 2 + (xx - cx) ** 2 for cy, cx in centres], axis=0)
    return [owner == i for i in range(k)]


def test_every_schema_attribute_is_measured_in_the_one_pass(astro_small, monkeypatch):
    """A new attribute in the schema must get a per-label reduction (stats.BY_LABEL):
    otherwise partitions and the whole frame would be measured mask by mask again."""
    from pertouch.engine.measure import stats as ms

    assert set(REGISTRY) <= set(ms.BY_LABEL), f"no per-label reduction for {set(REGISTRY) - set(ms.BY_LABEL)}"
    m = ms.Measurer(astro_small)
    masks = _voronoi(5)
    want = [m.raw(mask) for mask in masks] + [m.raw(np.ones((512, 512), bool))]

    def slow(*_a, **_k):
        raise AssertionError("raw_many went mask by mask")

    monkeypatch.setattr(ms.Measurer, "raw", slow)
    got = m.raw_many(masks, frame=True)
    for g, w in zip(got, want):
        assert list(g) == list(REGISTRY)
        for a in REGISTRY:
            assert g[a] == pytest.approx(w[a], rel=1e-9, abs=1e-9), a
            if a in ("highlights", "shadows", "clarity"):  # the same pixels in the same order
                assert g[a] == w[a], a


def test_an_attribute_without_a_label_reduction_is_named(astro_small, monkeypatch):
    from pertouch.engine.measure import stats as ms

    monkeypatch.delitem(ms.BY_LABEL, "clarity")
    m = ms.Measurer(astro_small)
    with pytest.raises(KeyError, match="clarity.*BY_LABEL"):
        m.raw_by_label(np.ones((512, 512), np.int32), 2)
    got = m.raw_many(_voronoi(3), ["clarity", "brightness"])  # raw_many measures it mask by mask
    assert got[0]["clarity"] == m.raw(_voronoi(3)[0], ["clarity"])["clarity"]


def test_raw_by_label_gives_nan_to_empty_labels_and_the_frame_at_zero(astro_small):
    from pertouch.engine.measure.stats import Measurer

    m = Measurer(astro_small)
    label = np.zeros((512, 512), np.int32)
    label[:, :256] = 1
    by = m.raw_by_label(label, 3, ["brightness", "shadows"])
    assert np.isnan(by["brightness"][[0, 2]]).all() and np.isnan(by["shadows"][[0, 2]]).all()
    framed = m.raw_by_label(label, 3, ["brightness", "shadows"], frame=True)
    assert framed["brightness"][1] == by["brightness"][1]
    assert framed["shadows"][0] == m.raw(np.ones((512, 512), bool), ["shadows"])["shadows"]
    assert m.raw_frame(["shadows"])["shadows"] == framed["shadows"][0]


def test_tail_means_are_tail_mean():
    from pertouch.engine.measure.stats import tail_mean, tail_means

    y = np.random.default_rng(4).random(1001) * 255
    assert tail_means(y) == (tail_mean(y, False), tail_mean(y, True))
    assert all(np.isnan(v) for v in tail_means(np.zeros(0)))


def test_without_numba_raw_many_measures_mask_by_mask(astro_small, monkeypatch):
    from pertouch.engine.measure import stats as ms

    monkeypatch.setattr(ms, "HAVE_LABEL_PASS", False)
    m = ms.Measurer(astro_small)
    masks = _voronoi(3)
    got = m.raw_many(masks, frame=True)
    assert got == [m.raw(mask) for mask in masks] + [m.raw(np.ones((512, 512), bool))]
