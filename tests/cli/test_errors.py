"""Every bad input to `pertouch apply`: one stderr line, exit 2, no output, input untouched."""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from pertouch.cli import app


@pytest.fixture()
def work(tmp_path, monkeypatch):
    """A folder with a small good photo, a good mask and a good recipe; cwd set to it."""
    from skimage import data

    monkeypatch.chdir(tmp_path)
    Image.fromarray(data.coffee()[::4, ::4]).save("photo.png")  # 150×100
    m = np.zeros((100, 150), np.uint8)
    m[:40] = 255
    Image.fromarray(m).save("top.png")
    Path("good.json").write_text(json.dumps({"regions": {"top": {"mask": "top.png",
                                                                 "attributes": {"brightness": {"by": 0.1}}}}}))
    return tmp_path


def _bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def _run(folder: Path, *args: str):
    before = _bytes(folder)
    result = CliRunner().invoke(app, ["apply", *args])
    after = _bytes(folder)
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    assert after == before, "an input changed or an output appeared"
    assert not any(p.is_dir() for p in folder.iterdir() if p.name != "sub"), "a folder appeared"
    return lines[0]


def _bomb(path: str) -> None:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", 40000, 40000, 8, 2, 0, 0, 0)
    Path(path).write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                           + chunk(b"IDAT", zlib.compress(b"\0" * 99)) + chunk(b"IEND", b""))


EDIT = ("--set", "global.brightness=+0.1")


def test_missing_input(work):
    assert "not found" in _run(work, "nope.jpg", *EDIT, "-o", "out.jpg")


def test_non_image(work):
    Path("notes.jpg").write_text("hello")
    assert "not an image" in _run(work, "notes.jpg", *EDIT, "-o", "out.jpg")


def test_zero_byte(work):
    Path("empty.jpg").write_bytes(b"")
    assert "empty" in _run(work, "empty.jpg", *EDIT, "-o", "out.jpg")


def test_truncated_jpeg(work):
    buf = io.BytesIO()
    Image.open("photo.png").save(buf, "JPEG")
    Path("cut.jpg").write_bytes(buf.getvalue()[:-400])
    assert "truncated" in _run(work, "cut.jpg", *EDIT, "-o", "out.jpg")


def test_decompression_bomb_header(work):
    _bomb("bomb.png")
    assert "MP limit" in _run(work, "bomb.png", *EDIT, "-o", "out.jpg")


def test_mask_size_mismatch(work):
    Image.fromarray(np.zeros((50, 50), np.uint8)).save("square.png")
    line = _run(work, "photo.png", "--set", "sky.brightness=0.2", "--mask", "sky=square.png", "-o", "out.jpg")
    assert "mask square.png is 50×50 but the photo is 150×100" in line


@pytest.mark.parametrize("text,expect", [
    ("{not json", "not valid JSON"),
    ('{"global": {"attributes": {"sparkle": {"by": 0.1}}}}', "unknown attribute 'sparkle'"),
    ('{"global": {"attributes": {"brightness": {"to": 3}}}}', "outside [-1, 1]"),
    ('{"global": {"attributes": {"brightness": {"by": NaN}}}}', "finite"),
    ('{"global": {"attributes": {"brightness": {"to": 0.1, "by": 0.1}}}}', "exactly one"),
    ('[1, 2]', "JSON object"),
])
def test_malformed_recipe(work, text, expect):
    Path("bad.json").write_text(text)
    assert expect in _run(work, "photo.png", "--recipe", "bad.json", "-o", "out.jpg")


def test_missing_recipe(work):
    assert "recipe not found" in _run(work, "photo.png", "--recipe", "nope.json", "-o", "out.jpg")


@pytest.mark.parametrize("edit,expect", [
    ("brightness=0.2", "REGION.ATTRIBUTE=VALUE"),
    ("global.brightness", "REGION.ATTRIBUTE=VALUE"),
    ("global.brightness=lots", "not a number"),
    ("global.brightness=up:0.1", "'to:' or 'by:'"),
    ("global.brightness=nan", "finite"),
    ("global.brightnes=0.1", "did you mean 'brightness'"),
    ("global.brightness=to:1.5", "outside"),
])
def test_bad_set(work, edit, expect):
    assert expect in _run(work, "photo.png", "--set", edit, "-o", "out.jpg")


def test_output_is_input(work):
    assert "is the input" in _run(work, "photo.png", *EDIT, "-o", "photo.png")


def test_output_folder_missing(work):
    assert "does not exist" in _run(work, "photo.png", *EDIT, "-o", "missing/out.jpg")


def test_output_format_unknown(work):
    assert "cannot write .gif" in _run(work, "photo.png", *EDIT, "-o", "out.gif")


def test_nothing_to_apply(work):
    assert "nothing to apply" in _run(work, "photo.png", "-o", "out.jpg")


def test_region_without_mask(work):
    line = _run(work, "photo.png", "--set", "sky.temperature=0.4", "-o", "out.jpg")
    assert "region 'sky' has no mask" in line and "--mask sky=FILE.png" in line


def test_mask_for_unknown_region(work):
    line = _run(work, "photo.png", *EDIT, "--mask", "sky=top.png", "-o", "out.jpg")
    assert "no region 'sky'" in line


def test_mask_file_missing(work):
    assert "mask file not found" in _run(work, "photo.png", *EDIT, "--mask", "sky=nope.png", "-o", "out.jpg")


def test_batch_with_region_edits(work):
    Image.open("photo.png").save("second.png")
    (work / "sub").mkdir()
    line = _run(work, "photo.png", "second.png", "--recipe", "good.json", "-o", "sub")
    assert "only 'global' edits" in line and "top" in line
    assert list((work / "sub").iterdir()) == []


def test_unknown_engine(work):
    assert "unknown engine 'magic'" in _run(work, "photo.png", *EDIT, "--engine", "magic", "-o", "out.jpg")


def test_missing_level_table(work):
    assert "level table not found" in _run(work, "photo.png", *EDIT, "--levels", "nope.json", "-o", "out.jpg")
