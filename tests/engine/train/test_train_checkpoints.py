"""Checkpoints of a training run on the tiny model: resuming continues exactly, and the
saved model folder loads in the diffusion engine with the trained weights."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from pertouch.engine.train import checkpoints as ck  # noqa: E402
from pertouch.engine.train import loop as tl  # noqa: E402
from pertouch.engine.train.log import LOG  # noqa: E402

_spec = importlib.util.spec_from_file_location("_pertouch_test_train_loop_c",
                                               Path(__file__).with_name("test_train_loop.py"))
LOOP = importlib.util.module_from_spec(_spec)  # the tiny model, dataset and config of the loop's tests
_spec.loader.exec_module(LOOP)
tiny = LOOP.tiny  # the same module-scoped fixture: a tiny model and dataset for this module


def test_resume_continues_step_count_and_optimizer_state(tiny, tmp_path):
    full = tl.Trainer(LOOP._cfg(tiny, tmp_path / "full", grad_accum=2, warmup_steps=3))
    full.run()
    part = tl.Trainer(LOOP._cfg(tiny, tmp_path / "part", grad_accum=2, warmup_steps=3))
    part.run(2)  # checkpoint at step 2
    again = tl.Trainer(LOOP._cfg(tiny, tmp_path / "part", grad_accum=2, warmup_steps=3))
    assert ck.resume(again) == 2
    assert again.opt.state_dict()["state"][0]["step"] == part.opt.state_dict()["state"][0]["step"]
    again.run()
    assert again.step == 4 and ck.last_checkpoint(tmp_path / "part").name == "step-000004"
    for a, b in zip(full.controlnet.parameters(), again.controlnet.parameters()):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(full.unet.conv_out.weight, again.unet.conv_out.weight)
    steps = [json.loads(x)["step"] for x in (tmp_path / "part" / LOG).read_text().splitlines()]
    assert steps == [1, 2, 3, 4]


def test_saved_model_loads_in_the_engine_with_identical_outputs(tiny, tmp_path):
    from pertouch.engine.diffusion import controlnet as pc
    from pertouch.engine.diffusion.engine import DiffusionEngine

    trainer, _ = tl.train(LOOP._cfg(tiny, tmp_path / "run", steps=2))
    model = tmp_path / "run" / ck.MODEL
    assert (model / "levels.json").is_file()
    engine = DiffusionEngine(model, size=LOOP.SIZE, device="cpu", dtype="float32", steps=2)
    loaded = engine.models()
    for (k, a), b in zip(trainer.controlnet.state_dict().items(), loaded.controlnet.state_dict().values()):
        assert torch.equal(a, b), k
    assert torch.equal(trainer.unet.conv_out.weight, loaded.unet.conv_out.weight)
    batch = trainer.batch(0)
    trainer.controlnet.eval()
    mine = pc.PerTouchModels(trainer.unet, trainer.vae, trainer.controlnet, loaded.scheduler, trainer.prompt,
                             torch.device("cpu"), torch.float32)
    img = (batch["input"][:1] + 1) / 2
    a = pc.sample(mine, img, batch["map"][:1], steps=2)
    b = pc.sample(loaded, img, batch["map"][:1], steps=2)
    assert torch.equal(a, b)
