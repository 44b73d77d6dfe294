"""Case-given regions: boxes, hand-labelled masks and mask files measured instead of the agent's."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from pertouch.core.errors import InputError
from pertouch.evals.case_regions import GivenRegion, given_mask
from pertouch.evals.solver import label_levels

ZIDANE = "wheel:ultralytics==8.4.190:ultralytics/assets/zidane.jpg"


def test_a_box_is_fractions_of_the_photo_and_can_be_inverted():
    m = given_mask(GivenRegion(box=(0, 0, 1, 0.25)), "skimage:rocket", (40, 60))
    assert m.shape == (40, 60) and m[:10].all() and not m[10:].any()
    inv = given_mask(GivenRegion(box=(0, 0, 1, 0.25), invert=True), "skimage:rocket", (40, 60))
    assert (inv == ~m).all()


@pytest.mark.parametrize("spec, words", [({}, "exactly one"), ({"box": [0.5, 0, 0.2, 1]}, "x0 < x1"),
                                         ({"box": [0, 0, 1, 1], "seg": "a:b"}, "exactly one"),
                                         ({"seg": "zidane"}, "NAME:KIND")])
def test_bad_regions_say_what_is_wrong(spec, words):
    with pytest.raises(ValidationError, match=words):
        GivenRegion.model_validate(spec)


def test_a_labelled_mask_only_on_its_own_photo():
    m = given_mask(GivenRegion(seg="zidane:subject"), ZIDANE, (72, 128))
    assert 0.2 < m.mean() < 0.7
    bg = given_mask(GivenRegion(seg="zidane:background"), ZIDANE, (72, 128))
    assert not (m & bg).any()
    with pytest.raises(InputError, match="drawn on"):
        given_mask(GivenRegion(seg="zidane:subject"), "skimage:rocket", (72, 128))
    with pytest.raises(InputError, match="no labelled 'sky'"):
        given_mask(GivenRegion(seg="zidane:sky"), ZIDANE, (72, 128))


def test_a_mask_file_next_to_the_cases(tmp_path):
    from PIL import Image

    Image.fromarray(np.tile(np.array([0, 255], np.uint8).repeat(5), (10, 1))).save(tmp_path / "right.png")
    m = given_mask(GivenRegion(mask="right.png"), "x", (20, 20), tmp_path)
    assert m[:, 10:].all() and not m[:, :10].any()
    with pytest.raises(InputError, match="not found"):
        given_mask(GivenRegion(mask="nope.png"), "x", (20, 20), tmp_path)


def test_given_masks_replace_the_agent_s_label():
    class Scene:
        regions = []

    pixels = np.zeros((20, 20, 3), np.uint8)
    pixels[:10] = 250  # bright top, dark bottom
    top = np.zeros((20, 20), bool)
    top[:10] = True
    assert label_levels(pixels, Scene(), given={"sky": top})["sky"]["brightness"] > \
        label_levels(pixels, Scene(), given={"sky": ~top})["sky"]["brightness"]
