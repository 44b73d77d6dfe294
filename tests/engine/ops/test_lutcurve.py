"""The compiled transform tables equal the NumPy route (curves.curve & co.)."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.engine.ops import curves as cv
from pertouch.engine.ops import lutcurve
from pertouch.engine.ops import operators as op
from pertouch.engine.ops.colormath import srgb_decode


def _params(n: int, seed: int = 0) -> list[op.Params]:
    rng = np.random.default_rng(seed)
    out = [op.Params(), op.Params(brightness=0.3), op.Params(temperature=-3.5), op.Params(temperature=9.0),
           op.Params(tint=0.6, colorfulness=-6.0)]
    for i in range(n):
        out.append(op.Params(temperature=rng.uniform(-2, 2), tint=rng.uniform(-1, 1) * (i % 2),
                             brightness=rng.uniform(-1, 1), contrast=rng.uniform(-1, 1),
                             highlights=rng.uniform(-1, 1) * (i % 3 == 0), shadows=rng.uniform(-1, 1) * (i % 4 == 0),
                             colorfulness=rng.uniform(-3, 2), pivot=rng.uniform(0.3, 0.6)))
    return out


@pytest.mark.parametrize("n", [256, 17])
def test_compiled_tables_match_numpy(n):
    for p in _params(60):
        lut, m, lo, hi = cv.transform_tables(p, n)
        lut_r, m_r, lo_r, hi_r = cv._tables_numpy(p, n)
        assert lut.dtype == np.float32 and lut.shape == (3, n)
        assert np.abs(lut - lut_r).max() <= 1e-6, p
        assert np.abs(m - m_r).max() <= 1e-12, p
        assert abs(lo - lo_r) <= 1e-9 and abs(hi - hi_r) <= 1e-9, p


@pytest.mark.skipif(lutcurve._tables is None, reason="numba not installed")
def test_compiled_curve_matches_curve():
    g = cv._grid(256)
    for p in _params(30, seed=1):
        gains = cv.temperature_gains(p.temperature) * cv.tint_gains(p.tint)
        out = np.empty(g.shape)
        lutcurve._curve_py(g, lutcurve.decoded(g), gains, bool(p.brightness != 0 or np.any(gains != 1)),
                           p.brightness, p.contrast, p.pivot, p.highlights, p.shadows, out)
        assert np.abs(out - cv.curve(g, p)).max() <= 1e-12
        assert np.abs(lutcurve.decoded(g) - srgb_decode(g)).max() <= 1e-12

