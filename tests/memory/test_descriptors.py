"""Image descriptors: unit vectors that make look-alike photos match and others not."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.engine.schema.regions import Region
from pertouch.memory.descriptors import (DESCRIPTOR_DIM, GROUP_NAMES, composition_block, descriptor_similarity,
                                         image_descriptor, label_group)

from .conftest import LANDSCAPE_REGIONS, PORTRAIT_REGIONS


def test_shape_dtype_unit_and_deterministic(landscapes):
    d = image_descriptor(landscapes[0], LANDSCAPE_REGIONS)
    assert d.shape == (DESCRIPTOR_DIM,) and d.dtype == np.float32
    assert np.isclose(np.linalg.norm(d), 1.0, atol=1e-5)
    assert np.array_equal(d, image_descriptor(landscapes[0], LANDSCAPE_REGIONS))


def test_landscapes_match_each_other_not_portraits(landscapes, portrait):
    land = [image_descriptor(img, LANDSCAPE_REGIONS) for img in landscapes]
    port = image_descriptor(portrait, PORTRAIT_REGIONS)
    within = [descriptor_similarity(land[i], land[j]) for i in range(4) for j in range(i + 1, 4)]
    across = [descriptor_similarity(x, port) for x in land]
    assert min(within) > 0.6, within
    assert max(across) < 0.3, across
    assert min(within) > max(across) + 0.4


def test_pixels_alone_separate_scenes(landscapes, portrait):
    """Without regions (composition block zero) colour and layout still tell them apart."""
    a, b = image_descriptor(landscapes[0]), image_descriptor(landscapes[1])
    assert descriptor_similarity(a, b) > descriptor_similarity(a, image_descriptor(portrait)) + 0.4


def test_resolution_and_dtype_do_not_matter(landscapes):
    img = landscapes[0]
    small = img[::4, ::4]
    d, ds = image_descriptor(img), image_descriptor(small)
    assert descriptor_similarity(d, ds) > 0.98
    as16 = img.astype(np.uint16) * 257
    assert descriptor_similarity(d, image_descriptor(as16)) > 0.999
    assert descriptor_similarity(d, image_descriptor(img.astype(np.float32) / 255)) > 0.999


def test_tone_changes_move_the_descriptor(landscapes):
    img = landscapes[0]
    d = image_descriptor(img)
    darker = image_descriptor((img * 0.4).astype(np.uint8))
    assert descriptor_similarity(d, darker) < 0.95


def test_grey_image_and_bad_shape():
    grey = np.full((40, 60), 128, np.uint8)
    d = image_descriptor(grey)
    assert np.all(np.isfinite(d))
    with pytest.raises(ValueError):
        image_descriptor(np.zeros((4, 4, 4, 3), np.uint8))


def test_composition_from_regions_or_mapping():
    mask = np.zeros((10, 10), np.float32)
    mask[:4] = 1.0
    regions = [Region("sky_1", mask, label="sky"), Region("person", 1.0 - mask)]
    block = composition_block(regions)
    assert np.isclose(block[GROUP_NAMES.index("sky")], np.sqrt(0.4))
    assert np.isclose(block[GROUP_NAMES.index("person")], np.sqrt(0.6))
    assert np.allclose(block, composition_block({"sky": 0.4, "woman": 0.6}))
    assert not np.any(composition_block(None))


@pytest.mark.parametrize("label, group", [("sky_2", "sky"), ("Pine trees", "vegetation"), ("face", "face"),
                                          ("skin", "face"), ("mountains", "terrain"), ("teapot", "other")])
def test_label_groups(label, group):
    assert label_group(label) == group


def test_similarity_of_missing_is_none():
    assert descriptor_similarity(None, [1.0]) is None
    assert descriptor_similarity([], [1.0]) is None
    assert descriptor_similarity([0.0, 0.0], [1.0, 0.0]) is None
    assert descriptor_similarity([1.0, 0.0], [1.0, 0.0, 0.0]) is None
