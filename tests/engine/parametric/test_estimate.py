"""estimate(source, target) → recipe: round trip on synthetic edits of real photos."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.engine.measure.stats import measure_levels
from pertouch.engine.parametric.engine import ParametricEngine
from pertouch.engine.parametric.estimate import estimate
from pertouch.engine.schema.attributes import CORE_NAMES
from pertouch.engine.schema.recipe import Recipe
from pertouch.engine.schema.regions import Region
from pertouch.core.errors import InputError


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(np.float64) - b) ** 2).mean())
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def partition(img: np.ndarray) -> dict[str, Region]:
    """Three regions tiling the photo: left band, right-top, right-bottom (soft-free masks)."""
    h, w = img.shape[:2]
    left = np.zeros((h, w), np.float32)
    left[:, : w // 3] = 1
    rt = np.zeros((h, w), np.float32)
    rt[: h // 2, w // 3:] = 1
    return {"left": Region("left", left), "rt": Region("rt", rt), "rb": Region("rb", 1 - left - rt)}


TRUTH = {"left": {"brightness": 0.12, "temperature": -0.1},
         "rt": {"colorfulness": -0.12, "contrast": 0.1},
         "rb": {"brightness": -0.1, "colorfulness": 0.1}}


@pytest.mark.parametrize("photo", ["astro_small", "coffee_small"])
def test_round_trip(photo, request):
    src = request.getfixturevalue(photo)
    regs = partition(src)
    before = measure_levels(src, regs, attributes=CORE_NAMES)
    truth = Recipe.model_validate({"regions": {
        k: {"attributes": {a: {"to": round(before[k][a] + d, 4)} for a, d in edits.items()}}
        for k, edits in TRUTH.items()}})
    eng = ParametricEngine()
    target = eng.render(src, truth, regs)
    est = estimate(src, target.image, regs)
    assert not est.global_.attributes  # nothing outside the regions changed
    again = eng.render(src, est, regs)
    assert psnr(again.image, target.image) >= 35.0
    for k, edits in TRUTH.items():
        for a in edits:  # the edited levels are recovered
            got = est.regions[k].attributes[a].to
            assert abs(got - truth.regions[k].attributes[a].to) <= 0.05, (k, a, got)
    after = measure_levels(target.image, regs, attributes=CORE_NAMES)
    for k in TRUTH:  # every recovered level is the target's measured level (past ±1: a shift to it)
        for a in CORE_NAMES:
            e = est.regions[k].attributes[a]
            got = e.to if e.to is not None else before[k][a] + e.by
            assert abs(got - after[k][a]) <= 0.001 and (e.to is not None) == (abs(after[k][a]) <= 1)


def test_round_trip_past_the_table():
    """A sky bluer than every photo of the level table (temperature < -1)."""
    from skimage import data

    src = np.ascontiguousarray(data.rocket()[::2, ::2])
    h, w = src.shape[:2]
    sky = np.zeros((h, w), np.float32)
    sky[: int(0.55 * h)] = 1
    top = src[: int(0.55 * h)].astype(np.float32)
    src[: int(0.55 * h)] = np.clip(top * np.array([0.5, 0.8, 1.05]), 0, 255).astype(np.uint8)
    regs = {"sky": Region("sky", sky), "rest": Region("rest", 1 - sky)}
    before = measure_levels(src, regs, attributes=CORE_NAMES)
    assert before["sky"]["temperature"] < -1.0
    truth = Recipe.model_validate({"regions": {"sky": {"attributes": {"temperature": {"by": -0.15}}}}})
    target = ParametricEngine().render(src, truth, regs).image
    est = estimate(src, target, regs)
    e = est.regions["sky"].attributes["temperature"]
    after = measure_levels(target, regs, attributes=CORE_NAMES)["sky"]["temperature"]
    assert after < before["sky"]["temperature"] - 0.05  # the render did cool it (deep blues resist)
    assert e.to is None and abs(before["sky"]["temperature"] + e.by - after) <= 0.01
    again = ParametricEngine().render(src, est, regs)
    assert all(abs(a.error) <= 0.02 for a in again.report)  # every level is reached again
    # 30 dB, not 35: cooling so deep a blue clips red, and four levels no longer pin the
    # pixels down (the same edit's levels are reached by slightly different strengths)
    assert psnr(again.image, target) >= 30.0


def test_global_outside_regions(chelsea_small):
    src = chelsea_small
    h, w = src.shape[:2]
    m = np.zeros((h, w), np.float32)
    m[h // 4: 3 * h // 4, w // 4: 3 * w // 4] = 1
    regs = {"c": Region("c", m)}
    truth = Recipe.model_validate({"global": {"attributes": {"brightness": {"by": 0.2}, "temperature": {"by": -0.15}}},
                                   "regions": {"c": {"attributes": {"colorfulness": {"by": 0.25}}}}})
    eng = ParametricEngine()
    target = eng.render(src, truth, regs).image
    est = estimate(src, target, regs)
    assert set(est.global_.attributes) == set(CORE_NAMES)
    assert psnr(eng.render(src, est, regs).image, target) >= 35.0


def test_identity_and_errors(astro_small):
    regs = partition(astro_small)
    est = estimate(astro_small, astro_small, regs)
    assert ParametricEngine().render(astro_small, est, regs).image.astype(int).__sub__(astro_small).__abs__().max() <= 2
    with pytest.raises(InputError):
        estimate(astro_small, astro_small[:100], regs)
