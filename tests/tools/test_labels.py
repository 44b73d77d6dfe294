"""Labels from cues: synonyms, class scores, calibrated confidences, the namer hook."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.engine.schema.regions import Region
from pertouch.tools import labels as lb


@pytest.mark.parametrize("text,label", [
    ("sky", "sky"), ("the trees", "vegetation"), ("Her face", "face"), ("ocean", "water"),
    ("road", "ground"), ("the eagle", None),
])
def test_canonical_label(text, label):
    assert lb.canonical_label(text) == label


def _synthetic() -> np.ndarray:
    """Top half smooth blue sky, bottom half textured green foliage (uint8 RGB)."""
    rng = np.random.default_rng(0)
    img = np.zeros((128, 192, 3), np.float32)
    grad = np.linspace(0, 30, 64)[:, None]

    img[:64, :, 0] = 90 + grad
    img[:64, :, 1] = 150 + grad
    img[:64, :, 2] = 235
    leaves = rng.normal(0, 35, (64, 192))
    img[64:, :, 0] = 40 + 0.5 * leaves
    img[64:, :, 1] = 110 + leaves
    img[64:, :, 2] = 30 + 0.4 * leaves
    return np.clip(img, 0, 255).astype(np.uint8)


def test_sky_over_foliage_is_labelled():
    img = _synthetic()
    cues = lb.compute_cues(img)
    top = np.zeros(img.shape[:2], bool)
    top[:64] = True
    (l1, c1), (l2, c2) = lb.label_masks(cues, [top, ~top])
    assert (l1, l2) == ("sky", "vegetation")
    assert c1 > 0.5 and c2 > 0.5


def test_confidence_is_low_when_cues_conflict():
    f = {k: np.array([v]) for k, v in dict(L=60.0, a=0.0, b=0.0, sdL=8.0, tex=2.0, y=0.5, top=0.0,
                                             person=0.0, area=0.3, C=0.0, hue=0.0).items()}
    p = lb.softmax(lb.class_scores(f))[0]
    assert lb.confidence_of(p.max()) < 0.5  # a mid-grey, mid-texture blob in the middle: no confident label


def test_label_with_uses_the_namer_and_overlay():
    img = _synthetic()
    top = np.zeros(img.shape[:2], np.float32)
    top[:64] = 1
    regions = [Region("a", top, label="other", confidence=0.2), Region("b", 1 - top, label="other", confidence=0.2)]
    seen = {}

    def namer(overlay, numbers):
        seen["shape"], seen["numbers"] = overlay.shape, numbers
        return {1: "Sky", 2: "the trees"}

    out = lb.label_with(regions, namer, img)
    assert seen == {"shape": img.shape, "numbers": [1, 2]}
    assert [r.label for r in out] == ["sky", "vegetation"]
    assert all(r.confidence == 0.8 for r in out)


def test_calibration_map_is_monotone_and_leaves_other_alone():
    table = {"slope": 4.0, "intercept": 1.0, "families": {"building": -0.5, "sky": 0.3}}
    raw = np.linspace(0.01, 0.99, 50)
    for label in ("sky", "building", "snow", "clouds"):
        cal = [lb.calibrate(label, r, table) for r in raw]
        assert np.all(np.diff(cal) > 0) and all(0 < c < 1 for c in cal)
    assert lb.calibrate("clouds", 0.4, table) == lb.calibrate("sky", 0.4, table)  # clouds are sky's family
    assert lb.calibrate("building", 0.4, table) < lb.calibrate("snow", 0.4, table) < lb.calibrate("sky", 0.4, table)
    assert lb.calibrate("other", 0.37, table) == 0.37
    with lb.use_calibration(None):
        assert lb.calibrate("sky", 0.37) == 0.37
    assert lb.calibrate("sky", 0.37) == lb.calibrate("sky", 0.37, lb.calibration_table())


def test_shipped_table_says_how_it_was_fitted():
    t = lb.calibration_table()
    assert t["slope"] > 1 and set(t["families"]) <= set(lb.LABELS)
    assert "Platt" in t["method"] and "evals/data/seg" in t["fitted_on"] and "--fit-calibration" in t["refit"]


def test_builtin_regions_carry_calibrated_confidences():
    from pertouch.tools.segmenters.builtin import BuiltinSegmenter

    img = _synthetic()
    cues = lb.compute_cues(img)
    with lb.use_calibration(None):
        raw = BuiltinSegmenter().segment(img, cues)
    cal = BuiltinSegmenter().segment(img, cues)
    assert [s.label for s in raw] == [s.label for s in cal]
    for r, c in zip(raw, cal):
        assert c.confidence == pytest.approx(lb.calibrate(r.label, r.confidence), abs=1e-3)
    with lb.use_calibration({"slope": 1.0, "intercept": -3.0, "families": {}}):
        low = BuiltinSegmenter().segment(img, cues)
    assert all(a.confidence < b.confidence for a, b in zip(low, raw) if a.label != "other")


def test_calibration_stays_within_the_tables_bounds():
    table = {"slope": 4.0, "intercept": 0.0, "families": {}, "floor": 0.04, "ceiling": 0.96}
    assert lb.calibrate("sky", 0.999, table) == 0.96 and lb.calibrate("sky", 0.001, table) == 0.04
    assert 0.04 < lb.calibrate("sky", 0.5, table) < 0.96
