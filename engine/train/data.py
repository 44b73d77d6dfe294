"""Training data for a PerTouch model: (input, retouched) pairs → parameter maps in shards.

A dataset folder holds::

    manifest.json       {"format": "pertouch-train", "pairs": [...], "skipped": [...], "shards": [...]}
    shard-00000.npz     per pair ``ID/input``, ``ID/target`` (uint8 H×W×3), ``ID/labels``
                        (uint16 H×W: 0 outside every region, i = the i-th kept region,
                        later regions over earlier ones) and ``ID/raw`` ((n+1)×4 raw
                        estimator values measured on the TARGET, row 0 = outside)
    maps-00000.npz      ``ID`` → float16 ``(4, H, W)`` parameter map (levels in [−1, 1])
    levels.json         the quantile normaliser the maps were made with

Maps are painted from ``labels`` and ``raw`` through the level table, so refitting the
normaliser (:func:`finalize`) rewrites only the map shards. Segmentation is passed in as
a callable (the engine has no scene models); ``pertouch train prepare`` wires it in.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

import numpy as np

from pertouch.core.errors import InputError
from pertouch.engine.parametric.inputs import fit_long_side
from pertouch.engine.schema.attributes import CORE_NAMES
from pertouch.engine.schema.levels import LevelScale, LevelTable

FORMAT = "pertouch-train"
MANIFEST = "manifest.json"
TABLE = "levels.json"
#: Regions smaller than this (pixels at the stored size) are dropped, as in the reference.
MIN_REGION_PX = 400
#: Knots of the fitted quantile normaliser.
KNOTS = 101
#: Folder names read as the inputs of a pairs folder; every other sub-folder is an expert.
INPUT_NAMES = ("input", "inputs", "source", "original", "originals", "raw")
IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp")

Segmenter = Callable[[np.ndarray], Mapping[str, np.ndarray]]


@dataclass(frozen=True)
class Pair:
    """One (input, retouched) pair; ``id`` (``EXPERT/STEM``) is unique in a dataset."""

    input: Path
    target: Path
    expert: str

    @property
    def stem(self) -> str:
        return self.input.stem

    @property
    def id(self) -> str:
        return f"{self.expert}/{self.stem}"


def _images(folder: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() in IMAGE_EXTS}


def find_pairs(source: str | Path) -> list[Pair]:
    """Pairs from a folder (an input folder + expert folders, matched by file stem) or a CSV.

    A CSV has columns ``input,target`` and optionally ``expert``; relative paths are
    read from the CSV's folder. Inputs without a retouched version are not pairs (an
    expert folder may cover a subset).
    """
    src = Path(source)
    if src.is_file() and src.suffix.lower() == ".csv":
        return _csv_pairs(src)
    if not src.is_dir():
        raise InputError(f"pairs source not found: {src}", hint="give a folder of input + expert folders, or a CSV")
    subs = [d for d in sorted(src.iterdir()) if d.is_dir()]
    inputs = [d for d in subs if d.name.lower() in INPUT_NAMES]
    if len(inputs) != 1 or len(subs) < 2:
        raise InputError(f"{src} is not a pairs folder",
                         hint=f"it needs one input folder (named {'/'.join(INPUT_NAMES)}) and one or more "
                              "expert folders with files of the same names")
    ins = _images(inputs[0])
    pairs = [Pair(ins[stem], tgt, d.name) for d in subs if d is not inputs[0]
             for stem, tgt in _images(d).items() if stem in ins]
    if not pairs:
        raise InputError(f"no file names match between {inputs[0]} and the expert folders of {src}")
    return pairs


def _csv_pairs(path: Path) -> list[Pair]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or not {"input", "target"} <= set(rows[0]):
        raise InputError(f"{path}: a pairs CSV needs a header with input,target[,expert]")
    base = path.parent
    return [Pair(base / r["input"], base / r["target"], (r.get("expert") or "target").strip() or "target")
            for r in rows]


def to_rgb8(pixels: np.ndarray) -> np.ndarray:
    px = np.asarray(pixels)
    if px.dtype == np.uint16:
        return (px >> 8).astype(np.uint8)
    if px.dtype != np.uint8:
        raise InputError(f"unsupported pixel type {px.dtype}")
    return px[..., :3]


def label_image(masks: Iterable[np.ndarray], shape: tuple[int, int], min_px: int = MIN_REGION_PX) -> np.ndarray:
    """uint16 labels: later masks over earlier ones (> 0.5), regions left with < ``min_px`` dropped
    and the rest renumbered 1..n in order."""
    import cv2

    lab = np.zeros(shape, np.uint16)
    for i, m in enumerate(masks, 1):
        m = np.asarray(m, np.float32)
        if m.shape != shape:
            m = cv2.resize(m, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
        lab[m > 0.5] = i
    counts = np.bincount(lab.ravel())
    keep = [i for i in range(1, counts.size) if counts[i] >= min_px]
    lut = np.zeros(max(counts.size, 1), np.uint16)
    lut[keep] = np.arange(1, len(keep) + 1, dtype=np.uint16)
    return lut[lab]


def region_raw(image: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``(n+1, 4)`` raw estimator values of ``image`` per label (row 0 = outside; NaN when empty)."""
    from pertouch.engine.measure import stats as ms

    n = int(labels.max())
    meas = ms.Measurer(image)
    out = np.full((n + 1, len(CORE_NAMES)), np.nan)
    for i in range(n + 1):
        m = labels == i
        if m.sum() >= 1:
            raw = meas.raw(ms.measure_mask(m.astype(np.float32)), CORE_NAMES)
            out[i] = [raw[a] for a in CORE_NAMES]
    return out


