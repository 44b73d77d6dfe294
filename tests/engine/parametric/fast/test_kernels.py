"""The fused kernel's packed lookups and inside runs."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.engine.ops import operators as op
from pertouch.engine.parametric.fast import kernels


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_packed_indices_match_the_float_route(dtype):
    """Three packed int64 lookups give each channel's clip-table index within one step of
    the float route's (9 float lookups)."""
    scale = 255.0 if dtype == np.uint8 else 65535.0
    per_unit = kernels.CLIP_RES[np.dtype(dtype)]
    n = 256 if dtype == np.uint8 else 65536
    t = op.compile_transform(op.Params(brightness=0.6, contrast=0.8, colorfulness=1.2, temperature=-1.5), n)
    tabs = np.ascontiguousarray(t.matrix[:, :, None] * t.lut[None, :, :], dtype=np.float32)
    clip, clip_lo = kernels.clip_table(t.margins, per_unit, scale)
    pk, shift = kernels._packed(tabs, per_unit, clip_lo, clip.shape[0])
    assert shift > 0
    rng = np.random.default_rng(0)
    px = rng.integers(0, n, (20000, 3))
    s = pk[0, px[:, 0]] + pk[1, px[:, 1]] + pk[2, px[:, 2]]
    got = np.stack([((s >> b) & kernels._FIELD) >> shift for b in (42, 21, 0)], 1)
    t_sum = np.stack([tabs[c, 0, px[:, 0]] + tabs[c, 1, px[:, 1]] + tabs[c, 2, px[:, 2]] for c in range(3)], 1)
    want = np.floor(t_sum.astype(np.float64) * per_unit - clip_lo * per_unit + 0.5).astype(np.int64)
    assert np.abs(got - want).max() <= 1  # one step: 1/4096 (8 bit) or 1/65536 (16 bit) of full scale
    assert (got == want).mean() > (0.95 if dtype == np.uint8 else 0.8)


def test_too_long_a_table_falls_back_to_the_float_route(monkeypatch, astro_small):
    from pertouch.engine.parametric.engine import ParametricEngine
    from pertouch.engine.schema.recipe import Recipe
    from pertouch.engine.schema.regions import Region

    h, w = astro_small.shape[:2]
    m = np.zeros((h, w), np.float32)
    m[: h // 2] = 1
    rec = Recipe.model_validate({"regions": {"top": {"attributes": {"brightness": {"by": 0.3},
                                                                    "colorfulness": {"by": 0.2}}}}})
    eng = ParametricEngine()
    plan = eng.plan(astro_small, rec, {"top": Region("top", m)})
    packed = eng.apply(astro_small, plan)
    monkeypatch.setattr(kernels, "_FIELD", 1)  # nothing fits: every layer takes the float route
    floats = eng.apply(astro_small, plan)
    diff = np.abs(packed.astype(np.int16) - floats)
    assert diff.max() <= 1 and diff.mean() < 0.01
    assert np.array_equal(packed[h // 2 + 40:], astro_small[h // 2 + 40:])  # far outside: untouched
