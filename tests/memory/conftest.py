"""Fixtures for memory tests: photos from packaged samples, stores of both kinds."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.memory.cases import load_image

LANDSCAPE_REGIONS = {"sky": 0.45, "trees": 0.35, "ground": 0.2}
PORTRAIT_REGIONS = {"person": 0.55, "face": 0.1, "background": 0.35}


@pytest.fixture(scope="session")
def landscapes() -> list[np.ndarray]:
    """Three outdoor photos (rocket-launch scene variants) and an unseen meadow, last."""
    specs = [{"source": "rocket", "crop": [0, 1, 0, 0.67]},
             {"source": "rocket", "crop": [0, 1, 0.25, 1], "flip": True},
             {"source": "rocket", "crop": [0.15, 1, 0.2, 0.9], "gain": [1.05, 1.0, 0.95]},
             {"source": "meadow"}]
    return [load_image(s) for s in specs]


@pytest.fixture(scope="session")
def portrait() -> np.ndarray:
    return load_image({"source": "astronaut"})


@pytest.fixture(params=["memory", "chroma"])
def store(request, tmp_path):
    """Each backend in turn: in-process and persistent Chroma in a temp folder."""
    from pertouch.memory.factory import open_memory

    mem = open_memory("memory:" if request.param == "memory" else f"chroma:{tmp_path / 'store'}")
    yield mem
    mem.close()
