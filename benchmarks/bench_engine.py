"""Benchmark the parametric engine: 12 MP, 8 soft regions, all four core attributes.

Run: ``python benchmarks/bench_engine.py [--repeat 5] [--quick] [--contention N [--cmd CMD]…]``

Headline case: 8 soft regions that PARTITION the photo the way a segmenter's output
does (a label map of 8 jittered seeds at quarter resolution, each label's mask
softened over a few pixels), with moderate ``by`` targets (±0.2) on the 4 core
attributes. It times (median of N) the fast engine end to end (measure + solve +
apply + report) and its plan / apply / report steps, the CPU time, the peak memory,
the achieved-vs-target errors, planning again with the plan cache warm (same
recipe; one region's edit changed), the 1-megapixel preview (the 12 MP plan reused;
``preview()`` with a warm cache; cold; a plan solved at 1 MP), and where they have
the operators: the straightforward NumPy chain (one full-resolution float pass per
operator per region, then a blend: pertouch.engine.parametric.reference), Pillow (ImageEnhance
per region + composite) and OpenCV (HSV saturation + convertScaleAbs per region).

Secondary "overlap stress" row: 8 random heavily-overlapping soft ellipses (one fully
covered by others) with random targets, some past the level table's ends: end to end
and errors with regions solved on their own vs jointly.

``--contention N``: the cores shared. Rounds alternate "as it is" and "with N busy
processes" (pure-Python spin loops, one per process), each timing the engine end to
end (cold plan cache) and a plain single-threaded NumPy chain on the same photo
(float32 gain, gamma, colour mix, clip, back to uint8; no BLAS), so both see the same
background load. Prints each side's median and slowdown, the engine's CPU time and
steps, and the load average. ``--cmd "[label] CMD"`` (repeatable) times a shell command
in the same rounds (``pertouch retouch …``, ``pertouch segment …``). Nothing else is run.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
import tracemalloc

import cv2
import numpy as np

from pertouch.engine.ops.jit import HAVE_NUMBA
from pertouch.engine.parametric.engine import ParametricEngine
from pertouch.engine.parametric.reference import ReferenceEngine
from pertouch.engine.schema.recipe import Edit, Recipe
from pertouch.engine.schema.regions import Region

CORE = ("colorfulness", "contrast", "temperature", "brightness")


def photo(width: int, height: int) -> np.ndarray:
    import skimage.data

    return cv2.resize(skimage.data.chelsea(), (width, height), interpolation=cv2.INTER_CUBIC)


def partition_regions(height: int, width: int, n: int = 8, seed: int = 0, soften: float = 2.0) -> dict[str, Region]:
    """n soft regions that partition the photo, at quarter resolution, as a segmenter gives them.

    Labels: nearest of n seeds (one per cell of a 4×2 grid, jittered) under randomly
    weighted distances, so borders are curved; each label's mask is blurred by
    ``soften`` px (quarter resolution), so the masks still sum to 1 everywhere.
    """
    rng = np.random.default_rng(seed)
    h, w = height // 4, width // 4
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cols = 4
    rows = -(-n // cols)
    d = []
    for i in range(n):
        cy = (i // cols + rng.uniform(0.25, 0.75)) * h / rows
        cx = (i % cols + rng.uniform(0.25, 0.75)) * w / cols
        d.append(np.hypot(yy - cy, xx - cx) * rng.uniform(0.8, 1.25))
    label = np.argmin(np.stack(d), axis=0)
    return {f"r{i}": Region(f"r{i}", cv2.GaussianBlur((label == i).astype(np.float32), (0, 0), soften))
            for i in range(n)}


def overlap_regions(height: int, width: int, n: int = 8, seed: int = 0) -> dict[str, Region]:
    """n soft, heavily overlapping ellipses at quarter resolution (the overlap stress case)."""
    rng = np.random.default_rng(seed)
    h, w = height // 4, width // 4
    yy, xx = np.mgrid[0:h, 0:w]
    out = {}
    for i in range(n):
        cy, cx = rng.uniform(0.15, 0.85) * h, rng.uniform(0.15, 0.85) * w
        ry, rx = rng.uniform(0.12, 0.3) * h, rng.uniform(0.12, 0.3) * w
        m = (((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1).astype(np.float32)
        m = cv2.GaussianBlur(m, (0, 0), 3)
        out[f"r{i}"] = Region(f"r{i}", m)
    return out


def recipe(names, seed: int = 1) -> Recipe:
    rng = np.random.default_rng(seed)
    return Recipe.model_validate({"regions": {
        n: {"attributes": {a: {"by": round(float(rng.uniform(-0.2, 0.2)), 3)} for a in CORE}} for n in names}})


def cpu_ticks() -> tuple[int, int] | None:
    """(steal, total) jiffies of the machine so far (Linux /proc/stat), else None."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return v[7], sum(v)


