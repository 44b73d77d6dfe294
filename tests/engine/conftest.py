"""Small real photos for the engine tests (downscaled, ≤ 256 px)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest


def small(img: np.ndarray, width: int = 256) -> np.ndarray:
    h, w = img.shape[:2]
    return cv2.resize(img, (width, round(h * width / w)), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="session")
def astro_small() -> np.ndarray:
    from skimage import data

    return small(data.astronaut())


@pytest.fixture(scope="session")
def coffee_small() -> np.ndarray:
    from skimage import data

    return small(data.coffee())


@pytest.fixture(scope="session")
def chelsea_small() -> np.ndarray:
    from skimage import data

    return small(data.chelsea())
