"""Parameter maps: rasterise a recipe, read it back, save/load as 16-bit PNGs."""

from __future__ import annotations

import numpy as np

from pertouch.engine.diffusion.paramap import load_maps, map_to_recipe, rasterize, save_maps
from pertouch.engine.schema.attributes import CORE_NAMES
from pertouch.engine.schema.recipe import Recipe
from pertouch.engine.schema.regions import Region


def _setup(img):
    h, w = img.shape[:2]
    sky = np.zeros((h, w), np.float32)
    sky[: h // 3] = 1
    box = np.zeros((h, w), np.float32)
    box[h // 4: h // 2, w // 4: w // 2] = 1  # overlaps the sky: painted over it
    regs = {"sky": Region("sky", sky), "box": Region("box", box)}
    rec = Recipe.model_validate({
        "global": {"attributes": {"brightness": {"by": 0.1}}},
        "regions": {"sky": {"attributes": {"temperature": {"to": -0.4}, "colorfulness": {"by": 0.2}}},
                    "box": {"attributes": {"contrast": {"to": 0.5}}}}})
    return regs, rec


def test_rasterize_layout(astro_small):
    regs, rec = _setup(astro_small)
    pm = rasterize(rec, regs, image=astro_small)
    h, w = astro_small.shape[:2]
    assert pm.shape == (4, h, w) and pm.dtype == np.float32
    t, c, k, b = (CORE_NAMES.index(a) for a in ("temperature", "colorfulness", "contrast", "brightness"))
    sky_only = (slice(0, h // 4), slice(w // 2, w))
    assert np.all(pm[t][sky_only] == -0.4)
    assert np.all(pm[k][h // 4: h // 2, w // 4: w // 2] == 0.5)  # later region over earlier
    assert np.ptp(pm[:, h - 10:, :], axis=(1, 2)).max() == 0  # constant outside regions (global fill)
    from pertouch.engine.measure.stats import measure_image_levels, measure_levels

    g = measure_image_levels(astro_small, attributes=CORE_NAMES)
    assert abs(pm[b, -1, -1] - (g["brightness"] + 0.1)) < 1e-5  # global 'by' fill
    sky_lv = measure_levels(astro_small, {"sky": regs["sky"]}, attributes=CORE_NAMES)["sky"]
    assert abs(pm[c][sky_only].mean() - (sky_lv["colorfulness"] + 0.2)) < 1e-5  # region 'by'
    # unedited attribute in a region: its measured level, moved by the global shift
    assert abs(pm[b][sky_only].mean() - (sky_lv["brightness"] + 0.1)) < 1e-5


def test_map_round_trip_and_png(astro_small, tmp_path):
    regs, rec = _setup(astro_small)
    pm = rasterize(rec, regs, image=astro_small)
    back = map_to_recipe(pm, regs)
    assert back.regions["sky"].attributes["temperature"].to == -0.4
    assert back.regions["box"].attributes["contrast"].to == 0.5
    assert set(back.global_.attributes) == set(CORE_NAMES)
    again = rasterize(back, regs, measured={"global": dict.fromkeys(CORE_NAMES, 0.0)}, shape=pm.shape[1:])
    assert np.abs(again - pm).max() < 1e-3
    paths = save_maps(pm, tmp_path / "out")
    assert [p.name for p in paths] == [f"out.{a}.png" for a in CORE_NAMES]
    loaded = load_maps(tmp_path / "out")
    assert loaded.shape == pm.shape and np.abs(loaded - pm).max() < 2 / 65535 * 2
