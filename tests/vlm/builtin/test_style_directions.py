"""Styles never push a photo against their own direction, on real photos.

A style's entries are absolute levels, but each also has a direction (a cold look
cools). The planner moves toward the level (at most the style's cap), and a region
already past it is kept (nudged the style's way, or held at the end of the scale); a
region whose own entry goes against the whole photo's shift follows the photo, which
then moves at most REGION_STYLE_CAP; unsure, small or pale regions get no entry of
their own and follow the whole photo. Checked on the plan over
every style × four skimage photos (real perception), and on pixels rendered by the
real parametric engine and measured again.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from pertouch.graph.vlm.base import plan_to_recipe
from pertouch.graph.vlm.builtin.planner import make_plan
from pertouch.graph.vlm.builtin.styles import MAX_STYLE_STEP, REGION_STYLE_CAP, STYLES, direction_of, guarded_level
from pertouch.graph.vlm.schemas import GLOBAL, Intent, SceneInfo

PHOTOS = ("rocket", "chelsea", "coffee", "astronaut")
SIDE = 256
#: Measured change against a direction that still counts as "left alone".
TOL = 0.03
#: An engine report within this of its target counts as reached.
REACHED = 0.06


@pytest.fixture(scope="module")
def scenes():
    from skimage import data

    from pertouch.tools.perception import perceive

    out = {}
    for name in PHOTOS:
        im = Image.fromarray(getattr(data, name)())
        im.thumbnail((SIDE, SIDE))
        img = np.asarray(im)
        sc = perceive(img)
        out[name] = (img, sc, SceneInfo.from_regions(sc.regions, sc.levels))
    return out


def _directed(style, info: SceneInfo):
    """(region name, attribute, direction) of every directed entry the photo has."""
    for label, attrs in style.edits.items():
        names = [GLOBAL] if label == GLOBAL else [r.name for r in info.with_label(label)]
        for n in names:
            for attr, spec in attrs.items():
                if direction_of(spec):
                    yield n, attr, direction_of(spec)


def test_guarded_level_rule():
    assert guarded_level(-0.5, 0.3, -1) == pytest.approx(0.3 - MAX_STYLE_STEP)  # warm photo, cold style: toward it, one step
    assert guarded_level(-0.5, 0.0, -1) == -0.5  # within one step: the style level itself
    assert guarded_level(-0.5, -0.64, -1) < -0.64  # already colder: a little colder still
    assert guarded_level(-0.6, -1.0, -1) == pytest.approx(-1.05)  # past every expert photo: still colder
    assert guarded_level(-0.6, -1.49, -1) is None  # at the end of the (extended) scale: hold
    assert guarded_level(0.6, 0.7, 1) > 0.7
    assert guarded_level(0.0, 0.4, 0) == 0.0  # a neutral entry is a plain target ...
    assert guarded_level(0.0, 0.7, 0) == pytest.approx(0.7 - MAX_STYLE_STEP)  # ... one step away at most
    assert guarded_level(0.7, -0.2, 1, step=0.3) == pytest.approx(0.1)  # the planner's step: the style's cap
    assert guarded_level(0.7, -0.64, 1) == pytest.approx(-0.64 + MAX_STYLE_STEP)  # a long way: one step at most


@pytest.mark.parametrize("photo", PHOTOS)
def test_plans_never_go_against_the_style(scenes, photo):
    _, _, info = scenes[photo]
    for style in STYLES.values():
        plan = make_plan(Intent(kind="weak-style", style=style.name), info)
        planned = {(e.region, e.attribute): e for e in plan.edits}
        for n, attr, d in _directed(style, info):
            e = planned.get((n, attr))
            if e is None:  # left out: an unsure or small region, or one that follows the whole photo,
                # which then moves at most REGION_STYLE_CAP against the region's own entry
                r = info.region(n)
                g = planned.get((GLOBAL, attr))
                assert n != GLOBAL and (r.confidence < 0.6 or r.area < 0.02 or g is None
                                        or d * g.by >= -REGION_STYLE_CAP - 1e-9), \
                    f"{style.name}: {attr} of {n} follows a whole-photo shift against the style"
                continue
            m = info.levels_of(n).get(attr)
            change = e.by if e.by is not None else e.to - m
            assert d * change >= 0, f"{style.name}: {attr} of {n} planned against the style ({m:+.2f} → {e})"


def test_winter_morning_cools_the_cold_rocket(scenes):
    """The eval case: rocket is already cold (sky at −1); the look must not warm it."""
    from pertouch.engine.engines import get_engine
    from pertouch.engine.measure.stats import measure_image_levels, measure_levels

    img, sc, info = scenes["rocket"]
    assert info.global_levels["temperature"] < -0.5  # the premise: a cold photo
    plan = make_plan(Intent(kind="weak-style", style="winter-morning"), info)
    regions = {r.name: r for r in sc.regions}
    out = get_engine("parametric").render(img, plan_to_recipe(plan, info), regions).image
    before, after = measure_image_levels(img), measure_image_levels(out)
    assert after["temperature"] <= before["temperature"] + TOL
    assert after["colorfulness"] < before["colorfulness"]
    sky_b, sky_a = measure_levels(img, regions)["sky"], measure_levels(out, regions)["sky"]
    assert sky_a["temperature"] <= sky_b["temperature"] + TOL


@pytest.mark.parametrize("photo", ("rocket", "coffee"))  # the coldest and the warmest (time: ~10 s each)
def test_rendered_styles_move_the_style_way(scenes, photo):
    """Every directed entry the planner planned and the engine reports as reached moved
    (measured again) the style's way or stayed. Entries the engine missed — another attribute's edit dragged
    them (joint-solve cross-talk, an engine matter) — are excluded from this check."""
    from pertouch.engine.engines import get_engine
    from pertouch.engine.measure.stats import measure_image_levels, measure_levels

    img, sc, info = scenes[photo]
    regions = {r.name: r for r in sc.regions}
    engine = get_engine("parametric")
    before = {GLOBAL: measure_image_levels(img), **measure_levels(img, regions)}
    checked = missed = 0
    for style in STYLES.values():
        plan = make_plan(Intent(kind="weak-style", style=style.name), info)
        res = engine.render(img, plan_to_recipe(plan, info), regions)
        after = {GLOBAL: measure_image_levels(res.image), **measure_levels(res.image, regions)}
        planned = {(e.region, e.attribute) for e in plan.edits}
        for n, attr, d in _directed(style, info):
            if n != GLOBAL and (info.region(n).area < 0.02 or (n, attr) not in planned):
                continue  # left out by the planner (small, unsure or pale): it follows the whole photo
            rep = res.achieved(n, attr)
            if rep is not None and abs(rep.achieved - rep.target) > REACHED:
                missed += 1
                continue
            checked += 1
            delta = after[n][attr] - before[n][attr]
            assert d * delta >= -TOL, f"{style.name}: {attr} of {n} {before[n][attr]:+.2f} → {after[n][attr]:+.2f}"
    assert checked >= 20, f"only {checked} entries reached ({missed} missed by the engine)"
