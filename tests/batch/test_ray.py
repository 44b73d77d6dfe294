"""batch on a real Ray cluster (``ray start --head`` on this machine, 2 CPUs): ~200 photos,
a worker killed mid-batch, a driver killed mid-batch and resumed. One cluster per module."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'pertouch[scale]')")

from pertouch.batch.executor import Executor, run_batch  # noqa: E402
from pertouch.batch.manifest import MANIFEST_NAME  # noqa: E402
from pertouch.batch.sources import expand_sources  # noqa: E402
from pertouch.batch.tasks import BatchSpec  # noqa: E402
from tests.batch.conftest import GLOBAL_RECIPE, make_photos  # noqa: E402

N = 200
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ray_cli() -> str:
    return shutil.which("ray", path=os.path.dirname(sys.executable)) or "ray"


def _cluster_pids(port: int) -> list[int]:
    """This cluster's own processes: the GCS server (``--gcs_server_port=PORT``) and everything
    started against it (``--gcs-address=…:PORT``, ``--address=…:PORT``: raylet, monitors, the
    client server; workers and agents end with their raylet)."""
    marks = (f"--gcs_server_port={port}".encode(), f":{port}".encode())
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if any(a == marks[0] or (a.startswith((b"--gcs-address", b"--gcs_address", b"--address"))
                                 and a.endswith(marks[1])) for a in args):
            pids.append(int(pid))
    return pids + _descendants(pids)


def _descendants(roots: list[int]) -> list[int]:
    """Every process below ``roots`` (agents and workers rename themselves ``ray::…``, so
    they are found by parent, not by arguments)."""
    parent = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                parent[int(pid)] = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, todo = [], list(roots)
    while todo:
        up = todo.pop()
        kids = [p for p, pp in parent.items() if pp == up and p not in found and p not in roots]
        found += kids
        todo += kids
    return found


@pytest.fixture(scope="module")
def cluster():
    """A 2-CPU head on a free port, stopped by signalling only its own processes (``ray stop``
    would kill every Ray process on the machine — another test run's cluster, or the user's)."""
    port = _free_port()
    cmd = [_ray_cli(), "start", "--head", f"--port={port}", "--num-cpus=2", "--disable-usage-stats",
           "--include-dashboard=false"]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    except subprocess.CalledProcessError as exc:  # pragma: no cover - environment
        pytest.skip(f"ray start failed: {exc.stderr.decode()[-300:]}")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        pids = _cluster_pids(port)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _cluster_pids(port):
            time.sleep(0.5)
        for pid in _cluster_pids(port):  # pragma: no cover - one that ignored SIGTERM
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("ray") / "in"
    make_photos(folder, N)
    return folder


def _busy_ray_workers() -> list[int]:
    """PIDs of Ray worker processes running a photo task right now (proctitle ray::pertouch_photo)."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if f.read().startswith(b"ray::pertouch_photo"):
                    pids.append(int(pid))
        except OSError:
            continue
    return pids


def _manifest(out: Path) -> list[dict]:
    lines = (out / MANIFEST_NAME).read_text().splitlines()
    return [json.loads(x) for x in lines if x.strip().endswith("}")]


def _check_exactly_once(out: Path, photos: list[Path]) -> None:
    entries = _manifest(out)
    names = [Path(e["output"]).name for e in entries]
    assert sorted(names) == sorted(p.name for p in photos), "every photo once in the manifest"
    for name in names:
        assert (out / name).stat().st_size > 0 and (out / f"{name}.pertouch.json").is_file()
    assert not [f for f in os.listdir(out) if f.endswith(".tmp")], "no partial output left"


def test_killed_worker_mid_batch_loses_and_duplicates_nothing(cluster, inputs, tmp_path):
    out = tmp_path / "out"
    killed: list[int] = []

    def kill_a_worker(summary: dict, state: str) -> None:
        if state == "done" and not killed and sum(1 for _ in _manifest(out)) >= 40:
            busy = _busy_ray_workers()
            if busy:
                os.kill(busy[0], signal.SIGKILL)
                killed.append(busy[0])

    res = run_batch(BatchSpec("apply", recipe=GLOBAL_RECIPE), expand_sources([str(inputs)]), out,
                    Executor("ray", cluster), on_result=kill_a_worker)
    assert killed, "no busy worker was found to kill"
    assert res.errors == [] and len(res.done) == N
    assert killed[0] not in {int(s["worker"].rsplit(":", 1)[1]) for s in res.done[-20:]}
    _check_exactly_once(out, list(inputs.iterdir()))


def test_killed_driver_resumes_from_the_manifest(cluster, inputs, tmp_path):
    out, first60 = tmp_path / "out", str(inputs / "p0[0-5]?.png")
    cmd = [sys.executable, "-m", "pertouch.cli", "apply", first60, "--set", "global.brightness=+0.2",
           "-o", str(out), "--executor", f"ray:{cluster}"]
    driver = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    done = 0
    deadline = time.monotonic() + 120
    for line in driver.stderr:  # progress streams a line per finished photo
        done += " done " in line
        if done >= 20 or time.monotonic() > deadline:
            break
    driver.send_signal(signal.SIGKILL)
    driver.wait(timeout=30)
    assert 20 <= len(_manifest(out)) < 60, "the driver was killed mid-batch"
    finished_before = {Path(e["output"]).name for e in _manifest(out)}
    again = subprocess.run(cmd + ["--json"], capture_output=True, text=True, timeout=180)
    assert again.returncode == 0, again.stderr[-2000:]
    doc = json.loads(again.stdout)
    assert doc["skipped"] == len(finished_before) and doc["done"] == 60 - len(finished_before)
    _check_exactly_once(out, sorted(inputs.glob("p0[0-5]?.png")))
