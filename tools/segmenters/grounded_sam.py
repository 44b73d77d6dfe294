"""``grounded-sam:GDINO_FOLDER,SAM_FOLDER`` — Grounding DINO boxes, SAM masks.

Grounding DINO (transformers ``GroundingDinoForObjectDetection`` + its processor)
finds boxes for the words ("the red car"): the processor's
``post_process_grounded_object_detection`` keeps the boxes whose best token
probability is above :data:`BOX_THRESHOLD` (0.35, Grounded-SAM's default). SAM
(``SamModel`` + ``SamProcessor``) cuts one mask per box (single-mask output, the
choice for unambiguous box prompts). :meth:`GroundedSamSegmenter.prompt` returns the
union of those masks as float32 0/1 ``(h, w)`` at the size of the uint8 RGB proxy,
or None when no box passes (at most :data:`MAX_BOXES`, best first, are cut).

:meth:`segment` (``semantic = True``) asks for the builtin labeller's vocabulary
(:data:`~pertouch.tools.segmenters.sam3.PROMPTS`) in one detection pass ("sky.
clouds. trees. …"); each box takes the phrase whose tokens it scores highest, and
every pixel goes to the best-scoring box covering it
(:func:`~pertouch.tools.segmenters.sam3.owner_map`); what no box covers is
``other``. SAM's image embedding is computed once per image and kept for the last
one, so prompts after ``perceive`` cost the detector and SAM's decoder only.

Both folders are local Hugging Face layouts, loaded ``local_files_only``: e.g.
``IDEA-Research/grounding-dino-tiny`` (model_type ``grounding-dino`` or
``mm-grounding-dino``) and ``facebook/sam-vit-base`` saved with
``save_pretrained``. Runs on CUDA when available, else the CPU.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

import numpy as np

from pertouch.core.errors import ModelError
from pertouch.tools.segmentation import (PROCESSOR, TOKENIZER, WEIGHTS, Segment, Segmenter, check_model_folder,
                                         load_pretrained, segments_from_owner)

EXPECTED_GDINO = ("a local Grounding DINO folder: config.json (model_type 'grounding-dino'), weights, processor "
                  "and BERT tokenizer files — copy a saved model there (GroundingDinoForObjectDetection and its "
                  "AutoProcessor, each .save_pretrained(FOLDER)); nothing is downloaded at run time")
EXPECTED_SAM = ("a local transformers SAM folder: config.json (model_type 'sam'), weights, processor config — copy a "
                "saved model there (SamModel and SamProcessor, each .save_pretrained(FOLDER)); nothing is downloaded "
                "at run time")
USAGE = "grounded-sam:GDINO_FOLDER,SAM_FOLDER (two local folders separated by a comma)"
#: Detector classes by config model_type.
DETECTORS = {"grounding-dino": "GroundingDinoForObjectDetection",
             "mm-grounding-dino": "MMGroundingDinoForObjectDetection"}
#: A box counts when its best token probability is above this.
BOX_THRESHOLD = 0.35
#: A token belongs to a box's phrase above this (only for the processor's ``text_labels``).
TEXT_THRESHOLD = 0.25
#: At most this many boxes (best first) are cut by SAM per prompt.
MAX_BOXES = 16
#: Regions smaller than this fraction of the image go to ``other`` in :meth:`GroundedSamSegmenter.segment`.
MIN_AREA = 0.002
#: Confidence of the ``other`` region.


def _load_detector(p: Path, kind: str):
    import torch
    import transformers
    from transformers import AutoProcessor

    return load_pretrained(
        f"grounded-sam: cannot load Grounding DINO from {p}", EXPECTED_GDINO,
        lambda: getattr(transformers, DETECTORS[kind]).from_pretrained(str(p), local_files_only=True,
                                                                      dtype=torch.float32),
        lambda: AutoProcessor.from_pretrained(str(p), local_files_only=True))


def _load_sam(p: Path):
    import torch
    from transformers import SamModel, SamProcessor

    return load_pretrained(
        f"grounded-sam: cannot load SAM from {p}", EXPECTED_SAM,
        lambda: SamModel.from_pretrained(str(p), local_files_only=True, dtype=torch.float32),
        lambda: SamProcessor.from_pretrained(str(p), local_files_only=True))


def phrase_spans(input_ids: list[int], separators: set[int]) -> list[tuple[int, int]]:
    """Token index ranges ``[start, end)`` of the phrases of ``"a. b. c."`` (runs between separator tokens)."""
    spans, start = [], None
    for i, t in enumerate(input_ids):
        if t in separators:
            if start is not None:
                spans.append((start, i))
            start = None
        elif start is None:
            start = i
    if start is not None:
        spans.append((start, len(input_ids)))
    return spans


class GroundedSamSegmenter(Segmenter):
    """Grounding DINO + SAM: open-vocabulary boxes cut into masks."""

    proxy_side = 1024
    semantic = True

    def __init__(self, gdino: str | Path, sam: str | Path, *, threshold: float = BOX_THRESHOLD,
                 text_threshold: float = TEXT_THRESHOLD, max_boxes: int = MAX_BOXES) -> None:
        spec = f"grounded-sam:{gdino},{sam}"
        self.gdino_path = check_model_folder(spec, gdino, tuple(DETECTORS), EXPECTED_GDINO,
                                             {"weights": WEIGHTS, "processor config": PROCESSOR,
                                              "tokenizer files": TOKENIZER})
        self.sam_path = check_model_folder(spec, sam, ("sam",), EXPECTED_SAM,
                                           {"weights": WEIGHTS, "processor config": PROCESSOR})
        kind = _model_type(self.gdino_path)
        self.detector, self.det_processor = _load_detector(self.gdino_path, kind)
        self.sam, self.sam_processor = _load_sam(self.sam_path)
        #: Box score (best token probability) a box needs.
        self.threshold = threshold
        self.text_threshold = text_threshold
        self.max_boxes = max_boxes
        self._lock = threading.Lock()
        self._embedding: tuple[str, Any] | None = None  # (image key, SAM image embedding) of the last image

    @classmethod
    def from_spec(cls, rest: str) -> "GroundedSamSegmenter":
        """``"GDINO_FOLDER,SAM_FOLDER"`` (the part after ``grounded-sam:``)."""
        gdino, sep, sam = rest.rpartition(",")
        if not sep or not gdino.strip() or not sam.strip():
            raise ModelError(f"grounded-sam:{rest}: needs two folders", hint=f"use {USAGE}")
        return cls(gdino.strip(), sam.strip())

    # --- detection ---------------------------------------------------------------

    def detect(self, rgb: np.ndarray, phrases: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Boxes above the threshold for ``phrases`` (one detector pass), best first.

        Returns boxes ``(n, 4)`` float32 ``x0, y0, x1, y1`` in ``rgb``'s pixels, scores
        ``(n,)`` float32 in [0, 1] and, per box, the index of the phrase whose tokens
        it scores highest ``(n,)`` int.
        """
        import torch

        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected a uint8 RGB image (h, w, 3), got {rgb.dtype} {rgb.shape}")
        h, w = rgb.shape[:2]
        text = ". ".join(p.strip().lower().rstrip(".") for p in phrases) + "."
        inputs = self.det_processor(images=rgb, text=text, return_tensors="pt")
        inputs = {k: v.to(self.detector.device) for k, v in inputs.items()}
        with self._lock, torch.inference_mode():
            out = self.detector(**inputs)
        ids = inputs["input_ids"]
        res = self.det_processor.post_process_grounded_object_detection(
            out, ids, threshold=self.threshold, text_threshold=self.text_threshold, target_sizes=[(h, w)])[0]
        tok = self.det_processor.tokenizer
        separators = {tok.convert_tokens_to_ids(t) for t in (".", tok.cls_token, tok.sep_token, tok.pad_token) if t}
        spans = phrase_spans(ids[0].tolist(), separators)[: len(phrases)]
        probs = torch.sigmoid(out.logits[0].float())  # (queries, text positions)
        per_query = probs.max(dim=-1).values
        keep = torch.nonzero(per_query > self.threshold).flatten()  # the same boxes as the processor's, in order
        phrase = np.zeros(len(keep), np.int64)
        if spans and len(keep):
            by_phrase = torch.stack([probs[keep, a:b].max(dim=-1).values for a, b in spans], dim=-1)
            phrase = by_phrase.argmax(dim=-1).cpu().numpy()
        boxes = res["boxes"].float().cpu().numpy().reshape(-1, 4)
        scores = res["scores"].float().cpu().numpy()
        boxes[:, 0::2] = boxes[:, 0::2].clip(0, w)
        boxes[:, 1::2] = boxes[:, 1::2].clip(0, h)
        order = np.argsort(-scores, kind="stable")[: self.max_boxes]
        return boxes[order].astype(np.float32), scores[order].astype(np.float32), phrase[order]

    # --- masks ---------------------------------------------------------------------

    def _image_embedding(self, rgb: np.ndarray, pixel_values):
        key = hashlib.blake2b(rgb.tobytes(), digest_size=16).hexdigest() + str(rgb.shape)
        if self._embedding is None or self._embedding[0] != key:
            self._embedding = (key, self.sam.get_image_embeddings(pixel_values.to(self.sam.device)))
        return self._embedding[1]

    def cut(self, rgb: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """One SAM mask per box: bool ``(n, h, w)`` at ``rgb``'s size."""
        import torch

        h, w = rgb.shape[:2]
        if len(boxes) == 0:
            return np.zeros((0, h, w), bool)
        inputs = self.sam_processor(images=rgb, input_boxes=[[list(map(float, b)) for b in boxes]], return_tensors="pt")
        with self._lock, torch.inference_mode():
            emb = self._image_embedding(rgb, inputs["pixel_values"])
            out = self.sam(image_embeddings=emb, input_boxes=inputs["input_boxes"].to(self.sam.device),
                           multimask_output=False)
        masks = self.sam_processor.image_processor.post_process_masks(
            out.pred_masks.cpu(), inputs["original_sizes"].cpu(), inputs["reshaped_input_sizes"].cpu())[0]
        return masks[:, 0].numpy().astype(bool)

    # --- the Segmenter interface -------------------------------------------------------

    def prompt(self, rgb: np.ndarray, *, points=None, boxes=None, text=None) -> np.ndarray | None:
        """Float32 0/1 union of the masks of every box found for ``text``; None when no box.

        Point and box prompts are not supported here (None): use ``hf-sam:`` for those.
        """
        if not text or not text.strip():
            return None
        found, _, _ = self.detect(rgb, [text])
        masks = self.cut(rgb, found)
        if len(masks) == 0 or not masks.any():
            return None
        return np.any(masks, axis=0).astype(np.float32)

    def segment(self, rgb: np.ndarray, cues: Any = None) -> list[Segment]:
        from pertouch.tools.segmenters.sam3 import PROMPTS, owner_map

        labels = list(PROMPTS)
        h, w = rgb.shape[:2]
        boxes, scores, phrase = self.detect(rgb, [PROMPTS[label] for label in labels])
        masks = self.cut(rgb, boxes)
        found: dict[str, list[tuple[np.ndarray, float]]] = {}
        for m, s, i in zip(masks, scores.tolist(), phrase.tolist()):
            found.setdefault(labels[i], []).append((m, s))
        names, owner, _ = owner_map(found, (h, w))
        return segments_from_owner(names, owner, lambda label, m_: max(s for mask, s in found[label] if (mask & m_).any()),
                                   min_area=MIN_AREA)


def _model_type(p: Path) -> str:
    import json

    return json.loads((p / "config.json").read_text())["model_type"]
