"""``--box`` / ``--point`` on ``pertouch segment``, ``apply`` and ``retouch`` (CLI runner)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from pertouch.cli import app

runner = CliRunner()
#: The dahlia of scikit-learn's flower.jpg at half size (320×214): a box and a point on it.
FLOWER_BOX = "flower=80,40,226,181"
FLOWER_POINT = "flower=155,108"


@pytest.fixture(autouse=True)
def _fresh_caches():
    from pertouch.commands._common import use_pointers
    from pertouch.graph import runtime

    runtime.process_cache().clear()
    yield
    runtime.process_cache().clear()
    use_pointers([])


@pytest.fixture()
def flower_png(tmp_path):
    from sklearn.datasets import load_sample_image

    p = tmp_path / "flower.png"
    Image.fromarray(load_sample_image("flower.jpg")).resize((320, 214), Image.Resampling.LANCZOS).save(p)
    return p


def pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), np.float32)


def far_outside(shape, box: str, margin: int = 12) -> np.ndarray:
    """Pixels more than ``margin`` px outside the box ``NAME=X0,Y0,X1,Y1``."""
    x0, y0, x1, y1 = map(int, box.partition("=")[2].split(","))
    out = np.ones(shape[:2], bool)
    out[max(0, y0 - margin):y1 + margin, max(0, x0 - margin):x1 + margin] = False
    return out


def one_error_line(res) -> str:
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in res.output
    return lines[0]


# --- segment ---------------------------------------------------------------------------


def test_segment_adds_the_pointed_region(flower_png, tmp_path):
    out = tmp_path / "regions"
    res = runner.invoke(app, ["segment", str(flower_png), "--out", str(out), "--box", FLOWER_BOX])
    assert res.exit_code == 0, res.output
    line = next(ln for ln in res.stdout.splitlines() if ln.split()[:1] == ["flower"])
    assert "confidence 0.90" in line
    index = json.loads((out / "regions.json").read_text())
    entry = next(e for e in index["regions"] if e["name"] == "flower")
    assert entry["label"] == "flower" and entry["source"] == "box" and 0.1 < entry["area"] < 0.5
    mask = np.asarray(Image.open(out / entry["mask"]).convert("L")) > 127
    assert mask.shape == (214, 320) and not (mask & far_outside(mask.shape, FLOWER_BOX, 0)).any()
    assert len(index["regions"]) >= 2  # the segmenter's own regions are still there


def test_segment_with_points_named_by_default(flower_png, tmp_path):
    out = tmp_path / "r"
    res = runner.invoke(app, ["segment", str(flower_png), "--out", str(out), "--point", "155,108",
                              "--point", "120,90", "--json"])
    assert res.exit_code == 0, res.output
    entry = next(e for e in json.loads(res.stdout)["regions"] if e["name"] == "selection")
    assert entry["source"] == "point" and (out / entry["mask"]).is_file()


@pytest.mark.parametrize("args, says", [
    (["--box", "flower=0,0,400,100"], "320×214"),
    (["--point", "flower=10,300"], "320×214"),
    (["--box", "flower=10,10,5"], "X0,Y0,X1,Y1"),
    (["--point", "1;2"], "X,Y"),
])
def test_segment_bad_pointer_exits_2_without_output(flower_png, tmp_path, args, says):
    out = tmp_path / "r"
    line = one_error_line(runner.invoke(app, ["segment", str(flower_png), "--out", str(out), *args]))
    assert says in line and not out.exists()


# --- retouch ---------------------------------------------------------------------------


def test_retouch_edits_only_the_pointed_flower(flower_png, tmp_path):
    out = tmp_path / "vivid.png"
    res = runner.invoke(app, ["retouch", str(flower_png), "make the flower more vivid", "--box", FLOWER_BOX,
                              "-o", str(out), "--json"])
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)
    assert any(r["name"] == "flower" and r["confidence"] == 0.9 for r in s["regions"])
    assert set(s["recipe"]["regions"]) == {"flower"}
    before, after = pixels(flower_png), pixels(out)
    outside = far_outside(before.shape, FLOWER_BOX)
    assert np.abs(after - before)[outside].max() == 0
    inside = np.zeros(outside.shape, bool)
    inside[70:150, 110:195] = True  # the middle of the dahlia
    sat = lambda px: px.max(axis=2) - px.min(axis=2)  # noqa: E731
    assert sat(after)[inside].mean() > sat(before)[inside].mean() + 5
    side = json.loads((tmp_path / "vivid.png.pertouch.json").read_text())
    assert (tmp_path / side["regions"]["flower"]["mask"]).is_file()


def test_retouch_selection_means_the_one_pointed_region(coffee, tmp_path):
    """A classifier that says "selection" (here scripted) edits the pointed cup, whatever its name."""
    photo = tmp_path / "coffee.png"
    Image.fromarray(coffee[::2, ::2].copy()).save(photo)
    script = tmp_path / "vlm.json"
    script.write_text(json.dumps({"classify": [{"kind": "strong", "targets": [
        {"region": "selection", "attribute": "brightness", "direction": "up", "shift": 0.3}]}],
        "fallback": "builtin"}))
    box = "cup=82,5,208,155"
    out = tmp_path / "o.png"
    res = runner.invoke(app, ["retouch", str(photo), "brighten the selection", "--box", box, "--vlm",
                              f"fake:{script}", "--max-rounds", "1", "-o", str(out), "--json"])
    assert res.exit_code == 0, res.output
    assert set(json.loads(res.stdout)["recipe"]["regions"]) == {"selection"}
    before, after = pixels(photo), pixels(out)
    assert np.abs(after - before)[far_outside(before.shape, box)].max() == 0
    assert after[30:70, 110:180].mean() > before[30:70, 110:180].mean() + 3  # the coffee in the cup


def test_retouch_warns_when_the_pointed_region_is_not_edited(flower_png, tmp_path):
    out = tmp_path / "o.png"
    res = runner.invoke(app, ["retouch", str(flower_png), "make it brighter", "--box", "80,40,226,181", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "warning: the recipe leaves the pointed region selection alone" in res.stderr


@pytest.mark.parametrize("args, says", [
    (["--box", "flower=100,10,330,100"], "outside the photo: the photo is 320×214"),
    (["--box", "flower=a,b,c,d"], "X0,Y0,X1,Y1"),
    (["--box", "sky=0,0,10,10", "--box", "sky=1,1,9,9"], "twice"),
])
def test_retouch_bad_pointer_exits_2_without_output(flower_png, tmp_path, args, says):
    out = tmp_path / "o.png"
    line = one_error_line(runner.invoke(app, ["retouch", str(flower_png), "make the flower more vivid", *args,
                                              "-o", str(out)]))
    assert says in line and not out.exists() and not (tmp_path / "o.png.pertouch.json").exists()


def test_retouch_inseparable_box_exits_2(tmp_path):
    flat = tmp_path / "flat.png"
    Image.fromarray(np.full((120, 160, 3), 128, np.uint8)).save(flat)
    out = tmp_path / "o.png"
    line = one_error_line(runner.invoke(app, ["retouch", str(flat), "brighter flower", "--box", "flower=40,30,44,33",
                                              "-o", str(out)]))
    assert "could not be separated" in line and not out.exists()


# --- apply -----------------------------------------------------------------------------


def test_apply_recipe_naming_the_pointed_region(flower_png, tmp_path):
    recipe = tmp_path / "vivid.json"
    recipe.write_text(json.dumps({"regions": {"flower": {"attributes": {"colorfulness": {"by": 0.4}}}}}))
    out = tmp_path / "o.png"
    res = runner.invoke(app, ["apply", str(flower_png), "--recipe", str(recipe), "--point", FLOWER_POINT,
                              "-o", str(out), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["regions"]["flower"]["colorfulness"]["achieved"] > \
        json.loads(res.stdout)["regions"]["flower"]["colorfulness"]["before"]
    before, after = pixels(flower_png), pixels(out)
    d = np.abs(after - before).max(axis=2)
    assert d[90:130, 130:180].mean() > 5 and d[:20, :60].max() == 0 and d[:, 280:].max() == 0
    # the sidecar carries the mask: applying it again needs no --point
    again = tmp_path / "again.png"
    res = runner.invoke(app, ["apply", str(flower_png), "--recipe", f"{out}.pertouch.json", "-o", str(again)])
    assert res.exit_code == 0, res.output
    assert np.abs(pixels(again) - after).mean() < 0.5


def test_apply_set_on_a_box(flower_png, tmp_path):
    out = tmp_path / "o.png"
    res = runner.invoke(app, ["apply", str(flower_png), "--box", FLOWER_BOX, "--set", "flower.brightness=-0.3",
                              "-o", str(out)])
    assert res.exit_code == 0, res.output
    before, after = pixels(flower_png), pixels(out)
    assert np.abs(after - before)[far_outside(before.shape, FLOWER_BOX)].max() == 0
    assert after[70:150, 110:195].mean() < before[70:150, 110:195].mean() - 5


@pytest.mark.parametrize("args, says", [
    (["--box", "petal=80,40,226,181", "--set", "flower.brightness=+0.1"], "no region 'petal'"),
    (["--box", "flower=80,40,226,400", "--set", "flower.brightness=+0.1"], "320×214"),
])
def test_apply_bad_pointer_exits_2(flower_png, tmp_path, args, says):
    out = tmp_path / "o.png"
    line = one_error_line(runner.invoke(app, ["apply", str(flower_png), *args, "-o", str(out)]))
    assert says in line and not out.exists()


def test_apply_pointer_with_several_photos_is_refused(flower_png, tmp_path):
    other = tmp_path / "other.png"
    other.write_bytes(flower_png.read_bytes())
    line = one_error_line(runner.invoke(app, ["apply", str(flower_png), str(other), "--box", FLOWER_BOX,
                                              "--set", "flower.brightness=+0.1", "-o", str(tmp_path / "outs")]))
    assert "one photo" in line