def fit_table(raws: Iterable[np.ndarray], knots: int = KNOTS, source: str = "fitted") -> LevelTable:
    """The quantile normaliser of the regions' raw values (NaN ignored), one scale per attribute."""
    allv = [np.asarray(r, np.float64).reshape(-1, len(CORE_NAMES)) for r in raws]
    if not allv:
        raise InputError("no measured regions to fit the level table on")
    stack = np.concatenate(allv)
    qs = np.linspace(0.0, 1.0, knots)
    scales = {}
    for c, a in enumerate(CORE_NAMES):
        col = stack[:, c][np.isfinite(stack[:, c])]
        if col.size < 2:
            raise InputError(f"too few regions measured for {a} to fit a level table ({col.size})")
        scales[a] = LevelScale(a, tuple(float(v) for v in np.quantile(col, qs)))
    return LevelTable(scales=scales, source=source)


def raw_levels(raw: np.ndarray, table: LevelTable) -> np.ndarray:
    """``(n+1, 4)`` levels of ``region_raw`` rows through ``table`` (NaN where a region is empty)."""
    return np.stack([np.asarray(table[a].to_level(raw[:, c]), np.float64) for c, a in enumerate(CORE_NAMES)], 1)


def paint_map(labels: np.ndarray, raw: np.ndarray, table: LevelTable) -> np.ndarray:
    """``(4, H, W)`` float16 levels: each label's raw values through ``table``, clipped to [−1, 1].
    An empty outside (row 0 NaN) takes the level of the whole target's regions' median."""
    lv = raw_levels(raw, table)
    if lv.shape[0] > 1:
        fill = np.nanmedian(lv[1:], 0) if np.isfinite(lv[1:]).any() else np.zeros(len(CORE_NAMES))
        lv = np.where(np.isfinite(lv), lv, np.nan_to_num(fill))
    lv = np.clip(np.nan_to_num(lv), -1.0, 1.0)
    return np.ascontiguousarray(lv[labels.astype(np.int64)].transpose(2, 0, 1)).astype(np.float16)


