"""Both stores behave the same; the Chroma store persists, isolates users, migrates,
and fails clearly when it cannot be used."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pertouch.core.errors import InputError, NotFoundError
from pertouch.memory.base import MemoryUnavailable
from pertouch.memory.chroma_store import ChromaMemory, collection_name
from pertouch.memory.descriptors import image_descriptor
from pertouch.memory.factory import open_memory, open_memory_or_none
from pertouch.memory.records import SCHEMA_VERSION, MemoryRecord

from .conftest import LANDSCAPE_REGIONS

WARM = {"global": {"temperature": 0.5, "brightness": 0.4}}
COOL = {"global": {"temperature": -0.6, "brightness": -0.3}}


def _rec(user, desc="a mountain lake at sunset", levels=WARM, **kw):
    return MemoryRecord(user=user, scene_description=desc, levels=levels, **kw)


def test_roundtrip_get_list_forget(store):
    a = store.remember(_rec("ana", timestamp=1000.0))
    b = store.remember(_rec("ana", "a cat on a sofa", timestamp=2000.0))
    c = store.remember(_rec("bob"))
    assert store.get(a).levels == WARM
    assert [r.id for r in store.list(user="ana")] == [b, a]  # newest first
    assert store.count() == 3 and store.count("ana") == 2
    store.forget(a)
    with pytest.raises(NotFoundError):
        store.get(a)
    with pytest.raises(NotFoundError):
        store.forget(a)
    assert store.forget_user("ana") == 1
    assert [r.id for r in store.list()] == [c]


def test_users_never_see_each_others_memories(store, landscapes):
    d = image_descriptor(landscapes[0], LANDSCAPE_REGIONS).tolist()
    ana = {store.remember(_rec("ana", image_descriptor=d)) for _ in range(3)}
    bob = {store.remember(_rec("bob", levels=COOL, image_descriptor=d)) for _ in range(5)}
    ra = store.recall("ana", "a mountain lake at sunset", d, k=20, min_similarity=-1.0)
    rb = store.recall("bob", "a mountain lake at sunset", d, k=20, min_similarity=-1.0)
    assert {e.record_id for e in ra.evidence} == ana
    assert {e.record_id for e in rb.evidence} == bob
    assert ra.preferences["global"]["temperature"] > 0 > rb.preferences["global"]["temperature"]
    assert store.recall("carol", "a mountain lake at sunset", d).is_empty
    assert {r.id for r in store.list(user="bob")} == bob


def test_threshold_and_k(store):
    for i in range(5):
        store.remember(_rec("ana", timestamp=1000.0 + i))
    store.remember(_rec("ana", "a plate of spaghetti on a kitchen table", levels=COOL))
    r = store.recall("ana", "a mountain lake at sunset", k=3)
    assert len(r.evidence) == 3 and all(e.similarity > 0.9 for e in r.evidence)
    assert r.preferences["global"]["temperature"] == pytest.approx(0.5)
    everything = store.recall("ana", "a mountain lake at sunset", k=10, min_similarity=-1.0)
    assert len(everything.evidence) == 6


def test_export_import_roundtrip(store, tmp_path):
    ids = [store.remember(_rec("ana", tags=["Outdoor"])), store.remember(_rec("bob"))]
    store.add_feedback("ana", "never touch skin tones")
    path = tmp_path / "taste.jsonl"
    assert store.export(path, user="ana") == 2
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert {x["user"] for x in lines} == {"ana"} and all(x["schema_version"] == SCHEMA_VERSION for x in lines)
    other = open_memory("memory:")
    assert other.import_(path) == 2
    assert other.get(ids[0]).tags == ["outdoor"]
    assert other.recall("ana", "a portrait").locked("face") == {"*"}


def test_import_rejects_bad_files_whole(store, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(_rec("ana").dumps() + "\n{not json\n")
    with pytest.raises(InputError, match="line 2"):
        store.import_(bad)
    bad.write_text(_rec("ana").dumps() + "\n" + json.dumps({"user": "x", "levels": {"sky": {"warmth": 5}}}) + "\n")
    with pytest.raises(InputError, match="outside"):
        store.import_(bad)
    bad.write_text(_rec("ana", image_descriptor=[0.5, 0.5]).dumps() + "\n")
    with pytest.raises(InputError, match="image_descriptor has 2 values"):
        store.import_(bad)
    assert store.count() == 0  # nothing half-imported
    with pytest.raises(InputError):
        store.import_(tmp_path / "missing.jsonl")


def test_persists_and_carries_schema_version(tmp_path):
    path = tmp_path / "store"
    rid = ChromaMemory(path).remember(_rec("ana"))
    again = open_memory(f"chroma:{path}")
    assert again.get(rid).user == "ana"
    assert again._open(collection_name("ana")).metadata["pertouch_schema"] == SCHEMA_VERSION


def test_default_store_lives_under_home(_isolated_home):
    mem = open_memory()
    assert str(_isolated_home) in mem.spec and mem.spec.endswith("memory")


def test_old_schema_is_migrated_on_open(tmp_path):
    path = tmp_path / "store"
    mem = ChromaMemory(path)
    mem.remember(_rec("ana"))  # creates ana's collection
    col = mem._open(collection_name("ana"))
    old = {"id": "old1", "user": "ana", "scene_description": "a lake", "recipe": {"sky": {"warmth": 0.3}},
           "accepted": False, "timestamp": 5.0, "schema_version": 0}
    col.add(ids=["old1"], embeddings=[mem.vector_for("a lake", None)], documents=["a lake"],
            metadatas=[{"user": "ana", "kind": "result", "record": json.dumps(old)}])
    col.modify(metadata={**col.metadata, "pertouch_schema": 0})
    migrated = ChromaMemory(path)  # a new session checks (and migrates) every collection
    rec = migrated.get("old1")
    assert rec.levels == {"sky": {"temperature": 0.3}} and rec.rating == -1.0
    col = migrated._open(collection_name("ana"))
    assert col.metadata["pertouch_schema"] == SCHEMA_VERSION
    assert json.loads(col.get(ids=["old1"])["metadatas"][0]["record"])["schema_version"] == SCHEMA_VERSION


def test_corrupt_store_is_a_clear_error(tmp_path):
    path = tmp_path / "broken"
    path.mkdir()
    (path / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(MemoryUnavailable, match="cannot be opened"):
        ChromaMemory(path)
    mem, warning = open_memory_or_none(f"chroma:{path}")
    assert mem is None and warning.startswith("memory is off for this run") and "move" in warning


def test_locked_store_is_a_clear_error(tmp_path):
    from filelock import FileLock

    path = tmp_path / "store"
    mem = ChromaMemory(path, lock_timeout=0.2)
    with FileLock(str(path / ".pertouch.lock")):
        with pytest.raises(MemoryUnavailable, match="locked by another process"):
            mem.remember_many([_rec("ana")], vectors=np.zeros((1, mem._dim()), np.float32))
    assert mem.count() == 0


def test_unreachable_server_and_bad_spec():
    mem, warning = open_memory_or_none("chroma+http://127.0.0.1:1")
    assert mem is None and "Chroma server" in warning
    with pytest.raises(InputError):
        open_memory("s3://bucket")


def test_named_in_process_store_is_shared():
    a, b = open_memory("memory:shared-test"), open_memory("memory:shared-test")
    assert a is b and open_memory("memory:") is not open_memory("memory:")


def test_one_collection_per_user_with_our_embedding_function(tmp_path):
    mem = ChromaMemory(tmp_path / "store")
    mem.remember(_rec("ana"))
    mem.remember(_rec("Bob Smith / ünïcode"))
    names = mem._names()
    assert names == sorted([collection_name("ana"), collection_name("Bob Smith / ünïcode")])
    assert all(len(n) >= 3 for n in names)
    col = mem._open(names[0])
    assert type(col.configuration["embedding_function"]).__name__ == "SceneEmbeddingFunction"
    assert mem.recall("nobody", "a mountain lake at sunset").is_empty
    assert mem._names() == names  # a recall for an unknown user creates nothing


def test_both_backends_score_alike(tmp_path, landscapes, portrait):
    """Chroma's distances and the in-memory exact search give the same similarities."""
    d_land = image_descriptor(landscapes[0], LANDSCAPE_REGIONS).tolist()
    d_port = image_descriptor(portrait).tolist()
    recs = [_rec("ana", "a lake", image_descriptor=d_land), _rec("ana", "a portrait of a man"),
            _rec("ana", "", image_descriptor=d_port), _rec("ana", "a forest", image_descriptor=d_port)]
    chroma, mem = ChromaMemory(tmp_path / "s"), open_memory("memory:")
    for m in (chroma, mem):
        m.remember_many(recs)
    for query in [("a lake at dawn", d_land), ("a lake at dawn", None), ("", d_port)]:
        a = {e.record_id: e.similarity for e in chroma.recall("ana", *query, k=10, min_similarity=-1).evidence}
        b = {e.record_id: e.similarity for e in mem.recall("ana", *query, k=10, min_similarity=-1).evidence}
        assert a.keys() == b.keys() and len(a) == 4
        assert all(abs(a[k] - b[k]) < 1e-3 for k in a), (a, b)


