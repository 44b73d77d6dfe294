"""batch.sources: folders, globs, CSV manifests and fsspec URLs."""

from __future__ import annotations

import fsspec
import pytest

from pertouch.batch.sources import Source, expand_sources, is_url, local_copy
from pertouch.core.errors import InputError


def test_folder_glob_and_file_are_unique_and_ordered(photos):
    folder = photos[0].parent
    got = expand_sources([str(photos[2]), str(folder), str(folder / "p00[01].png")])
    assert [s.name for s in got] == ["p002.png", "p000.png", "p001.png", "p003.png", "p004.png", "p005.png"]


def test_csv_rows_relative_to_the_csv_with_output_names(photos, tmp_path):
    (tmp_path / "list.csv").write_text(f"input,output\nin/p001.png,one.jpg\n{photos[3]},\n")
    got = expand_sources([str(tmp_path / "list.csv")])
    assert got == [Source(str(tmp_path / "in" / "p001.png"), "one.jpg"), Source(str(photos[3]), None)]


@pytest.mark.parametrize("text,words", [("photo\na.png\n", "'input' column"),
                                        ("input,output\na.png,../x.jpg\n", "file name")])
def test_bad_csv_is_one_clear_error(tmp_path, text, words):
    (tmp_path / "bad.csv").write_text(text)
    with pytest.raises(InputError, match=words):
        expand_sources([str(tmp_path / "bad.csv")])


def test_memory_urls_folder_glob_and_copy(photos, tmp_path):
    fs = fsspec.filesystem("memory")
    for p in photos[:3]:
        fs.pipe(f"/shoot/{p.name}", p.read_bytes())
    fs.pipe("/shoot/notes.txt", b"not a photo")
    got = expand_sources(["memory://shoot", "memory://shoot/p00[12].png"])
    assert [s.uri for s in got] == ["memory://shoot/p000.png", "memory://shoot/p001.png", "memory://shoot/p002.png"]
    copy = local_copy(got[1], tmp_path)
    assert copy == tmp_path / "p001.png" and copy.read_bytes() == photos[1].read_bytes()
    with pytest.raises(InputError, match="not found"):
        expand_sources(["memory://shoot/missing.png"])


def test_file_urls_are_read_in_place(photos):
    src = expand_sources([f"file://{photos[0].parent}"])
    assert len(src) == 6 and all(s.is_url for s in src)
    assert local_copy(src[0], photos[0].parent / "nowhere") == photos[0]


def test_what_counts_as_a_url():
    assert is_url("s3://b/k") and is_url("file:///x") and not is_url("C://x") and not is_url("a/b.png")