def prepare_pair(inp: np.ndarray, tgt: np.ndarray, segment: Segmenter, max_side: int = 768,
                 min_px: int = MIN_REGION_PX) -> dict[str, np.ndarray]:
    """One record: input/target at ``max_side``, the input's regions as labels, raw values on the target."""
    if inp.shape[:2] != tgt.shape[:2]:
        raise InputError(f"input {inp.shape[1]}×{inp.shape[0]} and target {tgt.shape[1]}×{tgt.shape[0]} differ "
                         "in size", hint="a pair must be the same photo before and after retouching")
    inp, tgt = fit_long_side(inp, max_side), fit_long_side(tgt, max_side)
    masks = list(segment(inp).values())
    labels = label_image(masks, inp.shape[:2], min_px)
    return {"input": inp, "target": tgt, "labels": labels, "raw": region_raw(tgt, labels)}


# ---- the dataset folder -------------------------------------------------------------

def load_manifest(root: str | Path) -> dict:
    p = Path(root) / MANIFEST
    if not p.is_file():
        return {"format": FORMAT, "version": 1, "pairs": [], "skipped": [], "shards": []}
    data = json.loads(p.read_text(encoding="utf-8"))
    if data.get("format") != FORMAT:
        raise InputError(f"{p} is not a PerTouch training manifest", hint="give an empty or a prepared dataset folder")
    return data


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


Job = tuple[str, str, Callable[[], dict]]  # (pair id, expert, make the record)


def _run(jobs: Iterable[Job], workers: int) -> Iterator[tuple[str, str, object]]:
    """``(id, expert, record or the exception it raised)`` in job order, ``workers`` threads."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    def call(make):
        try:
            return make()
        except Exception as exc:  # noqa: BLE001 - reported by build
            return exc

    with ThreadPoolExecutor(max(1, workers)) as pool:
        window: deque = deque()
        for pid, expert, make in jobs:
            window.append((pid, expert, pool.submit(call, make)))
            while len(window) > 2 * workers or (window and window[0][2].done()):
                pid0, ex0, fut = window.popleft()
                yield pid0, ex0, fut.result()
        for pid0, ex0, fut in window:
            yield pid0, ex0, fut.result()


def build(root: str | Path, jobs: Iterable[Job], shard_size: int = 64,
          progress: Callable[[str, str], None] | None = None, workers: int = 1) -> dict:
    """Add the records of ``jobs`` (made on ``workers`` threads) to the dataset at ``root``.

    Resumable: pairs already in the manifest are skipped, earlier failures retried. A job
    that raises is recorded under ``"skipped"`` with why; the manifest is rewritten after
    every shard, so an interrupted run loses at most one shard of work. Returns the manifest.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    man = load_manifest(root)
    done = {p["id"] for p in man["pairs"]}
    buf: list[tuple[dict, dict]] = []

    def flush() -> None:
        if not buf:
            return
        name = f"shard-{len(man['shards']):05d}.npz"
        arrays = {f"{e['id']}/{k}": v for e, rec in buf for k, v in rec.items()}
        tmp = root / (name + ".tmp.npz")
        np.savez_compressed(tmp, **arrays)
        os.replace(tmp, root / name)
        man["shards"].append(name)
        for e, _ in buf:
            man["pairs"].append({**e, "shard": name})
            man["skipped"] = [s for s in man["skipped"] if s["id"] != e["id"]]
        _write_json(root / MANIFEST, man)
        buf.clear()

    jobs = list(jobs)
    for pid, _, _ in jobs:
        if pid in done and progress:
            progress(pid, "done before")
    for pid, expert, rec in _run([j for j in jobs if j[0] not in done], workers):
        if pid in done:  # the same id twice in one run
            if progress:
                progress(pid, "done before")
            continue
        if isinstance(rec, Exception):  # a bad pair is reported, never silently dropped
            why = rec.one_line() if hasattr(rec, "one_line") else f"{type(rec).__name__}: {rec}"
            man["skipped"] = [s for s in man["skipped"] if s["id"] != pid] + [{"id": pid, "why": why}]
            _write_json(root / MANIFEST, man)
            if progress:
                progress(pid, f"skipped: {why}")
            continue
        h, w = rec["input"].shape[:2]
        buf.append(({"id": pid, "expert": expert, "stem": pid.split("/", 1)[-1], "size": [h, w],
                     "regions": int(rec["labels"].max())}, rec))
        done.add(pid)
        if progress:
            progress(pid, "ok")
        if len(buf) >= shard_size:
            flush()
    flush()
    _write_json(root / MANIFEST, man)
    return man


