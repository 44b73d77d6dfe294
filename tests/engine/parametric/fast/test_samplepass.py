"""The sample pass (engine/parametric/fast/samplepass.py): its tabulated soft clip, and the compiled pass against NumPy."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from pertouch.engine.ops import operators as op
from pertouch.engine.parametric.fast import samplepass as sm


@pytest.mark.parametrize("margins", [(-0.4, 1.58), (0.0, 1.05), (-2.0, 3.0), (-0.01, 1.0), (0.0, 1.5), (0.0, 1.0)])
def test_tabulated_soft_clip_is_close_to_the_exact_curve(margins):
    t = replace(op.compile_transform(op.Params()), margins=margins)
    f = sm._form(t)
    v = np.linspace(margins[0] - 0.1, margins[1] + 0.1, 100_001)
    err = np.abs(sm.soft_clip_tabulated(v, f) - op.soft_clip(v, *margins)).max()
    assert err * 255 < 0.02, err  # far below one 8-bit step


def test_compiled_edit_matches_numpy_and_is_deterministic():
    if sm._edit is None:
        pytest.skip("numba not installed")
    rng = np.random.default_rng(5)
    v = rng.random((3000, 1, 3))
    t = op.compile_transform(op.Params(brightness=0.9, contrast=0.7, colorfulness=0.8, temperature=-1.0))
    assert t.margins != (0.0, 1.0)  # the soft clip is exercised
    got = sm.edit_taps(v, t)
    assert np.allclose(got, sm._edit_numpy(v, sm._form(t)), rtol=0, atol=1e-12)
    rest, bw, tw = v * 0.3, np.full((3000, 1), 0.7), np.ones((3000, 1))
    a = sm.transform_taps(v, rest, bw, tw, t, 3000)
    assert np.array_equal(a, sm.transform_taps(v, rest, bw, tw, t, 3000))
    assert np.allclose(a, sm._eval_numpy(v, rest, bw, tw, t, 3000), rtol=0, atol=1e-9)
