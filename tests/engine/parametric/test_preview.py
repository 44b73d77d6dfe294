"""Previews: a plan solved once serves any size of the photo; re-planning re-solves only what changed."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pertouch.engine.parametric.engine import ParametricEngine, downsize
from pertouch.engine.schema.recipe import Recipe
from pertouch.engine.schema.regions import Region
from pertouch.core.errors import InputError

RECIPE = {"global": {"attributes": {"brightness": {"by": 0.1}}},
          "regions": {"top": {"attributes": {"temperature": {"by": -0.2}, "colorfulness": {"by": 0.15}}},
                      "bottom": {"attributes": {"brightness": {"by": -0.15}, "contrast": {"by": 0.15}}}}}


@pytest.fixture(scope="module")
def big() -> np.ndarray:
    from skimage import data

    return cv2.resize(data.chelsea(), (1500, 1000), interpolation=cv2.INTER_CUBIC)  # 1.5 MP: proxy solve


def halves(shape: tuple[int, int]) -> dict[str, Region]:
    h, w = shape[0] // 4, shape[1] // 4
    top = np.zeros((h, w), np.float32)
    top[: h // 2] = 1
    top = cv2.GaussianBlur(top, (0, 0), 2)
    return {"top": Region("top", top), "bottom": Region("bottom", 1 - top)}


def test_preview_of_solved_plan_matches_plan_solved_at_preview_size(big):
    """The 1.5 MP photo's plan applied to a 0.24 MP copy lands within 0.03 levels of
    what the copy's own render (solved on its own pixels, with a correction pass)
    achieves: both are measured the same way, at 512×512 (0.03 = the solver's 3 × 0.01
    level stopping slack; the two solves sample different pixels)."""
    regs, rec = halves(big.shape), Recipe.model_validate({"regions": RECIPE["regions"]})
    eng = ParametricEngine()
    plan = eng.plan(big, rec, regs)
    small = downsize(big, 250_000)
    assert small.shape[:2] == (408, 612)
    prev = eng.report(eng.apply(small, plan), plan)
    own = ParametricEngine().render(small, rec, regs).report
    full = eng.report(eng.apply(big, plan), plan)
    assert len(prev) == len(own) == len(full) == 4
    for p, o, f in zip(prev, own, full):
        assert (p.region, p.attribute) == (o.region, o.attribute)
        if p.attribute != "contrast":  # colour statistics do not depend on the size
            assert abs(p.achieved - o.achieved) < 0.03, (p, o)
            continue
        # contrast (neighbour differences) measures lower on a smaller copy, so the same
        # edit is a different level shift there (and the copy's own solve a different
        # edit); the preview scales it by the factor the full photo gets
        raw = eng.table["contrast"].to_raw
        ratio_p = np.log(raw(p.achieved) / raw(o.before))
        ratio_f = np.log(raw(f.achieved) / raw(f.before))
        assert abs(ratio_p - ratio_f) < 0.05, (p, f, ratio_p, ratio_f)
    res = eng.preview(big, rec, regs, max_pixels=250_000)  # the same through the one-call API
    assert res.image.shape == small.shape and eng.stats.get("solves", 0) == 0  # all from the cache
    assert np.array_equal(res.image, eng.apply(small, plan))


def test_changing_one_edit_resolves_only_that_layer(big):
    regs = halves(big.shape)
    eng = ParametricEngine()
    first = eng.plan(big, Recipe.model_validate(RECIPE), regs)
    assert eng.stats["solves"] == 3
    again = eng.plan(big, Recipe.model_validate(RECIPE), regs)
    assert eng.stats.get("solves", 0) == 0
    assert [layer.params for layer in again.layers] == [layer.params for layer in first.layers]
    changed = {**RECIPE, "regions": {**RECIPE["regions"], "bottom": {"attributes": {"brightness": {"by": 0.2}}}}}
    plan = eng.plan(big, Recipe.model_validate(changed), regs)
    assert eng.stats["solves"] == 1
    assert plan.layers[1].params == first.layers[1].params and plan.layers[2].params != first.layers[2].params
    fresh = ParametricEngine().plan(big, Recipe.model_validate(changed), regs)
    assert [layer.params for layer in fresh.layers] == [layer.params for layer in plan.layers]
    moved = {**RECIPE, "global": {"attributes": {"brightness": {"by": 0.2}}}}
    eng.plan(big, Recipe.model_validate(moved), regs)
    assert eng.stats["solves"] == 3  # the global edit lies under every region: all re-solved


def test_apply_rejects_another_photo_shape(big):
    regs = halves(big.shape)
    eng = ParametricEngine()
    plan = eng.plan(big, Recipe.model_validate(RECIPE), regs)
    with pytest.raises(InputError, match="plan was solved"):
        eng.apply(big[:, :800], plan)


def test_unchanged_plan_is_served_whole_and_a_changed_photo_or_mask_is_noticed(big):
    """A repeated plan comes from the plan cache (nothing measured or swept again); the
    same photo edited in place, or another mask, plans afresh."""
    regs, rec = halves(big.shape), Recipe.model_validate(RECIPE)
    eng = ParametricEngine()
    first = eng.plan(big, rec, regs)
    again = eng.plan(big, rec, regs)
    assert eng.stats == {"plan_cached": 1} and again.layers == first.layers
    eng.plan(big.copy(), rec, regs)  # another array, same pixels: same digest
    assert eng.stats == {"plan_cached": 1}
    edited = big.copy()
    eng.plan(edited, rec, regs)
    edited[::7] //= 2  # in place, on rows the identity probe reads
    eng.plan(edited, rec, regs)
    assert "plan_cached" not in eng.stats
    other = {**regs, "top": Region("top", np.roll(regs["top"].mask, 20, axis=0))}
    eng.plan(big, rec, other)
    assert "plan_cached" not in eng.stats and eng.stats["solves"] >= 1


def test_resized_weights_keep_the_bbox_of_their_grid(big):
    from pertouch.engine.parametric.blend import Weights, _bbox_of, _extent

    w = Weights.build(halves(big.shape)["top"].mask, big)
    for shape in ((500, 750), (1000, 1500), (1003, 1504)):
        assert w.resized(shape).bbox == _bbox_of(_extent(w.a, w.b), w.a.shape, shape)
    assert Weights.everywhere((10, 20)).resized((5, 10)).bbox == (0, 5, 0, 10)
