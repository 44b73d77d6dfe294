"""`pertouch export`, `import-xmp` and `apply --export` end to end through the CLI runner."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pertouch.cli import app
from tests.cli.test_apply import work as photo_and_mask  # noqa: F401 (fixture: photo.png, top.png in a temp cwd)


def run(*args: str, code: int = 0):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    return result


@pytest.fixture()
def work(photo_and_mask):
    """test_apply's photo.png and top.png, and out.png rendered from them with its sidecar."""
    run("apply", "photo.png", "--set", "global.brightness=to:0.5", "--set", "global.warmth=-0.2",
        "--set", "sky.colorfulness=+0.2", "--mask", "sky=top.png", "-o", "out.png")
    return photo_and_mask


def test_export_output_image_to_xmp_and_pp3(work):
    s = json.loads(run("export", "out.png", "--to", "xmp", "--json").stdout)
    assert s["output"].endswith("photo.xmp") and s["photo"].endswith("photo.png")
    assert s["values"]["global"]["Exposure2012"] != 0 and s["values"]["global"]["IncrementalTemperature"] < 0
    assert "LocalSaturation" in s["values"]["sky"]  # region "sky": Lightroom's Select Sky (its sign: what is
    # left after the global exposure, which raised colourfulness too)
    assert not any(x["assumed_from"] for x in s["levels"])  # measured on photo.png
    text = (work / "photo.xmp").read_text()
    assert 'crs:MaskSubType="2"' in text and 'pertouch:MaskFile="top.png"' in text
    r = run("export", "out.png", "--to", "pp3")
    assert "wrote" in r.stdout and "not expressed: sky" in r.stdout
    assert "Compensation=" in (work / "photo.png.pp3").read_text()


def test_import_xmp_round_trip(work):
    run("export", "out.png", "--to", "xmp", "-o", "look.xmp")
    run("import-xmp", "look.xmp", "--photo", "photo.png", "-o", "back.json")
    back = json.loads((work / "back.json").read_text())["global"]["attributes"]
    side = json.loads((work / "out.png.pertouch.json").read_text())
    report = run("apply", "photo.png", "-r", "out.png.pertouch.json", "-o", "again.png", "--json").stdout
    levels = json.loads(report)["regions"]["global"]
    for attr, v in levels.items():
        assert back[attr]["by"] == pytest.approx(v["target"] - v["before"], abs=0.04), attr
    assert set(back) == set(side["global"]["attributes"])
    printed = json.loads(run("import-xmp", "look.xmp").stdout)  # no -o: the recipe on stdout
    assert printed["format"] == "pertouch-recipe"


def test_apply_export_writes_the_sidecar_beside_the_input(work):
    (work / "sub").mkdir()
    r = run("apply", "photo.png", "--set", "global.contrast=+0.2", "-o", "sub/photo.png", "--export", "pp3")
    assert "Exposure/Contrast" in r.stdout and "Contrast=" in (work / "photo.png.pp3").read_text()
    assert not (work / "sub" / "photo.png.pp3").exists()  # never beside an output of the same name


def test_export_without_the_photo_names_no_editor_would_pick_up(work):
    (work / "r").mkdir()
    (work / "r" / "look.json").write_text('{"global": {"attributes": {"brightness": {"by": 0.2}}}}')
    r = run("export", "r/look.json", "--to", "xmp")
    assert (work / "r" / "look.pertouch.xmp").is_file() and "as if each region started at level 0" in r.stdout


def test_apply_export_refuses_a_foreign_sidecar_before_rendering(work):
    (work / "photo.xmp").write_text("<x:xmpmeta>Lightroom's own</x:xmpmeta>")
    r = run("apply", "photo.png", "--set", "global.contrast=+0.2", "-o", "o.png", "--export", "xmp", code=2)
    assert "not written by PerTouch" in r.stderr and not (work / "o.png").exists()
    run("apply", "photo.png", "--set", "global.contrast=+0.2", "-o", "o.png", "--export", "xmp", "--overwrite")
    assert "PerTouch" in (work / "photo.xmp").read_text()


@pytest.mark.parametrize("args,message", [
    (("export", "missing.png", "--to", "xmp"), "file not found"),
    (("export", "photo.png", "--to", "xmp"), "no recipe beside photo.png"),
    (("export", "out.png", "--to", "tiff"), "choose xmp or pp3"),
    (("export", ".", "--to", "xmp"), "is a folder"),
    (("export", "out.png", "--to", "xmp", "-o", "nowhere/x.xmp"), "does not exist"),
    (("apply", "photo.png", "--set", "global.contrast=+0.2", "-o", "o.png", "--export", "dng"), "choose xmp or pp3"),
    (("import-xmp", "missing.xmp"), "file not found"),
    (("import-xmp", "photo.png"), "cannot read photo.png"),
    (("import-xmp", "notxmp.xmp"), "is not XMP"),
    (("import-xmp", "empty.xmp"), "sets none of the sliders"),
    (("export", "to.json", "--to", "xmp"), "give the photo it was made for"),
    (("export", "broken.json", "--to", "xmp"), "not valid JSON"),
])
def test_bad_input_is_one_line_exit_2(work, args, message):
    (work / "notxmp.xmp").write_text("<x:xmpmeta")
    (work / "empty.xmp").write_text('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
                                    '02/22-rdf-syntax-ns#"><rdf:Description/></rdf:RDF></x:xmpmeta>')
    (work / "to.json").write_text('{"global": {"attributes": {"brightness": {"to": 0.3}}}}')
    (work / "broken.json").write_text("{")
    r = run(*args, code=2)
    assert r.stderr.count("\n") == 1 and message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_retouch_export_writes_the_sidecar_of_its_recipe(work):
    r = run("retouch", "photo.png", "make it warmer", "-o", "warm.png", "--export", "pp3", "--no-memory")
    side = json.loads((work / "warm.png.pertouch.json").read_text())
    assert "temperature" in side["global"]["attributes"], r.stdout
    from pertouch.engine.interop.pp3 import parse_pp3

    wb = parse_pp3((work / "photo.png.pp3").read_text())["White Balance"]
    assert int(wb["Temperature"]) > 6504 and "exported" in r.stderr  # RawTherapee: a higher K renders warmer