def timed(fn, repeat: int, best: list | None = None) -> float:
    """Median milliseconds of ``repeat`` calls after one warm-up (the fastest is appended to ``best``)."""
    fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    if best is not None:
        best.append(min(ts) * 1e3)
    return statistics.median(ts) * 1e3


def pillow_chain(img: np.ndarray, regions: dict[str, Region], strengths: dict) -> np.ndarray:
    from PIL import Image, ImageEnhance

    base = Image.fromarray(img)
    out = base
    for name, r in regions.items():
        s = strengths[name]
        e = ImageEnhance.Color(base).enhance(2 ** s.colorfulness)
        e = ImageEnhance.Contrast(e).enhance(2 ** s.contrast)
        e = ImageEnhance.Brightness(e).enhance(2 ** s.brightness)
        m = Image.fromarray((cv2.resize(r.mask, base.size) * 255).astype(np.uint8))
        out = Image.composite(e, out, m)
    return np.asarray(out)


def opencv_chain(img: np.ndarray, regions: dict[str, Region], strengths: dict) -> np.ndarray:
    out = img.astype(np.float32)
    for name, r in regions.items():
        s = strengths[name]
        hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
        hsv[..., 1] = cv2.convertScaleAbs(hsv[..., 1], alpha=2 ** s.colorfulness)
        e = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
        k = 2 ** s.contrast
        e = cv2.convertScaleAbs(e, alpha=k * 2 ** s.brightness, beta=128 * (1 - k))
        m = cv2.resize(r.mask, (img.shape[1], img.shape[0]))[..., None]
        out = out * (1 - m) + e.astype(np.float32) * m
    return out.astype(np.uint8)


def errors(report) -> str:
    e = [abs(a.error) for a in report]
    return f"mean |error| {np.mean(e):.3f}, median {np.median(e):.3f}, max {np.max(e):.3f} (levels)"


def steps(fast: ParametricEngine, img, rec, regions, repeat: int) -> dict[str, float]:
    """Median per-step timings (ms) of cold-cache renders."""
    runs = []
    for _ in range(repeat):
        fast.cache.clear()
        runs.append(fast.render(img, rec, regions).timings_ms)
    return {k: statistics.median(r.get(k, 0.0) for r in runs) for k in runs[0]}


