"""The segmenter interface and the registry that picks a backend by a string.

Specs:

- ``builtin`` — offline default, no downloaded weights (:mod:`.segmenters.builtin`).
- ``sam:PATH`` or ``sam:vit_b:PATH`` — segment-anything checkpoints (``.pth``).
- ``hf-sam:PATH`` — transformers ``SamModel`` from a local HF-layout folder.
- ``sam3:PATH`` — SAM 3 through transformers (text prompts), local folder.
- ``clipseg:PATH`` — CLIPSeg (open-vocabulary text → soft mask), local folder
  (:mod:`.segmenters.clipseg`).
- ``grounded-sam:GDINO_PATH,SAM_PATH`` — Grounding DINO boxes for the text, SAM
  masks for the boxes, two local folders (:mod:`.segmenters.grounded_sam`).
- ``ade20k:PATH`` — a semantic model with ADE20K's 150 classes (OneFormer or
  Mask2Former), local folder (:mod:`.segmenters.ade20k`).
- ``A+B[+C…]`` — a fallback chain (:class:`ChainSegmenter`): regions from ``A``;
  a text/point/box prompt goes to each member in order and the first non-empty
  mask wins, e.g. ``builtin+clipseg:/models/clipseg`` or
  ``builtin+ade20k:/m+grounded-sam:/g,/s``.

A backend turns a uint8 RGB proxy into :class:`Segment` proposals (masks at the
proxy's size). :mod:`pertouch.tools.perception` labels class-agnostic proposals,
brings masks to full resolution and measures levels; ``Segmenter.find`` returns the
full-resolution :class:`~pertouch.engine.schema.regions.Region` for a named thing or raises
:class:`~pertouch.core.errors.NotFoundError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from pertouch.core.errors import ModelError
from pertouch.tools.perception_cache import PerceptionCache, perception_cache

if TYPE_CHECKING:
    from pathlib import Path

    from pertouch.engine.schema.regions import Region
    from pertouch.tools.labels import Cues


@dataclass
class Segment:
    """One proposal: float32 soft ``mask`` ``(h, w)`` in [0, 1] at the proxy size.

    ``label`` is empty for class-agnostic backends; ``confidence`` is the label's
    confidence; ``score`` the backend's own mask-quality score.
    """

    mask: np.ndarray
    label: str = ""
    confidence: float = 0.0
    score: float = 1.0


class Segmenter:
    """Base class: override :meth:`segment`; prompted backends also :meth:`prompt`."""

    spec: str = ""
    #: Longest proxy side the backend wants to see.
    proxy_side: int = 384
    #: True when :meth:`segment` returns labelled segments.
    semantic: bool = False

    def segment(self, rgb: np.ndarray, cues: "Cues | None" = None) -> list[Segment]:
        """Proposals for a uint8 RGB proxy ``(h, w, 3)``."""
        raise NotImplementedError

    def prompt(self, rgb: np.ndarray, *, points: list[tuple[int, int]] | None = None,
               boxes: list[tuple[int, int, int, int]] | None = None, text: str | None = None) -> np.ndarray | None:
        """A float32 mask ``(h, w)`` for point/box/text prompts, or None if unsupported."""
        return None

    def find(self, image: Any, text: str, *, cache: PerceptionCache | None = None) -> "Region":
        """The full-resolution region named by ``text`` ("sky", "the eagle"), the scene
        perceived through ``cache`` (None: the process's one).

        Raises :class:`~pertouch.core.errors.NotFoundError` when the photo has none.
        """
        from pertouch.tools.perception import find_region

        return find_region(image, text, segmenter=self, cache=cache)


#: Files a transformers model folder needs: what is missing → the names that would do.
WEIGHTS = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
PROCESSOR = ("preprocessor_config.json", "processor_config.json")
TOKENIZER = ("tokenizer.json", "vocab.json", "vocab.txt", "tokenizer_config.json")


def check_model_folder(spec: str, path: "str | Path", model_types: tuple[str, ...], expected: str,
                       needs: dict[str, tuple[str, ...]]) -> "Path":
    """The local model folder of ``spec`` ("clipseg:/m") as a Path.

    :class:`ModelError` (message starting with ``spec``) when the folder is missing,
    has no readable ``config.json``, holds another model type, or lacks one of
    ``needs`` (e.g. ``{"weights": WEIGHTS}``); the hint is ``expected``, which says
    how to get the folder.
    """
    from pertouch.tools.segmenters.hf_sam import check_folder

    try:
        p = check_folder(path, model_types, expected)
    except ModelError as exc:
        raise ModelError(f"{spec}: {exc.message}", hint=exc.hint) from None
    missing = [what for what, names in needs.items() if not any((p / n).exists() for n in names)]
    if missing:
        raise ModelError(f"{spec}: {p} has no {' and no '.join(missing)}", hint=f"expected {expected}")
    return p


#: A prompted mask covering less than this fraction of the image (at > 0.5) counts as empty.
MIN_PROMPT_AREA = 0.0005


def is_empty(mask: np.ndarray | None) -> bool:
    """True for None or a mask whose ``> 0.5`` part covers less than :data:`MIN_PROMPT_AREA`."""
    return mask is None or float((np.asarray(mask) > 0.5).mean()) < MIN_PROMPT_AREA


#: Confidence of the "other" segment a labelled backend leaves for what it did not label.
OTHER_CONFIDENCE = 0.3


def segments_from_owner(labels: list[str], owner: np.ndarray, confidence, *, min_area: float = 0.002) -> list[Segment]:
    """Labelled segments from an owner map (``owner`` int ``(h, w)``: index into ``labels``,
    −1 for nobody; changed in place). A label under ``min_area`` of the image goes to
    ``other``, which is kept when it is at least that large (or when nothing else is).
    ``confidence(label, mask) -> float`` scores each kept segment."""
    out: list[Segment] = []
    for i, label in enumerate(labels):
        m = owner == i
        if m.mean() < min_area:
            owner[m] = -1
            continue
        conf = float(confidence(label, m))
        out.append(Segment(m.astype(np.float32), label=label, confidence=round(conf, 3), score=conf))
    rest = owner < 0
    if rest.mean() >= min_area or not out:
        out.append(Segment(rest.astype(np.float32), label="other", confidence=OTHER_CONFIDENCE, score=0.0))
    return out


def load_pretrained(what: str, expected: str, model_loader, *loaders) -> tuple:
    """``(model, *others)`` from transformers loaders of a local folder (each a callable of
    no arguments), the model in eval mode on the GPU when there is one. Any failure
    (missing or corrupt weights, json, config) is a :class:`ModelError` saying ``what``
    could not be loaded and what the folder should hold."""
    import torch

    try:
        model = model_loader()
        others = tuple(load() for load in loaders)
    except Exception as exc:  # safetensors, json, torch or config errors: all mean "not a usable folder"
        first = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:200]}"
        raise ModelError(f"{what}: {first}", hint=f"expected {expected}") from None
    return (model.eval().to("cuda" if torch.cuda.is_available() else "cpu"), *others)


class ChainSegmenter(Segmenter):
    """``A+B[+C…]``: regions from the first member; prompts asked of each member in order.

    :meth:`segment`, :attr:`semantic` and :attr:`proxy_side` are the first member's.
    :meth:`prompt` passes the same proxy and prompt to each member in turn and
    returns the first mask that is not empty (see :func:`is_empty`), or None;
    :attr:`last_prompt_source` is the spec of the member that answered (None when
    none did; :meth:`ask` returns both, for callers sharing the cached chain across
    threads). Every member returns its mask at the size of the proxy it was given.
    """

    def __init__(self, members: list[Segmenter]) -> None:
        if len(members) < 2:
            raise ModelError("a segmenter chain needs at least two members",
                             hint="e.g. builtin+clipseg:/models/clipseg")
        self.members = members
        self.proxy_side = members[0].proxy_side
        self.semantic = members[0].semantic
        #: Spec of the member whose mask the last :meth:`prompt` returned.
        self.last_prompt_source: str | None = None

    def segment(self, rgb: np.ndarray, cues: "Cues | None" = None) -> list[Segment]:
        return self.members[0].segment(rgb, cues)

    def ask(self, rgb: np.ndarray, *, points: list[tuple[int, int]] | None = None,
            boxes: list[tuple[int, int, int, int]] | None = None,
            text: str | None = None) -> tuple[np.ndarray | None, str | None]:
        """The first non-empty member mask and that member's spec; ``(None, None)`` when none answers."""
        for member in self.members:
            mask = member.prompt(rgb, points=points, boxes=boxes, text=text)
            if not is_empty(mask):
                return mask, member.spec
        return None, None

    def prompt(self, rgb: np.ndarray, *, points: list[tuple[int, int]] | None = None,
               boxes: list[tuple[int, int, int, int]] | None = None, text: str | None = None) -> np.ndarray | None:
        mask, self.last_prompt_source = self.ask(rgb, points=points, boxes=boxes, text=text)
        return mask


#: Every spec kind; a ``+`` starts a new chain member only before one of these.
KINDS = ("builtin", "sam", "hf-sam", "sam3", "clipseg", "grounded-sam", "ade20k")
_MEMBER = re.compile(r"\+(?=(?:%s)(?::|\+|$))" % "|".join(re.escape(k) for k in sorted(KINDS, key=len, reverse=True)),
                     re.IGNORECASE)
USAGE = ("use builtin, sam:PATH.pth (or sam:vit_b:PATH), hf-sam:FOLDER, sam3:FOLDER, clipseg:FOLDER, "
         "grounded-sam:GDINO_FOLDER,SAM_FOLDER, ade20k:FOLDER, or a chain of them joined by + "
         "(e.g. builtin+clipseg:FOLDER)")


def split_chain(spec: str) -> list[str]:
    """``"builtin+clipseg:/m"`` → ``["builtin", "clipseg:/m"]``; a ``+`` inside a path stays."""
    return [part.strip() for part in _MEMBER.split(spec.strip())]


def parse_spec(spec: str) -> tuple[str, str]:
    """``"sam:vit_b:/m.pth"`` → ``("sam", "vit_b:/m.pth")``; ``"builtin"`` → ``("builtin", "")``."""
    spec = (spec or "builtin").strip()
    kind, _, rest = spec.partition(":")
    return kind.lower(), rest


def get_segmenter(spec: str | Segmenter = "builtin", *, cache: PerceptionCache | None = None) -> Segmenter:
    """The segmenter for ``spec``, loaded once per spec string into ``cache`` (a
    :class:`~pertouch.tools.perception_cache.PerceptionCache`; None: the process's one)."""
    if isinstance(spec, Segmenter):
        return spec
    parts = split_chain(spec or "builtin")
    kind, rest = parse_spec(spec)
    key = "+".join(parts) if len(parts) > 1 else f"{kind}:{rest}"
    c = perception_cache(cache)
    return c.segmenter(key, lambda: _load(spec, parts, kind, rest, c))


def _load(spec: str, parts: list[str], kind: str, rest: str, cache: PerceptionCache) -> Segmenter:
    """A new segmenter for ``spec`` (chain members through ``cache``)."""
    if len(parts) > 1:
        seg: Segmenter = ChainSegmenter([get_segmenter(p, cache=cache) for p in parts])
    elif kind == "builtin" and not rest:
        from pertouch.tools.segmenters.builtin import BuiltinSegmenter

        seg = BuiltinSegmenter()
    elif kind == "sam" and rest:
        from pertouch.tools.segmenters.sam import SamSegmenter

        seg = SamSegmenter.from_spec(rest)
    elif kind == "hf-sam" and rest:
        from pertouch.tools.segmenters.hf_sam import HfSamSegmenter

        seg = HfSamSegmenter(rest)
    elif kind == "sam3" and rest:
        from pertouch.tools.segmenters.sam3 import Sam3Segmenter

        seg = Sam3Segmenter(rest)
    elif kind == "clipseg" and rest:
        from pertouch.tools.segmenters.clipseg import ClipSegSegmenter

        seg = ClipSegSegmenter(rest)
    elif kind == "grounded-sam" and rest:
        from pertouch.tools.segmenters.grounded_sam import GroundedSamSegmenter

        seg = GroundedSamSegmenter.from_spec(rest)
    elif kind == "ade20k" and rest:
        from pertouch.tools.segmenters.ade20k import Ade20kSegmenter

        seg = Ade20kSegmenter(rest)
    else:
        raise ModelError(f"unknown segmenter {spec!r}", hint=USAGE)
    seg.spec = spec
    return seg
