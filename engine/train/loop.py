"""The PerTouch training loop: a ControlNet on the parameter map and the input's latent.

Plain torch (no accelerate): the SD UNet, VAE and text encoder are frozen (the prompt
is empty, so its embedding is computed once), the :class:`PerTouchControlNetModel` and
the UNet's output conv train, as in the reference. Each step: the TARGET photo's VAE
latent is noised at a random timestep, the ControlNet sees the noisy latent, the
4-channel parameter map and the INPUT photo's latent, and the UNet's prediction
(noise or velocity, as the scheduler's ``prediction_type``) is regressed with MSE.

A run folder holds::

    log.jsonl                       one line per optimiser step: step, loss, lr, seconds
    tensorboard/                    the same + sample renders (``tensorboard: true``; :mod:`.train_log`)
    checkpoints/step-000100/        controlnet/ + unet_conv_out.safetensors, samples.png,
                                    optimizer.pt (optimiser + grad scaler), state.json
    model/                          the trained model: ``--engine diffusion:RUN/model``

Batches and noise depend only on ``(seed, step)``, so resuming from a checkpoint
continues exactly where the run stopped (same step count, optimiser state, data).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Callable

import numpy as np

from pertouch.core.errors import InputError
from pertouch.engine.train.log import LOG, TENSORBOARD, TrainLog, trim_log

CHECKPOINTS = "checkpoints"
MODEL = "model"
STATE = "state.json"
PRECISIONS = ("no", "fp16", "bf16")


@dataclass
class TrainConfig:
    """What ``pertouch train run CONFIG`` reads (JSON or YAML). Paths are relative to the
    config file. ``transforms``: the paper's augmentations on/off (``true``/``false``, or
    ``{"replacement": …, "perturbation": …}``); crops of ``size``² are always taken."""

    model: str
    dataset: str
    output: str = "run"
    steps: int = 1000
    lr: float = 1e-5
    batch_size: int = 1
    seed: int = 0
    size: int = 512
    transforms: bool | dict = True
    grad_accum: int = 1
    mixed_precision: str = "no"
    checkpoint_every: int = 500
    samples: int = 2  # sample renders (input | target | render) saved with each checkpoint; 0: none
    sample_steps: int = 20
    warmup_steps: int = 0
    train_conv_out: bool = True
    gradient_checkpointing: bool = False  # recompute activations in backward: less memory, ~30% slower
    tensorboard: bool = False  # also log to RUN/tensorboard (loss, lr, sample renders)
    device: str = "auto"

    @classmethod
    def load(cls, path: str | Path) -> "TrainConfig":
        path = Path(path)
        if not path.is_file():
            raise InputError(f"training config not found: {path}", hint="give a JSON or YAML file with model, dataset, …")
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
        if not isinstance(data, dict):
            raise InputError(f"{path}: a training config is a mapping of settings")
        cfg = cls.from_dict(data)
        base = path.parent
        for key in ("model", "dataset", "output"):
            p = Path(getattr(cfg, key)).expanduser()
            setattr(cfg, key, str(p if p.is_absolute() else base / p))
        return cfg

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(f"unknown training setting(s): {', '.join(unknown)}", hint=f"known: {', '.join(sorted(known))}")
        missing = [k for k in ("model", "dataset") if k not in data]
        if missing:
            raise InputError(f"the training config lacks {', '.join(missing)}", hint="model: a model folder, dataset: a "
                             "folder made by `pertouch train prepare`")
        cfg = cls(**data)
        cfg.check()
        return cfg

    def check(self) -> None:
        if self.mixed_precision not in PRECISIONS:
            raise InputError(f"mixed_precision {self.mixed_precision!r} unknown", hint=f"use {', '.join(PRECISIONS)}")
        for key in ("steps", "batch_size", "grad_accum", "checkpoint_every", "size", "sample_steps"):
            if int(getattr(self, key)) < 1:
                raise InputError(f"{key} must be ≥ 1, got {getattr(self, key)}")
        if self.lr <= 0:
            raise InputError(f"lr must be > 0, got {self.lr}")


def _seeded(seed: int, step: int, what: int):
    import torch

    return torch.Generator().manual_seed(int(np.random.SeedSequence([seed, step, what]).generate_state(1)[0]))


class Trainer:
    """Models, optimiser and data of one run; :meth:`run` trains up to ``cfg.steps``."""

    def __init__(self, cfg: TrainConfig, log: Callable[[str], None] | None = None) -> None:
        import torch

        from pertouch.engine.diffusion.engine import check_model_folder
        from pertouch.engine.train.data import TrainDataset
        from pertouch.engine.train.transforms import RandomCrop, training_transforms

        self.cfg, self.say = cfg, log or (lambda s: None)
        root = Path(cfg.model).expanduser()
        self.fresh = not (root / "controlnet" / "config.json").is_file()
        self.layout = _base_layout(root) if self.fresh else check_model_folder(root)
        self.out = Path(cfg.output)
        dev = cfg.device if cfg.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
        self.device = torch.device(dev)
        tf = cfg.transforms
        if tf is False:
            transforms = [RandomCrop(cfg.size)]
        else:
            opts = tf if isinstance(tf, dict) else {}
            transforms = training_transforms(replacement=bool(opts.get("replacement", True)),
                                             perturbation=bool(opts.get("perturbation", True)), crop=cfg.size)
        self.data = TrainDataset(cfg.dataset, transforms, seed=cfg.seed)
        if not len(self.data):
            raise InputError(f"{cfg.dataset} holds no pairs", hint="run `pertouch train prepare` first")
        torch.manual_seed(cfg.seed)  # a new ControlNet's embedding starts from the seed
        self._load_models()
        self.params = list(self.controlnet.parameters()) + (list(self.unet.conv_out.parameters())
                                                            if cfg.train_conv_out else [])
        self.opt = torch.optim.AdamW(self.params, lr=cfg.lr)
        self.sched = torch.optim.lr_scheduler.LambdaLR(
            self.opt, lambda s: min(1.0, (s + 1) / cfg.warmup_steps) if cfg.warmup_steps else 1.0)
        self.amp = amp = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(cfg.mixed_precision)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=amp is torch.float16)
        self.step, self.skipped, self._log = 0, False, None

    def _load_models(self) -> None:
        import torch
        from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel

        from pertouch.engine.diffusion import controlnet as pc

        root, dev = self.layout.root, self.device
        if self.layout.empty_prompt is not None:
            prompt = pc.load_empty_prompt(self.layout.empty_prompt)
        else:
            prompt = pc.encode_empty_prompt(root / "text_encoder", root / "tokenizer")
        self.prompt = prompt.to(dev)
        self.unet = UNet2DConditionModel.from_pretrained(str(root / "unet"), local_files_only=True)
        if self.layout.conv_out is not None:
            pc.load_conv_out(self.unet, self.layout.conv_out)
        self.vae = AutoencoderKL.from_pretrained(str(root / "vae"), local_files_only=True)
        if self.fresh:  # the start of training: a ControlNet copied from the UNet, zero convs
            down = 2 ** (len(self.vae.config.block_out_channels) - 1)
            chans = (16, 32, 96, 256)[: int(np.log2(down)) + 1]
            self.controlnet = pc.PerTouchControlNetModel.from_unet(self.unet, conditioning_embedding_out_channels=chans)
            self.say(f"no controlnet/ in {root}: a new PerTouch ControlNet starts from the UNet")
        else:
            self.controlnet = pc.PerTouchControlNetModel.from_pretrained(
                str(root / "controlnet"), local_files_only=True, conditioning_channels=pc.MAP_CHANNELS)
        self.noise = DDPMScheduler.from_config(json.loads((root / "scheduler" / "scheduler_config.json").read_text()))
        for m in (self.unet, self.vae):
            m.requires_grad_(False)
            m.to(dev).eval()
        self.unet.conv_out.requires_grad_(self.cfg.train_conv_out)
        if self.cfg.gradient_checkpointing:
            self.unet.enable_gradient_checkpointing()
            self.controlnet.enable_gradient_checkpointing()
        self.controlnet.to(dev).train()
        self.sf = float(self.vae.config.scaling_factor)
        torch.backends.cuda.matmul.allow_tf32 = True

    # ---- one batch ----------------------------------------------------------------

    def batch(self, step: int) -> dict:
        """The batch of ``step`` (indices and augmentations drawn from ``(seed, step)``)."""
        import torch

        rng = np.random.default_rng([self.cfg.seed, step])
        self.data.rng = rng
        idx = rng.integers(0, len(self.data), self.cfg.batch_size)
        samples = [self.data[int(i)] for i in idx]

        def images(key):
            x = np.stack([s[key] for s in samples]).astype(np.float32) / 127.5 - 1.0
            return torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()

        cmap = torch.from_numpy(np.stack([s["map"] for s in samples]).astype(np.float32))
        return {"input": images("input"), "target": images("target"), "map": cmap, "ids": [s["id"] for s in samples]}

    def loss(self, batch: dict, gen) -> "torch.Tensor":
        """MSE of the UNet's prediction (with the ControlNet) on ``batch``, noise from ``gen``."""
        import torch
        from torch.nn import functional as F

        dev = self.device
        with torch.no_grad():
            tgt = self.vae.encode(batch["target"].to(dev)).latent_dist
            eps_lat = torch.randn(tgt.mean.shape, generator=gen).to(dev)
            latents = (tgt.mean + tgt.std * eps_lat) * self.sf
            image_latent = self.vae.encode(batch["input"].to(dev)).latent_dist.mode() * self.sf
        noise = torch.randn(latents.shape, generator=gen).to(dev)
        t = torch.randint(0, self.noise.config.num_train_timesteps, (latents.shape[0],), generator=gen).to(dev)
        noisy = self.noise.add_noise(latents, noise, t)
        kind = self.noise.config.prediction_type
        target = self.noise.get_velocity(latents, noise, t) if kind == "v_prediction" else noise
        emb = self.prompt.expand(latents.shape[0], -1, -1)
        with torch.autocast(dev.type, dtype=self.amp or torch.float32, enabled=self.amp is not None):
            down, mid = self.controlnet(noisy, t, emb, batch["map"].to(dev), image_latent=image_latent, return_dict=False)
            pred = self.unet(noisy, t, encoder_hidden_states=emb, down_block_additional_residuals=down,
                             mid_block_additional_residual=mid, return_dict=False)[0]
        return F.mse_loss(pred.float(), target.float())

    # ---- training -----------------------------------------------------------------

    def train_step(self) -> float:
        """One optimiser step (``grad_accum`` micro-batches); returns the mean loss."""
        import torch

        cfg, total = self.cfg, 0.0
        self.opt.zero_grad(set_to_none=True)
        for micro in range(cfg.grad_accum):
            sub = self.step * cfg.grad_accum + micro
            loss = self.loss(self.batch(sub), _seeded(cfg.seed, sub, 1)) / cfg.grad_accum
            self.scaler.scale(loss).backward()
            total += float(loss.detach())
        self.scaler.unscale_(self.opt)
        torch.nn.utils.clip_grad_norm_(self.params, 1.0)
        scale = self.scaler.get_scale() if self.scaler.is_enabled() else None
        self.scaler.step(self.opt)
        self.scaler.update()
        # fp16 loss scaling skipped the step (inf/NaN grads; the scale drops): the lr schedule waits too
        self.skipped = scale is not None and self.scaler.get_scale() < scale
        if not self.skipped:
            self.sched.step()
        self.step += 1
        return total

    def run(self, steps: int | None = None) -> list[dict]:
        """Train until ``steps`` (default ``cfg.steps``) optimiser steps are done; returns the logged rows."""
        end = self.cfg.steps if steps is None else steps
        self.out.mkdir(parents=True, exist_ok=True)
        rows = []
        with TrainLog(self.out, self.cfg.tensorboard, self.step) as self._log:
            while self.step < end:
                t0, lr = time.perf_counter(), self.sched.get_last_lr()[0]  # the lr this step uses
                loss = self.train_step()
                row = {"step": self.step, "loss": loss, "lr": lr,
                       "seconds": round(time.perf_counter() - t0, 4)} | ({"skipped": True} if self.skipped else {})
                self._log.row(row)
                rows.append(row)
                if self.step % self.cfg.checkpoint_every == 0 or self.step == end:
                    self.save_checkpoint()
                    self.say(f"step {self.step}: loss {loss:.4f}, checkpoint saved")
        self._log = None
        return rows

    # ---- checkpoints and the model folder -------------------------------------------

    def _save_weights(self, folder: Path) -> None:
        from pertouch.engine.diffusion.controlnet import save_conv_out

        self.controlnet.save_pretrained(folder / "controlnet")
        save_conv_out(self.unet.conv_out, folder / "controlnet" / "unet_conv_out.safetensors")

    def save_checkpoint(self) -> Path:
        import torch

        folder = self.out / CHECKPOINTS / f"step-{self.step:06d}"
        shutil.rmtree(tmp := folder.with_name(folder.name + ".tmp"), ignore_errors=True)
        tmp.mkdir(parents=True)
        self._save_weights(tmp)
        if self.cfg.samples > 0:
            from pertouch.engine.train.samples import render_samples

            grid = render_samples(self, tmp, self.cfg.samples, self.cfg.sample_steps)
            if self._log is not None:
                self._log.image(self.step, grid)
        torch.save({"optimizer": self.opt.state_dict(), "scaler": self.scaler.state_dict(),
                    "lr_scheduler": self.sched.state_dict()}, tmp / "optimizer.pt")
        (tmp / STATE).write_text(json.dumps({"step": self.step, "config": asdict(self.cfg)}, indent=1))
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
        return folder

    def resume(self) -> int:
        """Load the last checkpoint of the run folder, if any; returns the step reached (0: none)."""
        import torch

        from pertouch.engine.diffusion import controlnet as pc

        folder = last_checkpoint(self.out)
        if folder is None:
            return trim_log(self.out / LOG, 0)
        net = pc.PerTouchControlNetModel.from_pretrained(str(folder / "controlnet"), local_files_only=True,
                                                         conditioning_channels=pc.MAP_CHANNELS)
        self.controlnet.load_state_dict(net.state_dict())
        pc.load_conv_out(self.unet, folder / "controlnet" / "unet_conv_out.safetensors")
        state = torch.load(folder / "optimizer.pt", map_location=self.device, weights_only=True)
        self.opt.load_state_dict(state["optimizer"])
        self.scaler.load_state_dict(state["scaler"])
        self.sched.load_state_dict(state["lr_scheduler"])
        self.step = int(json.loads((folder / STATE).read_text())["step"])
        self.say(f"resumed from {folder} (step {self.step})")
        return trim_log(self.out / LOG, self.step)  # rows logged after the checkpoint are trained again

    def save_model(self, dest: Path | None = None) -> Path:
        """A model folder that ``--engine diffusion:PATH`` loads: the frozen parts of the base
        model (hard links where possible), the trained ControlNet + conv_out and the dataset's
        level table."""
        dest = Path(dest) if dest is not None else self.out / MODEL
        src = self.layout.root
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
        self._save_weights(dest)
        from pertouch.engine.train.data import TABLE

        shutil.copyfile(Path(self.cfg.dataset) / TABLE, dest / "levels.json")
        return dest


