"""Border re-decision by local colour (tools/boundary.py)."""

from __future__ import annotations

import cv2
import numpy as np

from pertouch.tools.boundary import band_of, refine_labels, sky_band

SKY, TREE, PERSON = 0, 1, 2


def _scene(seed: int = 0):
    """A sky that darkens upward, a textured dark-green 'tree' with sky gaps, truth labels."""
    rng = np.random.default_rng(seed)
    h, w = 120, 160
    yy, xx = np.mgrid[0:h, 0:w]
    truth = np.full((h, w), SKY)
    tree = ((xx - 110) / 40.0) ** 2 + ((yy - 90) / 55.0) ** 2 <= 1
    gaps = tree & (rng.random((h, w)) < 0.004)
    gaps = cv2.dilate(gaps.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & tree
    truth[tree & ~gaps] = TREE
    lab = np.zeros((h, w, 3), np.float32)
    lab[..., 0] = 60 + 30 * yy / h          # sky: lighter toward the horizon
    lab[..., 2] = -30 + 10 * yy / h         # bluish
    t = truth == TREE
    lab[t] = np.stack([30 + rng.normal(0, 6, t.sum()), -20 + rng.normal(0, 5, t.sum()),
                       15 + rng.normal(0, 5, t.sum())], 1)
    return lab, truth


def _iou(a, b):
    return (a & b).sum() / (a | b).sum()


def test_coarse_sky_border_snaps_to_the_tree_outline():
    lab, truth = _scene()
    # a superpixel-ish coarse labelling: the tree blob grown by 6 px, gaps filled
    grown = cv2.dilate((truth == TREE).astype(np.uint8), np.ones((13, 13), np.uint8)).astype(bool)
    coarse = np.where(grown, TREE, SKY)
    before = _iou(coarse == SKY, truth == SKY)
    fixed = refine_labels(coarse, lab, band=8, only=SKY)
    after = _iou(fixed == SKY, truth == SKY)
    assert before < 0.9 and after > 0.95 and (1 - after) < 0.3 * (1 - before), (before, after)
    far = ~band_of(coarse, 8)
    assert np.array_equal(fixed[far], coarse[far])  # nothing outside the band moves


def test_frozen_labels_neither_change_nor_spread():
    lab, truth = _scene(1)
    coarse = truth.copy()
    person = np.zeros_like(truth, bool)
    person[10:40, 10:40] = True
    coarse[person] = PERSON                       # a 'person' with sky colours
    fixed = refine_labels(coarse, lab, band=8, frozen={PERSON})
    assert np.all(fixed[person] == PERSON) and not np.any(fixed[~person] == PERSON)


def test_correct_labels_stay_mostly_correct_and_band_scales_with_size():
    lab, truth = _scene(2)
    fixed = refine_labels(truth, lab, band=8, only=SKY)
    assert (fixed == truth).mean() > 0.99
    assert sky_band((256, 384)) == 8 and sky_band((512, 768)) > sky_band((256, 384))


def test_small_cloud_patches_touching_the_sky_join_it_large_ones_stay():
    from pertouch.tools.boundary import absorb_small

    CLOUDS = 5
    labels = np.full((100, 100), SKY)
    labels[60:] = TREE
    labels[50:60, 10:15] = CLOUDS       # 0.5 %: a hazy superpixel by the treetop
    labels[5:40, 40:90] = CLOUDS        # 17.5 %: a real cloud bank
    labels[80:85, 80:85] = CLOUDS       # inside the tree, not touching the sky
    out = absorb_small(labels, SKY, {CLOUDS})
    assert np.all(out[50:60, 10:15] == SKY)
    assert np.all(out[5:40, 40:90] == CLOUDS) and np.all(out[80:85, 80:85] == CLOUDS)


def test_compiled_window_sums_match_the_summed_area_route(monkeypatch):
    import pertouch.tools.boundary as bd

    if bd._window_sums is None:  # pragma: no cover - numba missing: only one route exists
        return
    lab, truth = _scene(3)
    coarse = cv2.dilate((truth == TREE).astype(np.uint8), np.ones((9, 9), np.uint8)).astype(np.int64)
    fast = refine_labels(coarse, lab, band=6, only=SKY)
    monkeypatch.setattr(bd, "_window_sums", None)
    slow = refine_labels(coarse, lab, band=6, only=SKY)
    assert (fast == slow).mean() > 0.999
