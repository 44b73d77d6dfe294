"""Small real photos on disk for the graph tests (≤ 320 px, so runs stay fast), and
helpers that measure what a run did to the pixels."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image


def save_photo(arr: np.ndarray, path, side: int = 256):
    im = Image.fromarray(arr)
    im.thumbnail((side, side), Image.Resampling.LANCZOS)
    im.save(path)
    return path


@pytest.fixture()
def astronaut_png(tmp_path, astronaut):
    return save_photo(astronaut, tmp_path / "astronaut.png")


@pytest.fixture()
def rocket_png(tmp_path):
    from skimage import data

    return save_photo(data.rocket(), tmp_path / "rocket.png")


@pytest.fixture()
def coffee_png(tmp_path, coffee):
    # 384 px: at 256 px the builtin segmenter's 4% "sky" guess sits right at the
    # find threshold (0.30); at other sizes it is 0.25–0.29
    return save_photo(coffee, tmp_path / "coffee.png", side=384)


@pytest.fixture()
def chelsea_png(tmp_path):
    from skimage import data

    return save_photo(data.chelsea(), tmp_path / "chelsea.png")


@pytest.fixture(autouse=True)
def _fresh_runtime_cache():
    from pertouch.graph import runtime

    runtime.process_cache().clear()
    yield
    runtime.process_cache().clear()


def rendered(out: dict, ctx=None) -> tuple[np.ndarray, np.ndarray]:
    """(input, result) pixels, float32 RGB 0–255, of a finished run at full resolution."""
    from pertouch.graph import runtime as rt
    from pertouch.graph.context import RunContext

    ctx = ctx or RunContext()
    ref = out["image"]
    res = rt.render(ref, out["result"]["recipe"], segmenter=ctx.segmenter, engine=ctx.engine, long_side=None)
    return rt.photo(ref).pixels.astype(np.float32), rt.to8(res.image).astype(np.float32)


def region_mask(out: dict, label: str, ctx=None) -> np.ndarray:
    """The union of the run's regions labelled ``label``, (h, w) float32 in [0, 1]."""
    from pertouch.graph import runtime as rt
    from pertouch.graph.context import RunContext

    ctx = ctx or RunContext()
    names = [r["name"] for r in out["regions"] if r["label"] == label]
    regs = rt.regions_by_name(out["image"], ctx.segmenter, names)
    assert regs, f"no {label} region in {[r['label'] for r in out['regions']]}"
    return np.maximum.reduce([r.mask for r in regs.values()]).astype(np.float32)


def luma(px: np.ndarray) -> np.ndarray:
    return px @ np.float32([0.299, 0.587, 0.114])


def warmth(px: np.ndarray) -> np.ndarray:
    """Red minus blue per pixel: goes up when a region gets warmer."""
    return px[..., 0] - px[..., 2]
