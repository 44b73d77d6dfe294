"""MiniLM loads offline from the package; the combined vector scores as documented;
the Chroma embedding function is registered so reopened collections never fall back."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from pertouch.memory import embeddings as emb


def test_text_vectors_are_unit_and_semantic():
    v = emb.embed_texts(["a mountain lake at sunset", "a lake among mountains in the evening",
                         "portrait of a smiling man", ""])
    assert v.shape == (4, emb.TEXT_DIM) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v[:3], axis=1), 1.0, atol=1e-4)
    assert not np.any(v[3])  # empty text → zero vector
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3


def test_embed_text_cached_and_equal_to_batch():
    a = emb.embed_text("green hills")
    assert np.allclose(a, emb.embed_texts(["green hills"])[0], atol=1e-5)
    a[0] = 99.0  # callers get copies, the cache is not corrupted
    assert emb.embed_text("green hills")[0] != 99.0


def test_model_loads_without_network(monkeypatch):
    emb._model.cache_clear()
    emb._embed_one_cached.cache_clear()

    def no_network(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    assert emb.embed_text("offline please").shape == (emb.TEXT_DIM,)


def test_combined_inner_product_is_weighted_sum_of_cosines():
    rng = np.random.default_rng(0)
    t1, t2 = (x / np.linalg.norm(x) for x in rng.normal(size=(2, emb.TEXT_DIM)))
    d1, d2 = rng.normal(size=(2, 20))
    v1, v2 = emb.combine(t1, d1, 20), emb.combine(t2, d2, 20)
    cos_d = d1 @ d2 / np.linalg.norm(d1) / np.linalg.norm(d2)
    assert np.isclose(v1 @ v2, emb.TEXT_WEIGHT * (t1 @ t2) + emb.DESCRIPTOR_WEIGHT * cos_d, atol=1e-5)
    assert np.isclose(np.linalg.norm(v1), 1.0, atol=1e-5)
    back_t, back_d = emb.split(v1)
    assert np.allclose(back_t, t1, atol=1e-5) and np.isclose(np.linalg.norm(back_d), 1.0, atol=1e-5)
    with pytest.raises(ValueError):
        emb.combine(t1, d1, 21)


def test_registered_embedding_function_survives_reopen(tmp_path):
    import chromadb
    from chromadb.config import Settings
    from chromadb.utils.embedding_functions import known_embedding_functions

    from pertouch.memory.chroma_store import ChromaMemory, collection_name
    from pertouch.memory.records import MemoryRecord

    path = tmp_path / "store"
    mem = ChromaMemory(path)
    mem.remember(MemoryRecord(user="ana", scene_description="a quiet harbour at dawn"))
    assert emb.EMBEDDING_FUNCTION_NAME in known_embedding_functions
    # A second, plain client on the same path (same settings) reopens the collection
    # without being handed an embedding function: it must rebuild ours, not the default.
    client = chromadb.PersistentClient(path=str(path.resolve()), settings=Settings(anonymized_telemetry=False, allow_reset=False))
    col = client.get_collection(collection_name("ana"))
    # chromadb 1.x keeps a DefaultEmbeddingFunction placeholder on the handle but embeds
    # with the one rebuilt from the persisted configuration, found by registered name.
    ef = col.configuration.get("embedding_function")
    assert type(ef).__name__ == "SceneEmbeddingFunction"
    assert ef.descriptor_dim > 0
    vec = col._embed(["a quiet harbour"], is_query=True)[0]
    assert len(vec) == emb.TEXT_DIM + ef.descriptor_dim
    assert np.allclose(vec[:emb.TEXT_DIM], np.sqrt(emb.TEXT_WEIGHT) * emb.embed_text("a quiet harbour"), atol=1e-5)
    # …so a plain text query runs offline against our vectors.
    assert col.query(query_texts=["a quiet harbour"], n_results=1)["documents"] == [["a quiet harbour at dawn"]]


def test_onnx_and_torch_paths_agree(monkeypatch):
    from pertouch.memory import text_onnx

    texts = ["a mountain lake at sunset", "portrait of a smiling man with a long beard in soft window light"]
    fast = text_onnx.encode(texts)
    assert fast is not None, "the ONNX path should be available in the dev environment"
    slow = np.asarray(emb._model().encode(texts, normalize_embeddings=True), np.float32)
    assert fast.shape == slow.shape == (2, emb.TEXT_DIM)
    assert np.allclose(fast, slow, atol=1e-4)
    monkeypatch.setenv(text_onnx.ENV_BACKEND, "torch")
    text_onnx.session.cache_clear()
    try:
        assert text_onnx.encode(texts) is None
        assert np.allclose(emb.embed_texts(texts), slow, atol=1e-5)
    finally:
        monkeypatch.delenv(text_onnx.ENV_BACKEND)
        text_onnx.session.cache_clear()
