"""Benchmark batches: photos per second for 1-MP and 12-MP photos, local processes vs Ray.

Run: ``python benchmarks/bench_batch.py [--n1 40] [--n12 6] [--jobs 2] [--executors local,ray] [--ray ADDRESS] [--match]``

Photos: JPEGs (quality 90) made from scikit-image's photos, upscaled to 1 MP
(1155×866) and 12 MP (4000×3000), each tinted differently. Recipe: a global edit
(brightness +0.2, contrast +0.1) through ``pertouch.batch.executor.run_batch`` — the
code path of ``pertouch apply --executor …`` — into a fresh folder per run. ``--match``:
``pertouch match``'s work instead — each photo segmented (builtin) and driven to a look
(global temperature 0.3, sky brightness −0.4).

Rows per size and executor: wall seconds, photos/s, the mean time a task spent inside
``render_one`` (decode + render + encode + sidecar), and the overhead per photo: the
wall time × parallel slots / photos minus that in-task time — what scheduling, process
start, argument and result transfer cost each photo. ``inline`` (one process, no
executor) is the floor. Ray is started once (``ray.init``, or ``--ray ADDRESS`` joins a
cluster) and warmed with a two-photo batch first, so its rows show steady state; the
local pool starts inside its timed run (forkserver: a fraction of a second), like a
command would. Prints the 1-minute load average: on a shared machine, compare rows of
one run only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SIZES = {"1MP": (1155, 866), "12MP": (4000, 3000)}
RECIPE = {"global": {"attributes": {"brightness": {"by": 0.2}, "contrast": {"by": 0.1}}}}
LOOK = {"global": {"temperature": 0.3}, "sky": {"brightness": -0.4}}


def make(folder: Path, n: int, size: tuple[int, int], seed: int) -> list[Path]:
    import cv2
    from skimage import data

    from pertouch.engine.io.read import save_image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    base = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]
    out = []
    for i in range(n):
        big = cv2.resize(base[i % 4], size, interpolation=cv2.INTER_CUBIC).astype(np.float32)
        tinted = np.clip(big * rng.uniform(0.75, 1.15, 3), 0, 255).astype(np.uint8)
        out.append(save_image(folder / f"b{i:03d}.jpg", tinted, quality=90))
    return out


def timed(spec, photos: list[Path], out: Path, executor) -> dict:
    from pertouch.batch.executor import run_batch
    from pertouch.batch.sources import Source

    t0 = time.perf_counter()
    res = run_batch(spec, [Source(str(p)) for p in photos], out, executor, resume=False)
    wall = time.perf_counter() - t0
    if res.errors:
        raise SystemExit(f"errors: {res.errors[:2]}")
    ms = statistics.mean(s["ms"] for s in res.done)
    return {"wall": wall, "rate": len(photos) / wall, "task_ms": ms}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n1", type=int, default=40, help="1-MP photos")
    ap.add_argument("--n12", type=int, default=6, help="12-MP photos")
    ap.add_argument("--jobs", type=int, default=2, help="local processes (Ray: the cluster's CPUs)")
    ap.add_argument("--executors", default="inline,local,ray")
    ap.add_argument("--ray", default=None, help="join this Ray cluster instead of starting one")
    ap.add_argument("--match", action="store_true", help="segment and match a look instead of a global recipe")
    args = ap.parse_args()

    from pertouch.batch.executor import Executor
    from pertouch.batch.tasks import BatchSpec

    spec = BatchSpec("look", look=LOOK, look_source="bench") if args.match else BatchSpec("apply", recipe=RECIPE)
    kinds = args.executors.split(",")
    tmp = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    counts = {"1MP": args.n1, "12MP": args.n12}
    # distinct photos (seeds) per executor: perception caches scenes by content, on disk
    sets = {(size, k): make(tmp / f"{size}-{k}", counts[size], SIZES[size], seed=10 * i + j)
            for i, size in enumerate(SIZES) for j, k in enumerate(kinds)}
    if "ray" in kinds:
        import ray

        t0 = time.perf_counter()
        ray.init(address=args.ray, num_cpus=None if args.ray else args.jobs, include_dashboard=False,
                 log_to_driver=False, configure_logging=False)
        ray_start = time.perf_counter() - t0
        t0 = time.perf_counter()
        timed(spec, make(tmp / "warm-in", 2, SIZES["1MP"], seed=99), tmp / "warm", Executor("ray", args.ray))
        ray_warm = time.perf_counter() - t0
        slots = int(ray.cluster_resources().get("CPU", args.jobs))
        print(f"ray: started in {ray_start:.1f} s, first 2-photo batch (workers import PerTouch) {ray_warm:.1f} s, "
              f"{slots} CPUs")
    executors = {"inline": (Executor("local", jobs=1), 1), "local": (Executor("local", jobs=args.jobs), args.jobs),
                 "ray": (Executor("ray", args.ray), slots if "ray" in kinds else 0)}
    print(f"{'match (segment + look)' if args.match else 'apply (global recipe)'}  "
          f"date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  cpus {os.cpu_count()}  "
          f"load {os.getloadavg()[0]:.2f}  python {sys.version.split()[0]}")
    print(f"{'size':<6} {'executor':<8} {'photos':>6} {'wall s':>7} {'photos/s':>9} {'in-task ms':>11} "
          f"{'overhead ms/photo':>18}")
    for size in SIZES:
        for kind in kinds:
            photos = sets[size, kind]
            executor, parallel = executors[kind]
            r = timed(spec, photos, tmp / f"out-{size}-{kind}", executor)
            overhead = r["wall"] * 1000 * parallel / len(photos) - r["task_ms"]
            print(f"{size:<6} {kind:<8} {len(photos):>6} {r['wall']:>7.2f} {r['rate']:>9.2f} {r['task_ms']:>11.0f} "
                  f"{overhead:>18.0f}")
    print(f"load after {os.getloadavg()[0]:.2f}")
    if "ray" in kinds:
        import ray

        ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
