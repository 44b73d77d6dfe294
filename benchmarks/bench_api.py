"""What LangGraph's API server adds to a turn: the same one-shot run in process and through
``langgraph dev`` (in-memory runtime) driven by ``langgraph-sdk``, warm, median of N.

    python benchmarks/bench_api.py [--runs 7] [--side 512]

Prints both medians and the difference (goal: ≤ 100 ms added per warm turn).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _photo(side: int, folder: Path) -> str:
    from PIL import Image
    from skimage import data

    im = Image.fromarray(data.rocket())
    im.thumbnail((side, side))
    path = folder / "rocket.png"
    im.save(path)
    return str(path)


def _server(home: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PERTOUCH_HOME": str(home), "PERTOUCH_WARMUP": "0"}
    exe = str(Path(sys.executable).parent / "langgraph")
    proc = subprocess.Popen([exe, "dev", "--port", str(port), "--host", "127.0.0.1", "--no-browser", "--no-reload"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(180):
        try:
            urllib.request.urlopen(url + "/ok", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGTERM)
    raise SystemExit("langgraph dev did not start")


def _queue_pace() -> str:
    from pertouch.graph.devserver import poll_seconds

    poll = poll_seconds()
    return "runtime's own 500 ms queue poll" if poll is None else f"queue polled every {poll * 1000:.0f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--side", type=int, default=512)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        os.environ["PERTOUCH_HOME"] = str(home)
        photo = _photo(args.side, home)
        inputs = {"image_path": photo, "instruction": "make the sky brighter"}
        from pertouch.graph.builder import build_graph
        from pertouch.graph.context import RunContext

        g, ctx = build_graph(), RunContext(use_memory=False)
        proc, url = _server(home)
        local, remote = [], []
        try:
            from langgraph_sdk import get_sync_client

            client = get_sync_client(url=url)
            # Alternate in-process and server turns, so a busy machine slows both alike.
            for i in range(args.runs + 1):
                t0 = time.perf_counter()
                g.invoke(inputs, context=ctx)
                local.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                client.runs.wait(None, "pertouch", input=inputs, context={"use_memory": False})
                remote.append((time.perf_counter() - t0) * 1000)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
    lo, re_ = statistics.median(local[1:]), statistics.median(remote[1:])
    added = statistics.median(r - l for l, r in zip(local[1:], remote[1:]))
    print(f"one-shot turn, {args.side}-px photo, warm, median of {args.runs}: in process {lo:.0f} ms, "
          f"API server {re_:.0f} ms, added {added:+.0f} ms (median of paired differences; "
          f"{_queue_pace()})")


if __name__ == "__main__":
    main()
