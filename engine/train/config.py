"""A training run's settings: :class:`TrainConfig`, what ``pertouch train run CONFIG`` reads
(JSON or YAML), checked as it is read, with errors that say how to fix them."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

from pertouch.core.errors import InputError

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
