"""One-pass region levels against the reference (engine.measure, one mask at a time)."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.engine.measure.stats import Measurer, measure_levels, measure_mask
from pertouch.engine.schema.attributes import REGISTRY
from pertouch.tools.region_levels import measure_regions


@pytest.fixture(scope="module")
def photo():
    from skimage import data

    return data.astronaut()[::2, ::3].copy()  # not square: the 512×512 resize changes the aspect


def _partition(shape, k, seed=0):
    rng = np.random.default_rng(seed)
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w]
    centres = rng.random((k, 2)) * (h, w)
    owner = np.argmin([(ys - cy) ** 2 + (xs - cx) ** 2 for cy, cx in centres], axis=0)
    return {f"r{i}": (owner == i).astype(np.float32) for i in range(k)}


def _close(a: float, b: float) -> bool:
    return (np.isnan(a) and np.isnan(b)) or abs(a - b) <= 1e-6 * max(1.0, abs(b))


def test_partition_matches_per_mask_reference(photo):
    masks = _partition((40, 60), 6)   # proxy-sized masks, as perception passes them
    masks["r5"][:] = 0                # an empty region: NaN for every attribute
    raw, whole = measure_regions(photo, masks, levels=False)
    m = Measurer(photo)
    for name, mask in masks.items():
        ref = m.raw(measure_mask(mask))
        assert set(raw[name]) == set(REGISTRY)
        assert all(_close(raw[name][a], ref[a]) for a in REGISTRY), (name, raw[name], ref)
    ref_whole = m.raw(np.ones((512, 512), bool))
    assert all(_close(whole[a], ref_whole[a]) for a in REGISTRY)
    levels, _ = measure_regions(photo, masks)
    ref_levels = measure_levels(photo, {n: mk for n, mk in masks.items() if mk.any()})
    for name, lv in ref_levels.items():
        assert all(_close(levels[name][a], lv[a]) for a in REGISTRY)


def test_soft_uint8_and_overlapping_masks(photo, monkeypatch):
    """Soft and 0–255 masks are thresholded at 0.5 and measured in the one pass; masks
    that overlap are measured one by one (exactly the reference), the others still together."""
    soft = _partition((80, 120), 3, seed=1)
    soft["r0"] = np.clip(soft["r0"] * 0.7 + 0.2, 0, 1)   # 0.9 inside, 0.2 outside
    soft["r1"] = (soft["r1"] * 255).astype(np.uint8)     # uint8 masks are 0–255
    m = Measurer(photo)
    ref = {name: m.raw(measure_mask(mask)) for name, mask in soft.items()}
    with monkeypatch.context() as mp:
        mp.setattr(Measurer, "raw", lambda *a, **k: pytest.fail("a partition went mask by mask"))
        raw, _ = measure_regions(photo, soft, levels=False)
    for name in soft:
        assert all(_close(raw[name][a], ref[name][a]) for a in REGISTRY), name
    overlap = {"a": np.ones((80, 120), np.float32), "b": np.ones((80, 120), np.float32),
               "c": np.pad(np.ones((80, 20), np.float32), ((0, 0), (0, 100)))}
    overlap["a"][:, :20] = overlap["b"][:, :20] = 0      # c overlaps neither: one pass
    raw, _ = measure_regions(photo, overlap, levels=False)
    for name, mask in overlap.items():
        ref = m.raw(measure_mask(mask))
        assert all(_close(raw[name][a], ref[a]) for a in REGISTRY), name
        if name != "c":
            assert raw[name] == ref, name
