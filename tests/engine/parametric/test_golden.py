"""Golden renders of real photos: a 32×32 thumbnail of each render is stored (a few KB).

Regenerate after an intended change: ``PERTOUCH_REGEN_GOLDEN=1 pytest tests/engine/parametric/test_golden.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from pertouch.engine.parametric.engine import ParametricEngine
from pertouch.engine.schema.recipe import Recipe
from pertouch.engine.schema.regions import Region

GOLDEN = Path(__file__).parents[1] / "golden"
RECIPE = Recipe.model_validate({
    "global": {"attributes": {"brightness": {"by": 0.1}, "colorfulness": {"by": -0.1}}},
    "regions": {"top": {"attributes": {"temperature": {"by": -0.2}, "contrast": {"by": 0.15}}},
                "center": {"attributes": {"colorfulness": {"to": 0.4}, "brightness": {"by": 0.15},
                                          "clarity": {"by": 0.2}}}}})


def regions(img: np.ndarray) -> dict[str, Region]:
    h, w = img.shape[0] // 2, img.shape[1] // 2
    top = np.zeros((h, w), np.float32)
    top[: h // 3] = 1
    yy, xx = np.mgrid[0:h, 0:w]
    center = ((((yy - h / 2) / (h / 4)) ** 2 + ((xx - w / 2) / (w / 4)) ** 2) <= 1).astype(np.float32)
    return {"top": Region("top", top), "center": Region("center", cv2.GaussianBlur(center, (0, 0), 2))}


def thumb(img: np.ndarray) -> np.ndarray:
    return cv2.resize(img, (32, 32), interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize("photo", ["astro_small", "coffee_small", "chelsea_small"])
def test_golden_render(photo, request):
    img = request.getfixturevalue(photo)
    out = ParametricEngine().render(img, RECIPE, regions(img)).image
    got = thumb(out)
    path = GOLDEN / f"{photo}.npz"
    if os.environ.get("PERTOUCH_REGEN_GOLDEN") == "1":
        np.savez_compressed(path, thumb=got, source=thumb(img))
        pytest.skip("golden regenerated")
    ref = np.load(path)
    assert np.array_equal(ref["source"], thumb(img)), "the sample photo itself changed"
    diff = np.abs(got.astype(np.int16) - ref["thumb"])
    assert diff.mean() <= 1.0 and diff.max() <= 6, (diff.mean(), diff.max())
    assert np.abs(got.astype(np.int16) - thumb(img)).mean() > 3  # the edit is visible
