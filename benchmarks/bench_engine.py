"""Benchmark the parametric engine: 12 MP, 8 soft regions, all four core attributes.

Run: ``python benchmarks/bench_engine.py [--repeat 5] [--quick]``

Times (median of N) the fast engine end to end (measure + solve + apply + report),
its apply step alone, the straightforward NumPy chain (one full-resolution float
pass per operator per region, then a blend: pertouch.engine.reference), and where
they have the operators, Pillow (ImageEnhance Color/Contrast/Brightness per region
+ composite) and OpenCV (HSV saturation scale + convertScaleAbs per region + blend).
Also planning again with the plan cache warm (same recipe; one region's edit changed),
the 1-megapixel preview (the 12 MP plan reused; ``preview()`` with a warm cache; cold),
the peak memory of one fast render, and the achieved-vs-target errors with regions
solved on their own (as before overlaps were solved jointly) and jointly.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
import tracemalloc

import cv2
import numpy as np

from pertouch.engine.parametric import ParametricEngine
from pertouch.engine.recipe import Edit, Recipe
from pertouch.engine.reference import ReferenceEngine
from pertouch.engine.regions import Region

CORE = ("colorfulness", "contrast", "temperature", "brightness")


def photo(width: int, height: int) -> np.ndarray:
    import skimage.data

    return cv2.resize(skimage.data.chelsea(), (width, height), interpolation=cv2.INTER_CUBIC)


def soft_regions(height: int, width: int, n: int = 8, seed: int = 0) -> dict[str, Region]:
    """n soft, overlapping blobs at quarter resolution (as a segmenter would give them)."""
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


def timed(fn, repeat: int) -> float:
    fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="skip the slow straightforward chain")
    args = ap.parse_args()
    img = photo(4000, 3000)
    regions = soft_regions(3000, 4000)
    rec = recipe(regions)
    fast = ParametricEngine()
    ref = ReferenceEngine()
    plan = fast.plan(img, rec, regions)
    strengths = {layer.name: layer.params for layer in plan.layers}

    def cold(fn):  # every timed call starts with an empty plan cache
        return lambda: (fast.cache.clear(), fn())

    rows = [("fast engine, end to end", timed(cold(lambda: fast.render(img, rec, regions)), args.repeat))]
    rows.append(("  of which plan (measure+solve)", timed(cold(lambda: fast.plan(img, rec, regions)), args.repeat)))
    rows.append(("  of which apply (fused pass)", timed(lambda: fast.apply(img, plan), args.repeat)))
    rows.append(("  plan again, same recipe (cached)", timed(lambda: fast.plan(img, rec, regions), args.repeat)))
    first = next(iter(regions))
    recipes = [rec.with_edit(first, "brightness", Edit(by=round(0.01 * k - 0.1, 3))) for k in range(args.repeat + 1)]
    it = iter(recipes * 2)
    rows.append(("  plan again, one region's edit changed", timed(lambda: fast.plan(img, next(it), regions), args.repeat)))
    if not args.quick:
        rows.append(("straightforward NumPy chain (apply)", timed(lambda: ref.apply(img, plan), max(1, args.repeat // 2))))
    rows.append(("Pillow ImageEnhance chain (3 ops)", timed(lambda: pillow_chain(img, regions, strengths), max(1, args.repeat // 2))))
    rows.append(("OpenCV chain (3 ops)", timed(lambda: opencv_chain(img, regions, strengths), max(1, args.repeat // 2))))

    small = cv2.resize(img, (1155, 866), interpolation=cv2.INTER_AREA)
    preview_reuse = timed(lambda: fast.apply(small, plan), args.repeat)
    preview_cached = timed(lambda: fast.preview(img, rec, regions, small=small), args.repeat)
    preview_cold = timed(cold(lambda: fast.render(small, rec, regions)), args.repeat)
    small_plan = fast.plan(small, rec, regions)
    preview_apply = timed(lambda: fast.apply(small, small_plan), args.repeat)
    fast.cache.clear()
    c0 = time.process_time()
    fast.render(img, rec, regions)
    cpu = (time.process_time() - c0) * 1e3

    fast.cache.clear()
    tracemalloc.start()
    res = fast.render(img, rec, regions)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    base = rows[0][1]
    print(f"12 MP ({img.shape[1]}x{img.shape[0]}), {len(regions)} soft regions, 4 core attributes; "
          f"median of {args.repeat}; numba={__import__('pertouch.engine.kernels', fromlist=['x']).HAVE_NUMBA}")
    print(f"{'method':40s} {'ms':>9s} {'x fast':>8s}")
    for name, ms in rows:
        print(f"{name:40s} {ms:9.1f} {ms / base:8.2f}")
    print(f"{'1 MP preview of the 12 MP edit, plan reused':40s} {preview_reuse:9.1f}")
    print(f"{'1 MP preview, preview() with warm cache':40s} {preview_cached:9.1f}   (re-plan from cache + apply + report)")
    print(f"{'1 MP preview, cold (solved at 1 MP)':40s} {preview_cold:9.1f}")
    print(f"{'1 MP apply of a plan solved at 1 MP':40s} {preview_apply:9.1f}")
    print(f"CPU time of one 12 MP render (both cores summed): {cpu:.0f} ms; "
          f"load average now {__import__('os').getloadavg()[0]:.1f} on {__import__('os').cpu_count()} cores")
    print(f"peak traced memory of one 12 MP render: {peak / 2**20:.0f} MiB; "
          f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if not args.quick:
        ref_img = ref.render(img, rec, regions).image
        diff = np.abs(res.image.astype(np.int16) - ref_img)
        mse = float((diff.astype(np.float64) ** 2).mean())
        psnr = 10 * np.log10(255 ** 2 / mse) if mse else float("inf")
        print(f"fast vs straightforward: mean abs diff {diff.mean():.4f} /255, max {diff.max()}, PSNR {psnr:.1f} dB")
    alone = ParametricEngine(joint=False).render(img, rec, regions).report
    for label, rep in (("regions solved alone (before)", alone), ("overlaps solved jointly", res.report)):
        errs = [abs(a.error) for a in rep]
        print(f"achieved vs target, {label}: mean |error| {np.mean(errs):.3f}, median {np.median(errs):.3f}, "
              f"max {np.max(errs):.3f} (levels)")
    print(f"timings of one render: {', '.join(f'{k} {v:.0f} ms' for k, v in res.timings_ms.items())}; "
          f"solves {fast.stats.get('solves', 0)}, sweeps {fast.stats.get('sweeps', 0)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
