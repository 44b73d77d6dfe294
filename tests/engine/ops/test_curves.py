"""The white-balance gains and curves of engine/ops/curves.py."""

from __future__ import annotations

import numpy as np

from pertouch.engine.ops import curves as cv


def test_temperature_gains_fast_path_is_np_interp():
    s, table = cv._temperature_table()
    for x in np.random.default_rng(2).uniform(-3.0, 3.0, 200):
        ref = np.array([np.interp(x, s, table[:, c]) for c in range(3)])
        assert np.abs(cv.temperature_gains(float(x)) - ref).max() <= 1e-12
