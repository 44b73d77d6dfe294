"""Sample renders of a training run on the tiny model: the grid, and training left untouched."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from pertouch.engine.io.read import load_image  # noqa: E402
from pertouch.engine.train import loop as tl  # noqa: E402
from pertouch.engine.train.checkpoints import CHECKPOINTS  # noqa: E402
from pertouch.engine.train.config import TrainConfig  # noqa: E402
from pertouch.engine.train.samples import FILE, render_samples  # noqa: E402


def _helpers():
    path = Path(__file__).with_name("test_train_loop.py")
    spec = importlib.util.spec_from_file_location("_pertouch_test_train_loop_s", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    h = _helpers()
    base = tmp_path_factory.mktemp("samples")
    return h.build_tiny_model(base / "model"), h.build_tiny_dataset(base / "data", n=2)


def _cfg(tiny, out, **kw):
    base = dict(model=str(tiny[0]), dataset=str(tiny[1]), output=str(out), steps=2, lr=1e-3, size=32,
                checkpoint_every=1, device="cpu", sample_steps=2, transforms=False)
    return TrainConfig.from_dict({**base, **kw})


def test_grid_rows_are_input_target_render(tiny, tmp_path):
    trainer = tl.Trainer(_cfg(tiny, tmp_path / "run"))
    path = render_samples(trainer, tmp_path, 3, steps=2)
    assert path == tmp_path / FILE
    grid = load_image(path).pixels
    assert grid.shape == (3 * 32, 3 * 32, 3) and grid.dtype == np.uint8
    batch = trainer.batch(2**31 - 1)
    inp = np.round((batch["input"][0].permute(1, 2, 0).numpy() + 1) * 127.5)
    assert np.abs(grid[:32, :32].astype(float) - inp).max() <= 1
    assert not np.array_equal(grid[:32, 64:], grid[:32, :32])  # the render is not the input
    assert trainer.controlnet.training  # left in training mode


def test_samples_at_checkpoints_leave_training_unchanged(tiny, tmp_path):
    a = tl.Trainer(_cfg(tiny, tmp_path / "a", samples=2))
    a.run()
    b = tl.Trainer(_cfg(tiny, tmp_path / "b", samples=0))
    b.run()
    assert (tmp_path / "a" / CHECKPOINTS / "step-000001" / FILE).is_file()
    assert not (tmp_path / "b" / CHECKPOINTS / "step-000001" / FILE).exists()
    for p, q in zip(a.controlnet.parameters(), b.controlnet.parameters()):
        assert torch.equal(p, q)
