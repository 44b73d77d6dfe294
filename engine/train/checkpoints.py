"""What a training run keeps on disk: its checkpoints (written whole, found, resumed from)
and the model folder it ends with.

A run folder holds (beside ``log.jsonl`` and ``tensorboard/``, :mod:`.log`)::

    checkpoints/step-000100/        controlnet/ + unet_conv_out.safetensors, samples.png,
                                    optimizer.pt (optimiser + grad scaler), state.json
    model/                          the trained model: ``--engine diffusion:RUN/model``

Each function takes the :class:`~pertouch.engine.train.loop.Trainer` whose state it saves
or restores.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from pertouch.engine.train.log import LOG, TrainLog, trim_log

if TYPE_CHECKING:
    from pertouch.engine.train.loop import Trainer

CHECKPOINTS = "checkpoints"
MODEL = "model"
STATE = "state.json"


def _save_weights(trainer: Trainer, folder: Path) -> None:
    from pertouch.engine.diffusion.controlnet import save_conv_out

    trainer.controlnet.save_pretrained(folder / "controlnet")
    save_conv_out(trainer.unet.conv_out, folder / "controlnet" / "unet_conv_out.safetensors")


def save_checkpoint(trainer: Trainer, log: TrainLog | None = None) -> Path:
    """Save the trainer's state as ``checkpoints/step-NNNNNN/`` (written as ``….tmp`` and
    renamed, so a folder there is complete); its sample renders also go to ``log``."""
    import torch

    folder = trainer.out / CHECKPOINTS / f"step-{trainer.step:06d}"
    shutil.rmtree(tmp := folder.with_name(folder.name + ".tmp"), ignore_errors=True)
    tmp.mkdir(parents=True)
    _save_weights(trainer, tmp)
    if trainer.cfg.samples > 0:
        from pertouch.engine.train.samples import render_samples

        grid = render_samples(trainer, tmp, trainer.cfg.samples, trainer.cfg.sample_steps)
        if log is not None:
            log.image(trainer.step, grid)
    torch.save({"optimizer": trainer.opt.state_dict(), "scaler": trainer.scaler.state_dict(),
                "lr_scheduler": trainer.sched.state_dict()}, tmp / "optimizer.pt")
    (tmp / STATE).write_text(json.dumps({"step": trainer.step, "config": asdict(trainer.cfg)}, indent=1))
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)
    return folder


def resume(trainer: Trainer) -> int:
    """Load the last checkpoint of the run folder, if any; returns the step reached (0: none)."""
    import torch

    from pertouch.engine.diffusion import controlnet as pc

    folder = last_checkpoint(trainer.out)
    if folder is None:
        return trim_log(trainer.out / LOG, 0)
    net = pc.PerTouchControlNetModel.from_pretrained(str(folder / "controlnet"), local_files_only=True,
                                                     conditioning_channels=pc.MAP_CHANNELS)
    trainer.controlnet.load_state_dict(net.state_dict())
    pc.load_conv_out(trainer.unet, folder / "controlnet" / "unet_conv_out.safetensors")
    state = torch.load(folder / "optimizer.pt", map_location=trainer.device, weights_only=True)
    trainer.opt.load_state_dict(state["optimizer"])
    trainer.scaler.load_state_dict(state["scaler"])
    trainer.sched.load_state_dict(state["lr_scheduler"])
    trainer.step = int(json.loads((folder / STATE).read_text())["step"])
    trainer.say(f"resumed from {folder} (step {trainer.step})")
    return trim_log(trainer.out / LOG, trainer.step)  # rows logged after the checkpoint are trained again


def save_model(trainer: Trainer, dest: Path | None = None) -> Path:
    """A model folder that ``--engine diffusion:PATH`` loads: the frozen parts of the base
    model (hard links where possible), the trained ControlNet + conv_out and the dataset's
    level table."""
    dest = Path(dest) if dest is not None else trainer.out / MODEL
    src = trainer.layout.root
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("unet", "vae", "scheduler", "text_encoder", "tokenizer", "empty_prompt.safetensors"):
        p = src / name
        if p.is_dir():
            shutil.rmtree(dest / name, ignore_errors=True)
            shutil.copytree(p, dest / name, copy_function=_link_or_copy)
        elif p.is_file():
            _link_or_copy(p, dest / name)
    for stale in (dest / "unet_conv_out.safetensors", dest / "unet_conv_out.pth"):
        stale.unlink(missing_ok=True)
    shutil.rmtree(dest / "controlnet", ignore_errors=True)
    _save_weights(trainer, dest)
    from pertouch.engine.train.data import TABLE

    shutil.copyfile(Path(trainer.cfg.dataset) / TABLE, dest / "levels.json")
    return dest


def _link_or_copy(src, dst) -> None:
    dst = Path(dst)
    dst.unlink(missing_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def last_checkpoint(run: str | Path) -> Path | None:
    """The newest complete checkpoint folder of a run, or ``None``."""
    base = Path(run) / CHECKPOINTS
    if not base.is_dir():
        return None
    done = sorted(p for p in base.iterdir() if p.is_dir() and p.name.startswith("step-") and (p / STATE).is_file()
                  and not p.name.endswith(".tmp"))
    return done[-1] if done else None


