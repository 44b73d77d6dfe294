"""Photos without a sky: find("sky") says "not found" at every working size, and a real
sky is still found. Studio backdrops and indoor walls must not be labelled sky."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.core.errors import NotFoundError
from pertouch.evals.segmentation import load_photo
from pertouch.tools import perception as pc
from pertouch.tools.labels import compute_cues
from pertouch.tools.segmenters.builtin import sky_plausibility

NO_SKY = ("skimage:coffee", "skimage:chelsea", "skimage:immunohistochemistry",
          "sklearn:flower.jpg", "skimage:astronaut", "matplotlib:grace_hopper.jpg")
SIZES = (192, 384, 512, None)  # None: the photo as shipped (≤ 640 px)


@pytest.mark.parametrize("spec", NO_SKY)
def test_find_sky_is_not_found_without_a_sky(spec):
    photo = load_photo(spec)
    for side in SIZES:
        img = pc.proxy_of(photo, side) if side else photo
        scene = pc.perceive(img, cache=False)
        assert not [r for r in scene.regions if r.label in ("sky", "clouds") and r.confidence >= pc.FIND_MIN_CONFIDENCE], \
            (spec, side, [(r.name, r.confidence) for r in scene.regions])
        with pytest.raises(NotFoundError):
            scene.find("sky")


@pytest.mark.parametrize("spec", ("skimage:rocket", "skimage:camera", "sklearn:china.jpg"))
def test_a_real_sky_is_still_found_at_small_sizes(spec):
    for side in (192, 384):
        img = pc.proxy_of(load_photo(spec), side)
        sky = pc.perceive(img, cache=False).find("sky")
        top = sky.mask[: max(1, img.shape[0] // 20)]
        assert top.mean() > 0.6 and sky.confidence >= 0.5


def test_sky_plausibility_prefers_a_blue_top_band_to_a_warm_wall():
    h, w = 96, 128
    img = np.full((h, w, 3), (150, 110, 60), np.uint8)
    band = np.zeros((h, w), bool)
    band[:40] = True
    sky = img.copy()
    sky[:40] = (110, 160, 235)
    assert sky_plausibility(compute_cues(sky), band) > 0.8
    assert sky_plausibility(compute_cues(img), band) < 0.2
    side = np.zeros((h, w), bool)
    side[30:, :40] = True
    blue_side = img.copy()
    blue_side[side] = (110, 160, 235)  # blue and smooth, but off the top border
    assert sky_plausibility(compute_cues(blue_side), side) < 0.1
