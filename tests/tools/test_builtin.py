"""The builtin segmenter: a labelled partition of the proxy, person cue, grey input."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.tools.labels import LABELS, compute_cues
from pertouch.tools.perception import proxy_of
from pertouch.tools.segmenters.builtin import BuiltinSegmenter


def _segment(rgb):
    proxy = proxy_of(rgb, 256)
    return proxy, BuiltinSegmenter().segment(proxy, compute_cues(proxy))


@pytest.fixture(scope="module")
def rocket():
    from skimage import data

    return data.rocket()


def test_segments_partition_the_proxy(rocket):
    proxy, segs = _segment(rocket)
    assert 2 <= len(segs) <= 12
    cover = np.sum([s.mask > 0.5 for s in segs], axis=0)
    assert cover.shape == proxy.shape[:2]
    assert (cover == 1).mean() > 0.99
    for s in segs:
        assert s.label in LABELS
        assert 0.0 <= s.confidence <= 1.0
        assert s.mask.dtype == np.float32


def test_rocket_sky_is_the_upper_part(rocket):
    _, segs = _segment(rocket)
    sky = [s for s in segs if s.label == "sky"]
    assert len(sky) == 1 and sky[0].confidence > 0.6
    m = sky[0].mask > 0.5
    assert m[:10].mean() > 0.9 and m[-10:].mean() < 0.3


def test_person_found_on_astronaut_not_on_coffee():
    from skimage import data

    _, segs = _segment(data.astronaut())
    person = [s for s in segs if s.label == "person"]
    assert person and person[0].confidence > 0.6
    _, segs = _segment(data.coffee())
    assert not [s for s in segs if s.label == "person"]


def test_grey_photo_gets_sky_and_person():
    from skimage import data

    grey = np.repeat(data.camera()[..., None], 3, axis=2)
    _, segs = _segment(grey)
    labels = {s.label for s in segs}
    assert {"sky", "person"} <= labels
    assert "water" not in labels  # no colour, no way to tell water from ground


def test_deterministic(rocket):
    _, a = _segment(rocket)
    _, b = _segment(rocket)
    assert [s.label for s in a] == [s.label for s in b]
    assert all(np.array_equal(x.mask, y.mask) for x, y in zip(a, b))
