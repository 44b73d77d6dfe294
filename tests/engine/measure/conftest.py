"""A smooth sky-like gradient for the artefact tests."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def gradient() -> np.ndarray:
    """A smooth diagonal colour gradient (a sky), uint8 RGB, with a little grain (at the
    gate's own size, so no resampling softens it)."""
    h, w = 340, 512
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = (xx / w + yy / h) / 2
    img = np.stack([70 + 60 * t, 100 + 50 * t, 170 + 40 * t], -1)
    img += np.random.default_rng(0).normal(0, 1.0, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)
