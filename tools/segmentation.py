"""The segmenter interface and the registry that picks a backend by a string.

Specs:

- ``builtin`` — offline default, no downloaded weights (:mod:`.segmenters.builtin`).
- ``sam:PATH`` or ``sam:vit_b:PATH`` — segment-anything checkpoints (``.pth``).
- ``hf-sam:PATH`` — transformers ``SamModel`` from a local HF-layout folder.
- ``sam3:PATH`` — SAM 3 through transformers (text prompts), local folder.

A backend turns a uint8 RGB proxy into :class:`Segment` proposals (masks at the
proxy's size). :mod:`pertouch.tools.perception` labels class-agnostic proposals,
brings masks to full resolution and measures levels; ``Segmenter.find`` returns the
full-resolution :class:`~pertouch.engine.regions.Region` for a named thing or raises
:class:`~pertouch.errors.NotFoundError`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from pertouch.errors import ModelError

if TYPE_CHECKING:
    from pertouch.engine.regions import Region
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

    def find(self, image: Any, text: str) -> "Region":
        """The full-resolution region named by ``text`` ("sky", "the eagle").

        Raises :class:`~pertouch.errors.NotFoundError` when the photo has none.
        """
        from pertouch.tools.perception import find_region

        return find_region(image, text, segmenter=self)


_CACHE: dict[str, Segmenter] = {}
_LOCK = threading.Lock()


def parse_spec(spec: str) -> tuple[str, str]:
    """``"sam:vit_b:/m.pth"`` → ``("sam", "vit_b:/m.pth")``; ``"builtin"`` → ``("builtin", "")``."""
    spec = (spec or "builtin").strip()
    kind, _, rest = spec.partition(":")
    return kind.lower(), rest


def get_segmenter(spec: str | Segmenter = "builtin") -> Segmenter:
    """The segmenter for ``spec`` (instances are cached per spec string)."""
    if isinstance(spec, Segmenter):
        return spec
    kind, rest = parse_spec(spec)
    key = f"{kind}:{rest}"
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    if kind == "builtin" and not rest:
        from pertouch.tools.segmenters.builtin import BuiltinSegmenter

        seg: Segmenter = BuiltinSegmenter()
    elif kind == "sam" and rest:
        from pertouch.tools.segmenters.sam import SamSegmenter

        seg = SamSegmenter.from_spec(rest)
    elif kind == "hf-sam" and rest:
        from pertouch.tools.segmenters.hf_sam import HfSamSegmenter

        seg = HfSamSegmenter(rest)
    elif kind == "sam3" and rest:
        from pertouch.tools.segmenters.sam3 import Sam3Segmenter

        seg = Sam3Segmenter(rest)
    else:
        raise ModelError(
            f"unknown segmenter {spec!r}",
            hint="use builtin, sam:PATH.pth (or sam:vit_b:PATH), hf-sam:FOLDER or sam3:FOLDER")
    seg.spec = spec if isinstance(spec, str) else seg.spec
    with _LOCK:
        _CACHE[key] = seg
    return seg


def clear_cache() -> None:
    """Forget loaded segmenters (tests)."""
    with _LOCK:
        _CACHE.clear()