def numpy_chain(img: np.ndarray) -> np.ndarray:
    """A plain single-threaded NumPy workload of the engine's kind (elementwise, no BLAS)."""
    x = img.astype(np.float32) * np.float32(1.1 / 255.0) + np.float32(0.02)
    np.clip(x, 0.0, 1.0, out=x)
    x **= np.float32(0.9)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    y = np.stack([0.9 * r + 0.1 * g, 0.05 * r + 0.9 * g + 0.05 * b, 0.1 * g + 0.9 * b], axis=-1)
    return (np.clip(y, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _spin() -> None:  # a busy process: all CPU, no memory traffic
    while True:
        pass


def contention(n: int, rounds: int, fast: ParametricEngine, img, rec, regions, cmds: list[str]) -> None:
    """Alternate rounds as-is / with ``n`` busy processes; print medians and slowdowns."""
    import multiprocessing as mp
    import subprocess

    def engine_run() -> tuple[float, float, dict]:
        fast.cache.clear()
        c0, t0 = time.process_time(), time.perf_counter()
        t = fast.render(img, rec, regions).timings_ms
        return (time.perf_counter() - t0) * 1e3, (time.process_time() - c0) * 1e3, t

    def wall(fn) -> float:
        t0 = time.perf_counter()
        fn()
        return (time.perf_counter() - t0) * 1e3

    jobs = {"engine": lambda: engine_run(), "NumPy chain": lambda: wall(lambda: numpy_chain(img))}
    for c in cmds:  # "[label] command" or just the command
        label, _, rest = c[1:].partition("] ") if c.startswith("[") else (c, "", c)
        jobs[label] = lambda c=rest: wall(lambda: subprocess.run(c, shell=True, check=True, capture_output=True))
    for fn in jobs.values():  # warm (compiled kernels, caches, first-run imports)
        fn()
    got: dict = {(name, k): [] for name in jobs for k in (0, n)}
    loads = {0: [], n: []}
    ctx = mp.get_context("spawn")
    for _ in range(rounds):
        for k in (0, n):
            procs = [ctx.Process(target=_spin, daemon=True) for _ in range(k)]
            for p in procs:
                p.start()
            time.sleep(0.5 if k else 0.0)
            try:
                for name, fn in jobs.items():  # interleaved: each job sees the same minutes
                    got[(name, k)].append(fn())
                loads[k].append(os.getloadavg()[0])
            finally:
                for p in procs:
                    p.terminate()
                    p.join()
    med = statistics.median
    print(f"contention: {rounds} rounds alternating as-is / {n} busy processes on {os.cpu_count()} cores; "
          f"load average {med(loads[0]):.1f} / {med(loads[n]):.1f} (median at the rounds' ends)")
    print(f"{'workload':44s} {'as is ms':>9s} {f'{n} busy ms':>10s} {'slowdown':>9s}")
    for name in jobs:
        q = [r[0] if isinstance(r, tuple) else r for r in got[(name, 0)]]
        b = [r[0] if isinstance(r, tuple) else r for r in got[(name, n)]]
        print(f"{name[:44]:44s} {med(q):9.0f} {med(b):10.0f} {med(b) / med(q):8.2f}x")
    for k in (0, n):
        runs = got[("engine", k)]
        steps_ = {s: med(r[2].get(s, 0.0) for r in runs) for s in runs[0][2]}
        print(f"  engine with {k} busy: CPU {med(r[1] for r in runs):.0f} ms; "
              + ", ".join(f"{s} {v:.0f}" for s, v in steps_.items()) + " ms")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="skip the slow straightforward chain")
    ap.add_argument("--contention", type=int, default=0, metavar="N",
                    help="only the contention check: rounds as-is vs with N busy processes")
    ap.add_argument("--cmd", action="append", default=[],
                    help="with --contention: also time this shell command ('[label] command')")
    args = ap.parse_args()
    img = photo(4000, 3000)
    regions = partition_regions(3000, 4000)
    rec = recipe(regions)
    fast = ParametricEngine()
    if args.contention > 0:
        contention(args.contention, args.repeat, fast, img, rec, regions, args.cmd)
        return 0
    ref = ReferenceEngine()
    plan = fast.plan(img, rec, regions)
    strengths = {layer.name: layer.params for layer in plan.layers}

    def cold(fn):  # every timed call starts with an empty plan cache
        return lambda: (fast.cache.clear(), fn())

    fastest: list[float] = []
    ticks0 = cpu_ticks()
    rows = [("fast engine, end to end", timed(cold(lambda: fast.render(img, rec, regions)), args.repeat, fastest))]
    ticks1 = cpu_ticks()
    rows.append(("  of which plan (measure+solve)", timed(cold(lambda: fast.plan(img, rec, regions)), args.repeat)))
    rows.append(("  of which apply (fused pass)", timed(lambda: fast.apply(img, plan), args.repeat)))
    out = fast.apply(img, plan)
    rows.append(("  of which report (measure output)", timed(lambda: fast.report(out, plan), args.repeat)))
    rows.append(("  plan again, same recipe (cached)", timed(lambda: fast.plan(img, rec, regions), args.repeat)))
    first = next(iter(regions))
    recipes = [rec.with_edit(first, "brightness", Edit(by=round(0.01 * k - 0.1, 3))) for k in range(args.repeat + 1)]
    it = iter(recipes * 2)
    rows.append(("  plan again, one region's edit changed", timed(lambda: fast.plan(img, next(it), regions), args.repeat)))
    rss_fast = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the chains' own peaks
    if not args.quick:
        rows.append(("straightforward NumPy chain (apply)", timed(lambda: ref.apply(img, plan), max(1, args.repeat // 2))))
    rows.append(("Pillow ImageEnhance chain (3 ops)", timed(lambda: pillow_chain(img, regions, strengths), max(1, args.repeat // 2))))
    rows.append(("OpenCV chain (3 ops)", timed(lambda: opencv_chain(img, regions, strengths), max(1, args.repeat // 2))))

    small = cv2.resize(img, (1155, 866), interpolation=cv2.INTER_AREA)
    fast.plan(img, rec, regions)  # warm the cache for preview()
    preview_reuse = timed(lambda: fast.apply(small, plan), args.repeat)
    preview_cached = timed(lambda: fast.preview(img, rec, regions, small=small), args.repeat)
    preview_cold = timed(cold(lambda: fast.render(small, rec, regions)), args.repeat)
    small_plan = fast.plan(small, rec, regions)
    preview_apply = timed(lambda: fast.apply(small, small_plan), args.repeat)
    cpus = []
    for _ in range(3):
        fast.cache.clear()
        c0 = time.process_time()
        fast.render(img, rec, regions)
        cpus.append((time.process_time() - c0) * 1e3)
    step = steps(fast, img, rec, regions, args.repeat)

    fast.cache.clear()
    tracemalloc.start()
    res = fast.render(img, rec, regions)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    base = rows[0][1]
    print(f"12 MP ({img.shape[1]}x{img.shape[0]}), {len(regions)} soft regions partitioning the photo, "
          f"4 core attributes (by ±0.2); median of {args.repeat}; numba={HAVE_NUMBA}")
    print(f"{'method':40s} {'ms':>9s} {'x fast':>8s}")
    for name, ms in rows:
        print(f"{name:40s} {ms:9.1f} {ms / base:8.2f}")
    print(f"{'  (fastest end-to-end run)':40s} {fastest[0]:9.1f}")
    if ticks0 and ticks1 and ticks1[1] > ticks0[1]:  # a virtual machine's CPU taken by its host
        print(f"{'  (CPU stolen by the host meanwhile)':40s} {100 * (ticks1[0] - ticks0[0]) / (ticks1[1] - ticks0[1]):8.1f}%")
    print(f"{'1 MP preview of the 12 MP edit, plan reused':40s} {preview_reuse:9.1f}")
    print(f"{'1 MP preview, preview() with warm cache':40s} {preview_cached:9.1f}   (re-plan from cache + apply + report)")
    print(f"{'1 MP preview, cold (solved at 1 MP)':40s} {preview_cold:9.1f}")
    print(f"{'1 MP apply of a plan solved at 1 MP':40s} {preview_apply:9.1f}")
    print(f"steps of a cold render (median): {', '.join(f'{k} {v:.0f} ms' for k, v in step.items())}; "
          f"solves {fast.stats.get('solves', 0)}, sweeps {fast.stats.get('sweeps', 0)}")
    print(f"CPU time of one 12 MP render (both cores summed, median of 3): {statistics.median(cpus):.0f} ms; "
          f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"peak traced memory of one 12 MP render: {peak / 2**20:.0f} MiB; "
          f"process max RSS after the fast engine's runs: {rss_fast:.0f} MiB "
          f"(after the comparison chains: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)")
    if not args.quick:
        ref_img = ref.render(img, rec, regions).image
        diff = np.abs(res.image.astype(np.int16) - ref_img)
        mse = float((diff.astype(np.float64) ** 2).mean())
        psnr = 10 * np.log10(255 ** 2 / mse) if mse else float("inf")
        print(f"fast vs straightforward: mean abs diff {diff.mean():.4f} /255, max {diff.max()}, PSNR {psnr:.1f} dB")
    print(f"achieved vs target: {errors(res.report)}")

    stress = overlap_regions(3000, 4000)
    srec = recipe(stress)
    s_ms = timed(cold(lambda: fast.render(img, srec, stress)), max(1, args.repeat // 2))
    fast.cache.clear()
    joint = fast.render(img, srec, stress)
    alone = ParametricEngine(joint=False).render(img, srec, stress)
    print(f"overlap stress (8 overlapping ellipses, some targets past the table): end to end {s_ms:.0f} ms "
          f"({', '.join(f'{k} {v:.0f}' for k, v in joint.timings_ms.items())} ms; "
          f"solves {fast.stats.get('solves', 0)}, sweeps {fast.stats.get('sweeps', 0)})")
    print(f"  solved alone:   {errors(alone.report)}")
    print(f"  solved jointly: {errors(joint.report)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
