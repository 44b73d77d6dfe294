"""The sky detector: Shen & Wang's border, its colour-model refinement, the no-sky decision."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.evals.photos import load_photo
from pertouch.tools import sky as S
from pertouch.tools.labels import compute_cues
from pertouch.tools.perception import proxy_of


def _cues(rgb):
    return compute_cues(rgb)


def _detect(rgb):
    c = _cues(rgb)
    return S.detect_sky(c.rgb, c.lab, c.grad, grey=c.grey, person=c.person.mask,
                        person_confidence=c.person.confidence)


def _scene(seed=0, h=120, w=160, horizon=None):
    """A smooth blue gradient sky over a textured brown-green ground with a skyline."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3), np.float32)
    ys = np.linspace(0, 1, h)[:, None]
    img[:] = np.stack([100 + 60 * ys, 150 + 50 * ys, 235 + 0 * ys], axis=2)
    line = (horizon if horizon is not None else 50 + 12 * np.sin(np.arange(w) / 9)).astype(int)
    for x in range(w):
        img[line[x]:, x] = (90, 80, 50)
    ground = np.arange(h)[:, None] >= line[None, :]
    img[ground] += rng.normal(0, 25, (ground.sum(), 3))
    return np.clip(img, 0, 255).astype(np.uint8), ~ground


def test_border_follows_a_skyline():
    rgb, truth = _scene()
    found = _detect(rgb)
    assert found.present and found.evidence > 0.8
    iou = (found.mask & truth).sum() / (found.mask | truth).sum()
    assert iou > 0.9
    line = truth.sum(axis=0)
    assert np.abs(found.border - line).mean() < 3


def test_energy_prefers_the_true_border():
    rgb, truth = _scene()
    c = _cues(rgb)
    border, t, j = S.optimal_border(c.rgb, c.grad)
    h, w = truth.shape
    mom = S._stats(rgb / 255.0 * 100)
    cum = np.zeros((h + 1, w, 9))
    np.cumsum(mom, axis=0, out=cum[1:])
    total = cum[-1].sum(axis=0)
    true_line = truth.sum(axis=0)
    assert S.border_energy(cum, total, true_line) > 4 * S.border_energy(cum, total, np.full(w, h // 5))
    assert S.border_energy(cum, total, true_line) >= 0.5 * j


def test_columns_without_sky_are_allowed():
    line = np.full(160, 50)
    line[:50] = 0  # a wall up to the top on the left
    rgb, truth = _scene(horizon=line)
    found = _detect(rgb)
    assert found.present
    assert not found.mask[:, :45].any()
    assert found.mask[:40, 60:].mean() > 0.95


@pytest.mark.parametrize("colour", [(150, 110, 60), (20, 60, 30), (0, 0, 0)])
def test_no_sky_on_a_plain_warm_dark_or_black_backdrop_over_texture(colour):
    rgb, truth = _scene()
    rgb[truth] = colour
    found = _detect(rgb)
    assert not found.present and not found.mask.any()


def test_a_blue_band_off_the_top_is_not_sky():
    rgb = np.full((96, 128, 3), (150, 110, 60), np.uint8)
    rgb[30:, :40] = (110, 160, 235)
    assert not _detect(rgb).present


def test_dusk_sky_is_sky_and_indoor_photos_have_none():
    rocket = _detect(proxy_of(load_photo("skimage:rocket"), 384))
    assert rocket.present and rocket.mask[:20].mean() > 0.8
    for spec in ("skimage:coffee", "skimage:chelsea", "skimage:astronaut"):
        assert not _detect(proxy_of(load_photo(spec), 384)).present, spec
