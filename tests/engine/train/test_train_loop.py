"""The training loop on a tiny random-weight PerTouch model and a tiny prepared dataset."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from pertouch.engine.schema.levels import default_table  # noqa: E402
from pertouch.engine.train import data as td  # noqa: E402
from pertouch.engine.train import loop as tl  # noqa: E402
from pertouch.engine.train.checkpoints import MODEL  # noqa: E402
from pertouch.engine.train.config import TrainConfig  # noqa: E402
from pertouch.engine.train.log import LOG  # noqa: E402

SIZE = 32


def _diffusion_tests():
    path = Path(__file__).parents[1] / "diffusion/test_diffusion.py"
    spec = importlib.util.spec_from_file_location("_pertouch_test_diffusion", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def build_tiny_model(root: Path) -> Path:
    """The tiny model of tests/engine/diffusion/test_diffusion.py with a fresh (zero-conv) ControlNet."""
    from diffusers import UNet2DConditionModel

    from pertouch.engine.diffusion.controlnet import PerTouchControlNetModel

    _diffusion_tests().build_tiny_model(root)
    unet = UNet2DConditionModel.from_pretrained(str(root / "unet"))
    net = PerTouchControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(4, 8))
    net.save_pretrained(root / "controlnet")  # the start of training: zero convs, no effect yet
    return root


def build_tiny_dataset(root: Path, n: int = 4) -> Path:
    """``n`` pairs of 40×40 photos: the target brightened/warmed by a per-region amount."""
    from skimage import data

    import cv2

    photo = cv2.resize(data.astronaut(), (40, 40), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(0)

    def make(i):
        def run():
            labels = np.zeros((40, 40), np.uint16)
            labels[:, 20:] = 1
            gain = np.where(labels[..., None] == 1, rng.uniform(-40, 40, 3), rng.uniform(-40, 40, 3))
            tgt = np.clip(photo.astype(float) + gain, 0, 255).astype(np.uint8)
            return {"input": photo, "target": tgt, "labels": labels, "raw": td.region_raw(tgt, labels)}
        return run

    td.build(root, [(f"e{i}/astro", f"e{i}", make(i)) for i in range(n)])
    td.finalize(root, default_table())
    return root


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    base = tmp_path_factory.mktemp("train")
    return build_tiny_model(base / "model"), build_tiny_dataset(base / "data")


def _cfg(tiny, out, **kw):
    model, data = tiny
    base = dict(model=str(model), dataset=str(data), output=str(out), steps=4, lr=1e-3, batch_size=2, size=SIZE,
                checkpoint_every=2, device="cpu")
    return TrainConfig.from_dict({**base, **kw})


def _fixed_loss(trainer, n=4):
    with torch.no_grad():
        return float(np.mean([trainer.loss(trainer.batch(10_000 + i), tl._seeded(99, i, 0)) for i in range(n)]))


def test_a_few_dozen_steps_lower_the_loss(tiny, tmp_path):
    trainer = tl.Trainer(_cfg(tiny, tmp_path / "run", steps=24, batch_size=1, checkpoint_every=100, transforms=False))
    before = _fixed_loss(trainer)
    rows = trainer.run()
    after = _fixed_loss(trainer)
    assert len(rows) == 24 and [r["step"] for r in rows] == list(range(1, 25))
    assert after < 0.85 * before, (before, after)  # measured on CPU: 0.194 → 0.127
    logged = [json.loads(line) for line in (tmp_path / "run" / LOG).read_text().splitlines()]
    assert logged == rows and all(r["lr"] == pytest.approx(1e-3) for r in logged)


def test_only_controlnet_and_conv_out_train(tiny, tmp_path):
    trainer = tl.Trainer(_cfg(tiny, tmp_path / "run"))
    unet0 = {k: v.clone() for k, v in trainer.unet.state_dict().items()}
    trainer.run(2)
    changed = {k for k, v in trainer.unet.state_dict().items() if not torch.equal(v, unet0[k])}
    assert changed == {"conv_out.weight", "conv_out.bias"}


@pytest.mark.parametrize("precision,dtype", [("bf16", torch.bfloat16), ("fp16", torch.float16)])
def test_mixed_precision_runs_on_cpu(tiny, tmp_path, precision, dtype):
    trainer = tl.Trainer(_cfg(tiny, tmp_path / "run", mixed_precision=precision, batch_size=1, samples=0))
    rows = trainer.run(2)
    assert trainer.amp is dtype and all(np.isfinite(r["loss"]) for r in rows)
    assert trainer.scaler.is_enabled() == (precision == "fp16")  # loss scaling only for float16
    assert next(trainer.controlnet.parameters()).dtype == torch.float32  # master weights stay float32


def test_gradient_checkpointing_gives_the_same_training(tiny, tmp_path):
    a = tl.Trainer(_cfg(tiny, tmp_path / "a", batch_size=1, samples=0))
    b = tl.Trainer(_cfg(tiny, tmp_path / "b", batch_size=1, samples=0, gradient_checkpointing=True))
    assert b.controlnet.is_gradient_checkpointing and b.unet.is_gradient_checkpointing
    ra, rb = a.run(2), b.run(2)
    assert [r["loss"] for r in ra] == pytest.approx([r["loss"] for r in rb], rel=1e-4)
    for p, q in zip(a.controlnet.parameters(), b.controlnet.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-6)


def test_a_base_folder_without_controlnet_starts_a_new_one(tiny, tmp_path):
    import shutil

    from pertouch.core.errors import ModelError
    from pertouch.engine.diffusion.engine import DiffusionEngine

    base = tmp_path / "sd"
    shutil.copytree(tiny[0], base, ignore=shutil.ignore_patterns("controlnet"))
    trainer, rows = tl.train(_cfg((base, tiny[1]), tmp_path / "run", steps=1))
    assert trainer.fresh and len(rows) == 1
    emb = trainer.controlnet.controlnet_cond_embedding
    assert emb.downscale == 2 and not emb.conv_out.weight.any()  # zero-initialised: no gradient at step 1
    assert trainer.controlnet.controlnet_mid_block.weight.abs().sum() > 0  # the zero convs moved first
    engine = DiffusionEngine(tmp_path / "run" / MODEL, size=SIZE, device="cpu", dtype="float32", steps=1)
    assert engine.models().controlnet.controlnet_cond_embedding.downscale == 2
    shutil.rmtree(base / "vae")
    with pytest.raises(ModelError, match="lacks vae/config.json"):
        tl.Trainer(_cfg((base, tiny[1]), tmp_path / "run2"))
