"""Sample renders of a training run: how the model being trained edits fixed validation samples.

At each checkpoint :func:`render_samples` writes ``samples.png``: one row per sample,
input | target | render (the model's output for the input and the target's map), so a
run can be looked at while it trains. The samples are the same at every checkpoint
(drawn from ``(seed, SAMPLE_STEP - i)``) and training's randomness is left untouched.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: The "step" the validation batch is drawn for (never reached by training).
SAMPLE_STEP = 2**31 - 1
FILE = "samples.png"


def trainer_models(trainer):
    """The ``PerTouchModels`` of a trainer's current weights (float32, its device) for ``pertouch_controlnet.sample``."""
    import torch

    from pertouch.engine.diffusion import controlnet as pc

    return pc.PerTouchModels(trainer.unet, trainer.vae, trainer.controlnet,
                             pc.load_scheduler(trainer.layout.root / "scheduler"), trainer.prompt, trainer.device,
                             torch.float32)


def render_samples(trainer, folder: str | Path, count: int, steps: int = 20) -> Path:
    """Render ``count`` validation samples with ``trainer``'s current weights into ``folder/samples.png``."""
    from pertouch.engine.diffusion import controlnet as pc
    from pertouch.engine.io.write import save_image

    net = trainer.controlnet
    was_training = net.training
    net.eval()
    models = trainer_models(trainer)
    rows = []
    try:
        for i in range(count):
            batch = trainer.batch(SAMPLE_STEP - i)
            image = (batch["input"][:1] + 1.0) / 2.0
            out = pc.sample(models, image, batch["map"][:1], steps=steps, seed=i)
            tiles = [image[0], (batch["target"][0] + 1.0) / 2.0, out[0]]
            rows.append(np.concatenate([t.permute(1, 2, 0).clamp(0, 1).numpy() for t in tiles], axis=1))
    finally:
        net.train(was_training)
    grid = np.round(np.concatenate(rows, axis=0) * 255.0).astype(np.uint8)
    path = Path(folder) / FILE
    save_image(path, grid, overwrite=True)
    return path
