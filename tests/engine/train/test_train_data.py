"""Training-data preparation: pairs, labels, the fitted normaliser, shards, resume, skips."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pertouch.core.errors import InputError
from pertouch.engine.io.read import save_image
from pertouch.engine.schema.attributes import CORE_NAMES
from pertouch.engine.train import data as td


def halves(img: np.ndarray) -> dict[str, np.ndarray]:
    """A fixed segmenter: top and bottom halves."""
    m = np.zeros(img.shape[:2], np.float32)
    m[: img.shape[0] // 2] = 1
    return {"top": m, "bottom": 1 - m}


def test_find_pairs_folders_and_csv(tmp_path):
    img = np.zeros((8, 8, 3), np.uint8)
    for d, names in {"input": ["a", "b", "c"], "expertA": ["a", "b"], "expertB": ["b", "x"]}.items():
        (tmp_path / d).mkdir()
        for n in names:
            save_image(tmp_path / d / f"{n}.png", img)
    ids = sorted(p.id for p in td.find_pairs(tmp_path))
    assert ids == ["expertA/a", "expertA/b", "expertB/b"]
    (tmp_path / "pairs.csv").write_text("input,target,expert\ninput/a.png,expertB/b.png,E\n")
    (p,) = td.find_pairs(tmp_path / "pairs.csv")
    assert p.id == "E/a" and p.target == tmp_path / "expertB/b.png"
    with pytest.raises(InputError, match="not a pairs folder"):
        td.find_pairs(tmp_path / "input")


def test_label_image_drops_small_regions():
    big = np.zeros((40, 40), np.float32); big[:30] = 1
    tiny = np.zeros((40, 40), np.float32); tiny[35:, :5] = 1  # 25 px
    late = np.zeros((40, 40), np.float32); late[:10] = 1  # over the first
    lab = td.label_image([big, tiny, late], (40, 40), min_px=100)
    assert lab.max() == 2 and (lab[:10] == 2).all() and (lab[10:30] == 1).all() and (lab[35:, :5] == 0).all()


def test_fit_table_and_paint_map_are_quantiles():
    rng = np.random.default_rng(0)
    raws = [rng.uniform(0, 100, (3, 4)) for _ in range(50)]
    t = td.fit_table(raws)
    allv = np.concatenate(raws)
    med = np.median(allv[:, 3])
    assert abs(t["brightness"].to_level(med)) < 0.05
    lab = np.array([[0, 1], [2, 2]], np.uint16)
    raw = np.array([[np.nan] * 4, allv.min(0), allv.max(0)])
    pm = td.paint_map(lab, raw, t)
    assert pm.dtype == np.float16 and pm.shape == (4, 2, 2)
    assert np.allclose(pm[:, 0, 1], -1, atol=1e-3) and np.allclose(pm[:, 1, 0], 1, atol=1e-3)
    assert np.isfinite(pm).all() and (np.abs(pm) <= 1).all()


def test_prepare_measures_target_and_rejects_mismatch(coffee_small):
    tgt = np.clip(coffee_small.astype(int) + 40, 0, 255).astype(np.uint8)
    rec = td.prepare_pair(coffee_small, tgt, halves, max_side=128)
    assert rec["input"].shape[1] == 128 and rec["labels"].max() == 2
    base = td.prepare_pair(coffee_small, coffee_small, halves, max_side=128)
    bi = CORE_NAMES.index("brightness")
    assert (rec["raw"][1:, bi] > base["raw"][1:, bi]).all()  # measured on the brighter target
    with pytest.raises(InputError, match="differ in size"):
        td.prepare_pair(coffee_small, tgt[:50], halves)


def test_build_resume_skip_and_dataset(tmp_path, coffee_small):
    calls = []

    def job(pid, ok=True):
        def make():
            calls.append(pid)
            if not ok:
                raise InputError("unreadable photo")
            k = int(pid[-1])
            return td.prepare_pair(coffee_small, np.clip(coffee_small.astype(int) + 10 * k, 0, 255).astype(np.uint8),
                                   halves, max_side=64, min_px=10)
        return make

    jobs = [("A/p1", "A", job("A/p1")), ("B/p1", "B", job("B/p1")), ("A/p2", "A", job("A/p2", ok=False))]
    man = td.build(tmp_path, jobs, shard_size=1)
    assert [p["id"] for p in man["pairs"]] == ["A/p1", "B/p1"]
    assert man["skipped"] == [{"id": "A/p2", "why": "unreadable photo"}]
    calls.clear()
    man = td.build(tmp_path, jobs[:2] + [("A/p2", "A", job("A/p2")), ("C/p3", "C", job("C/p3")),
                                         ("C/p4", "C", job("C/p4"))], shard_size=8, workers=2)
    assert sorted(calls) == ["A/p2", "C/p3", "C/p4"] and man["skipped"] == []
    assert [p["id"] for p in man["pairs"]] == ["A/p1", "B/p1", "A/p2", "C/p3", "C/p4"]  # job order
    td.finalize(tmp_path)
    ds = td.TrainDataset(tmp_path)
    s = ds[0]
    assert s["map"].shape == (4, *s["input"].shape[:2]) and s["map"].dtype == np.float32
    assert [e for e, _, _ in s["others"]()] == ["B"]  # C/p3, C/p4 are other stems
    assert json.loads((tmp_path / td.TABLE).read_text())["format"] == "pertouch-levels"
