"""Every failure a person can cause is one `error:` line and exit 2 — never "internal error"
(issue 15 §4: the probe's cases, one test each)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.reliability.conftest import cli, one_error_line


def test_output_folder_not_writable_is_refused_before_rendering(photo, tmp_path, monkeypatch):
    import pertouch.commands.apply as apply_cmd

    def no_render(*a, **k):
        raise AssertionError("rendered before checking the output folder")

    monkeypatch.setattr(apply_cmd, "_render", no_render)
    # /proc takes no new files, even for root (a chmod 555 folder would, for root)
    line = one_error_line(cli("apply", photo, "--set", "global.brightness=+0.1", "-o", "/proc/out.jpg"))
    assert "cannot write in /proc" in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_read_only_folder(photo, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    line = one_error_line(cli("apply", photo, "--set", "global.brightness=+0.1", "-o", ro / "out.jpg"))
    assert "Permission denied" in line


def test_retouch_checks_the_output_folder_before_the_agent_runs(photo, monkeypatch):
    import pertouch.graph.builder as builder

    monkeypatch.setattr(builder, "build_graph", lambda *a, **k: (_ for _ in ()).throw(AssertionError("ran")))
    one_error_line(cli("retouch", photo, "brighter sky", "-o", "/proc/out.jpg"))


def test_recipe_nested_100000_deep(photo, tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    assert "nested too deeply" in one_error_line(cli("apply", photo, "--recipe", deep, "-o", tmp_path / "o.jpg"))


def _damaged_pages(db) -> None:
    """A real SQLite file whose header is fine and whose later pages are garbage."""
    import sqlite3

    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE checkpoints (thread_id TEXT, data BLOB)")
    conn.executemany("INSERT INTO checkpoints VALUES (?, ?)", [(str(i), os.urandom(3000)) for i in range(40)])
    conn.commit()
    conn.close()
    data = bytearray(db.read_bytes())
    for off in range(4096, len(data), 4096):
        data[off + 8:off + 200] = os.urandom(192)
    db.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["random", "header only", "damaged pages"])
def test_corrupt_session_store_new_chat_and_resume(photo, _isolated_home, damage):
    db = _isolated_home / "sessions.sqlite"
    if damage == "damaged pages":
        _damaged_pages(db)
    else:
        db.write_bytes((b"SQLite format 3\x00" if damage == "header only" else b"") + os.urandom(8192))
    for args in (["chat", photo], ["chat", "--session", "abc123"]):
        line = one_error_line(cli(*args, input="brighter\n"))
        assert "session store" in line and "unreadable" in line


def test_home_that_is_a_file(tmp_path, monkeypatch):
    f = tmp_path / "home-file"
    f.write_text("x")
    monkeypatch.setenv("PERTOUCH_HOME", str(f))
    assert "is a file, not a folder" in one_error_line(cli("memory", "stats"))


def test_broken_pipe_exits_quietly(tmp_path):
    home = tmp_path / "home"
    from pertouch.memory.factory import open_memory
    from pertouch.memory.records import MemoryRecord

    mem = open_memory(f"chroma:{home / 'memory'}")
    mem.remember_many([MemoryRecord(user="ana", scene_description=f"scene {i}", levels={"sky": {"brightness": 0.1}})
                       for i in range(300)])
    cmd = f"{sys.executable} -c 'from pertouch.cli import main; main()' memory list -n 0 | head -0"
    out = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], env={**os.environ, "PERTOUCH_HOME": str(home)},
                         capture_output=True, text=True, timeout=120)
    assert out.stderr == "" and out.returncode == 141  # what a Unix tool killed by SIGPIPE reports


def test_quality_zero_is_an_error_line_not_the_usage_box(photo, tmp_path):
    line = one_error_line(cli("apply", photo, "--set", "global.brightness=+0.1", "-o", tmp_path / "o.jpg",
                              "--quality", "0"))
    assert "--quality 0" in line


def test_device_mask_is_not_a_file(photo, tmp_path):
    line = one_error_line(cli("apply", photo, "--set", "sky.brightness=+0.1", "--mask", "sky=/dev/zero",
                              "-o", tmp_path / "o.jpg"))
    assert "is not a file" in line and "not found" not in line


def test_stale_temporaries_are_removed_on_the_next_write(photo, tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)  # a process that has exited: its temporaries are stale
    stale = [tmp_path / f".o.jpg.pt{pid}-abc123.tmp", tmp_path / ".o.jpg.pertouch.json.x1y2z3w4.tmp"]
    for p in stale:
        p.write_bytes(b"partial")
    old = time.time() - 7200
    os.utime(stale[1], (old, old))  # the older naming: stale after an hour
    live = tmp_path / f".o.jpg.pt{os.getpid()}-zzz999.tmp"  # a writer still running: kept
    live.write_bytes(b"busy")
    assert cli("apply", photo, "--set", "global.brightness=+0.1", "-o", tmp_path / "o.jpg").exit_code == 0
    assert not any(p.exists() for p in stale) and live.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == [live.name]


def test_kill_9_during_writes_leaves_no_temporary_after_the_next_run(photo, tmp_path):
    out = tmp_path / "big.png"
    code = ("import numpy as np, sys; from pertouch.engine.io.read import save_image\n"
            "px = np.random.default_rng(0).integers(0, 65535, (1500, 2000, 3), dtype=np.uint16)\n"
            "while True: save_image(sys.argv[1], px)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(out)])
    deadline = time.time() + 60
    while time.time() < deadline and not list(tmp_path.glob(".big.png.*.tmp")):
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    assert cli("apply", photo, "--set", "global.brightness=+0.1", "-o", out).exit_code == 0
    assert not list(tmp_path.glob(".big.png.*.tmp"))


def test_a_broken_socket_is_not_mistaken_for_a_closed_stdout():
    import typer

    from pertouch.cli import handle_errors

    app = typer.Typer()

    @app.command()
    @handle_errors
    def talk() -> None:
        raise BrokenPipeError(32, "Broken pipe")  # e.g. a model server's socket, stdout is fine

    from typer.testing import CliRunner

    out = CliRunner().invoke(app, [])
    assert out.exit_code == 1 and "internal error: BrokenPipeError" in out.stderr
