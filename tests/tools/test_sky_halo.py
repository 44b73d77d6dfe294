"""No halo where a builtin sky mask meets a lamp flare: the rocket photo at 640 px."""

from __future__ import annotations

import cv2
import numpy as np
from skimage import data

from pertouch.engine.parametric.blend import luma_unit
from pertouch.engine.parametric.engine import ParametricEngine
from pertouch.engine.schema.recipe import Recipe
from pertouch.engine.schema.regions import Region
from pertouch.tools.perception import perceive

#: Dusk sky right of the left launch tower, around its lamp flare (x 80–108, y 312–368);
#: hand-checked: all sky in the photo. The builtin segmenter used to call its textured
#: superpixels "ground" (a hole and a dark blob in sky edits, mean mask 0.15).
FLARE_BOX = (slice(312, 368), slice(80, 108))


def test_sky_edit_reaches_the_flare_area_and_nothing_far_outside():
    img = data.rocket()
    sky = perceive(img).find("sky").mask
    assert sky.shape == img.shape[:2]
    assert float(sky[FLARE_BOX].mean()) >= 0.45  # was 0.15: a hole in the sky mask
    rec = Recipe.model_validate({"regions": {"sky": {"attributes": {"brightness": {"by": 0.5}, "temperature": {"by": 0.6}}}}})
    out = ParametricEngine().render(img, rec, {"sky": Region("sky", sky)}).image
    d = luma_unit(out) - luma_unit(img)
    med = float(np.median(d[sky >= 0.99]))
    assert med > 0.1
    # the flare area brightens with the sky (was 0.20 of the sky's median change: a dark blob)
    assert float(d[FLARE_BOX].mean()) >= 0.6 * med
    near = cv2.dilate((sky > 0).astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    assert (~near).mean() > 0.05
    assert np.array_equal(out[~near], img[~near])
