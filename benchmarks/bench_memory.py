"""Benchmark: memory recall latency and insertion throughput at 10k / 100k stored scenes.

    .venv/bin/python benchmarks/bench_memory.py                 # 10k and 100k, 10 users
    .venv/bin/python benchmarks/bench_memory.py --sizes 10000 --users 1 --queries 100
    .venv/bin/python benchmarks/bench_memory.py --sizes 100000 --no-recall --import-size 10000

Issue 15 goals: ``memory import`` of 10k records ≤ 10 s, re-importing them no slower;
``stats`` and ``list -n 5`` ≤ 200 ms at 100k records (``stats_ms``/``list5_ms`` here,
in-process: the CLI adds its start-up). Measured 2026-12-06 on the shared 2-core machine:
stats 108 ms, list -n 5 84 ms at 100,000 records (load 7); import of 10,000 records with
1,986 distinct descriptions 8.2 s, again 1.1 s, with every rating changed 4.1 s; 10,000
distinct descriptions 22.7 s (load 1.5, embedding-bound); the store's own export of them
(text vectors carried) into a fresh store 6.5 s (1,986 distinct: 5.7 s).

Goal (issue 6): ≤ 20 ms median per ``recall`` (query embedding included) on a 2-core
machine. Stores are filled with precomputed vectors in batches (``remember_many(…,
vectors=…)``): text parts are real MiniLM vectors of generated descriptions plus noise,
descriptor parts real descriptors of sample photos plus noise — so the index has the
structure real data has. Each query uses a NEW description (no embedding-cache hit)
and a real descriptor, through the public ``Memory.recall``.

Measured 2026-11-28 on the shared 2-core dev machine (load 2–5 from other jobs), chroma:

=========  =====  =============  ==========  ========  ===============
stored     users  recall median  recall p95  embed     insert
=========  =====  =============  ==========  ========  ===============
10,000     10     15.4 ms        23.6 ms     7.2 ms    917 records/s
100,000    10     15.1 ms        17.9 ms     6.7 ms    686 records/s
100,000    1      12.5 ms        15.1 ms     5.6 ms    1,010 records/s
=========  =====  =============  ==========  ========  ===============
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PLACES = ["lake", "mountain", "beach", "forest", "city street", "desert", "harbour", "meadow", "canyon", "river",
          "snowfield", "village", "cathedral", "market", "garden", "bridge", "waterfall", "island", "vineyard", "park"]
TIMES = ["at sunset", "at dawn", "at noon", "at night", "in fog", "in the rain", "under a blue sky", "in autumn",
         "in winter", "after a storm"]
SUBJECTS = ["", "with a person walking", "with boats", "with a dog", "with old houses", "with a lone tree",
            "with children playing", "with cyclists", "with a red car", "with birds"]


def descriptions(rng: np.random.Generator, n: int) -> list[str]:
    return [f"a {rng.choice(PLACES)} {rng.choice(TIMES)} {rng.choice(SUBJECTS)}".strip() for _ in range(n)]


def descriptor_pool() -> np.ndarray:
    from skimage import data

    from pertouch.memory.descriptors import image_descriptor

    names = ["rocket", "astronaut", "coffee", "chelsea", "immunohistochemistry", "motorcycle_left", "camera"]
    pool = []
    for name in names:
        img = data.stereo_motorcycle()[0] if name == "motorcycle_left" else getattr(data, name)()
        if img.ndim == 2:
            img = np.stack([img] * 3, -1)
        for k in range(4):  # crops for variety
            h, w = img.shape[:2]
            pool.append(image_descriptor(img[k * h // 8:, k * w // 8:]))
    return np.stack(pool)


def build_vectors(n: int, text_pool: np.ndarray, desc_pool: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    from pertouch.memory.embeddings import combine

    t = text_pool[rng.integers(0, len(text_pool), n)] + 0.05 * rng.normal(size=(n, text_pool.shape[1]))
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    d = desc_pool[rng.integers(0, len(desc_pool), n)] + 0.05 * rng.normal(size=(n, desc_pool.shape[1]))
    return np.stack([combine(t[i], d[i], desc_pool.shape[1]) for i in range(n)])


def fill(mem, n: int, users: int, text_pool, desc_pool, rng, batch: int = 5000) -> float:
    """Insert n records; returns records per second."""
    from pertouch.memory.records import MemoryRecord

    now = time.time()
    t0 = time.perf_counter()
    for start in range(0, n, batch):
        m = min(batch, n - start)
        vecs = build_vectors(m, text_pool, desc_pool, rng)
        recs = [MemoryRecord(user=f"user{(start + i) % users}", scene_description="synthetic scene",
                             levels={"global": {"temperature": float(rng.uniform(-1, 1)),
                                                "brightness": float(rng.uniform(-1, 1))},
                                     "sky": {"brightness": float(rng.uniform(-1, 1))}},
                             timestamp=now - float(rng.uniform(0, 365 * 86400))) for i in range(m)]
        mem.remember_many(recs, vectors=vecs)
    return n / (time.perf_counter() - t0)


def measure(mem, users: int, queries: int, desc_pool, rng) -> dict[str, float]:
    from pertouch.memory.embeddings import embed_text

    texts = [f"{d} #{i}" for i, d in enumerate(descriptions(rng, queries + 10))]
    for q in texts[:10]:  # warm up (model load, index load)
        mem.recall("user0", q, desc_pool[0])
    total, embed = [], []
    for i, q in enumerate(texts[10:]):
        d = desc_pool[i % len(desc_pool)]
        t0 = time.perf_counter()
        rec = mem.recall(f"user{i % users}", q, d)
        total.append((time.perf_counter() - t0) * 1000)
        t1 = time.perf_counter()
        embed_text(q + " (timing)")
        embed.append((time.perf_counter() - t1) * 1000)
        assert all(e.record_id for e in rec.evidence)
    total.sort()
    return {"recall_median_ms": round(statistics.median(total), 2),
            "recall_p95_ms": round(total[int(0.95 * (len(total) - 1))], 2),
            "embed_median_ms": round(statistics.median(embed), 2)}


def import_records(n: int, users: int, rng: np.random.Generator, distinct: bool) -> list:
    """n export records as `memory export` writes them; descriptions drawn from 2,000 phrasings
    (people photograph the same kinds of scene) or, ``distinct``, each one different."""
    from pertouch.memory.records import MemoryRecord

    texts = descriptions(rng, n)
    now = time.time()
    return [MemoryRecord(user=f"user{i % users}", scene_description=f"{t} #{i}" if distinct else t,
                         levels={"global": {"temperature": float(rng.uniform(-1, 1))}},
                         timestamp=now - float(rng.uniform(0, 365 * 86400))) for i, t in enumerate(texts)]


def measure_import(n: int, users: int, rng: np.random.Generator, distinct: bool) -> dict[str, float]:
    """Seconds to import n records (a file without text vectors) into a fresh store, to import
    the same file again, to import it with every rating changed (an upsert of every record),
    and to import the store's own ``memory export`` of them into another fresh store."""
    from pertouch.memory.factory import open_memory

    recs = import_records(n, users, rng, distinct)
    out: dict[str, float] = {"records": n, "distinct_descriptions": len({r.scene_description for r in recs})}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.jsonl"
        path.write_text("".join(r.dumps() + "\n" for r in recs))
        mem = open_memory(f"chroma:{tmp}/store")
        for key in ("import_s", "reimport_s"):
            t0 = time.perf_counter()
            assert mem.import_(path) == n
            out[key] = round(time.perf_counter() - t0, 2)
        path.write_text("".join(r.model_copy(update={"rating": 0.5}).dumps() + "\n" for r in recs))
        t0 = time.perf_counter()
        mem.import_(path)
        out["reimport_changed_s"] = round(time.perf_counter() - t0, 2)
        assert mem.count() == n
        exported = Path(tmp) / "exported.jsonl"
        mem.export(exported)  # carries each description's text vector (pertouch.memory.carried)
        mem.close()
        fresh = open_memory(f"chroma:{tmp}/store2")
        t0 = time.perf_counter()
        assert fresh.import_(exported) == n
        out["import_exported_s"] = round(time.perf_counter() - t0, 2)
        fresh.close()
    return out


