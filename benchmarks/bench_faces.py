"""Benchmark face perception: speed of detect_faces (with the mesh) and how many faces it finds.

    python benchmarks/bench_faces.py [--repeat 5] [--long-side 1024] [--no-recall]

Goals (issue: "brighten everyone's faces"; the 2-core CPU machine): ≤ 60 ms for a
1-face photo and ≤ 150 ms for t1 (6 faces) at 1024 px long side, warm. Prints, per
tuning photo, the faces found, the median and best wall time and the median CPU time
(steadier on a shared machine), and the load average. ``--recall`` (default on) also
tiles t1 into 2×2 … 4×4 mosaics of 1024 × 709 px (faces ~50 px down to ~23 px) and
counts the faces found against those found on t1 itself.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import cv2
import numpy as np

PHOTOS = {
    "zidane": "wheel:ultralytics==8.4.190:ultralytics/assets/zidane.jpg",
    "t1": "wheel:insightface==2.1:insightface/data/images/t1.jpg",
    "bus": "wheel:ultralytics==8.4.190:ultralytics/assets/bus.jpg",
    "astronaut": "skimage:astronaut",
    "grace_hopper": "matplotlib:grace_hopper.jpg",
    "coffee": "skimage:coffee",
    "chelsea": "skimage:chelsea",
    "rocket": "skimage:rocket",
    "china": "sklearn:china.jpg",
}


def proxy(img: np.ndarray, long_side: int) -> np.ndarray:
    """``img`` scaled down (never up) to ``long_side`` px on its long side."""
    h, w = img.shape[:2]
    s = long_side / max(h, w)
    if s >= 1:
        return img
    return cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)


def bench(img: np.ndarray, repeat: int) -> tuple[int, float, float, float]:
    """(faces, median wall ms, best wall ms, median CPU ms) of warm detect_faces calls."""
    from pertouch.tools.faces import detect_faces

    n = len(detect_faces(img))  # warm: models loaded, caches filled
    wall, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        detect_faces(img)
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return n, statistics.median(wall), min(wall), statistics.median(cpu)


def mosaic_recall(t1: np.ndarray) -> list[str]:
    """Faces found in n × n mosaics of t1 (1024 × 709) against the faces found on t1."""
    from pertouch.tools.faces import detect_faces

    ref = detect_faces(t1)
    lines = []
    for n in (2, 3, 4):
        w, h = 1024 // n, 709 // n
        s = w / t1.shape[1]
        tile = cv2.resize(t1, (w, h), interpolation=cv2.INTER_AREA)
        mos = np.zeros((709, 1024, 3), np.uint8)
        truth = []
        for j in range(n):
            for i in range(n):
                mos[j * h:(j + 1) * h, i * w:(i + 1) * w] = tile
                truth += [((f.box[0] + f.box[2]) / 2 * s + i * w, (f.box[1] + f.box[3]) / 2 * s + j * h, f.height * s)
                          for f in ref]
        hit, false = set(), 0
        for f in detect_faces(mos):
            cx, cy = (f.box[0] + f.box[2]) / 2, (f.box[1] + f.box[3]) / 2
            d = [np.hypot(cx - x, cy - y) / hh for x, y, hh in truth]
            k = int(np.argmin(d))
            if d[k] < 0.5:
                hit.add(k)
            else:
                false += 1
        sizes = [t[2] for t in truth]
        lines.append(f"  {n}×{n} mosaic, faces {min(sizes):.0f}–{max(sizes):.0f} px: found {len(hit)}/{len(truth)}"
                     f" ({100 * len(hit) / len(truth):.0f} %), {false} elsewhere")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--long-side", type=int, default=1024)
    ap.add_argument("--no-recall", action="store_true")
    args = ap.parse_args()

    from pertouch.core.errors import InputError
    from pertouch.evals.photos import load_photo

    print(f"detect_faces, warm, median of {args.repeat}, proxies of {args.long_side} px long side")
    t1 = None
    for name, spec in PHOTOS.items():
        try:
            img = load_photo(spec)
        except InputError as e:
            print(f"  {name:13s} skipped: {e}")
            continue
        img = np.ascontiguousarray(proxy(img, args.long_side))
        if name == "t1":
            t1 = img
        n, med, best, cpu = bench(img, args.repeat)
        print(f"  {name:13s} {img.shape[1]:4d}×{img.shape[0]:<4d} faces {n}  wall {med:6.1f} ms"
              f" (best {best:6.1f})  cpu {cpu:6.1f} ms")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    if t1 is not None and not args.no_recall:
        print("small faces:")
        print("\n".join(mosaic_recall(t1)))


if __name__ == "__main__":
    main()
