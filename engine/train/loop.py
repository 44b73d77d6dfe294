"""The PerTouch training loop: a ControlNet on the parameter map and the input's latent.

Plain torch (no accelerate): the SD UNet, VAE and text encoder are frozen (the prompt
is empty, so its embedding is computed once), the :class:`PerTouchControlNetModel` and
the UNet's output conv train, as in the reference. Each step: the TARGET photo's VAE
latent is noised at a random timestep, the ControlNet sees the noisy latent, the
4-channel parameter map and the INPUT photo's latent, and the UNet's prediction
(noise or velocity, as the scheduler's ``prediction_type``) is regressed with MSE.

A run is set by a :class:`~.config.TrainConfig`; its folder holds::

    log.jsonl                       one line per optimiser step: step, loss, lr, seconds (:mod:`.log`)
    tensorboard/                    the same + sample renders (``tensorboard: true``; :mod:`.log`)
    checkpoints/step-000100/        the weights, optimiser and step, samples.png (:mod:`.checkpoints`)
    model/                          the trained model: ``--engine diffusion:RUN/model`` (:mod:`.checkpoints`)

Batches and noise depend only on ``(seed, step)``, so resuming from a checkpoint
continues exactly where the run stopped (same step count, optimiser state, data).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Callable

import numpy as np

from pertouch.core.errors import InputError
from pertouch.engine.train import checkpoints as ck
from pertouch.engine.train.config import TrainConfig
from pertouch.engine.train.log import LOG, TENSORBOARD, TrainLog


def _seeded(seed: int, step: int, what: int):
    import torch

    return torch.Generator().manual_seed(int(np.random.SeedSequence([seed, step, what]).generate_state(1)[0]))


class Trainer:
    """Models, optimiser and data of one run; :meth:`run` trains up to ``cfg.steps`` (saving and
    resuming its state: :mod:`.checkpoints`)."""

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
        self.step, self.skipped = 0, False

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
        with TrainLog(self.out, self.cfg.tensorboard, self.step) as log:
            while self.step < end:
                t0, lr = time.perf_counter(), self.sched.get_last_lr()[0]  # the lr this step uses
                loss = self.train_step()
                row = {"step": self.step, "loss": loss, "lr": lr,
                       "seconds": round(time.perf_counter() - t0, 4)} | ({"skipped": True} if self.skipped else {})
                log.row(row)
                rows.append(row)
                if self.step % self.cfg.checkpoint_every == 0 or self.step == end:
                    ck.save_checkpoint(self, log)
                    self.say(f"step {self.step}: loss {loss:.4f}, checkpoint saved")
        return rows


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


def train(cfg: TrainConfig, resume: bool = True, log: Callable[[str], None] | None = None) -> tuple[Trainer, list[dict]]:
    """Train (resuming from the run's last checkpoint; ``resume=False`` deletes the run's
    checkpoints and log and starts over) and save the model."""
    trainer = Trainer(cfg, log)
    if resume:
        ck.resume(trainer)
    else:
        shutil.rmtree(trainer.out / ck.CHECKPOINTS, ignore_errors=True)
        shutil.rmtree(trainer.out / TENSORBOARD, ignore_errors=True)
        (trainer.out / LOG).unlink(missing_ok=True)
    rows = trainer.run()
    ck.save_model(trainer)
    return trainer, rows
