"""The confidence calibration map: fitting, leave-one-photo-out scoring, and its effect on labelled photos."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.evals import calibration as cal
from pertouch.tools import labels as lb


def _rows(slope: float, intercept: float, n: int, seed: int = 0) -> list[dict]:
    """Regions whose correctness follows a known Platt map of their raw confidence."""
    rng = np.random.default_rng(seed)
    raw = rng.uniform(0.05, 0.95, n)
    p = 1 / (1 + np.exp(-(slope * np.log(raw / (1 - raw)) + intercept)))
    labels = rng.choice(["sky", "building", "water"], n)
    return [{"case": f"p{i % 7}", "label": str(lab), "raw": float(r), "correct": bool(u < q)}
            for i, (r, q, lab, u) in enumerate(zip(raw, p, labels, rng.uniform(size=n)))]


def test_fit_recovers_a_known_map():
    t = cal.fit(_rows(3.0, -1.0, 4000))
    assert t["slope"] == pytest.approx(3.0, abs=0.3) and t["intercept"] == pytest.approx(-1.0, abs=0.3)
    assert all(abs(v) < 0.3 for v in t["families"].values())  # no family differs: offsets stay near 0


def test_family_offsets_are_learned_and_shrunk():
    rows = _rows(2.0, 0.0, 3000)
    for r in rows:  # building is never right
        if r["label"] == "building":
            r["correct"] = False
    t = cal.fit(rows)
    assert t["families"]["building"] < -1.5 < t["families"]["sky"]
    few = [r for r in rows if r["label"] != "building"] + [r for r in rows if r["label"] == "building"][:2]
    assert abs(cal.fit(few)["families"]["building"]) < abs(t["families"]["building"])


def test_leave_one_photo_out_never_uses_the_scored_photo():
    rows = _rows(3.0, 0.0, 700)
    flipped = [dict(r, correct=not r["correct"]) if r["case"] == "p0" else r for r in rows]
    a, b = cal.leave_one_photo_out(rows), cal.leave_one_photo_out(flipped)
    for r, x, y in zip(rows, a, b):
        assert (x == y) if r["case"] == "p0" else (x != y)


def test_split_accuracy_and_brier():
    s = cal.split_accuracy([0.9, 0.6, 0.2, 0.1], [True, False, False, True])
    assert s["high"] == {"n": 2, "accuracy": 0.5} and s["low"] == {"n": 2, "accuracy": 0.5}
    assert cal.brier([1.0, 0.0], [True, False]) == 0.0 and cal.brier([0.5], [True]) == 0.25


def test_wrong_labels_on_the_labelled_photos_are_unsure():
    """Coffee has no building, ground or vegetation; China's sky and trees are right."""
    from pertouch.evals.segmentation import evaluate_case, load_cases
    from pertouch.tools.perception import FIND_MIN_CONFIDENCE

    cases = {c.name: c for c in load_cases()}
    for name in ("coffee", "china"):
        for r in evaluate_case(cases[name])["regions"]:
            conf = lb.calibrate(r["label"], r["raw"])
            if not r["correct"]:
                assert conf < FIND_MIN_CONFIDENCE, (name, r, conf)
            elif r["label"] in ("sky", "vegetation"):
                assert conf >= 0.9, (name, r, conf)
