"""Two processes writing to one store at once lose nothing."""

from __future__ import annotations

import multiprocessing as mp

import numpy as np

from pertouch.memory.chroma_store import ChromaMemory, collection_name
from pertouch.memory.records import MemoryRecord

N = 40


def _writer(path: str, tag: str, n: int, start) -> None:
    mem = ChromaMemory(path)
    dim = mem._dim()
    rng = np.random.default_rng(ord(tag))
    start.wait(timeout=60)
    for i in range(n):  # one record per write: as many interleavings as possible
        v = rng.normal(size=(1, dim)).astype(np.float32)
        v /= np.linalg.norm(v)
        user = ("ana", "bob")[i % 2]  # both processes write into both users' collections
        mem.remember_many([MemoryRecord(id=f"{tag}-{i}", user=user, scene_description=f"scene {i}",
                                        levels={"global": {"brightness": 0.1}})], vectors=v)


def test_two_writer_processes_lose_nothing(tmp_path):
    path = str(tmp_path / "store")
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=_writer, args=(path, tag, N, start)) for tag in ("p", "q")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=240)
    assert [p.exitcode for p in procs] == [0, 0]
    mem = ChromaMemory(path)
    assert mem.count() == 2 * N
    assert {r.id for r in mem.list(user="ana")} == {f"{t}-{i}" for t in "pq" for i in range(0, N, 2)}
    assert {r.id for r in mem.list(user="bob")} == {f"{t}-{i}" for t in "pq" for i in range(1, N, 2)}
    # the vector index has them too, not just the metadata table
    col = mem._open(collection_name("bob"))
    res = col.query(query_embeddings=[np.ones(mem._dim(), np.float32)], n_results=3 * N, include=[])
    assert len(res["ids"][0]) == N
