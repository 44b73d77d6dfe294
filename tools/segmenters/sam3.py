"""``sam3:FOLDER`` — SAM 3 through transformers (``Sam3Model`` + ``Sam3Processor``).

SAM 3 segments by text ("sky", "the eagle"): :meth:`Sam3Segmenter.prompt` with
``text`` returns the union of the instances above the score threshold; regions
(:meth:`segment`) are the instances found for each label of the builtin labeller's
vocabulary, labelled by the prompt that found them. Needs transformers ≥ 5.0 (the
first release with ``Sam3Model``); the folder is a local HF layout (e.g. a
downloaded ``facebook/sam3``), loaded ``local_files_only``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from pertouch.errors import ModelError
from pertouch.tools.segmentation import Segment, Segmenter
from pertouch.tools.segmenters.hf_sam import check_folder

EXPECTED = "a local transformers SAM 3 folder (config.json with model_type 'sam3', weights, processor and tokenizer files)"
#: Text prompts tried for class-agnostic regions, in label order.
PROMPTS = {"sky": "sky", "clouds": "clouds", "water": "water", "vegetation": "trees", "person": "person",
           "building": "building", "ground": "ground", "snow": "snow"}


def _classes():
    try:
        from transformers import Sam3Model, Sam3Processor
    except ImportError:
        import transformers

        raise ModelError(f"SAM 3 needs transformers >= 5.0 (installed: {transformers.__version__})",
                         hint="pip install 'transformers>=5.0'") from None
    return Sam3Model, Sam3Processor


class Sam3Segmenter(Segmenter):
    """SAM 3: text-prompted masks; regions from a fixed vocabulary of prompts."""

    proxy_side = 1008
    semantic = True

    def __init__(self, path: str | Path, *, threshold: float = 0.4, mask_threshold: float = 0.5) -> None:
        import torch

        Sam3Model, Sam3Processor = _classes()
        self.path = check_folder(path, ("sam3", "sam3_video"), EXPECTED)
        try:
            self.model = Sam3Model.from_pretrained(str(self.path), local_files_only=True).eval()
            self.processor = Sam3Processor.from_pretrained(str(self.path), local_files_only=True)
        except (OSError, ValueError, RuntimeError) as exc:
            raise ModelError(f"cannot load SAM 3 from {self.path}: {str(exc).splitlines()[0][:200]}",
                             hint=f"expected {EXPECTED}") from None
        self.model.to("cuda" if torch.cuda.is_available() else "cpu")
        self.threshold = threshold
        self.mask_threshold = mask_threshold
        self._lock = threading.Lock()

    def _instances(self, rgb: np.ndarray, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Instance masks ``(n, H, W)`` bool and scores ``(n,)`` for a text prompt."""
        import torch
        from PIL import Image

        inputs = self.processor(images=Image.fromarray(rgb), text=text, return_tensors="pt").to(self.model.device)
        with self._lock, torch.inference_mode():
            out = self.model(**inputs)
        res = self.processor.post_process_instance_segmentation(
            out, threshold=self.threshold, mask_threshold=self.mask_threshold,
            target_sizes=inputs.get("original_sizes").tolist())[0]
        return res["masks"].cpu().numpy().astype(bool), res["scores"].float().cpu().numpy()

    def prompt(self, rgb: np.ndarray, *, points=None, boxes=None, text=None) -> np.ndarray | None:
        if not text:
            return None
        masks, _ = self._instances(rgb, text)
        if len(masks) == 0:
            return None
        return np.any(masks, axis=0).astype(np.float32)

    def segment(self, rgb: np.ndarray, cues: Any = None) -> list[Segment]:
        h, w = rgb.shape[:2]
        taken = np.zeros((h, w), bool)
        out: list[Segment] = []
        for label, text in PROMPTS.items():
            masks, scores = self._instances(rgb, text)
            if len(masks) == 0:
                continue
            m = np.any(masks, axis=0) & ~taken
            if m.mean() < 0.002:
                continue
            taken |= m
            out.append(Segment(m.astype(np.float32), label=label, confidence=float(scores.max()), score=float(scores.max())))
        if (~taken).mean() >= 0.002:
            out.append(Segment((~taken).astype(np.float32), label="other", confidence=0.3, score=0.0))
        return out
