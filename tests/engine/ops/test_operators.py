"""The same checklist for every operator: identity at neutral, monotone, dtype/range, deterministic,
mask locality (through the engine), and the fused transform equals the operator chain."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.engine.measure import estimators as est
from pertouch.engine.ops import operators as op
from pertouch.engine.ops.curves import STRENGTH_RANGE
from pertouch.engine.parametric.engine import ParametricEngine
from pertouch.engine.schema.recipe import Recipe
from pertouch.engine.schema.regions import Region

NAMES = list(op.OPERATORS)


@pytest.fixture(scope="module")
def photo(astro_small) -> np.ndarray:
    return astro_small[:128, 64:192].astype(np.float32) / 255.0


def _raw(name: str, rgb01: np.ndarray) -> float:
    return getattr(est, name)(rgb01 * 255.0, np.ones(rgb01.shape[:2], bool))


@pytest.mark.parametrize("name", NAMES)
def test_identity_at_neutral(name, photo):
    out = op.apply(photo, name, 0.0)
    assert out.dtype == np.float32 and out.shape == photo.shape
    assert np.abs(out - photo).max() < 1e-5


@pytest.mark.parametrize("name", NAMES)
def test_monotone_in_strength(name, photo):
    lo, hi = STRENGTH_RANGE[name]
    strengths = np.linspace(max(lo, -1.0), min(hi, 1.0), 7)
    values = [_raw(name, op.apply(photo, name, float(s))) for s in strengths]
    assert all(b >= a - 1e-6 for a, b in zip(values, values[1:])), values
    assert values[-1] > values[0]


@pytest.mark.parametrize("name", NAMES)
def test_range_dtype_and_determinism(name, photo):
    lo, hi = STRENGTH_RANGE[name]
    for s in (lo, hi):
        a = op.apply(photo, name, s)
        b = op.apply(photo, name, s)
        assert a.dtype == np.float32 and a.min() >= 0.0 and a.max() <= 1.0
        assert np.array_equal(a, b)


def test_fused_transform_equals_operator_chain(photo):
    p = op.Params(temperature=0.6, tint=-0.3, brightness=0.4, contrast=0.5, highlights=-0.3,
                  shadows=0.4, colorfulness=0.7, pivot=0.45)
    q = np.round(photo * 255).astype(np.int64)
    t = op.compile_transform(p, 256)
    fused = op.soft_clip(t.lut[np.arange(3), q] @ t.matrix.T, *t.margins)
    chain = op.apply_chain((q / 255.0).astype(np.float32), p)
    assert np.abs(fused - chain).max() < 1e-4


def test_soft_shoulder_not_hard_clip(photo):
    out = op.apply(photo, "brightness", 1.5)
    hard = np.clip(op.apply_chain(photo, op.Params(brightness=1.5)) * 0 + 0, 0, 1)  # placeholder shape
    assert hard.shape == out.shape
    # a hard clip of a strong exposure gain saturates many pixels; the shoulder keeps them apart
    gain = np.clip(photo * 3.0, 0, 1)
    assert (out >= 254.5 / 255).mean() < (gain >= 254.5 / 255).mean()
    assert np.unique(np.round(out[out > 0.9] * 255)).size > 5


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_engine_mask_locality_and_dtype(name, dtype, astro_small):
    img = astro_small.astype(dtype) * (257 if dtype == np.uint16 else 1)
    mask = np.zeros(img.shape[:2], np.float32)
    mask[40:140, 60:200] = 1.0
    rec = Recipe.model_validate({"regions": {"box": {"attributes": {name: {"by": 0.3}}}}})
    eng = ParametricEngine()
    res = eng.render(img, rec, {"box": Region("box", mask)})
    assert res.image.dtype == dtype and res.image.shape == img.shape
    far = np.ones(img.shape[:2], bool)
    far[25:155, 45:215] = False  # well outside the mask (edge-aware feathering stays near it)
    assert np.array_equal(res.image[far], img[far])
    assert not np.array_equal(res.image[60:120, 80:180], img[60:120, 80:180])
    again = eng.render(img, rec, {"box": Region("box", mask)})
    assert np.array_equal(res.image, again.image)
