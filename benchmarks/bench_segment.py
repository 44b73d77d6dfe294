"""Benchmark perception: builtin segmenter with the people and face detectors at 12 MP
and 1 MP, on a landscape and on a photo with people; the cache; SAM ViT-B for reference.

    python benchmarks/bench_segment.py [--repeat 5] [--no-sam] [--threads N]

Goals (issue 12, on the 2-core CPU machine, warm): perception with faces and people
≤ 1.0 s at 12 MP, ≤ 250 ms at 1 MP; a second call on the same photo costs ~nothing. Prints median milliseconds
per stage (cues, segment, refine = full-resolution edge-aware masks, measure = the
levels of every region), the median CPU time of the whole call (steadier than wall
time on a shared machine), the load average, and the thread count the LiteRT models
settled on (:mod:`pertouch.tools.litert` picks 1 or 2 per call by measured speed;
``--threads N`` pins it). The cache line times a second call in memory and one from
disk after the memory cache is cleared (what a new process sees: segments and
detections read back, no model run). SAM ViT-B is built with random weights
(``sam_model_registry["vit_b"](checkpoint=None)``): its CPU time is the same as with
real weights.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import cv2
import numpy as np


PHOTOS = {"landscape": "sklearn:china.jpg",
          "people": "wheel:ultralytics==8.4.190:ultralytics/assets/zidane.jpg"}


def photo(megapixels: float, source: str = PHOTOS["landscape"]) -> np.ndarray:
    """A photo (see :mod:`pertouch.evals.photos`) resized to about ``megapixels``."""
    from pertouch.evals.photos import load_photo

    img = load_photo(source)
    h, w = img.shape[:2]
    s = (megapixels * 1e6 / (h * w)) ** 0.5
    return cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_CUBIC)


def bench_builtin(img: np.ndarray, repeat: int) -> dict[str, float]:
    from pertouch.tools.perception import perceive

    runs: list[dict[str, float]] = []
    for i in range(repeat):
        img = img.copy()
        img[0, 0, 0] = i % 255  # a new content hash: no cache hit
        t, c = time.perf_counter(), time.process_time()
        scene = perceive(img, "builtin", cache=False)
        wall = (time.perf_counter() - t) * 1000
        runs.append({**scene.timings_ms, "wall": wall, "cpu": (time.process_time() - c) * 1000})
    return {k: statistics.median(r.get(k, 0.0) for r in runs) for k in runs[0]}


def bench_cache(img: np.ndarray, repeat: int = 3) -> tuple[float, float]:
    """Median ms of a second call (memory cache) and of a call after the perception cache is cleared (disk)."""
    from pertouch.tools import perception as pc
    from pertouch.tools.perception_cache import process_perception_cache

    pc.perceive(img)
    memory, disk = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        pc.perceive(img)
        memory.append((time.perf_counter() - t) * 1000)
        process_perception_cache().clear()
        t = time.perf_counter()
        pc.perceive(img)
        disk.append((time.perf_counter() - t) * 1000)
    return statistics.median(memory), statistics.median(disk)


def model_threads() -> str:
    from pertouch.tools.litert import model

    names = ("pose_detection", "pose_landmark_full", "face_detection_full_range_sparse", "face_landmark",
             "selfie_segmentation")
    out = []
    for n in names:
        means = model(n + ".tflite").choice.typical
        out.append(n + " " + " / ".join(f"{means[k] * 1000:.1f}" if k in means else "-" for k in (1, 2)))
    return ", ".join(out)


def bench_sam(img: np.ndarray) -> dict[str, float]:
    import torch
    from segment_anything import SamPredictor, sam_model_registry

    t = time.perf_counter()
    model = sam_model_registry["vit_b"](checkpoint=None).eval()
    build = (time.perf_counter() - t) * 1000
    pred = SamPredictor(model)
    with torch.inference_mode():
        t = time.perf_counter()
        pred.set_image(img)
        encode = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        pred.predict(point_coords=np.array([[100, 100]]), point_labels=np.array([1]), multimask_output=True)
        decode = (time.perf_counter() - t) * 1000
    return {"build": build, "image_encoder": encode, "one_point_prompt": decode}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-sam", action="store_true")
    ap.add_argument("--threads", type=int, help="pin the LiteRT models' thread count (default: chosen per call)")
    args = ap.parse_args()
    if args.threads:
        os.environ["PERTOUCH_LITERT_THREADS"] = str(args.threads)
    import torch

    print(f"threads: torch {torch.get_num_threads()}, opencv {cv2.getNumThreads()}; load average {os.getloadavg()[0]:.1f}")
    bench_builtin(photo(1), 1)  # warm: models loaded, kernels compiled
    for kind, source in PHOTOS.items():
        for mp, goal in ((12, 1000), (1, 250)):
            img = photo(mp, source)
            r = bench_builtin(img, args.repeat)
            stages = "  ".join(f"{k} {v:.0f}" for k, v in r.items() if k not in ("wall", "total", "cpu"))
            print(f"{kind} {img.shape[1]}×{img.shape[0]} ({mp} MP): {r['wall']:.0f} ms median (goal {goal}), "
                  f"CPU {r['cpu']:.0f} ms — {stages}; load {os.getloadavg()[0]:.1f}")
    print("LiteRT threads (median ms of recent calls with 1 / 2 threads): " + model_threads())
    for mp in (12, 1):
        memory, disk = bench_cache(photo(mp, PHOTOS["people"]))
        print(f"cache, people {mp} MP: second call {memory:.2f} ms (memory), {disk:.0f} ms (disk: memory cleared)"
              f"; load {os.getloadavg()[0]:.1f}")
    if not args.no_sam:
        s = bench_sam(photo(1))
        print("SAM ViT-B (random weights, CPU): " + "  ".join(f"{k} {v:.0f} ms" for k, v in s.items())
              + f"; load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
