"""`pertouch memory …` through typer's CliRunner, with PERTOUCH_HOME isolated."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pertouch.cli import app
from pertouch.memory.factory import open_memory
from pertouch.memory.records import MemoryRecord

runner = CliRunner()


@pytest.fixture()
def ids():
    mem = open_memory()  # default store under the isolated home
    a = mem.remember(MemoryRecord(user="ana", scene_description="a lake at dusk", instruction="make it nice",
                                  levels={"sky": {"temperature": 0.4}}, timestamp=1000.0))
    b = mem.remember(MemoryRecord(user="bob", scene_description="a city street", levels={}, timestamp=2000.0))
    return a, b


def run(*args):
    return runner.invoke(app, ["memory", *args])


def test_list_and_json(ids):
    a, b = ids
    out = run("list")
    assert out.exit_code == 0 and a in out.output and b in out.output
    assert out.output.index(b) < out.output.index(a)  # newest first
    data = json.loads(run("list", "--user", "ana", "--json").output)
    assert [d["id"] for d in data] == [a] and data[0]["levels"] == {"sky": {"temperature": 0.4}}


def test_show(ids):
    out = run("show", ids[0])
    assert out.exit_code == 0 and "a lake at dusk" in out.output and "temperature +0.40" in out.output
    assert json.loads(run("show", ids[0], "--json").output)["user"] == "ana"


def test_forget_one_and_user(ids):
    a, b = ids
    assert run("forget", a).exit_code == 0
    missing = run("show", a)
    assert missing.exit_code == 2 and "no memory" in missing.output and "Traceback" not in missing.output
    out = run("forget", "--user", "bob")
    assert out.exit_code == 0 and "forgot 1 memory of bob" in out.output
    assert "no memories" in run("list").output
    assert run("forget").exit_code == 2


def test_export_import_between_homes(ids, tmp_path, monkeypatch):
    path = tmp_path / "taste.jsonl"
    out = run("export", str(path), "--user", "ana")
    assert out.exit_code == 0 and "exported 1 memory" in out.output
    monkeypatch.setenv("PERTOUCH_HOME", str(tmp_path / "other_machine"))
    assert json.loads(run("stats", "--json").output)["records"] == 0
    out = run("import", str(path))
    assert out.exit_code == 0 and "imported 1 memory" in out.output
    stats = json.loads(run("stats", "--json").output)
    assert stats["users"] == {"ana": {"result": 1, "feedback": 0}} and "other_machine" in stats["store"]


def test_import_bad_file_is_one_line_error(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n")
    out = run("import", str(bad))
    assert out.exit_code == 2 and out.output.startswith("error:") and len(out.output.strip().splitlines()) == 1


def test_feedback_and_recall(ids):
    out = run("feedback", "--user", "ana", "never touch skin tones")
    assert out.exit_code == 0 and '"skin"' in out.output
    rec = json.loads(run("recall", "--user", "ana", "a lake at dusk with clouds", "--json").output)
    assert rec["preferences"]["sky"]["temperature"] == pytest.approx(0.4)
    assert rec["locks"] == {"skin": ["*"]}
    assert run("recall", "--user", "zoe", "a lake").output.startswith("no preferences")


def test_store_option_and_bad_kind(tmp_path):
    out = run("stats", "--store", f"chroma:{tmp_path / 'x'}")
    assert out.exit_code == 0 and "records: 0" in out.output
    assert run("list", "--kind", "banana").exit_code == 2
