"""The paired suite: oracle levels measured on the target, engines side by side, fidelity scores."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from pertouch.cli import app
from pertouch.engine.schema.attributes import CORE_NAMES
from pertouch.engine.schema.levels import default_table
from pertouch.engine.train import data as td
from pertouch.evals import fidelity as fd
from pertouch.evals import runner
from pertouch.evals.paired_task import PairedTask, oracle_recipe, paired_table, table_lines

PHOTOS = ("skimage:coffee", "skimage:chelsea", "skimage:rocket")
SIDE = 128


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    """Three synthetic pairs (train_synthetic: random recipes on the parametric engine) as a FiveK-style folder."""
    from pertouch.engine.io.write import save_image
    from pertouch.engine.parametric.inputs import fit_long_side
    from pertouch.engine.train.synthetic import synthetic_pair
    from pertouch.evals.photos import load_photo
    from pertouch.tools.region_masks import make_segmenter

    root = tmp_path_factory.mktemp("pairs")
    seg = make_segmenter("builtin")
    (root / "input").mkdir()
    (root / "expertA").mkdir()
    for i, spec in enumerate(PHOTOS):
        rec = synthetic_pair(fit_long_side(load_photo(spec), SIDE), seg, np.random.default_rng(i), SIDE)
        stem = spec.split(":")[1]
        save_image(root / "input" / f"{stem}.png", rec["input"])
        save_image(root / "expertA" / f"{stem}.png", rec["target"])
    return root


def test_oracle_recipe_sets_each_region_to_its_target_levels():
    labels = np.zeros((40, 40), np.uint16)
    labels[:20] = 1
    labels[20:, :10] = 2
    rng = np.random.default_rng(0)
    target = rng.integers(0, 255, (40, 40, 3)).astype(np.uint8)
    raw = td.region_raw(target, labels)
    table = default_table()
    recipe, regions = oracle_recipe(labels, raw, table)
    assert set(regions) == set(recipe.regions) == {"rest", "r1", "r2"}
    assert regions["r2"].mask.sum() == 200 and regions["rest"].mask.sum() == 20 * 30
    want = np.clip(td.raw_levels(raw, table), -1, 1)
    for i, name in ((0, "rest"), (1, "r1"), (2, "r2")):
        got = recipe.regions[name].attributes
        assert [got[a].to for a in CORE_NAMES] == pytest.approx(want[i], abs=1e-4)


def test_fidelity_metrics_order_and_lpips_note():
    from skimage import data

    a = data.astronaut()[::4, ::4]
    near = np.clip(a.astype(int) + 3, 0, 255).astype(np.uint8)
    far = np.clip(a.astype(int) + 40, 0, 255).astype(np.uint8)
    same = fd.fidelity(a, a)
    assert same["psnr"] == fd.PSNR_CAP and same["ssim"] == pytest.approx(1.0) and same["delta_e"] == 0.0
    n, f = fd.fidelity(near, a), fd.fidelity(far, a)
    assert same["psnr"] > n["psnr"] > f["psnr"] and n["ssim"] > f["ssim"] and 0 < n["delta_e"] < f["delta_e"]
    assert 37 < n["psnr"] < 39.5  # +3/255 everywhere (less where it clips): about 38.6 dB
    if fd.lpips_status() is not None:  # no lpips package or AlexNet weights here: said, not guessed
        assert fd.lpips_status() == "LPIPS: not computed (no local weights)" and n["lpips"] is None


def _tiny_diffusion(root: Path):
    path = Path(__file__).parents[1] / "engine" / "diffusion" / "test_diffusion.py"
    spec = importlib.util.spec_from_file_location("_pertouch_test_diffusion_paired", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.build_tiny_model(root)
    return mod.SIZE


@pytest.mark.slow
def test_parametric_and_a_tiny_diffusion_model_side_by_side(pairs, tmp_path):
    pytest.importorskip("diffusers")
    from pertouch.engine.diffusion.engine import DiffusionEngine

    size = _tiny_diffusion(tmp_path / "model")
    spec = f"diffusion:{tmp_path / 'model'}"
    task = PairedTask(pairs, max_side=SIDE)
    task._engines[spec] = DiffusionEngine(tmp_path / "model", size=size, steps=2, device="cpu", dtype="float32")
    out = tmp_path / "run"
    configs = [{"engine": "parametric", "segmenter": "builtin"}, {"engine": spec, "segmenter": "builtin"}]
    summary = runner.run(task, configs=configs, out=out)
    assert list(summary["configs"]) == ["parametric", spec]
    rows = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and all(r["status"] == "pass" and not r["error"] for r in rows)
    for r in rows:
        assert (out / r["image"]).is_file() and (out / r["before_image"]).is_file()
        assert (out / r["output"]["target_image"]).is_file() and r["output"]["regions"] >= 2
        assert r["scores"]["psnr"]["pass"] is None and "the input itself" in r["scores"]["psnr"]["explanation"]
        assert r["scores"]["psnr"]["unit"] == "dB" and r["scores"]["ssim"]["unit"] == ""  # measurements, not rates
    assert len(list((out / "prepared").rglob("*.npz"))) == 3  # segmented once, shared by both engines
    table = paired_table(rows, list(summary["configs"]))
    names = list(table["rows"])
    assert names == ["input (no edit)", "parametric", spec]
    inp, par, dif = (table["rows"][n] for n in names)
    # oracle levels take the parametric engine towards the target the synthetic pair was rendered to
    assert par["psnr"] > inp["psnr"] + 1.0 and par["delta_e"] < inp["delta_e"] and par["ssim"] > inp["ssim"]
    assert dif["pairs"] == 3 and np.isfinite(dif["psnr"])  # random weights: scored, far from the target
    assert dif["psnr"] < par["psnr"]
    text = "\n".join(table_lines(table))
    assert "parametric" in text and (fd.lpips_status() is None or "LPIPS: not computed (no local weights)" in text)


def test_eval_paired_command_prints_the_table_and_rescores(pairs, tmp_path):
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["eval", "paired", "--pairs", str(pairs), "-o", str(out), "--limit", "2"])
    assert res.exit_code == 0, res.output
    assert "input (no edit)" in res.stdout and "parametric" in res.stdout
    line = next(x for x in res.stdout.splitlines() if x.strip().startswith("parametric"))
    assert line.split()[1] == "2"  # pairs scored
    assert (out / "paired.md").is_file() and json.loads((out / "paired.json").read_text())["rows"]["parametric"]["psnr"]
    for report in ("report.md", "report.html"):  # measurements shown as numbers with units, never as rates
        text = (out / report).read_text()
        assert " dB" in text and not re.search(r"\d{4,}%", text), report
    again = CliRunner().invoke(app, ["eval", "rescore", str(out)])
    assert again.exit_code == 0 and line in again.stdout


def test_eval_paired_bad_pairs_is_one_line(tmp_path):
    res = CliRunner().invoke(app, ["eval", "paired", "--pairs", str(tmp_path / "nope"), "-o", str(tmp_path / "r")])
    assert res.exit_code == 2 and "pairs source not found" in res.stderr and "Traceback" not in res.output
    res = CliRunner().invoke(app, ["eval", "paired", "-o", str(tmp_path / "r")])
    assert res.exit_code == 2 and "needs pairs" in res.stderr
    assert not (tmp_path / "r").exists()
