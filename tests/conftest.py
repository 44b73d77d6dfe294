"""Shared fixtures. Every test runs with PERTOUCH_HOME in a temporary folder."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("pertouch_home")
    monkeypatch.setenv("PERTOUCH_HOME", str(home))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return home


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="session")
def coffee() -> np.ndarray:
    from skimage import data

    return data.coffee()
