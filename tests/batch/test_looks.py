"""batch.looks: a reference's levels per label, driven onto photos that start elsewhere."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.batch.executor import Executor, run_batch
from pertouch.batch.looks import Look, look_from_pair, look_from_recipe, recipe_for_look
from pertouch.batch.sources import expand_sources
from pertouch.batch.tasks import BatchSpec
from pertouch.engine.io.read import load_image, save_image
from pertouch.engine.measure.stats import measure_image_levels
from pertouch.engine.schema.recipe import parse_recipe


def test_to_levels_kept_by_shifts_measured_labels_merged_other_skipped():
    img = np.full((40, 60, 3), 120, np.uint8)
    img[:, 30:] = 200
    left, right = np.zeros((40, 60), np.float32), np.zeros((40, 60), np.float32)
    left[:, :30], right[:, 30:] = 1, 1
    recipe = parse_recipe({"global": {"attributes": {"temperature": {"to": 0.3}}},
                           "regions": {"person_1": {"label": "person", "attributes": {"brightness": {"by": 0.1}}},
                                       "person_2": {"label": "person", "attributes": {"brightness": {"to": 0.9}}},
                                       "other": {"label": "other", "attributes": {"contrast": {"to": 0.5}}}}})
    look = look_from_recipe(recipe, img, {"person_1": left, "person_2": right}, "test")
    assert look.levels["global"] == {"temperature": 0.3}
    from pertouch.engine.measure.stats import measure_levels

    measured_left = measure_levels(img, {"l": left}, attributes=["brightness"])["l"]["brightness"]
    assert look.levels["person"]["brightness"] == pytest.approx((min(1, measured_left) + 0.9) / 2, abs=1e-3)
    assert "other" not in look.levels and "not matched" in look.notes[0]


def test_photos_reach_the_look_from_wherever_they_start(tmp_path):
    from skimage import data

    base = data.coffee()[::4, ::4].astype(np.float32)
    save_image(tmp_path / "dark.png", (base * 0.55).astype(np.uint8))
    save_image(tmp_path / "bright.png", np.clip(base * 1.3, 0, 255).astype(np.uint8))
    spec = BatchSpec("look", look={"global": {"brightness": 0.1}}, look_source="test")
    res = run_batch(spec, expand_sources([str(tmp_path / "dark.png"), str(tmp_path / "bright.png")]),
                    tmp_path / "out", Executor("local", jobs=1))
    got = {s["output"].rsplit("/", 1)[1]: s["regions"]["global"]["brightness"] for s in res.done}
    assert got["bright.png"]["before"] - got["dark.png"]["before"] > 0.4  # they start far apart…
    for name, lv in got.items():  # …and end at the reference's level
        assert lv["achieved"] == pytest.approx(0.1, abs=0.05), name
        written = measure_image_levels(load_image(tmp_path / "out" / name).pixels, attributes=["brightness"])
        assert written["brightness"] == pytest.approx(lv["achieved"], abs=0.05)


def test_missing_labels_are_reported_not_invented(photos):
    look = Look({"global": {"contrast": 0.2}, "sky": {"brightness": 0.3}}, "test")
    recipe, regions, missing = recipe_for_look(load_image(photos[0]), look)  # coffee: no sky
    assert missing == ["sky"] and regions == {} and recipe.global_.attributes["contrast"].to == 0.2


def test_estimated_from_a_before_after_pair(tmp_path):
    from skimage import data

    from pertouch.batch.render import Job, render
    from pertouch.tools.perception import perceive

    src = load_image(save_image(tmp_path / "before.png", np.ascontiguousarray(data.rocket()[::3, ::3])))
    sky = next(r for r in perceive(src).regions if r.label == "sky")
    edit = parse_recipe({"regions": {"sky": {"label": "sky", "attributes": {"brightness": {"to": 0.2},
                                                                             "temperature": {"to": -0.4}}}}})
    out = render(src.pixels, edit, {"sky": sky}, Job(edit, None, {}, "parametric", None, None))
    save_image(tmp_path / "after.png", out.image)
    achieved = {a.attribute: a.achieved for a in out.report}
    look = look_from_pair(tmp_path / "before.png", tmp_path / "after.png")
    assert look.levels["sky"]["brightness"] == pytest.approx(achieved["brightness"], abs=0.08)
    assert look.levels["sky"]["temperature"] == pytest.approx(achieved["temperature"], abs=0.08)
