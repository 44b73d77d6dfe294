"""``sam3:FOLDER`` — SAM 3 through transformers (``Sam3Model`` + ``Sam3Processor``).

SAM 3 segments by text ("sky", "the eagle"): :meth:`Sam3Segmenter.prompt` with
``text`` returns the union of the instances above the score threshold, at the size
of the image it was given, or None when nothing scores above it. Regions
(:meth:`segment`) come from one prompt per label of the builtin labeller's
vocabulary: every pixel goes to the label whose instance covering it scores
highest (not to whichever prompt ran first), the region's confidence is the best
score of the instances it kept, and what no prompt found is ``other``.

The image encoder (the expensive part) runs once per image: its features are
reused for every prompt and kept for the last image, so ``find("the eagle")``
after ``perceive`` costs only the text and detector heads.

Needs transformers >= 5.0 (the first release with ``Sam3Model``); the folder is a
local HF layout (e.g. a downloaded ``facebook/sam3``), loaded ``local_files_only``.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

import numpy as np

from pertouch.core.errors import ModelError
from pertouch.tools.segmentation import Segment, Segmenter, segments_from_owner
from pertouch.tools.segmenters.hf_sam import check_folder

EXPECTED = "a local transformers SAM 3 folder (config.json with model_type 'sam3', weights, processor and tokenizer files)"
#: Text prompt per label, in label order.
PROMPTS = {"sky": "sky", "clouds": "clouds", "water": "water", "vegetation": "trees", "person": "person",
           "building": "building", "ground": "ground", "snow": "snow"}
#: Regions smaller than this fraction of the image are dropped (into ``other``).
MIN_AREA = 0.002
#: Confidence of the ``other`` region (what no prompt found).


def _classes():
    try:
        from transformers import Sam3Model, Sam3Processor
    except ImportError:
        import transformers

        raise ModelError(f"SAM 3 needs transformers >= 5.0 (installed: {transformers.__version__})",
                         hint="pip install 'transformers>=5.0'") from None
    return Sam3Model, Sam3Processor


def _load(p: Path):
    """Model (eval, on the GPU when there is one) and processor from folder ``p``."""
    import torch

    Sam3Model, Sam3Processor = _classes()
    cuda = torch.cuda.is_available()
    try:
        # float32 on CPU (bf16 matmuls there are slow or missing); the checkpoint's dtype on a GPU.
        model = Sam3Model.from_pretrained(str(p), local_files_only=True, dtype="auto" if cuda else torch.float32)
        processor = Sam3Processor.from_pretrained(str(p), local_files_only=True)
    except (OSError, ValueError, RuntimeError, KeyError, TypeError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise ModelError(f"cannot load SAM 3 from {p}: {first}", hint=f"expected {EXPECTED}") from None
    return model.eval().to("cuda" if cuda else "cpu"), processor


def owner_map(found: dict[str, list[tuple[np.ndarray, float]]], shape: tuple[int, int]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Per pixel, the label whose instance covering it scores highest.

    ``found`` maps label → [(bool mask, score)]. Returns the labels in order, an
    int32 owner map (index into the labels, -1 where nothing was found) and the
    owning score per pixel (float32).
    """
    labels = list(found)
    best = np.zeros(shape, np.float32)
    owner = np.full(shape, -1, np.int32)
    for i, label in enumerate(labels):
        for mask, score in found[label]:
            win = mask & (score > best)
            owner[win] = i
            best[win] = score
    return labels, owner, best


class Sam3Segmenter(Segmenter):
    """SAM 3: text-prompted masks; regions from a fixed vocabulary of prompts."""

    proxy_side = 1008
    semantic = True

    def __init__(self, path: str | Path, *, threshold: float = 0.4, mask_threshold: float = 0.5) -> None:
        self.path = check_folder(path, ("sam3", "sam3_video"), EXPECTED)
        self.model, self.processor = _load(self.path)
        #: Instance score (detection × presence probability) an instance needs to count.
        self.threshold = threshold
        #: Mask probability a pixel needs to belong to an instance.
        self.mask_threshold = mask_threshold
        self._lock = threading.Lock()
        self._vision: tuple[str, Any] | None = None  # (image key, vision features) of the last image

    def _vision_features(self, rgb: np.ndarray):
        """The image encoder's output for ``rgb``; cached for the last image seen."""
        from PIL import Image

        key = hashlib.blake2b(rgb.tobytes(), digest_size=16).hexdigest() + str(rgb.shape)
        if self._vision is not None and self._vision[0] == key:
            return self._vision[1]
        pixels = self.processor(images=Image.fromarray(rgb), return_tensors="pt")["pixel_values"]
        feats = self.model.get_vision_features(pixel_values=pixels.to(self.model.device, self.model.dtype))
        self._vision = (key, feats)
        return feats

    def _instances(self, rgb: np.ndarray, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Instance masks ``(n, H, W)`` bool at ``rgb``'s size and scores ``(n,)`` float32, best first."""
        import torch

        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected a uint8 RGB image (h, w, 3), got {rgb.dtype} {rgb.shape}")
        h, w = rgb.shape[:2]
        words = self.processor(text=text, return_tensors="pt")
        with self._lock, torch.inference_mode():
            out = self.model(vision_embeds=self._vision_features(rgb),
                             input_ids=words["input_ids"].to(self.model.device),
                             attention_mask=words["attention_mask"].to(self.model.device))
            res = self.processor.post_process_instance_segmentation(
                out, threshold=self.threshold, mask_threshold=self.mask_threshold, target_sizes=[(h, w)])[0]
        scores = res["scores"].float().cpu().numpy()
        if len(scores) == 0:
            return np.zeros((0, h, w), bool), scores
        order = np.argsort(-scores, kind="stable")
        return res["masks"].cpu().numpy().astype(bool)[order], scores[order]

    def prompt(self, rgb: np.ndarray, *, points=None, boxes=None, text=None) -> np.ndarray | None:
        """Float32 0/1 mask of every instance of ``text``; None when none scores above the threshold.

        Point and box prompts are not supported here (SAM 3 treats a box as an
        exemplar of a concept, not as the object to cut out): None.
        """
        if not text or not text.strip():
            return None
        masks, _ = self._instances(rgb, text.strip())
        if len(masks) == 0 or not masks.any():
            return None
        return np.any(masks, axis=0).astype(np.float32)

    def segment(self, rgb: np.ndarray, cues: Any = None) -> list[Segment]:
        h, w = rgb.shape[:2]
        found = {}
        for label, text in PROMPTS.items():
            masks, scores = self._instances(rgb, text)
            if len(masks):
                found[label] = list(zip(masks, scores.tolist()))
        labels, owner, _ = owner_map(found, (h, w))
        return segments_from_owner(labels, owner, lambda label, m_: max(s for mask, s in found[label] if (mask & m_).any()),
                                   min_area=MIN_AREA)
