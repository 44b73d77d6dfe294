"""Training logs: TensorBoard event files next to log.jsonl, and skipped fp16 steps."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytest.importorskip("tensorboard")

from pertouch.engine.train import checkpoints as ck  # noqa: E402
from pertouch.engine.train import loop as tl  # noqa: E402
from pertouch.engine.train.log import LOG, TENSORBOARD, read_scalars  # noqa: E402


def _loop_tests():
    path = Path(__file__).with_name("test_train_loop.py")
    spec = importlib.util.spec_from_file_location("_pertouch_test_train_loop", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


LOOP = _loop_tests()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    base = tmp_path_factory.mktemp("trainlog")
    return LOOP.build_tiny_model(base / "model"), LOOP.build_tiny_dataset(base / "data")


def test_tensorboard_gets_loss_lr_and_sample_images(tiny, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tmp_path / "run"
    trainer = tl.Trainer(LOOP._cfg(tiny, run, steps=3, batch_size=1, checkpoint_every=2, samples=1, sample_steps=1,
                                   warmup_steps=2, tensorboard=True))
    rows = trainer.run()
    assert list((run / TENSORBOARD).glob("events.out.tfevents.*"))
    scalars = read_scalars(run / TENSORBOARD)
    assert [s for s, _ in scalars["train/loss"]] == [1, 2, 3]
    assert [v for _, v in scalars["train/loss"]] == pytest.approx([r["loss"] for r in rows])
    assert [v for _, v in scalars["train/lr"]] == pytest.approx([5e-4, 1e-3, 1e-3])  # the warm-up shows
    acc = EventAccumulator(str(run / TENSORBOARD), size_guidance={"images": 0})
    acc.Reload()
    images = acc.Images("samples")
    assert [i.step for i in images] == [2, 3]  # one per checkpoint
    assert images[0].height == LOOP.SIZE and images[0].width == 3 * LOOP.SIZE  # input | target | render
    assert [json.loads(x)["loss"] for x in (run / LOG).read_text().splitlines()] == [r["loss"] for r in rows]


def test_tensorboard_off_writes_no_events(tiny, tmp_path):
    tl.Trainer(LOOP._cfg(tiny, tmp_path / "run", steps=1, samples=0)).run()
    assert (tmp_path / "run" / LOG).is_file() and not (tmp_path / "run" / TENSORBOARD).exists()


def test_resumed_run_purges_tensorboard_steps_past_the_checkpoint(tiny, tmp_path):
    run = tmp_path / "run"
    first = tl.Trainer(LOOP._cfg(tiny, run, steps=3, checkpoint_every=2, samples=0, tensorboard=True))
    first.run()  # checkpoints at 2 and 3
    import shutil

    shutil.rmtree(run / ck.CHECKPOINTS / "step-000003")  # as if killed after step 3 was logged
    again = tl.Trainer(LOOP._cfg(tiny, run, steps=4, checkpoint_every=2, samples=0, tensorboard=True))
    assert ck.resume(again) == 2
    again.run()
    steps = [s for s, _ in read_scalars(run / TENSORBOARD)["train/loss"]]
    assert steps == [1, 2, 3, 4]


def test_a_skipped_fp16_step_does_not_advance_the_lr_schedule(tiny, tmp_path):
    trainer = tl.Trainer(LOOP._cfg(tiny, tmp_path / "run", steps=4, batch_size=1, mixed_precision="fp16",
                                   warmup_steps=4, samples=0, checkpoint_every=100))
    trainer.run(1)
    lr1, epoch1 = trainer.sched.get_last_lr()[0], trainer.sched.last_epoch
    opt_step = trainer.opt.state_dict()["state"][0]["step"].item()
    weights = [p.detach().clone() for p in trainer.params]
    real_loss = trainer.loss
    trainer.loss = lambda batch, gen: real_loss(batch, gen) * float("inf")  # inf gradients
    rows = trainer.run(2)
    assert rows[-1]["step"] == 2 and rows[-1].get("skipped") is True
    assert trainer.sched.last_epoch == epoch1 and trainer.sched.get_last_lr()[0] == lr1 == pytest.approx(5e-4)
    assert trainer.opt.state_dict()["state"][0]["step"].item() == opt_step  # AdamW did not step
    assert all(torch.equal(a, b) for a, b in zip(weights, trainer.params))
    trainer.loss = real_loss
    rows = trainer.run(3)
    assert "skipped" not in rows[-1] and np.isfinite(rows[-1]["loss"])
    assert trainer.sched.get_last_lr()[0] == pytest.approx(7.5e-4)  # the warm-up goes on from where it stopped
