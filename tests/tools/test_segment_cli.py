"""``pertouch segment`` and ``pertouch apply --regions`` through the CLI runner."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from pertouch.cli import app

runner = CliRunner()


@pytest.fixture()
def rocket_png(tmp_path):
    from skimage import data

    p = tmp_path / "rocket.png"
    Image.fromarray(data.rocket()[::2, ::2].copy()).save(p)
    return p


def test_segment_writes_masks_overlay_and_index(rocket_png, tmp_path):
    out = tmp_path / "regions"
    res = runner.invoke(app, ["segment", str(rocket_png), "--out", str(out)])
    assert res.exit_code == 0, res.output
    index = json.loads((out / "regions.json").read_text())
    assert index["format"] == "pertouch-regions" and index["segmenter"] == "builtin"
    labels = [e["label"] for e in index["regions"]]
    assert "sky" in labels
    for e in index["regions"]:
        mask = np.asarray(Image.open(out / e["mask"]))
        assert mask.shape[:2] == (214, 320)
        assert 0 <= e["confidence"] <= 1 and 0 < e["area"] <= 1 and len(e["bbox"]) == 4
        assert set(e["levels"]) >= {"brightness", "contrast", "colorfulness", "temperature"}
    assert np.asarray(Image.open(out / "overlay.png")).shape[:2] == (214, 320)
    assert "sky" in res.output


def test_segment_json_output(rocket_png, tmp_path):
    res = runner.invoke(app, ["segment", str(rocket_png), "--out", str(tmp_path / "r"), "--json"])
    assert res.exit_code == 0
    assert json.loads(res.stdout)["regions"]


@pytest.mark.parametrize("make", ["missing", "empty", "notimage"])
def test_segment_bad_input_one_line_no_output(tmp_path, make):
    src = tmp_path / "in.png"
    if make == "empty":
        src.write_bytes(b"")
    elif make == "notimage":
        src.write_text("hello")
    out = tmp_path / "out"
    res = runner.invoke(app, ["segment", str(src), "--out", str(out)])
    assert res.exit_code == 2
    assert res.stderr.startswith("error: ") and len(res.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_segment_unknown_segmenter(rocket_png, tmp_path):
    res = runner.invoke(app, ["segment", str(rocket_png), "--out", str(tmp_path / "o"), "--segmenter", "sam:/nope.pth"])
    assert res.exit_code == 2 and "/nope.pth" in res.stderr and not (tmp_path / "o").exists()


def _apply_available() -> bool:
    try:
        from pertouch.engine.engines import get_engine  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _apply_available(), reason="the rendering engine is not built yet")
def test_apply_finds_regions_by_label(rocket_png, tmp_path):
    regions = tmp_path / "regions"
    assert runner.invoke(app, ["segment", str(rocket_png), "--out", str(regions)]).exit_code == 0
    out = tmp_path / "out.png"
    res = runner.invoke(app, ["apply", str(rocket_png), "--regions", str(regions), "--set", "sky.brightness=+0.3",
                              "-o", str(out)])
    assert res.exit_code == 0, res.output
    before = np.asarray(Image.open(rocket_png)).astype(float)
    after = np.asarray(Image.open(out)).astype(float)
    sky = np.asarray(Image.open(regions / "sky.png"))[..., 0] > 200
    assert after[sky].mean() > before[sky].mean() + 3
    res = runner.invoke(app, ["apply", str(rocket_png), "--regions", str(regions), "--set", "face.brightness=+0.3",
                              "-o", str(tmp_path / "o2.png")])
    assert res.exit_code == 2 and "no face found" in res.stderr
    assert not (tmp_path / "o2.png").exists()


def test_segment_lists_and_writes_people_and_faces(tmp_path):
    from skimage import data

    p = tmp_path / "astronaut.png"
    Image.fromarray(data.astronaut()).save(p)
    out = tmp_path / "regions"
    res = runner.invoke(app, ["segment", str(p), "--out", str(out)])
    assert res.exit_code == 0, res.output
    index = json.loads((out / "regions.json").read_text())
    names = [e["name"] for e in index["instances"]]
    assert names == ["person_1", "face_1"]
    face = np.asarray(Image.open(out / "face_1.png"))[..., 0] > 127
    person = np.asarray(Image.open(out / "person_1.png"))[..., 0] > 127
    assert face.any() and (face & person).sum() > 0.9 * face.sum()  # the face is part of her
    assert "people and faces" in res.output and "face_1" in res.output
    assert {e["name"] for e in index["regions"]}.isdisjoint(names)  # the partition is unchanged
