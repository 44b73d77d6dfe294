"""Small real photos on disk for the graph tests (≤ 256 px, so runs stay fast)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image


def _save(arr: np.ndarray, path, side: int = 256):
    im = Image.fromarray(arr)
    im.thumbnail((side, side), Image.Resampling.LANCZOS)
    im.save(path)
    return path


@pytest.fixture()
def astronaut_png(tmp_path, astronaut):
    return _save(astronaut, tmp_path / "astronaut.png")


@pytest.fixture()
def rocket_png(tmp_path):
    from skimage import data

    return _save(data.rocket(), tmp_path / "rocket.png")


@pytest.fixture(autouse=True)
def _fresh_runtime_cache():
    from pertouch.graph import runtime

    runtime.clear_cache()
    yield
    runtime.clear_cache()
