"""The list/stats index beside a Chroma store: right answers, rebuilt when stale or broken."""

from __future__ import annotations

from pertouch.memory.chroma_store import ChromaMemory
from pertouch.memory.index import FILE_NAME, RecordIndex
from pertouch.memory.records import MemoryRecord


def _fill(mem, n=30):
    recs = [MemoryRecord(user=f"u{i % 3}", kind="result", scene_description=f"s{i}", timestamp=1000.0 + i,
                         levels={"global": {"brightness": 0.1}}) for i in range(n)]
    mem.remember_many(recs)
    mem.add_feedback("u0", "too warm")
    return recs


def test_list_and_stats_match_a_full_scan(tmp_path):
    mem = ChromaMemory(tmp_path / "s")
    recs = _fill(mem)
    assert [r.id for r in mem.list(limit=5)][1:] == [r.id for r in recs[::-1][:4]]
    assert [r.id for r in mem.list(user="u1", kind="result", limit=3)] == [r.id for r in recs[::-1] if r.user == "u1"][:3]
    s = mem.stats()
    assert s["records"] == 31 and s["users"]["u0"] == {"result": 10, "feedback": 1}
    mem.forget(recs[-1].id)
    assert recs[-1].id not in {r.id for r in mem.list(limit=5)}
    assert mem.forget_user("u1") == 10 and mem.stats()["records"] == 20


def test_stale_dirty_or_broken_index_is_rebuilt(tmp_path):
    mem = ChromaMemory(tmp_path / "s")
    recs = _fill(mem)
    index = RecordIndex(tmp_path / "s")
    index.begin()  # a writer killed after marking it dirty
    index.record([], delete=[r.id for r in recs[-3:]])  # and rows lost: stays dirty
    assert mem.stats()["records"] == 31 and mem.list(limit=1)[0].kind == "feedback"
    (tmp_path / "s" / FILE_NAME).write_bytes(b"garbage, not sqlite" * 10)
    assert mem.stats()["records"] == 31
    (tmp_path / "s" / FILE_NAME).unlink()  # a store written before the index existed
    assert [r.id for r in mem.list(limit=2)][1] == recs[-1].id
