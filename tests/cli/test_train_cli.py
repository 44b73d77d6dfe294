"""`pertouch train prepare` end to end: a pairs folder with a bad pair, resume, synthetic pairs."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from pertouch.cli import app
from pertouch.engine import train_data as td
from pertouch.engine.levels import default_table
from pertouch.engine.io import save_image


def invoke(*args: str, code: int = 0):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    return result


def test_prepare_pairs_folder_skips_bad_pair_and_resumes(tmp_path):
    from skimage import data

    img = np.ascontiguousarray(data.coffee()[::4, ::4])
    pairs = tmp_path / "pairs"
    for d in ("input", "expertA", "expertB"):
        (pairs / d).mkdir(parents=True)
        save_image(pairs / d / "coffee.png", img if d == "input" else np.clip(img.astype(int) + 25, 0, 255).astype(np.uint8))
    save_image(pairs / "input" / "bad.png", img)
    (pairs / "expertA" / "bad.png").write_bytes(b"not a png")
    out = tmp_path / "ds"
    r = invoke("train", "prepare", str(pairs), "-o", str(out), "--max-side", "96")
    assert "2 pairs (2 new, 0 done before), 1 skipped" in r.stdout
    man = json.loads((out / td.MANIFEST).read_text())
    assert [s["id"] for s in man["skipped"]] == ["expertA/bad"] and man["skipped"][0]["why"]
    r = invoke("train", "prepare", str(pairs), "-o", str(out), "--max-side", "96")
    assert "2 pairs (0 new, 2 done before), 1 skipped" in r.stdout
    ds = td.TrainDataset(out)
    s = ds[0]
    assert s["map"].shape == (4, *s["input"].shape[:2]) and np.abs(s["map"]).max() <= 1
    assert len(s["others"]()) == 1


def test_prepare_synthetic_keeps_shipped_table(tmp_path):
    out = tmp_path / "syn"
    invoke("train", "prepare", "--synthetic", "2", "-o", str(out), "--max-side", "96")
    table = json.loads((out / td.TABLE).read_text())
    assert table == default_table().to_json()
    assert len(td.TrainDataset(out)) == 2


def test_prepare_needs_something(tmp_path):
    r = invoke("train", "prepare", "-o", str(tmp_path / "x"), code=2)
    assert "nothing to prepare" in r.stderr
