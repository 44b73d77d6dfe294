"""`pertouch apply` end to end through the CLI runner, with the real parametric engine."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from pertouch.cli import app
from pertouch.commands._common import build_recipe, parse_set
from pertouch.engine.io.read import load_image, save_image


def invoke(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result


@pytest.fixture()
def work(tmp_path, monkeypatch):
    """photo.png (coffee, 150×100) and top.png (upper 40 % white) in a temp cwd."""
    from skimage import data

    monkeypatch.chdir(tmp_path)
    save_image("photo.png", np.ascontiguousarray(data.coffee()[::4, ::4]))
    m = np.zeros((100, 150), np.uint8)
    m[:40] = 255
    Image.fromarray(m).save("top.png")
    return tmp_path


# --- --set parsing -------------------------------------------------------------------

@pytest.mark.parametrize("raw,region,attr,edit", [
    ("global.brightness=+0.2", "global", "brightness", {"by": 0.2}),
    ("global.exposure=-0.1", "global", "exposure", {"by": -0.1}),
    ("sky.temperature=0.4", "sky", "temperature", {"to": 0.4}),
    ("sky.warmth=to:-0.3", "sky", "warmth", {"to": -0.3}),
    ("sky.warmth=by:0.3", "sky", "warmth", {"by": 0.3}),
    ("person.1.saturation = 0", "person.1", "saturation", {"to": 0.0}),
])
def test_parse_set(raw, region, attr, edit):
    s = parse_set(raw)
    assert (s.region, s.attribute, s.edit) == (region, attr, edit)


def test_set_overrides_recipe_through_synonyms(tmp_path):
    (tmp_path / "r.json").write_text(json.dumps({"global": {"attributes": {"brightness": {"to": 0.5}}}}))
    recipe, folder = build_recipe(tmp_path / "r.json", ["global.exposure=+0.1", "sky.saturation=0.2"])
    assert folder == tmp_path
    assert recipe.global_.attributes["brightness"].by == 0.1
    assert recipe.global_.attributes["brightness"].to is None
    assert recipe.regions["sky"].attributes["colorfulness"].to == 0.2


# --- one photo ------------------------------------------------------------------------

def test_apply_writes_output_sidecar_and_json(work):
    r = invoke("apply", "photo.png", "--set", "global.contrast=+0.1", "--set", "top.brightness=0.3",
               "--mask", "top=top.png", "-o", "out.jpg", "--json")
    summary = json.loads(r.stdout)
    assert summary["output"] == "out.jpg" and summary["size"] == [150, 100] and summary["engine"] == "parametric"
    top = summary["regions"]["top"]["brightness"]
    assert top["target"] == pytest.approx(0.3) and abs(top["achieved"] - 0.3) < 0.1
    g = summary["regions"]["global"]["contrast"]
    assert g["target"] == pytest.approx(min(1.0, g["before"] + 0.1), abs=1e-3)
    out = load_image("out.jpg")
    assert out.pixels.shape == (100, 150, 3)
    side = json.loads(Path("out.jpg.pertouch.json").read_text())
    assert side["regions"]["top"]["attributes"]["brightness"] == {"to": 0.3}  # the user's edit, not resolved
    assert side["global"]["attributes"]["contrast"] == {"by": 0.1}
    assert side["regions"]["top"]["mask"] == "top.png"  # inside OUT's folder: referenced, not copied
    assert side["meta"]["input_hash"] == load_image("photo.png").content_hash
    assert side["meta"]["engine"] == "parametric" and side["meta"]["levels"] == "default"


def test_sidecar_reproduces_output_exactly(work):
    Path("res").mkdir()
    Path("r").mkdir()
    Path("r/recipe.json").write_text(json.dumps({"global": {"attributes": {"colorfulness": {"by": 0.2}}},
                                                 "regions": {"top": {"mask": "../top.png",
                                                                     "attributes": {"warmth": {"by": 0.3}}}}}))
    invoke("apply", "photo.png", "--recipe", "r/recipe.json", "-o", "res/a.jpg", "--allow-outside-masks")
    side = json.loads(Path("res/a.jpg.pertouch.json").read_text())
    assert side["regions"]["top"]["mask"] == "a.jpg.masks/top.png"  # copied next to the sidecar
    assert Path("res/a.jpg.masks/top.png").read_bytes() == Path("top.png").read_bytes()
    invoke("apply", "photo.png", "--recipe", "res/a.jpg.pertouch.json", "-o", "b.jpg")
    a, b = load_image("res/a.jpg").pixels, load_image("b.jpg").pixels
    assert np.array_equal(a, b)
    assert not np.array_equal(a, load_image("photo.png").pixels)


def test_zero_shift_is_identity(work):
    invoke("apply", "photo.png", "--set", "global.brightness=+0", "-o", "same.png")
    assert np.array_equal(load_image("same.png").pixels, load_image("photo.png").pixels)


def test_alpha_and_16bit_kept(work):
    px = load_image("photo.png").pixels
    alpha = np.full(px.shape[:2], 65535, np.uint16)
    alpha[:, :20] = 0
    save_image("deep.png", px.astype(np.uint16) * 257, alpha=alpha)
    invoke("apply", "deep.png", "--set", "global.brightness=+0.1", "-o", "deep-out.png")
    out = load_image("deep-out.png")
    assert out.bit_depth == 16 and np.array_equal(out.alpha, alpha)
    assert out.pixels.mean() > px.astype(np.float64).mean() * 257


def test_output_folder_as_target_and_overwrite(work):
    Path("outdir").mkdir()
    invoke("apply", "photo.png", "--set", "global.brightness=+0.1", "-o", "outdir")
    assert Path("outdir/photo.png").is_file() and Path("outdir/photo.png.pertouch.json").is_file()
    before = Path("photo.png").read_bytes()
    invoke("apply", "photo.png", "--set", "global.brightness=+0.1", "-o", "photo.png", "--overwrite")
    assert Path("photo.png").read_bytes() != before


# --- many photos ----------------------------------------------------------------------

def test_batch_continues_past_a_bad_photo(work):
    Path("in").mkdir()
    px = load_image("photo.png").pixels
    for k in range(3):
        save_image(f"in/p{k}.png", np.ascontiguousarray(np.roll(px, 10 * k, axis=1)))
    Path("in/broken.jpg").write_bytes(b"")
    result = CliRunner().invoke(app, ["apply", "in", "--set", "global.warmth=+0.2", "-o", "out", "--json",
                                      "--jobs", "2"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"error: {Path('in/broken.jpg')}: {Path('in/broken.jpg')} is empty (0 bytes)"]
    summary = json.loads(result.stdout)
    assert [Path(s["output"]).name for s in summary["results"]] == ["p0.png", "p1.png", "p2.png"]
    assert len(summary["errors"]) == 1
    assert sorted(p.name for p in Path("out").iterdir()) == sorted(
        [f"p{k}.png" for k in range(3)] + [f"p{k}.png.pertouch.json" for k in range(3)])
    for k in range(3):
        assert load_image(f"out/p{k}.png").pixels.mean() != load_image(f"in/p{k}.png").pixels.mean()


def test_demo_photo(work):
    r = invoke("demo-photo", "rocket.png")
    assert "rocket" in r.stdout and load_image("rocket.png").pixels.shape == (427, 640, 3)
    r = invoke("demo-photo", "china.jpg", "--name", "china")
    assert "scikit-learn's 'china'" in r.stdout and load_image("china.jpg").pixels.shape == (427, 640, 3)


def test_bundled_example_applies(work):
    root = Path(__file__).resolve().parents[2]
    invoke("demo-photo", "rocket.png")
    r = invoke("apply", "rocket.png", "--recipe", str(root / "examples" / "warm-sky.json"), "-o", "warm.jpg", "--json")
    sky = json.loads(r.stdout)["regions"]["sky"]["temperature"]
    assert sky["achieved"] > sky["before"]  # the sky got warmer


def test_level_table_recorded_and_reused(work):
    from pertouch.engine.schema.levels import default_table

    data = default_table().to_json()
    q = data["attributes"]["brightness"]["quantiles"]
    data["attributes"]["brightness"]["quantiles"] = [v * 0.5 for v in q]  # a darker "typical"
    Path("tables").mkdir()
    Path("tables/half.json").write_text(json.dumps(data))
    r1 = json.loads(invoke("apply", "photo.png", "--set", "global.brightness=0", "--levels", "tables/half.json",
                           "-o", "a.png", "--json").stdout)
    r0 = json.loads(invoke("apply", "photo.png", "--set", "global.brightness=0", "-o", "d.png", "--json").stdout)
    assert r1["regions"]["global"]["brightness"]["before"] != r0["regions"]["global"]["brightness"]["before"]
    side = json.loads(Path("a.png.pertouch.json").read_text())
    assert side["meta"]["levels"] == "tables/half.json"
    invoke("apply", "photo.png", "--recipe", "a.png.pertouch.json", "-o", "b.png")  # no --levels: meta's table
    assert np.array_equal(load_image("a.png").pixels, load_image("b.png").pixels)
    assert not np.array_equal(load_image("a.png").pixels, load_image("d.png").pixels)


def test_save_maps_writes_the_parameter_map(work):
    from pertouch.engine.schema.attributes import CORE_NAMES
    from pertouch.engine.diffusion.paramap import load_maps

    r = json.loads(invoke("apply", "photo.png", "--set", "top.brightness=0.6", "--set", "global.warmth=to:-0.5",
                          "--mask", "top=top.png", "-o", "m.jpg", "--save-maps", "--json").stdout)
    assert [Path(p).name for p in r["maps"]] == [f"m.jpg.map.{a}.png" for a in CORE_NAMES]
    pmap = load_maps("m.jpg.map")
    b, t = CORE_NAMES.index("brightness"), CORE_NAMES.index("temperature")
    assert pmap.shape == (4, 100, 150)
    assert abs(pmap[b, 5, 5] - 0.6) < 1e-3  # inside the top region
    assert abs(pmap[t, 90, 5] + 0.5) < 1e-3  # global level under everything


def test_segmenter_finds_regions_by_label_per_photo(work):
    invoke("demo-photo", "china.png", "--name", "china")
    invoke("demo-photo", "coffee.png", "--name", "coffee")
    r = invoke("apply", "china.png", "--set", "sky.temperature=-0.2", "--segmenter", "builtin", "-o", "a.jpg", "--json")
    s = json.loads(r.stdout)
    sky = s["regions"]["sky"]["temperature"]
    assert abs(sky["achieved"] - sky["target"]) < 0.03 and sky["target"] < sky["before"]
    assert Path("a.jpg.masks/sky.png").is_file()
    # a batch: each photo segmented on its own; the one without sky fails alone, clearly
    r = CliRunner().invoke(app, ["apply", "china.png", "coffee.png", "--set", "sky.temperature=-0.2",
                            "--segmenter", "builtin", "-o", "batch"])
    assert r.exit_code == 2 and "coffee.png: no sky found" in r.stderr
    assert Path("batch/china.png").is_file() and not Path("batch/coffee.png").exists()