def finalize(root: str | Path, table: LevelTable | None = None) -> LevelTable:
    """Fit the quantile normaliser on every target region (unless ``table`` is given), save it
    as ``levels.json`` and (re)write every shard's parameter maps; returns the table."""
    root = Path(root)
    man = load_manifest(root)
    if not man["pairs"]:
        raise InputError(f"{root} holds no prepared pairs", hint="every pair was skipped: see the manifest's 'skipped'")
    by_shard: dict[str, list[str]] = {}
    for p in man["pairs"]:
        by_shard.setdefault(p["shard"], []).append(p["id"])
    if table is None:
        raws = []
        for shard, ids in by_shard.items():
            with np.load(root / shard) as z:
                raws += [z[f"{i}/raw"] for i in ids]
        table = fit_table(raws, source=f"fitted on {len(raws)} targets of {root.name}")
    _write_json(root / TABLE, table.to_json())
    for shard, ids in by_shard.items():
        with np.load(root / shard) as z:
            maps = {i: paint_map(z[f"{i}/labels"], z[f"{i}/raw"], table) for i in ids}
        out = root / shard.replace("shard-", "maps-")
        tmp = out.with_name(out.name + ".tmp.npz")
        np.savez_compressed(tmp, **maps)
        os.replace(tmp, out)
    return table


class TrainDataset:
    """Samples of a prepared folder: ``input``/``target`` uint8 H×W×3, ``map`` float32 4×H×W,
    ``labels``, ``id``/``expert``/``stem`` and ``others`` — a callable giving the other
    experts' ``(expert, target, map)`` of the same input (for semantic replacement).
    ``transforms`` are applied in order, each ``(sample, rng) → sample``."""

    def __init__(self, root: str | Path, transforms: Iterable[Callable] = (), seed: int = 0) -> None:
        self.root = Path(root)
        man = load_manifest(self.root)
        self.pairs = man["pairs"]
        if not (self.root / TABLE).is_file():
            raise InputError(f"{self.root} has no parameter maps yet", hint="run `pertouch train prepare` to the end")
        self.transforms = list(transforms)
        self.rng = np.random.default_rng(seed)
        self._by_stem: dict[str, list[int]] = {}
        for i, p in enumerate(self.pairs):
            self._by_stem.setdefault(p["stem"], []).append(i)
        self._open: dict[str, object] = {}

    def __len__(self) -> int:
        return len(self.pairs)

    def _npz(self, name: str):
        if name not in self._open:
            self._open[name] = np.load(self.root / name)
        return self._open[name]

    def _raw(self, i: int) -> dict:
        p = self.pairs[i]
        z, m = self._npz(p["shard"]), self._npz(p["shard"].replace("shard-", "maps-"))
        pid = p["id"]
        return {"id": pid, "expert": p["expert"], "stem": p["stem"], "input": z[f"{pid}/input"],
                "target": z[f"{pid}/target"], "labels": z[f"{pid}/labels"], "map": m[pid].astype(np.float32)}

    def __getitem__(self, i: int) -> dict:
        s = self._raw(i)
        stem, shape = s["stem"], s["input"].shape

        def others() -> list[tuple[str, np.ndarray, np.ndarray]]:
            out = []
            for j in self._by_stem[stem]:
                if j != i and tuple(self.pairs[j]["size"]) == shape[:2]:
                    o = self._raw(j)
                    out.append((o["expert"], o["target"], o["map"]))
            return out

        s["others"] = others
        for t in self.transforms:
            s = t(s, self.rng)
        return s
