"""The labelled photos of evals/data/seg/: well-formed files, the agreed splits, truth masks."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from pertouch.core.errors import InputError
from pertouch.evals import seg_cases as sg

#: The photos thresholds, rules and the calibration map may be fitted on (the issue's list).
TUNE = {"astronaut", "camera", "china", "coffee", "flower", "grace", "rocket", "chelsea", "bus", "zidane", "t1",
        "canal", "garage", "carousel", "park", "grass", "gravel", "face_cutout", "studio_frown"}


def _files():
    root = resources.files("pertouch.evals").joinpath("data", "seg")
    return [f for f in root.iterdir() if f.name.endswith(".json")]


def _polys(spec):
    spec = sg.polygons(spec)
    if isinstance(spec, dict):
        return spec.get("add", []) + spec.get("sub", [])
    return spec


@pytest.mark.parametrize("f", _files(), ids=lambda f: f.name[:-5])
def test_every_case_file_is_well_formed(f):
    d = json.loads(f.read_text())
    w, h = d["size"]
    assert d["split"] in sg.SPLITS and isinstance(d["photo"], str) and w >= 200 and h >= 200
    assert set(d.get("regions", {})) <= set(sg.KINDS), set(d.get("regions", {})) - set(sg.KINDS)
    assert set(d.get("instances", {})) <= set(sg.INSTANCE_KINDS)
    assert isinstance(d.get("portrait", False), bool)
    every = [p for v in d.get("regions", {}).values() for p in _polys(v)] + list(d.get("ignore", []))
    every += [p for insts in d.get("instances", {}).values() for i in insts for p in _polys(i)]
    for p in every:
        a = np.asarray(p, np.float64)
        assert a.ndim == 2 and a.shape[1] == 2 and len(a) >= 3, p[:3]
        assert (a >= 0).all() and (a[:, 0] <= w).all() and (a[:, 1] <= h).all(), (a.min(0), a.max(0))
    case = next(c for c in sg.load_cases() if c.name == f.name[:-5])
    for kind in sg.INSTANCE_KINDS:
        assert all(m.any() for m in sg.instance_masks(case, kind)), f"an empty {kind} instance"
    masks = sg.labelled(case)
    if "person" in masks:  # the people are the subject, and faces lie on people
        assert (masks["person"] & masks["subject"]).sum() >= 0.9 * masks["person"].sum()
        if "face" in masks:
            assert (masks["face"] & masks["person"]).sum() >= 0.9 * masks["face"].sum()
    if d.get("portrait"):
        assert "person" in masks


def test_splits_partition_the_cases_and_tune_is_the_agreed_list():
    tune, held, every = sg.load_cases("tune"), sg.load_cases("heldout"), sg.load_cases()
    assert {c.name for c in tune} == TUNE
    assert {c.name for c in tune} | {c.name for c in held} == {c.name for c in every}
    assert not {c.name for c in tune} & {c.name for c in held}
    assert all(c.split == "heldout" for c in held) and len(held) >= 25
    assert len({c.photo for c in every}) == len(every)  # one case per photo
    with pytest.raises(InputError):
        sg.load_cases("test")


def test_truth_unites_parts_and_derives_background():
    case = sg.Case("x", "skimage:none", (100, 100), {
        "wall": [[[0, 0], [100, 0], [100, 40], [0, 40]]], "floor": [[[0, 80], [100, 80], [100, 100], [0, 100]]],
        "subject": [[[40, 40], [60, 40], [60, 80], [40, 80]]]}, [[[0, 90], [10, 90], [10, 100], [0, 100]]],
        instances={"person": [[[40, 40], [60, 40], [60, 80], [40, 80]]], "face": [[[45, 40], [55, 40], [55, 50], [45, 50]]]})
    gt, valid = sg.truth(case, (100, 100))
    assert {"building", "wall", "ground", "floor", "subject", "background", "person", "face"} <= set(gt)
    assert "road" not in gt and "sky" not in gt
    assert (gt["building"] == gt["wall"]).all() and (gt["ground"] == gt["floor"]).all()
    assert not (gt["background"] & gt["subject"]).any() and not (gt["background"] & ~valid).any()
    assert sg.face_heights(case) == [11]  # polygon rows 40..50 inclusive
    small, _ = sg.truth(case, (50, 50))
    assert small["person"].shape == (50, 50)
