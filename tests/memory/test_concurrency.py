"""Two processes writing to one store at once lose nothing."""

from __future__ import annotations

import multiprocessing as mp

import numpy as np

from pertouch.memory.chroma_store import ChromaMemory
from pertouch.memory.records import MemoryRecord

N = 40


def _writer(path: str, user: str, n: int, start) -> None:
    mem = ChromaMemory(path)
    dim = mem._dim()
    rng = np.random.default_rng(abs(hash(user)) % 2**32)
    start.wait(timeout=60)
    for i in range(n):  # one record per write: as many interleavings as possible
        v = rng.normal(size=(1, dim)).astype(np.float32)
        v /= np.linalg.norm(v)
        mem.remember_many([MemoryRecord(id=f"{user}-{i}", user=user, scene_description=f"scene {i}",
                                        levels={"global": {"brightness": 0.1}})], vectors=v)


def test_two_writer_processes_lose_nothing(tmp_path):
    path = str(tmp_path / "store")
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=_writer, args=(path, u, N, start)) for u in ("ana", "bob")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=240)
    assert [p.exitcode for p in procs] == [0, 0]
    mem = ChromaMemory(path)
    assert mem.count() == 2 * N
    assert {r.id for r in mem.list(user="ana")} == {f"ana-{i}" for i in range(N)}
    assert {r.id for r in mem.list(user="bob")} == {f"bob-{i}" for i in range(N)}
    # the vector index has them too, not just the metadata table
    res = mem._col.query(query_embeddings=[np.ones(mem._dim(), np.float32)], n_results=3 * N,
                         where={"user": "bob"}, include=[])
    assert len(res["ids"][0]) == N
