"""The perception evaluation: the tune-only calibration rule and predictions through find / instances
(case files and splits: test_seg_cases.py; metrics: test_seg_metrics.py)."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.core.errors import InputError, NotFoundError
from pertouch.evals import segmentation as sg


def _rows(case: str, split: str, n: int, right: bool, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [{"case": case, "split": split, "label": "sky", "raw": float(r), "correct": bool(right if r > 0.5 else not right)}
            for r in rng.uniform(0.05, 0.95, n)]


def test_calibration_is_fitted_on_tune_rows_only():
    tune = _rows("a", "tune", 60, True, 0) + _rows("b", "tune", 60, True, 1)
    held = _rows("held", "heldout", 400, False, 2)  # the opposite relation: would flip the slope
    fitted = sg.fit_table(tune + held)
    assert {k: v for k, v in fitted.items() if k != "fitted_on"} == {k: v for k, v in sg.fit_table(tune).items() if k != "fitted_on"}
    assert fitted["slope"] > 0 and "(a, b)" in fitted["fitted_on"] and "held" not in fitted["fitted_on"]
    with pytest.raises(InputError):
        sg.tune_rows(tune + held)
    with pytest.raises(InputError):
        sg.fit_table(held)
    with pytest.raises(InputError):  # leave-one-photo-out fits on its own rows: tune only
        sg.confidence_report(held, calibrated=False)
    report = sg.confidence_report(held, calibrated=False, train=tune)
    assert report["fitted_on_tune"]["n"] == len(held) and "leave_one_photo_out" not in report
    with pytest.raises(InputError):
        sg.confidence_report(held, calibrated=False, train=held)
    with pytest.raises(InputError):
        sg.run(refit=True, split="heldout")


def _square(y0, x0, y1, x1, shape=(100, 100)):
    m = np.zeros(shape, bool)
    m[y0:y1, x0:x1] = True
    return m


class _Region:
    def __init__(self, mask):
        self.mask = mask.astype(np.float32)


class _Scene:
    """A scene that knows a few words; the 'mask' is at half the photo's size."""

    def __init__(self, words, instances=None):
        self.words = words
        if instances is not None:
            self.instances = lambda kind: [_Region(m) for m in instances.get(kind, [])]

    def find(self, word):
        if word not in self.words:
            raise NotFoundError(word)
        return _Region(self.words[word])


def test_predictions_go_through_find_and_instances():
    half = _square(0, 0, 25, 50, (50, 50))
    scene = _Scene({"sky": half, "wall": _square(40, 0, 50, 10, (50, 50)), "building": _square(40, 40, 50, 50, (50, 50))})
    pred = sg.predicted(scene, (100, 100))
    assert pred["sky"].shape == (100, 100) and pred["sky"].sum() == 50 * 100
    assert pred["person"] is None and pred["ground"] is None
    assert pred["building"].sum() == 2 * 20 * 20 and pred["wall"].sum() == 20 * 20  # building = building + wall
    assert sg.predicted_instances(scene, "person", (100, 100)) is None              # no instances API yet
    with_inst = _Scene({}, {"face": [half]})
    assert [m.sum() for m in sg.predicted_instances(with_inst, "face", (100, 100))] == [5000]
