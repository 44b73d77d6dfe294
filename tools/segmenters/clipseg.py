"""``clipseg:FOLDER`` — CLIPSeg through transformers (``CLIPSegForImageSegmentation``).

CLIPSeg turns any words ("the flower", "the red car") into a per-pixel probability
(the sigmoid of its logits, 352×352 for the released models, upsampled to the
image it was given). :meth:`ClipSegSegmenter.prompt` returns a float32 soft mask
``(h, w)`` in [0, 1] at the size of the uint8 RGB ``(h, w, 3)`` proxy, calibrated so
that ``mask > 0.5`` is the decision, like every mask in this package:

- a pixel is "in" when its probability is at least ``cut = max(threshold,
  relative × peak)`` — :data:`THRESHOLD` (0.4) absolute, and :data:`RELATIVE`
  (0.5) of the image's highest probability, so a thing that is present does not
  drag in its lukewarm surroundings;
- the soft mask is piecewise linear in the probability: 0 → 0, ``cut`` → 0.5,
  ``peak`` → 1;
- None when the peak is below :data:`THRESHOLD` (the thing is absent: CLIPSeg
  still gives it a diffuse low probability everywhere).

:meth:`ClipSegSegmenter.probability` gives the raw probabilities for callers that
want their own threshold. Both constants are CLIPSeg's customary binarisation
threshold and a relative cut, not fitted on photos (no weights are shipped).

:meth:`segment` (``semantic = True``) asks CLIPSeg for the builtin labeller's
vocabulary (:data:`~pertouch.tools.segmenters.sam3.PROMPTS`) in one batch, as the
CLIPSeg paper does for zero-shot semantic segmentation: every pixel goes to the
prompt with the highest probability if that reaches its prompt's cut, else to
``other``; a region's confidence is its mean winning probability.

``FOLDER`` is a local Hugging Face layout (``config.json`` with model_type
``clipseg``, weights, ``preprocessor_config.json`` and CLIP tokenizer files), e.g.
``CIDAS/clipseg-rd64-refined`` saved with ``save_pretrained``; loading is
``local_files_only``. Runs on CUDA when available, else the CPU.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from pertouch.tools.segmentation import (PROCESSOR, TOKENIZER, WEIGHTS, Segment, Segmenter, check_model_folder,
                                         load_pretrained, segments_from_owner)

EXPECTED = ("a local CLIPSeg folder: config.json (model_type 'clipseg'), weights, preprocessor_config.json and "
            "tokenizer files — on a machine with network, CLIPSegForImageSegmentation.from_pretrained("
            "'CIDAS/clipseg-rd64-refined').save_pretrained(FOLDER) and the same with CLIPSegProcessor")
#: Probability a pixel needs (and the peak an image needs, else None).
THRESHOLD = 0.4
#: Fraction of the image's peak probability a pixel also needs.
RELATIVE = 0.5
#: Regions smaller than this fraction of the image go to ``other`` in :meth:`ClipSegSegmenter.segment`.
MIN_AREA = 0.002
#: Confidence of the ``other`` region.


def _load(p: Path):
    import torch
    from transformers import CLIPSegForImageSegmentation, CLIPSegProcessor

    return load_pretrained(
        f"clipseg:{p}: cannot load CLIPSeg", EXPECTED,
        lambda: CLIPSegForImageSegmentation.from_pretrained(str(p), local_files_only=True, dtype=torch.float32),
        lambda: CLIPSegProcessor.from_pretrained(str(p), local_files_only=True))


def calibrate(prob: np.ndarray, threshold: float = THRESHOLD, relative: float = RELATIVE) -> np.ndarray | None:
    """Soft mask from probabilities: ``cut`` ↦ 0.5, peak ↦ 1 (see the module doc).

    None when the peak is below ``threshold``.
    """
    peak = float(prob.max()) if prob.size else 0.0
    if peak < threshold:
        return None
    cut = max(threshold, relative * peak)
    below = 0.5 * prob / cut
    above = 0.5 + 0.5 * (prob - cut) / max(peak - cut, 1e-6)
    return np.clip(np.where(prob < cut, below, above), 0.0, 1.0).astype(np.float32)


class ClipSegSegmenter(Segmenter):
    """CLIPSeg: open-vocabulary text prompts; regions from the label vocabulary."""

    proxy_side = 352
    semantic = True

    def __init__(self, path: str | Path, *, threshold: float = THRESHOLD, relative: float = RELATIVE) -> None:
        self.path = check_model_folder(f"clipseg:{path}", path, ("clipseg",), EXPECTED,
                                       {"weights": WEIGHTS, "processor config": PROCESSOR,
                                        "tokenizer files": TOKENIZER})
        self.model, self.processor = _load(self.path)
        self.threshold = threshold
        self.relative = relative
        self._lock = threading.Lock()

    def probability(self, rgb: np.ndarray, texts: list[str]) -> np.ndarray:
        """Raw CLIPSeg probabilities ``(len(texts), h, w)`` float32 in [0, 1] at ``rgb``'s size."""
        import cv2
        import torch

        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected a uint8 RGB image (h, w, 3), got {rgb.dtype} {rgb.shape}")
        h, w = rgb.shape[:2]
        inputs = self.processor(text=list(texts), images=[rgb] * len(texts), padding=True, truncation=True,
                                max_length=self.model.config.text_config.max_position_embeddings, return_tensors="pt")
        inputs = {k: v.to(self.model.device) for k, v in inputs.items()}
        with self._lock, torch.inference_mode():
            logits = self.model(**inputs).logits
        prob = torch.sigmoid(logits.float()).reshape(len(texts), *logits.shape[-2:]).cpu().numpy()
        return np.stack([cv2.resize(p, (w, h), interpolation=cv2.INTER_LINEAR) for p in prob]).astype(np.float32)

    def prompt(self, rgb: np.ndarray, *, points=None, boxes=None, text=None) -> np.ndarray | None:
        """Float32 soft mask ``(h, w)`` for ``text`` (threshold at 0.5), None when absent.

        Point and box prompts are not supported (None).
        """
        if not text or not text.strip():
            return None
        return calibrate(self.probability(rgb, [text.strip()])[0], self.threshold, self.relative)

    def segment(self, rgb: np.ndarray, cues: Any = None) -> list[Segment]:
        from pertouch.tools.segmenters.sam3 import PROMPTS

        labels = list(PROMPTS)
        prob = self.probability(rgb, [PROMPTS[label] for label in labels])
        peak = prob.reshape(len(labels), -1).max(axis=1)
        cut = np.maximum(self.threshold, self.relative * peak)
        owner = prob.argmax(axis=0)
        best = prob.max(axis=0)
        owner[best < cut[owner]] = -1
        return segments_from_owner(labels, owner, lambda label, m_: float(best[m_].mean()), min_area=MIN_AREA)