def measure_listing(mem, repeats: int = 20) -> dict[str, float]:
    """Median ms of ``stats()`` and ``list(limit=5)`` (what `memory stats` / `memory list -n 5` do)."""
    mem.stats()  # the first call may build the index
    rows = {}
    for name, fn in (("stats_ms", mem.stats), ("list5_ms", lambda: mem.list(limit=5))):
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000)
        rows[name] = round(statistics.median(times), 1)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--users", type=int, default=10, help="records are spread over this many users")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--store", choices=["chroma", "memory"], default="chroma")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--import-size", type=int, default=0,
                    help="also time `memory import` of this many records (fresh, again, changed)")
    ap.add_argument("--distinct", action="store_true", help="with --import-size: every description different")
    ap.add_argument("--no-recall", action="store_true", help="skip the recall timings (stats/list only)")
    args = ap.parse_args(argv)

    from pertouch.memory.embeddings import embed_texts
    from pertouch.memory.factory import open_memory

    rng = np.random.default_rng(0)
    text_pool = embed_texts(descriptions(rng, 500))
    desc_pool = descriptor_pool()
    results = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            mem = open_memory(f"chroma:{tmp}/store" if args.store == "chroma" else "memory:")
            rate = fill(mem, size, args.users, text_pool, desc_pool, rng)
            row = {"stored": size, "users": args.users, "store": args.store, "insert_per_s": round(rate, 1),
                   **({} if args.no_recall else measure(mem, args.users, args.queries, desc_pool, rng)),
                   **measure_listing(mem)}
            mem.close()
        results.append(row)
        print(json.dumps(row), flush=True)
    if args.import_size:
        row = measure_import(args.import_size, args.users, rng, args.distinct)
        results.append(row)
        print(json.dumps(row), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
