"""``hf-sam:FOLDER`` — SAM through transformers (``SamModel`` + ``SamProcessor``).

``FOLDER`` is a local Hugging Face layout (``config.json``, weights,
``preprocessor_config.json``), e.g. a downloaded ``facebook/sam-vit-base``. Regions
come from a grid of single-point prompts: each point's best mask (by predicted
IoU), masks deduplicated by overlap, the highest-scoring kept. Point/box prompts go
straight to the model. Nothing is downloaded: loading is ``local_files_only``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from pertouch.core.errors import ModelError
from pertouch.tools.segmentation import Segment, Segmenter

EXPECTED = "a local transformers SAM folder (config.json with model_type 'sam', weights, preprocessor_config.json)"


def check_folder(path: str | Path, model_types: tuple[str, ...], expected: str) -> Path:
    """The folder as a Path; ModelError when it is missing or is not that kind of model."""
    import json

    p = Path(path).expanduser()
    if not p.exists():
        raise ModelError(f"model folder not found: {p}", hint=f"expected {expected}")
    if not p.is_dir():
        raise ModelError(f"{p} is a file, not a model folder", hint=f"expected {expected}; for a .pth checkpoint use sam:{p}")
    cfg = p / "config.json"
    try:
        kind = json.loads(cfg.read_text()).get("model_type")
    except (OSError, ValueError):
        raise ModelError(f"{p} has no readable config.json", hint=f"expected {expected}") from None
    if kind not in model_types:
        raise ModelError(f"{p} holds a {kind!r} model, not {' or '.join(map(repr, model_types))}", hint=f"expected {expected}")
    return p


def _load(p: Path):
    import torch
    from transformers import SamModel, SamProcessor

    try:
        model = SamModel.from_pretrained(str(p), local_files_only=True)
        processor = SamProcessor.from_pretrained(str(p), local_files_only=True)
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelError(f"cannot load SAM from {p}: {str(exc).splitlines()[0][:200]}", hint=f"expected {EXPECTED}") from None
    return model.eval().to("cuda" if torch.cuda.is_available() else "cpu"), processor


def _dedupe(masks: list[np.ndarray], scores: list[float], iou_max: float = 0.7) -> list[int]:
    keep: list[int] = []
    for i in np.argsort(scores)[::-1]:
        m = masks[i]
        if m.sum() == 0:
            continue
        if all((m & masks[j]).sum() / max(1, (m | masks[j]).sum()) < iou_max for j in keep):
            keep.append(int(i))
    return keep


class HfSamSegmenter(Segmenter):
    """transformers SAM: grid-of-points regions, point/box prompts."""

    proxy_side = 1024
    semantic = False

    def __init__(self, path: str | Path, *, points_per_side: int = 8, max_regions: int = 12) -> None:
        self.path = check_folder(path, ("sam",), EXPECTED)
        self.model, self.processor = _load(self.path)
        self.points_per_side = points_per_side
        self.max_regions = max_regions
        self._lock = threading.Lock()

    def _masks(self, rgb: np.ndarray, points=None, boxes=None) -> tuple[np.ndarray, np.ndarray]:
        """Per prompt: all candidate masks ``(n, k, H, W)`` bool and IoU scores ``(n, k)``."""
        import torch

        inputs = self.processor(images=rgb, input_points=points, input_boxes=boxes, return_tensors="pt")
        inputs = {k: v.to(self.model.device) if hasattr(v, "to") else v for k, v in inputs.items()}
        with self._lock, torch.inference_mode():
            out = self.model(**inputs)
        masks = self.processor.image_processor.post_process_masks(
            out.pred_masks.cpu(), inputs["original_sizes"].cpu(), inputs["reshaped_input_sizes"].cpu())[0]
        return masks.numpy().astype(bool), out.iou_scores[0].float().cpu().numpy()

    def segment(self, rgb: np.ndarray, cues: Any = None) -> list[Segment]:
        h, w = rgb.shape[:2]
        n = self.points_per_side
        xs = (np.arange(n) + 0.5) * w / n
        ys = (np.arange(n) + 0.5) * h / n
        points = [[[[float(x), float(y)]] for y in ys for x in xs]]
        masks, scores = self._masks(rgb, points=points)
        best = scores.argmax(axis=1)
        cand = [masks[i, best[i]] for i in range(len(best))]
        sc = [float(scores[i, best[i]]) for i in range(len(best))]
        keep = _dedupe(cand, sc)[: self.max_regions]
        return [Segment(cand[i].astype(np.float32), score=sc[i]) for i in keep]

    def prompt(self, rgb: np.ndarray, *, points=None, boxes=None, text=None) -> np.ndarray | None:
        if points is None and boxes is None:
            return None
        masks, scores = self._masks(
            rgb, points=[[[list(map(float, p)) for p in points]]] if points else None,
            boxes=[[list(map(float, b)) for b in boxes[:1]]] if boxes else None)
        return masks[0, int(scores[0].argmax())].astype(np.float32)
