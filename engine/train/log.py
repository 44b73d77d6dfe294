"""What a training run logs: ``log.jsonl`` always, TensorBoard event files on request.

``log.jsonl`` holds one JSON line per optimiser step (``step``, ``loss``, ``lr``,
``seconds``; ``skipped: true`` when float16 loss scaling found inf/NaN gradients and
the optimiser step was skipped). With ``tensorboard: true`` in the training config the
same scalars (``train/loss``, ``train/lr``, ``train/skipped``, ``train/seconds``) and each
checkpoint's sample renders (image ``samples``: input | target | render rows) are also
written under ``RUN/tensorboard/``; view them with ``tensorboard --logdir RUN/tensorboard``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pertouch.core.errors import InputError

LOG = "log.jsonl"
TENSORBOARD = "tensorboard"


class TrainLog:
    """Appends step rows to ``out/log.jsonl`` (and TensorBoard when ``tensorboard``).

    ``start_step``: the step training resumes from; TensorBoard events logged past it by
    an interrupted run are purged, as their rows in ``log.jsonl`` are trimmed."""

    def __init__(self, out: str | Path, tensorboard: bool = False, start_step: int = 0) -> None:
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                raise InputError("tensorboard: true needs the tensorboard package",
                                 hint="pip install tensorboard, or set tensorboard: false "
                                      "(log.jsonl is always written)") from None
            self.tb = SummaryWriter(str(self.out / TENSORBOARD), purge_step=start_step + 1 if start_step else None)
        self.fh = (self.out / LOG).open("a", encoding="utf-8")

    def row(self, row: dict) -> None:
        self.fh.write(json.dumps(row) + "\n")
        self.fh.flush()
        if self.tb is not None:
            step = int(row["step"])
            for key in ("loss", "lr", "seconds"):
                self.tb.add_scalar(f"train/{key}", float(row[key]), step)
            self.tb.add_scalar("train/skipped", float(bool(row.get("skipped"))), step)

    def image(self, step: int, path: str | Path) -> None:
        """A checkpoint's ``samples.png`` as the TensorBoard image ``samples`` at ``step``."""
        if self.tb is None:
            return
        from pertouch.engine.io.read import load_image

        px = np.asarray(load_image(Path(path)).pixels)[..., :3]
        self.tb.add_image("samples", px, int(step), dataformats="HWC")
        self.tb.flush()

    def close(self) -> None:
        self.fh.close()
        if self.tb is not None:
            self.tb.flush()
            self.tb.close()

    def __enter__(self) -> "TrainLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def trim_log(path: Path, step: int) -> int:
    """Drop the rows of ``log.jsonl`` past ``step`` (they are trained again on resume); returns ``step``."""
    if path.is_file():
        rows = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip() and json.loads(ln)["step"] <= step]
        path.write_text("".join(r + "\n" for r in rows), encoding="utf-8")
    return step


def read_scalars(folder: str | Path) -> dict[str, list[tuple[int, float]]]:
    """The scalars of a run's TensorBoard folder, ``{tag: [(step, value), …]}`` (read back with
    TensorBoard's own EventAccumulator)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
