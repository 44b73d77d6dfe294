"""Text vectors carried by `memory export`: used on import only when they are this model's,
well formed and a fresh sample agrees; otherwise embedded again; a damaged one is a bad line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pertouch.core.errors import InputError
from pertouch.memory import carried, embeddings
from pertouch.memory.factory import open_memory
from pertouch.memory.importer import load_export
from pertouch.memory.records import MemoryRecord

TEXTS = ["a lake at dawn", "a city street at night", "a beach under a blue sky", "a forest in fog"]


def _store(tmp_path, name="store", kind="chroma"):
    return open_memory(f"chroma:{tmp_path / name}" if kind == "chroma" else "memory:")


def _records(n=12):
    return [MemoryRecord(id=f"r{i}", user="ana", scene_description=TEXTS[i % len(TEXTS)],
                         levels={"sky": {"brightness": 0.1 * (i % 5)}}, timestamp=1000.0 + i) for i in range(n)]


def _count_embedded(monkeypatch) -> list[str]:
    """Record every text that is embedded from now on (through either path)."""
    seen: list[str] = []
    real = embeddings.embed_texts

    def spy(texts):
        seen.extend(texts)
        return real(texts)

    monkeypatch.setattr(embeddings, "embed_texts", spy)
    monkeypatch.setattr(carried, "embed_texts", spy)
    return seen


def _vectors(mem) -> dict[str, np.ndarray]:
    return mem._text_vectors(mem.list())


@pytest.mark.parametrize("kind", ["chroma", "memory"])
def test_export_carries_each_description_once_and_import_reuses_it(tmp_path, monkeypatch, kind):
    src = _store(tmp_path, "a", kind)
    src.remember_many(_records())
    path = tmp_path / "export.jsonl"
    assert src.export(path) == 12
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    with_vec = [d["scene_description"] for d in lines if carried.VECTOR_FIELD in d]
    assert sorted(with_vec) == sorted(TEXTS)  # the first record of each description only
    assert all(d[carried.MODEL_FIELD] == carried.model_tag() for d in lines if carried.VECTOR_FIELD in d)

    seen = _count_embedded(monkeypatch)
    dst = _store(tmp_path, "b", kind)
    assert dst.import_(path) == 12
    assert sorted(seen) == sorted(TEXTS)  # only the check sample (all four: fewer than CHECKED)
    want, got = _vectors(src), _vectors(dst)
    assert set(got) == set(want)
    for rid in want:
        np.testing.assert_allclose(got[rid], want[rid], atol=1e-6)


def test_round_trip_vectors_are_exact(tmp_path):
    vec = embeddings.embed_texts(["a harbour at sunset"])[0]
    assert np.array_equal(carried.decode(carried.encode(vec), "x"), vec)


def test_vectors_that_disagree_are_all_ignored(tmp_path, monkeypatch):
    src = _store(tmp_path, "a", "memory")
    src.remember_many(_records())
    path = tmp_path / "export.jsonl"
    src.export(path)
    other = embeddings.embed_texts(["a snowfield in winter"])[0]
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    for d in lines:  # one description's vector swapped for another scene's (a unit vector, well formed)
        if d.get(carried.VECTOR_FIELD) and d["scene_description"] == TEXTS[1]:
            d[carried.VECTOR_FIELD] = carried.encode(other)
    path.write_text("".join(json.dumps(d) + "\n" for d in lines))
    seen = _count_embedded(monkeypatch)
    dst = _store(tmp_path, "b", "memory")
    dst.import_(path)
    assert sorted(seen[:len(TEXTS)]) == sorted(TEXTS)  # the check sample …
    assert sorted(seen[len(TEXTS):]) == sorted(TEXTS)  # … disagreed: everything embedded again
    got = _vectors(dst)
    fresh = embeddings.embed_texts([TEXTS[1]])[0]
    assert float(got["r1"] @ fresh) > 0.9999  # the swapped vector was not stored


def test_another_models_vectors_are_ignored(tmp_path, monkeypatch):
    src = _store(tmp_path, "a", "memory")
    src.remember_many(_records(4))
    path = tmp_path / "export.jsonl"
    src.export(path)
    path.write_text(path.read_text().replace(carried.model_tag(), "some-other-model@9"))
    got = load_export(path)
    assert len(got.records) == 4 and got.vectors == {}
    seen = _count_embedded(monkeypatch)
    _store(tmp_path, "b", "memory").import_(path)
    assert sorted(seen) == sorted(TEXTS)


@pytest.mark.parametrize("field, value, words", [
    (carried.VECTOR_FIELD, "not base64!", "not base64"),
    (carried.VECTOR_FIELD, carried.encode(np.ones(10, np.float32) / np.sqrt(10)), "holds 10 values"),
    (carried.VECTOR_FIELD, carried.encode(np.full(384, 0.5, np.float32)), "not a unit vector"),
    (carried.MODEL_FIELD, None, "go together"),
])
def test_a_damaged_vector_is_a_bad_line_and_nothing_is_imported(tmp_path, field, value, words):
    src = _store(tmp_path, "a", "memory")
    src.remember_many(_records(6))
    path = tmp_path / "export.jsonl"
    src.export(path)
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    i = next(k for k, d in enumerate(lines) if carried.VECTOR_FIELD in d and k > 0)
    if value is None:
        del lines[i][field]
    else:
        lines[i][field] = value
    path.write_text("".join(json.dumps(d) + "\n" for d in lines))
    dst = _store(tmp_path, "b", "chroma")
    with pytest.raises(InputError, match=f"line {i + 1}") as err:
        dst.import_(path)
    assert words in str(err.value) and "nothing was imported" in str(err.value)
    assert dst.count() == 0


def test_lines_without_vectors_are_embedded(tmp_path, monkeypatch):
    src = _store(tmp_path, "a", "memory")
    src.remember_many(_records(8))
    path = tmp_path / "export.jsonl"
    src.export(path)
    kept = [x for x in path.read_text().splitlines() if carried.VECTOR_FIELD not in x]  # grep -v
    path.write_text("\n".join(kept) + "\n")
    seen = _count_embedded(monkeypatch)
    dst = _store(tmp_path, "b", "memory")
    assert dst.import_(path) == len(kept)
    assert sorted(set(seen)) == sorted({json.loads(x)["scene_description"] for x in kept})
