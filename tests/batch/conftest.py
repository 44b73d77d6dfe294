"""Small photos for batch tests: crops of scikit-image's photos with different tints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

GLOBAL_RECIPE = {"global": {"attributes": {"brightness": {"by": 0.2}}}}


def make_photos(folder: Path, n: int, side: int = 64, seed: int = 0) -> list[Path]:
    """``n`` PNGs ``side`` px wide (3:4), crops of four skimage photos, each tinted."""
    import cv2
    from skimage import data

    from pertouch.engine.io.read import save_image

    folder.mkdir(parents=True, exist_ok=True)
    sources = [data.coffee(), data.astronaut(), data.chelsea(), data.rocket()]
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        im = sources[i % len(sources)]
        h, w = im.shape[:2]
        y, x = int(rng.integers(0, h // 4)), int(rng.integers(0, w // 4))
        crop = im[y:y + 3 * h // 4, x:x + 3 * w // 4].astype(np.float32) * rng.uniform(0.7, 1.2, 3)
        small = cv2.resize(np.clip(crop, 0, 255).astype(np.uint8), (side, side * 3 // 4), interpolation=cv2.INTER_AREA)
        out.append(save_image(folder / f"p{i:03d}.png", small))
    return out


@pytest.fixture()
def photos(tmp_path) -> list[Path]:
    return make_photos(tmp_path / "in", 6)