@pytest.mark.slow
def test_chroma_server_url(tmp_path):
    """`chroma run` + chroma+http://host:port: same behaviour as the embedded store."""
    import os
    import socket
    import subprocess
    import sys
    import time

    chroma = os.path.join(os.path.dirname(sys.executable), "chroma")
    if not os.path.exists(chroma):
        pytest.skip("the chroma CLI is not installed next to this Python")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([chroma, "run", "--path", str(tmp_path / "srv"), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, mem = time.time() + 40, None
        while mem is None and time.time() < deadline:
            mem, warning = open_memory_or_none(f"chroma+http://127.0.0.1:{port}")
            time.sleep(0.2)
        assert mem is not None, warning
        rid = mem.remember(_rec("ana"))
        mem.remember(_rec("bob", levels=COOL))
        rec = mem.recall("ana", "a lake among mountains at dusk")
        assert [e.record_id for e in rec.evidence] == [rid]
        assert rec.preferences["global"]["temperature"] == pytest.approx(0.5)
        assert mem.forget_user("ana") == 1 and mem.count() == 1
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_unscoped_feedback_has_its_own_small_collection(tmp_path):
    mem = ChromaMemory(tmp_path / "store")
    mem.remember(_rec("ana"))
    fb = mem.add_feedback("ana", "never touch skin tones")
    assert collection_name("ana", unscoped=True) in mem._names()
    assert mem.recall("ana", "a portrait in a park").locked("skin") == {"*"}
    assert mem.get(fb.id).feedback == "never touch skin tones"
    assert mem.stats()["users"] == {"ana": {"result": 1, "feedback": 1}}
    assert mem.forget_user("ana") == 2 and mem._names() == []


def test_levels_past_the_table_are_remembered(store):
    # a sky bluer than every photo of the level table measures below -1 (engine/schema/levels.py)
    deep = {"sky": {"temperature": -1.21}, "building": {"contrast": 1.014}}
    rid = store.remember(_rec("ana", levels=deep))
    assert store.get(rid).levels == deep
    with pytest.raises(ValueError, match="outside"):
        _rec("ana", levels={"sky": {"temperature": -1.6}})
