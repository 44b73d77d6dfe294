"""`memory import` is all or nothing and names the bad line (issue 15 §3), through the CLI."""

from __future__ import annotations

import json

import pytest

from pertouch.memory.records import MemoryRecord
from tests.reliability.conftest import cli, one_error_line


def _export(tmp_path, extra: str | bytes, n: int = 300):
    lines = [MemoryRecord(user="ana", scene_description=f"lake {i % 5}", levels={"sky": {"brightness": 0.1}}).dumps()
             for i in range(n)]
    path = tmp_path / "taste.jsonl"
    path.write_bytes(("\n".join(lines) + "\n").encode() + (extra.encode() if isinstance(extra, str) else extra))
    return path


def _stored() -> int:
    return json.loads(cli("memory", "stats", "--json").stdout)["records"]


@pytest.mark.parametrize("bad, words", [
    (json.dumps({"id": "", "user": "ana", "kind": "result", "timestamp": 1.0, "levels": {"sky": {"tint": 0.1}}}),
     "line 301: id: Value error, id must not be empty"),
    (json.dumps({"id": "r1", "user": "ana"}), "line 301: missing kind, timestamp, levels"),
])
def test_one_bad_record_stores_nothing(tmp_path, bad, words):
    line = one_error_line(cli("memory", "import", _export(tmp_path, bad + "\n")))
    assert words in line and "nothing was imported" in line and "move" not in line
    assert _stored() == 0


def test_binary_file_is_one_line(tmp_path):
    line = one_error_line(cli("memory", "import", _export(tmp_path, b"\x00\x01\xff\xfe" * 64, n=3)))
    assert "not a text file" in line
    assert _stored() == 0


def test_valid_file_imports_whole_and_again_unchanged(tmp_path):
    path = _export(tmp_path, "")
    for _ in range(2):
        out = cli("memory", "import", path)
        assert out.exit_code == 0 and "imported 300 memories" in out.stdout
    assert _stored() == 300
    listed = cli("memory", "list", "-n", "5")
    assert listed.exit_code == 0 and len(listed.stdout.splitlines()) == 5
