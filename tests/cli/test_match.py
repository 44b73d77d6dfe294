"""`pertouch match` and `pertouch apply --executor` end to end through the CLI runner."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pertouch.cli import app
from tests.batch.conftest import make_photos


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture()
def shoot(tmp_path, monkeypatch):
    """p000…p007 (p003, p007: rocket crops with sky) and ref.png: p003 with a brighter sky, warmer."""
    monkeypatch.chdir(tmp_path)
    make_photos(tmp_path / "in", 8, side=96)
    r = run("apply", "in/p003.png", "--segmenter", "builtin", "--set", "sky.brightness=+0.3",
            "--set", "global.temperature=to:0.3", "-o", "ref.png")
    assert r.exit_code == 0, r.output
    return tmp_path


def test_match_drives_each_photo_to_the_reference_levels(shoot):
    r = run("match", "ref.png", "in", "-o", "matched", "-j", "1")
    assert r.exit_code == 0, r.output
    report = json.loads((shoot / "matched" / "match-report.json").read_text())
    look = report["look"]["levels"]
    assert look["global"] == {"temperature": 0.3} and set(look) == {"global", "sky"}
    by_name = {s["output"].rsplit("/", 1)[1]: s for s in report["results"]}
    assert len(by_name) == 8 and report["errors"] == []
    for name, s in by_name.items():
        assert s["regions"]["global"]["temperature"]["target"] == 0.3
        assert ("sky" in s["regions"]) == (name in ("p003.png", "p007.png")), name
        if "sky" in s["regions"]:
            assert s["regions"]["sky"]["brightness"]["target"] == pytest.approx(look["sky"]["brightness"])
            assert s["regions"]["sky"]["brightness"]["achieved"] == pytest.approx(look["sky"]["brightness"], abs=0.08)
        else:
            assert s["missing"] == ["sky"]
    assert "not in this photo: sky" in r.stdout and "achieved" in r.stdout
    again = run("match", "ref.png", "in", "-o", "matched", "-j", "1", "--json")
    assert json.loads(again.stdout)["skipped"] == 8


def test_reference_without_sidecar_needs_before(shoot):
    (shoot / "ref.png.pertouch.json").unlink()
    r = run("match", "ref.png", "in/p007.png", "-o", "m")
    assert r.exit_code == 2 and "--before" in r.stderr and "Traceback" not in r.output
    r = run("match", "ref.png", "in/p007.png", "--before", "in/p003.png", "-o", "m", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert "estimated" in doc["look"]["source"] and "sky" in doc["look"]["levels"]


@pytest.mark.parametrize("args,words", [(["ref.png"], "at least one photo"), (["nope.png", "in"], "not found"),
                                        (["ref.png", "in", "--executor", "dask"], "unknown executor")])
def test_bad_match_is_one_line(shoot, args, words):
    r = run("match", *args, "-o", "m")
    assert r.exit_code == 2 and words in r.stderr and len(r.stderr.strip().splitlines()) <= 6


def test_apply_batch_from_csv_and_file_urls(shoot):
    (shoot / "list.csv").write_text(f"input,output\nin/p000.png,a.jpg\nfile://{shoot}/in/p001.png,\n")
    r = run("apply", "list.csv", "--set", "global.brightness=+0.2", "-o", "out", "--json")
    assert r.exit_code == 0, r.output
    assert sorted(s["output"].rsplit("/", 1)[1] for s in json.loads(r.stdout)["results"]) == ["a.jpg", "p001.png"]
    r = run("apply", "in", "--set", "sky.brightness=+0.2", "-o", "out2", "--executor", "local")
    assert r.exit_code == 2 and "--segmenter builtin" in r.stderr


@pytest.mark.slow
def test_like_user_applies_remembered_taste_per_scene(shoot):
    from pertouch.engine.io.read import load_image
    from pertouch.memory.descriptors import image_descriptor
    from pertouch.memory.factory import open_memory
    from pertouch.memory.records import MemoryRecord
    from pertouch.tools.perception import perceive

    mem = open_memory("memory:like-test")
    for name in ("in/p000.png", "in/p004.png"):  # coffee crops
        photo = load_image(name)
        scene = perceive(photo)
        mem.remember(MemoryRecord(user="ana", scene_description="a photo with " + ", ".join(
            sorted({r.label for r in scene.regions})), image_descriptor=image_descriptor(photo.pixels, scene.regions).tolist(),
            levels={"global": {"brightness": 0.3}}))
    r = run("match", "--like", "ana", "in/p000.png", "in/p003.png", "-o", "liked", "--memory", "memory:like-test",
            "--json")
    doc = json.loads(r.stdout)
    assert r.exit_code == 2 and [e["input"] for e in doc["errors"]] == ["in/p003.png"]  # a rocket: not like coffee
    assert "no remembered taste" in doc["errors"][0]["error"]
    got = doc["results"][0]["regions"]["global"]["brightness"]
    assert got["target"] == 0.3 and got["achieved"] == pytest.approx(0.3, abs=0.08)
