"""The training augmentations: semantic replacement, parameter perturbation, crop."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.engine.train import transforms as tt


def sample(h: int = 60, w: int = 80) -> dict:
    """Two regions (top 3/4 = 1, bottom 1/4 = 2), own expert map 0.0, others 0.2 and 0.8."""
    labels = np.ones((h, w), np.uint16)
    labels[3 * h // 4:] = 2
    tgt = np.full((h, w, 3), 100, np.uint8)
    others = [("B", np.full((h, w, 3), 150, np.uint8), np.full((4, h, w), 0.2, np.float32)),
              ("C", np.full((h, w, 3), 200, np.uint8), np.full((4, h, w), 0.8, np.float32))]
    return {"input": tgt.copy(), "target": tgt, "labels": labels, "map": np.zeros((4, h, w), np.float32),
            "others": lambda: others}


def test_replacement_takes_region_from_expert_differing_most():
    s = tt.SemanticReplacement(p=1.0)(sample(), np.random.default_rng(0))
    r = s["replaced"]
    assert r["expert"] == "C"
    m = s["labels"] == r["region"]
    assert (s["target"][m] == 200).all() and np.allclose(s["map"][:, m], 0.8)
    assert (s["target"][~m] == 100).all() and np.allclose(s["map"][:, ~m], 0.0)


def test_replacement_probability_area_weighting_and_switch():
    rng = np.random.default_rng(1)
    regions = [tt.SemanticReplacement(p=1.0)(sample(), rng)["replaced"]["region"] for _ in range(400)]
    assert 0.68 < np.mean(np.array(regions) == 1) < 0.82  # the top region is 3/4 of the frame
    hits = sum(tt.SemanticReplacement(p=0.05)(sample(), rng)["replaced"] is not None for _ in range(2000))
    assert 60 < hits < 145  # p = 0.05 of 2000 = 100
    s = tt.SemanticReplacement(p=1.0, enabled=False)(sample(), rng)
    assert s["replaced"] is None and (s["target"] == 100).all()
    lonely = sample()
    lonely["others"] = lambda: []
    assert tt.SemanticReplacement(p=1.0)(lonely, rng)["replaced"] is None


def test_perturb_map_blurs_and_shifts_within_range():
    pm = np.full((4, 64, 96), -1.0, np.float32)
    pm[:, :, 48:] = 1.0  # a step at x = 48
    shifts = np.array([[10, 0], [-20, 0], [0, 20], [0, 0]])
    out = tt.perturb_map(pm, 11, shifts)
    assert out.shape == pm.shape and (np.abs(out) <= 1).all()
    crossing = [int(np.argmax(out[c, 32] > 0)) for c in range(4)]
    assert crossing == [58, 28, 48, 48]
    assert 0 < out[3, 32, 48] < 1 and -1 < out[3, 32, 46] < 0  # blurred, not a hard step
    const = np.full((4, 20, 20), 0.3, np.float32)
    assert np.allclose(tt.perturb_map(const, 19, np.array([[20, -20]] * 4)), 0.3, atol=1e-6)
    with pytest.raises(ValueError, match="odd"):
        tt.perturb_map(pm, 8, shifts)


def test_perturbation_draws_stay_in_bounds_and_switch():
    rng = np.random.default_rng(2)
    pert = tt.ParameterPerturbation()
    kernels, shifts = set(), []
    for _ in range(200):
        s = sample(40, 40)
        s["map"] = rng.uniform(-1, 1, (4, 40, 40)).astype(np.float32)
        s = pert(s, rng)
        assert (np.abs(s["map"]) <= 1).all()
        kernels.add(s["perturbation"]["kernel"])
        shifts += sum(s["perturbation"]["shifts"], [])
    assert kernels == {7, 9, 11, 13, 15, 17, 19}
    assert max(shifts) == 20 and min(shifts) == -20
    s = sample()
    s["map"][:, :10] = 1.0
    before = s["map"].copy()
    assert np.array_equal(tt.ParameterPerturbation(enabled=False)(s, rng)["map"], before)


def test_crop_keeps_fields_aligned_and_scales_small_photos_up():
    rng = np.random.default_rng(3)
    s = sample(60, 80)
    s["input"] = np.arange(60 * 80 * 3, dtype=np.uint32).reshape(60, 80, 3).astype(np.uint8)
    out = tt.RandomCrop(32)(dict(s), rng)
    y, x = out["crop"]
    assert out["map"].shape == (4, 32, 32) and out["labels"].shape == (32, 32)
    assert np.array_equal(out["input"], s["input"][y:y + 32, x:x + 32])
    big = tt.RandomCrop(100)(sample(60, 80), rng)
    assert big["input"].shape == (100, 100, 3) and big["map"].shape == (4, 100, 100)
    assert set(np.unique(big["labels"])) <= {1, 2}


def test_pipeline_on_a_prepared_dataset(tmp_path, coffee_small):
    from pertouch.engine.train import data as td

    def halves(img):
        m = np.zeros(img.shape[:2], np.float32)
        m[: img.shape[0] // 2] = 1
        return {"top": m, "bottom": 1 - m}

    jobs = [(f"{e}/p", e, (lambda k=k: td.prepare_pair(coffee_small, np.clip(coffee_small.astype(int) + k, 0, 255)
                                                       .astype(np.uint8), halves, max_side=96, min_px=10)))
            for e, k in (("A", 0), ("B", 60))]
    td.build(tmp_path, jobs)
    td.finalize(tmp_path)
    ds = td.TrainDataset(tmp_path, tt.training_transforms(p=1.0, crop=48), seed=0)
    s = ds[0]
    assert s["input"].shape == (48, 48, 3) and s["map"].shape == (4, 48, 48)
    assert s["replaced"]["expert"] == "B" and s["perturbation"]["kernel"] % 2 == 1
