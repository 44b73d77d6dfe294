"""batch.executor with local processes: outputs, manifest, resume, failures, a killed worker."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
from pathlib import Path

import pytest

from pertouch.batch.executor import Executor, parse_executor, run_batch
from pertouch.batch.manifest import MANIFEST_NAME, Manifest
from pertouch.batch.sources import expand_sources
from pertouch.batch.tasks import BatchSpec
from pertouch.core.errors import InputError
from pertouch.engine.io.read import load_image
from tests.batch.conftest import GLOBAL_RECIPE

SPEC = BatchSpec("apply", recipe=GLOBAL_RECIPE)


def _lines(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / MANIFEST_NAME).read_text().splitlines() if x.strip()]


def _check_complete(out: Path, photos: list[Path]) -> None:
    """Every photo: exactly one manifest line, its output and sidecar there and readable."""
    names = sorted(Path(e["output"]).name for e in _lines(out))
    assert names == sorted(p.name for p in photos)
    for p in photos:
        assert load_image(out / p.name).shape == load_image(p).shape
        assert json.loads((out / f"{p.name}.pertouch.json").read_text())["meta"]["input_hash"]
    assert not [f for f in os.listdir(out) if f.endswith(".tmp")]


def test_in_process_batch_then_resume_then_new_recipe(photos, tmp_path):
    out = tmp_path / "out"
    seen = []
    first = run_batch(SPEC, expand_sources([str(photos[0].parent)]), out, Executor("local", jobs=1),
                      on_result=lambda s, state: seen.append(state))
    assert (len(first.done), len(first.skipped), first.errors) == (6, 0, [])
    assert seen == ["done"] * 6
    _check_complete(out, photos)
    before = {p.name: (out / p.name).stat().st_mtime_ns for p in photos}
    again = run_batch(SPEC, expand_sources([str(photos[0].parent)]), out, Executor("local", jobs=1))
    assert (len(again.done), len(again.skipped)) == (0, 6)
    assert before == {p.name: (out / p.name).stat().st_mtime_ns for p in photos}  # nothing rendered again
    brighter = BatchSpec("apply", recipe={"global": {"attributes": {"brightness": {"by": 0.3}}}})
    redo = run_batch(brighter, expand_sources([str(photos[0].parent)]), out, Executor("local", jobs=1))
    assert (len(redo.done), len(redo.skipped)) == (6, 0)
    assert {e["digest"] for e in Manifest(out).entries.values()} == {brighter.digest()}


def test_torn_manifest_line_and_missing_output_are_redone(photos, tmp_path):
    out = tmp_path / "out"
    run_batch(SPEC, expand_sources([str(p) for p in photos[:3]]), out, Executor("local", jobs=1))
    text = (out / MANIFEST_NAME).read_text().splitlines(keepends=True)
    (out / MANIFEST_NAME).write_text("".join(text[:2]) + text[2][:25])  # a driver killed mid-write
    (out / photos[0].name).unlink()
    res = run_batch(SPEC, expand_sources([str(p) for p in photos[:3]]), out, Executor("local", jobs=1))
    assert sorted(Path(s["output"]).name for s in res.done) == [photos[0].name, photos[2].name]
    assert [Path(s["output"]).name for s in res.skipped] == [photos[1].name]
    assert len(Manifest(out).entries) == 3


def test_a_bad_photo_is_reported_and_the_others_are_done(photos, tmp_path):
    bad = photos[0].parent / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    out = tmp_path / "out"
    res = run_batch(SPEC, expand_sources([str(photos[0].parent)]), out, Executor("local", jobs=1))
    assert len(res.done) == 6 and len(res.errors) == 1 and res.exit_code == 2
    assert "broken.png" in res.errors[0]["input"] and not (out / "broken.png").exists()
    assert len(_lines(out)) == 6


@pytest.mark.slow
def test_killed_worker_process_loses_and_duplicates_nothing(tmp_path):
    from tests.batch.conftest import make_photos

    photos = make_photos(tmp_path / "in", 12)
    out = tmp_path / "out"
    killed = []

    def kill_one(summary: dict, state: str) -> None:
        if not killed:
            victim = multiprocessing.active_children()[0]
            os.kill(victim.pid, signal.SIGKILL)
            killed.append(victim.pid)

    res = run_batch(SPEC, expand_sources([str(tmp_path / "in")]), out, Executor("local", jobs=2), on_result=kill_one)
    assert killed and res.errors == [] and len(res.done) == 12
    _check_complete(out, photos)


def test_executor_text():
    assert parse_executor("ray:10.0.0.5:6379") == Executor("ray", "10.0.0.5:6379")
    assert parse_executor("ray") == Executor("ray") and parse_executor("local", 3).jobs == 3
    for bad in ("spark", "local:2"):
        with pytest.raises(InputError, match="unknown executor"):
            parse_executor(bad)


def test_output_must_be_a_folder_and_outputs_unique(photos, tmp_path):
    with pytest.raises(InputError, match="names a photo"):
        run_batch(SPEC, expand_sources([str(photos[0])]), tmp_path / "x.jpg", Executor("local", jobs=1))
    (tmp_path / "dup.csv").write_text(f"input,output\n{photos[0]},{photos[1].name}\n{photos[1]},\n")
    with pytest.raises(InputError, match="both be written"):
        run_batch(SPEC, expand_sources([str(tmp_path / "dup.csv")]), tmp_path / "out", Executor("local", jobs=1))
