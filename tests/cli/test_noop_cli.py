"""`pertouch retouch` for requests that ask for no edit: exit 0, no file written (a no-op with an
explicit -o writes a byte-identical copy), never a "done" that changed pixels."""

from __future__ import annotations

import json

import pytest
from PIL import Image
from typer.testing import CliRunner

from pertouch.cli import app

runner = CliRunner()


@pytest.fixture()
def photo(tmp_path):
    from skimage import data

    im = Image.fromarray(data.rocket())
    im.thumbnail((192, 192))
    folder = tmp_path / "in"
    folder.mkdir()
    im.save(folder / "rocket.png")
    return folder / "rocket.png"


def _run(*args):
    return runner.invoke(app, ["retouch", *map(str, args)])


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


def test_no_op_with_output_writes_a_byte_identical_copy(photo, tmp_path):
    out = tmp_path / "out.png"
    res = _run(photo, "Don't change anything, it's perfect as it is.", "-o", out, "--json")
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)
    assert s["status"] == "ok" and s["instruction_class"] == "no-op" and s["recipe"] is None
    assert out.read_bytes() == photo.read_bytes()
    assert s["output"] == str(out) and s["sidecar"] is None and not (tmp_path / "out.png.pertouch.json").exists()
    assert s["answer"].startswith("Nothing changed")


def test_no_op_says_it_copied(photo, tmp_path):
    res = _run(photo, "leave it as it is", "-o", tmp_path / "o.png")
    assert res.exit_code == 0, res.output
    assert "Nothing changed" in res.stdout and "unchanged" in res.stdout and "Recipe:" not in res.stdout


@pytest.mark.parametrize("text, kind", [("no changes", "no-op"), ("what would you improve?", "question"),
                                        ("is it too dark?", "question"), ("undo", "undo"),
                                        ("keep the sky", "no-op")])
def test_answer_only_requests_exit_0_and_write_nothing(photo, text, kind):
    before = _files(photo.parent)
    res = _run(photo, text, "--json")
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)
    assert s["instruction_class"] == kind and s["status"] == "ok" and s["output"] is None and s["answer"]
    assert _files(photo.parent) == before


@pytest.mark.parametrize("text", ["what would you improve?", "undo"])
def test_question_or_undo_with_output_writes_no_file(photo, tmp_path, text):
    out = tmp_path / "out.png"
    res = _run(photo, text, "-o", out)
    assert res.exit_code == 0, res.output
    assert not out.exists() and not (tmp_path / "out.png.pertouch.json").exists()


def test_question_answer_names_the_measured_levels(photo):
    res = _run(photo, "what would you improve?", "--json")
    s = json.loads(res.stdout)
    assert "Measured levels" in s["answer"] and "brightness" in s["answer"] and "Suggestions" in s["answer"]


def test_an_edit_without_output_goes_beside_the_input(photo):
    res = _run(photo, "make the sky a lot brighter", "--json")
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)
    out = photo.with_name("rocket-retouched.png")
    assert s["output"] == str(out) and out.is_file() and out.with_name(out.name + ".pertouch.json").is_file()
    assert out.read_bytes() != photo.read_bytes()


def test_no_op_onto_the_input_is_refused_like_any_output(photo):
    before = photo.read_bytes()
    res = _run(photo, "leave it", "-o", photo)
    assert res.exit_code == 2 and "is the input file" in res.stderr
    assert photo.read_bytes() == before


def test_out_of_scope_still_exits_3(photo, tmp_path):
    res = _run(photo, "add a unicorn", "-o", tmp_path / "u.png")
    assert res.exit_code == 3 and not (tmp_path / "u.png").exists()
