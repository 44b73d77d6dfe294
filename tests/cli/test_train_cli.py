"""`pertouch train prepare` end to end: a pairs folder with a bad pair, resume, synthetic pairs."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from pertouch.cli import app
from pertouch.engine.io.read import save_image
from pertouch.engine.schema.levels import default_table
from pertouch.engine.train import data as td


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


def _train_loop_tests():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "engine" / "train" / "test_train_loop.py"
    spec = importlib.util.spec_from_file_location("_pertouch_test_train_loop", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_run_trains_resumes_and_saves_a_loadable_model(tmp_path):
    import pytest

    pytest.importorskip("diffusers")
    from pertouch.engine.diffusion.engine import DiffusionEngine

    helpers = _train_loop_tests()
    helpers.build_tiny_model(tmp_path / "model")
    helpers.build_tiny_dataset(tmp_path / "data", n=2)
    cfg = tmp_path / "train.yaml"
    cfg.write_text("model: model\ndataset: data\noutput: run\nsteps: 2\nlr: 0.001\nbatch_size: 1\nsize: 32\n"
                   "checkpoint_every: 1\ndevice: cpu\ntransforms: {replacement: true, perturbation: false}\n")
    r = invoke("train", "run", str(cfg))
    assert "trained to step 2 (2 steps this run" in r.stdout
    r = invoke("train", "run", str(cfg), "--steps", "3")
    assert "trained to step 3 (1 steps this run" in r.stdout and "resumed from" in r.stderr
    r = invoke("train", "run", str(cfg), "--steps", "3")
    assert "already at step 3" in r.stdout
    rows = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [x["step"] for x in rows] == [1, 2, 3]
    with (tmp_path / "run" / "log.jsonl").open("a") as fh:  # logged past the last checkpoint, then stopped
        fh.write(json.dumps({"step": 4, "loss": 1.0, "lr": 0.001, "seconds": 0.1}) + "\n")
    invoke("train", "run", str(cfg), "--steps", "4")
    rows = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [x["step"] for x in rows] == [1, 2, 3, 4] and rows[-1]["loss"] != 1.0
    r = invoke("train", "run", str(cfg), "--no-resume", "--steps", "1")
    assert "trained to step 1 (1 steps this run" in r.stdout
    assert len((tmp_path / "run" / "log.jsonl").read_text().splitlines()) == 1
    assert [p.name for p in (tmp_path / "run" / "checkpoints").iterdir()] == ["step-000001"]
    engine = DiffusionEngine(tmp_path / "run" / "model", size=32, device="cpu", dtype="float32", steps=1)
    out = engine.generate(np.full((32, 32, 3), 0.5, np.float32), np.zeros((4, 32, 32), np.float32))
    assert out.shape == (32, 32, 3) and np.isfinite(out).all()


def test_run_reports_a_bad_config(tmp_path):
    cfg = tmp_path / "train.json"
    cfg.write_text(json.dumps({"model": "nowhere", "dataset": "x", "lr": 0.1}))
    r = invoke("train", "run", str(cfg), code=2)
    assert "model folder not found" in r.stderr
    r = invoke("train", "run", str(tmp_path / "missing.yaml"), code=2)
    assert "training config not found" in r.stderr
