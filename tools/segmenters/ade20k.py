"""``ade20k:FOLDER`` — a semantic model with ADE20K's 150 classes through transformers.

The folder's ``config.json`` picks the model: ``oneformer`` →
``OneFormerForUniversalSegmentation`` + ``OneFormerProcessor`` (task "semantic"),
``mask2former`` → ``Mask2FormerForUniversalSegmentation`` + ``AutoImageProcessor``.
The processor's ``post_process_semantic_segmentation`` gives per-class scores
(``Σ_q p(class | query) · mask_q``); here they are cropped to the unpadded image,
upsampled to the proxy, and normalised per pixel, so a pixel's class is the argmax
and its probability the normalised maximum (for one image, cached for the last).

:meth:`Ade20kSegmenter.segment` (``semantic = True``) returns labelled
:class:`~pertouch.tools.segmentation.Segment` s, one per label present, masks 0/1
float32 at the proxy size: class names map to PerTouch labels through
:data:`ADE_TO_PERTOUCH` (tree, grass, plant, palm → vegetation; building, house,
skyscraper, tower, hovel → building; road, sidewalk, path, earth, field, sand,
land, dirt track → ground; water, sea, river, lake, waterfall → water; sky, person
as they are) and every other class keeps its own name ("flower", "wall", "floor",
"ceiling", "mountain", "car", "bus", "table"…). Labels covering less than
:data:`MIN_AREA` of the image, and those beyond the :data:`MAX_REGIONS` largest, go
to ``other`` (when that is at least :data:`MIN_AREA`, like
:mod:`.sam3`). A region's confidence is the mean probability of its pixels' class.

:meth:`Ade20kSegmenter.prompt` maps words to classes — the longest run of final
words that names a class or one of its synonyms ("the coffee table" → coffee
table, "the red car" → car, "flowers" → flower), else a PerTouch label word
("greenery" → every class mapped to vegetation) — and returns the 0/1 float32
mask of those classes at the proxy size, or None when the words name no class of
the model or no pixel has that class.

Names are read from the model's ``id2label`` (short "car" or ADE's full "car,
auto, automobile, machine, motorcar": the first name is the class, all are
synonyms). The folder is a local Hugging Face layout, loaded ``local_files_only``,
e.g. ``shi-labs/oneformer_ade20k_swin_tiny`` or
``facebook/mask2former-swin-large-ade-semantic``. OneFormer's
``class_info_file`` (metadata the semantic task does not use) is read from the
folder when there, else ignored, so nothing is fetched from the Hub.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

from pertouch.core.errors import ModelError
from pertouch.tools.segmentation import PROCESSOR, TOKENIZER, WEIGHTS, Segment, Segmenter, check_model_folder

EXPECTED = ("a local OneFormer or Mask2Former semantic-segmentation folder (ADE20K): config.json (model_type "
            "'oneformer' or 'mask2former'), weights, processor config (and tokenizer files for OneFormer) — on a "
            "machine with network, OneFormerForUniversalSegmentation.from_pretrained("
            "'shi-labs/oneformer_ade20k_swin_tiny').save_pretrained(FOLDER) and the same with OneFormerProcessor "
            "(or Mask2FormerForUniversalSegmentation and AutoImageProcessor for "
            "'facebook/mask2former-swin-large-ade-semantic')")
#: ADE20K class (its first name) → PerTouch label; classes not here keep their own name.
ADE_TO_PERTOUCH: dict[str, str] = {
    "sky": "sky",
    "tree": "vegetation", "grass": "vegetation", "plant": "vegetation", "palm": "vegetation",
    "flower": "flower",
    "person": "person",
    "building": "building", "house": "building", "skyscraper": "building", "tower": "building", "hovel": "building",
    "wall": "wall", "floor": "floor", "ceiling": "ceiling",
    "road": "ground", "sidewalk": "ground", "path": "ground", "earth": "ground", "field": "ground", "sand": "ground",
    "land": "ground", "dirt track": "ground",
    "water": "water", "sea": "water", "river": "water", "lake": "water", "waterfall": "water",
}
#: Labels covering less than this fraction of the image go to ``other``.
MIN_AREA = 0.005
#: At most this many labelled regions (the largest); the rest go to ``other``.
MAX_REGIONS = 12
#: Confidence of the ``other`` region.
OTHER_CONFIDENCE = 0.3
_ARTICLES = {"the", "a", "an", "this", "that", "these", "those", "my", "her", "his", "their", "its", "our", "all"}


def class_names(id2label: dict[Any, str]) -> list[list[str]]:
    """Per class index, its names: ``"car, auto, automobile"`` → ``["car", "auto", "automobile"]``."""
    n = 1 + max(int(k) for k in id2label)
    names: list[list[str]] = [[] for _ in range(n)]
    for k, v in id2label.items():
        names[int(k)] = [s.strip().lower().replace("_", " ") for s in str(v).split(",") if s.strip()]
    return names


def pertouch_label(names: list[str]) -> str:
    """The PerTouch label of a class (its first name when the table has none)."""
    return ADE_TO_PERTOUCH.get(names[0], names[0]) if names else "other"


def _singulars(phrase: str) -> list[str]:
    out = [phrase]
    if phrase.endswith("ies"):
        out.append(phrase[:-3] + "y")
    if phrase.endswith("es"):
        out.append(phrase[:-2])
    if phrase.endswith("s") and not phrase.endswith("ss"):
        out.append(phrase[:-1])
    return out


def classes_for(text: str, names: list[list[str]]) -> list[int]:
    """Class indices ``text`` names (see the module doc); empty when none."""
    from pertouch.tools.labels import canonical_label

    words = [w.strip(".,!?;:'\"") for w in text.lower().replace("-", " ").split()]
    words = [w for w in words if w and w not in _ARTICLES]
    for start in range(len(words)):
        for phrase in _singulars(" ".join(words[start:])):
            hits = [i for i, ns in enumerate(names) if phrase in ns]
            if hits:
                return hits
    label = canonical_label(text)
    if label is None:
        return []
    return [i for i, ns in enumerate(names) if ns and pertouch_label(ns) == label]


def _load(p: Path, kind: str):
    import torch
    import transformers

    try:
        if kind == "oneformer":
            from transformers import AutoTokenizer, OneFormerImageProcessor, OneFormerProcessor

            model = transformers.OneFormerForUniversalSegmentation.from_pretrained(
                str(p), local_files_only=True, dtype=torch.float32)
            info = _image_processor_config(p).get("class_info_file")
            local = {"repo_path": str(p)} if info and (p / info).is_file() else {"class_info_file": None}
            images = OneFormerImageProcessor.from_pretrained(str(p), local_files_only=True, **local)
            tokenizer = AutoTokenizer.from_pretrained(str(p), local_files_only=True)
            processor = OneFormerProcessor(images, tokenizer, max_seq_length=model.config.text_encoder_context_length,
                                           task_seq_length=model.config.task_seq_len)
        else:
            model = transformers.Mask2FormerForUniversalSegmentation.from_pretrained(
                str(p), local_files_only=True, dtype=torch.float32)
            processor = transformers.AutoImageProcessor.from_pretrained(str(p), local_files_only=True)
    except Exception as exc:  # safetensors, json, torch or config errors: all mean "not a usable folder"
        first = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:200]}"
        raise ModelError(f"ade20k:{p}: cannot load the {kind} model: {first}", hint=f"expected {EXPECTED}") from None
    import inspect

    post = getattr(processor, "image_processor", processor).post_process_semantic_segmentation
    if "return_segmentation_scores" not in inspect.signature(post).parameters:
        raise ModelError(f"ade20k:{p}: this transformers ({transformers.__version__}) cannot return class scores",
                         hint="pip install -U transformers")
    return model.eval().to("cuda" if torch.cuda.is_available() else "cpu"), processor


def _image_processor_config(p: Path) -> dict[str, Any]:
    for name in ("preprocessor_config.json", "processor_config.json"):
        try:
            d = json.loads((p / name).read_text())
        except (OSError, ValueError):
            continue
        return d.get("image_processor", d)
    return {}


class Ade20kSegmenter(Segmenter):
    """OneFormer / Mask2Former semantic segmentation with ADE20K's classes."""

    proxy_side = 640
    semantic = True

    def __init__(self, path: str | Path) -> None:
        self.path = check_model_folder(f"ade20k:{path}", path, ("oneformer", "mask2former"), EXPECTED,
                                       {"weights": WEIGHTS, "processor config": PROCESSOR})
        self.kind = json.loads((self.path / "config.json").read_text())["model_type"]
        if self.kind == "oneformer":
            check_model_folder(f"ade20k:{path}", path, ("oneformer",), EXPECTED, {"tokenizer files": TOKENIZER})
        self.model, self.processor = _load(self.path, self.kind)
        #: Per class index, its names (first = the class).
        self.names = class_names(self.model.config.id2label)
        self._lock = threading.Lock()
        self._last: tuple[str, np.ndarray, np.ndarray] | None = None  # (image key, classes, probability)

    def classify(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per pixel of ``rgb``: class index ``(h, w)`` int32 and its probability ``(h, w)`` float32 in [0, 1]."""
        import torch

        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected a uint8 RGB image (h, w, 3), got {rgb.dtype} {rgb.shape}")
        key = hashlib.blake2b(rgb.tobytes(), digest_size=16).hexdigest() + str(rgb.shape)
        with self._lock:
            if self._last is not None and self._last[0] == key:
                return self._last[1], self._last[2]
            h, w = rgb.shape[:2]
            extra = {"task_inputs": ["semantic"]} if self.kind == "oneformer" else {}
            inputs = self.processor(images=rgb, return_tensors="pt", **extra)
            inputs = {k: v.to(self.model.device) for k, v in inputs.items()}
            with torch.inference_mode():
                out = self.model(**inputs)
                scores = self.processor.post_process_semantic_segmentation(
                    out, target_sizes=None, return_segmentation_scores=True)[0]["segmentation_scores"].float()
                scores = _unpadded(scores, inputs.get("pixel_mask"))
                present = torch.unique(scores.argmax(dim=0))  # upsample only the classes that win somewhere
                up = torch.nn.functional.interpolate(
                    torch.cat([scores[present], scores.sum(dim=0, keepdim=True)])[None], size=(h, w),
                    mode="bilinear", align_corners=False)[0]
                best, idx = up[:-1].max(dim=0)
                prob = (best / up[-1].clamp_min(1e-6)).clamp(0, 1)
                classes = present[idx]
            result = classes.cpu().numpy().astype(np.int32), prob.cpu().numpy().astype(np.float32)
            self._last = (key, *result)
        return result

    def segment(self, rgb: np.ndarray, cues: Any = None) -> list[Segment]:
        classes, prob = self.classify(rgb)
        names = list(dict.fromkeys(pertouch_label(ns) for ns in self.names))
        index = np.array([names.index(pertouch_label(ns)) for ns in self.names] or [0], np.int32)
        labels = index[classes]
        areas = np.bincount(labels.ravel(), minlength=len(names)) / labels.size
        order = [i for i in np.argsort(-areas, kind="stable") if areas[i] >= MIN_AREA and names[i] != "other"]
        out: list[Segment] = []
        rest = np.ones(classes.shape, bool)
        for i in order[:MAX_REGIONS]:
            m = labels == i
            rest &= ~m
            conf = float(prob[m].mean())
            out.append(Segment(m.astype(np.float32), label=names[i], confidence=round(conf, 3), score=conf))
        if rest.mean() >= MIN_AREA or not out:
            out.append(Segment(rest.astype(np.float32), label="other", confidence=OTHER_CONFIDENCE, score=0.0))
        return out

    def prompt(self, rgb: np.ndarray, *, points=None, boxes=None, text=None) -> np.ndarray | None:
        """0/1 float32 mask ``(h, w)`` of the classes ``text`` names; None when none is there.

        Point and box prompts are not supported (None).
        """
        if not text or not text.strip():
            return None
        wanted = classes_for(text, self.names)
        if not wanted:
            return None
        classes, _ = self.classify(rgb)
        m = np.isin(classes, wanted)
        return m.astype(np.float32) if m.any() else None


def _unpadded(scores, pixel_mask):
    """Class scores ``(C, h, w)`` cropped to the part of the processed image that is not padding."""
    if pixel_mask is None:
        return scores
    valid = pixel_mask[0].bool()
    rows = int(valid.any(dim=1).sum())
    cols = int(valid.any(dim=0).sum())
    hp, wp = valid.shape
    h = max(1, round(scores.shape[1] * rows / hp))
    w = max(1, round(scores.shape[2] * cols / wp))
    return scores[:, :h, :w]