def _base_layout(root: Path):
    """The layout of a base SD folder without ``controlnet/`` (training makes one)."""
    from pertouch.core.errors import ModelError
    from pertouch.engine.diffusion.engine import EMPTY_PROMPT_FILE, ModelLayout

    if not root.is_dir():
        raise ModelError(f"model folder not found: {root}", hint="set model: to a local SD-2.1-style diffusers folder")
    need = ["unet/config.json", "vae/config.json", "scheduler/scheduler_config.json"]
    if not (root / EMPTY_PROMPT_FILE).is_file():
        need += ["text_encoder/config.json", "tokenizer"]
    missing = [n for n in need if not (root / n).exists()]
    if missing:
        raise ModelError(f"base model folder {root} lacks {', '.join(missing)}",
                         hint="give an SD-2.1-style diffusers folder (unet/, vae/, scheduler/, text_encoder/, tokenizer/)")
    prompt = root / EMPTY_PROMPT_FILE
    return ModelLayout(root, prompt if prompt.is_file() else None, None, None)


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


def train(cfg: TrainConfig, resume: bool = True, log: Callable[[str], None] | None = None) -> tuple[Trainer, list[dict]]:
    """Train (resuming from the run's last checkpoint; ``resume=False`` deletes the run's
    checkpoints and log and starts over) and save the model."""
    trainer = Trainer(cfg, log)
    if resume:
        trainer.resume()
    else:
        shutil.rmtree(trainer.out / CHECKPOINTS, ignore_errors=True)
        shutil.rmtree(trainer.out / TENSORBOARD, ignore_errors=True)
        (trainer.out / LOG).unlink(missing_ok=True)
    rows = trainer.run()
    trainer.save_model()
    return trainer, rows
