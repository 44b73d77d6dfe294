"""memory import: every line validated first, the bad one named, nothing stored when any is bad."""

from __future__ import annotations

import json

import pytest

from pertouch.core.errors import InputError
from pertouch.memory.factory import open_memory
from pertouch.memory.importer import read_export
from pertouch.memory.records import MemoryRecord


def _lines(n: int) -> list[str]:
    return [MemoryRecord(user="ana", scene_description=f"lake {i % 7}", levels={"sky": {"brightness": 0.1}}).dumps()
            for i in range(n)]


@pytest.mark.parametrize("bad, words", [
    (json.dumps({"id": "", "user": "ana", "kind": "result", "timestamp": 1.0, "levels": {"sky": {"brightness": 0.1}}}),
     "id must not be empty"),
    (json.dumps({"id": "x1", "user": "ana"}), "missing kind, timestamp, levels"),
    (json.dumps({"id": "x2", "user": "ana", "kind": "feedback", "timestamp": 1.0}), "missing feedback"),
    (json.dumps({"id": "x3", "user": "ana", "kind": "result", "timestamp": -5, "levels": {"sky": {"tint": 0.1}}}),
     "timestamp"),
    (json.dumps({"id": "x4", "user": "ana", "kind": "result", "timestamp": 1.0, "levels": {"sky": {"tint": 7}}}),
     "outside"),
    ("[1, 2]", "must be a JSON object"),
    ("{" * 100_000, "not JSON"),
])
def test_one_bad_line_stores_nothing_and_is_named(tmp_path, bad, words):
    lines = _lines(300)
    lines.insert(257, bad)
    path = tmp_path / "taste.jsonl"
    path.write_text("\n".join(lines) + "\n")
    mem = open_memory(f"chroma:{tmp_path / 'store'}")
    with pytest.raises(InputError, match="line 258") as err:
        mem.import_(path)
    assert words in str(err.value) and "nothing was imported" in str(err.value)
    assert mem.count() == 0


def test_binary_file_is_refused_whole(tmp_path):
    path = tmp_path / "photo.jsonl"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(InputError, match="not a text file"):
        read_export(path)
    path.write_bytes(b'{"a": "\xff\xfe"}\n')
    with pytest.raises(InputError, match="line 1: not UTF-8"):
        read_export(path)


def test_all_bad_lines_are_counted(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text("{oops\n" + _lines(1)[0] + "\n[]\n{}\n")
    with pytest.raises(InputError, match=r"line 1: not JSON .*\(and 2 more bad lines\)"):
        read_export(path)


def test_same_id_twice_keeps_the_later_line(tmp_path):
    a = MemoryRecord(id="r1", user="ana", levels={"sky": {"brightness": 0.1}})
    b = a.model_copy(update={"rating": -1.0})
    path = tmp_path / "t.jsonl"
    path.write_text(a.dumps() + "\n" + b.dumps() + "\n")
    got = read_export(path)
    assert [(r.id, r.rating) for r in got] == [("r1", -1.0)]


def test_reimport_skips_unchanged_and_updates_changed_without_new_vectors(tmp_path, monkeypatch):
    mem = open_memory(f"chroma:{tmp_path / 'store'}")
    recs = [MemoryRecord(user="ana", scene_description=f"a lake at dusk {i}", levels={"sky": {"brightness": 0.2}})
            for i in range(20)]
    path = tmp_path / "t.jsonl"
    path.write_text("".join(r.dumps() + "\n" for r in recs))
    assert mem.import_(path) == 20
    before = mem.recall("ana", "a lake at dusk 3", k=1).evidence[0]
    import pertouch.memory.embeddings as emb

    calls = []
    real = emb.embed_texts
    monkeypatch.setattr(emb, "embed_texts", lambda texts: calls.append(list(texts)) or real(texts))
    assert mem.import_(path) == 20  # unchanged: nothing embedded, nothing written
    path.write_text("".join(r.model_copy(update={"rating": -0.5}).dumps() + "\n" for r in recs))
    assert mem.import_(path) == 20  # ratings changed, same scenes: stored vectors kept
    assert calls == []
    assert mem.count() == 20 and {r.rating for r in mem.list()} == {-0.5}
    after = mem.recall("ana", "a lake at dusk 3", k=1, min_similarity=-1).evidence[0]
    assert after.record_id == before.record_id and after.similarity == pytest.approx(before.similarity, abs=1e-5)


def test_failed_write_rolls_back(tmp_path, monkeypatch):
    from pertouch.memory.base import MemoryUnavailable
    from pertouch.memory.chroma_store import ChromaMemory

    mem = open_memory(f"chroma:{tmp_path / 'store'}")
    old = MemoryRecord(id="keep", user="ana", scene_description="old scene", levels={"sky": {"brightness": 0.1}})
    mem.remember(old)
    new = [old.model_copy(update={"scene_description": "new scene"}),
           MemoryRecord(user="bob", scene_description="x", levels={"sky": {"brightness": 0.1}})]
    path = tmp_path / "t.jsonl"
    path.write_text("".join(r.dumps() + "\n" for r in new))
    real, n = ChromaMemory._put, []

    def flaky(col, name, records, vectors, part):
        n.append(1)
        if len(n) == 2:
            raise RuntimeError("disk full")
        return real(col, name, records, vectors, part)

    monkeypatch.setattr(ChromaMemory, "_put", staticmethod(flaky))
    with pytest.raises(MemoryUnavailable, match="nothing was imported"):
        mem.import_(path)
    assert mem.count() == 1 and mem.get("keep").scene_description == "old scene"
