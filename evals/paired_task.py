"""The ``paired`` suite: engines on (input, retouched) pairs with oracle levels — the paper's table protocol.

For each pair (a FiveK-style folder — inputs + expert folders matched by name — two
folders with matching names, or a CSV; discovered by
:func:`pertouch.engine.train.data.find_pairs`, as ``pertouch train prepare`` does) the
input is segmented (the config's segmenter), the four levels are measured per region
on the TARGET (:func:`~pertouch.engine.train.data.prepare_pair`, the training data's
own measuring, through the engine's level table), and the engine renders the input
with those levels as ``to`` targets. The render is scored against the target: PSNR
(dB), SSIM, mean CIEDE2000 ΔE and LPIPS when its weights are local
(:mod:`pertouch.evals.fidelity`). The scores are measurements without a goal (a
sample passes when it was scored); the input's own distance to the target is kept
beside them, so the gain of each engine shows. One config per ``--engine``, the
parametric engine first.

Prepared pairs (photos at ``max_side``, labels, target measurements) are cached under
``RUN_DIR/prepared/`` so every engine sees the same regions and a resumed run does not
segment again.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import numpy as np

from pertouch.core.errors import InputError

METRICS = ("psnr", "ssim", "delta_e", "lpips")
LABEL = {"psnr": "PSNR", "ssim": "SSIM", "delta_e": "ΔE2000", "lpips": "LPIPS"}
BETTER = {"psnr": "higher", "ssim": "higher", "delta_e": "lower", "lpips": "lower"}
#: A score's ``unit`` marks it a measurement, not a rate in [0, 1] ("" = a plain number).
UNIT = {"psnr": "dB", "ssim": "", "delta_e": "", "lpips": ""}
#: Long side the pairs are evaluated at (as ``pertouch train prepare`` stores them).
MAX_SIDE = 768


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "x"


def oracle_recipe(labels: np.ndarray, raw: np.ndarray, table) -> tuple[Any, dict[str, Any]]:
    """The recipe and regions of the oracle levels: region ``rI`` (label I) and ``rest``
    (label 0) each set ``to`` its target levels (``raw`` rows through ``table``, in [−1, 1])."""
    from pertouch.engine.schema.attributes import CORE_NAMES
    from pertouch.engine.schema.recipe import Recipe
    from pertouch.engine.schema.regions import Region
    from pertouch.engine.train.data import raw_levels

    levels = np.clip(raw_levels(raw, table), -1.0, 1.0)
    regions, entries = {}, {}
    for i in range(levels.shape[0]):
        mask = labels == i
        if not mask.any() or not np.isfinite(levels[i]).any():
            continue
        name = "rest" if i == 0 else f"r{i}"
        regions[name] = Region(name=name, mask=mask.astype(np.float32))
        entries[name] = {"attributes": {a: {"to": round(float(levels[i, c]), 4)}
                                        for c, a in enumerate(CORE_NAMES) if np.isfinite(levels[i, c])}}
    return Recipe.model_validate({"regions": entries}), regions


def _level_table(engine: Any):
    from pertouch.engine.schema.levels import default_table

    return getattr(engine, "level_table", None) or getattr(engine, "table", None) or default_table()


class PairedTask:
    name = "paired"
    split = None

    def __init__(self, pairs: Path | str | None, max_side: int = MAX_SIDE):
        from pertouch.engine.train.data import find_pairs

        if pairs is None:
            raise InputError("the paired suite needs pairs", hint="pertouch eval paired --pairs DIR_OR_CSV -o RUN_DIR")
        self.cases_path = Path(pairs).resolve()
        self.pairs = {p.id: p for p in find_pairs(self.cases_path)}
        self.max_side = max_side
        self._engines: dict[str, Any] = {}
        self._lock = threading.Lock()

    def samples(self) -> list[dict[str, Any]]:
        return [{"id": p.id, "category": p.expert,
                 "input": {"pair": p.id, "input": str(p.input), "target": str(p.target), "expert": p.expert,
                           "instruction": f"{p.input.name} → {p.expert}"}} for p in self.pairs.values()]

    def _engine(self, spec: str) -> Any:
        from pertouch.engine.engines import get_engine

        with self._lock:
            if spec not in self._engines:
                self._engines[spec] = get_engine(spec)
            return self._engines[spec]

    def _prepared(self, sample: dict[str, Any], segmenter: str, out: Path) -> dict[str, np.ndarray]:
        """The pair at ``max_side`` with its regions and target measurements (cached in ``out/prepared``)."""
        from pertouch.engine.train import data as td
        from pertouch.engine.io.read import load_image
        from pertouch.engine.io.write import save_image
        from pertouch.tools.region_masks import make_segmenter

        inp = sample["input"]
        path = out / "prepared" / _slug(segmenter) / f"{_slug(inp['pair'])}-{self.max_side}.npz"
        if path.is_file():
            with np.load(path) as z:
                return {k: z[k] for k in z.files}
        rec = td.prepare_pair(td.to_rgb8(load_image(Path(inp["input"])).pixels),
                              td.to_rgb8(load_image(Path(inp["target"])).pixels), make_segmenter(segmenter),
                              self.max_side)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{threading.get_ident()}.tmp.npz")  # --concurrency: one writer each
        np.savez_compressed(tmp, **rec)
        tmp.replace(path)
        for kind in ("input", "target"):
            (out / "images" / kind).mkdir(parents=True, exist_ok=True)
            save_image(out / "images" / kind / f"{_slug(inp['pair'])}.png", rec[kind], overwrite=True)
        return rec

    def solve(self, sample: dict[str, Any], cfg: dict[str, str], out: Path, epoch: int) -> dict[str, Any]:
        import time

        from pertouch.engine.io.write import save_image
        from pertouch.evals.fidelity import fidelity, lpips_status

        pid = sample["input"]["pair"]
        if pid not in self.pairs:
            return {"error": f"InputError: no pair {pid!r} in {self.cases_path}", "output": {}}
        spec = cfg.get("engine", "parametric")
        t0 = time.perf_counter()
        rec = self._prepared(sample, cfg.get("segmenter", "builtin"), out)
        t1 = time.perf_counter()
        engine = self._engine(spec)
        recipe, regions = oracle_recipe(rec["labels"], rec["raw"], _level_table(engine))
        res = engine.render(rec["input"], recipe, regions)
        t2 = time.perf_counter()
        render = np.asarray(res.image)[..., :3]
        if render.dtype != np.uint8:
            from pertouch.engine.train.data import to_rgb8

            render = to_rgb8(render)
        got = fidelity(render, rec["target"])
        base = fidelity(rec["input"], rec["target"])
        img = out / "images" / _slug(cfg.get("name") or spec) / f"{_slug(pid)}-e{epoch}.png"
        img.parent.mkdir(parents=True, exist_ok=True)
        save_image(img, render, overwrite=True)
        t3 = time.perf_counter()
        answer = ", ".join(f"{LABEL[k]} {_fmt(k, got[k])}" for k in METRICS if got[k] is not None)
        return {"answer": answer, "recipe": recipe.model_dump(mode="json", exclude_none=True),
                "image": str(img.relative_to(out)), "before_image": f"images/input/{_slug(pid)}.png",
                "timings_ms": {"prepare": round((t1 - t0) * 1e3, 1), "render": round((t2 - t1) * 1e3, 1),
                               "score": round((t3 - t2) * 1e3, 1)},
                "output": {"metrics": got, "input_metrics": base, "regions": len(regions),
                           "target_image": f"images/target/{_slug(pid)}.png", "lpips_note": lpips_status()}}

    def score(self, inp: dict[str, Any], output: dict[str, Any]) -> dict[str, dict[str, Any]]:
        got, base = output.get("metrics") or {}, output.get("input_metrics") or {}
        out = {}
        for k in METRICS:
            if got.get(k) is None:
                out[k] = {"value": None, "pass": None, "unit": UNIT[k],
                          "explanation": output.get("lpips_note") or f"{LABEL[k]}: not computed"}
                continue
            out[k] = {"value": got[k], "pass": None, "unit": UNIT[k],
                      "explanation": f"{LABEL[k]} {_fmt(k, got[k])} vs the target ({BETTER[k]} is closer); "
                                     f"the input itself: {_fmt(k, base.get(k))}"}
        return out


def _fmt(k: str, v: float | None) -> str:
    if v is None:
        return "–"
    return f"{v:.2f} dB" if k == "psnr" else f"{v:.3f}" if k in ("ssim", "lpips") else f"{v:.2f}"


def paired_table(samples: list[dict[str, Any]], configs: list[str]) -> dict[str, Any]:
    """Per config, after the input itself as a baseline: pairs scored, errors and the mean of
    each metric; the LPIPS note when it was not computed."""
    def means(rows: list[dict[str, Any]]) -> dict[str, float | None]:
        res = {}
        for k in METRICS:
            vals = [float(r[k]) for r in rows if r.get(k) is not None]
            res[k] = round(float(np.mean(vals)), 4) if vals else None
        return res

    scored = [s for s in samples if not s.get("error") and (s.get("output") or {}).get("metrics")]
    inputs = {s["id"]: s["output"]["input_metrics"] for s in scored}
    table = {"input (no edit)": {"pairs": len(inputs), "errors": 0, **means(list(inputs.values()))}}
    for n in configs:
        rows = [s["output"]["metrics"] for s in scored if s["config"] == n]
        errors = sum(1 for s in samples if s["config"] == n and s.get("error"))
        table[n] = {"pairs": len(rows), "errors": errors, **means(rows)}
    notes = sorted({s["output"]["lpips_note"] for s in scored if s["output"].get("lpips_note")})
    return {"rows": table, "notes": notes}


def table_lines(table: dict[str, Any]) -> list[str]:
    """The paired table as text: the input, then one row per engine; PSNR / SSIM / ΔE / LPIPS means."""
    rows = table.get("rows") or {}
    width = max([len(n) for n in rows] + [6]) + 2
    lines = [f"  {'engine':<{width}} {'pairs':>6} {'PSNR dB ↑':>10} {'SSIM ↑':>7} {'ΔE2000 ↓':>9} {'LPIPS ↓':>8}"]
    for n, r in rows.items():
        pairs = str(r["pairs"]) + (f"+{r['errors']}E" if r["errors"] else "")
        cells = [("–" if r[k] is None else f"{r[k]:.3f}" if k in ("ssim", "lpips") else f"{r[k]:.2f}") for k in METRICS]
        lines.append(f"  {n:<{width}} {pairs:>6} {cells[0]:>10} {cells[1]:>7} {cells[2]:>9} {cells[3]:>8}")
    return lines + [f"  {note}" for note in table.get("notes") or []]


def write_table(out: Path) -> list[str]:
    """The paired table of the run folder ``out`` from its log, also written to ``out/paired.md``
    and ``out/paired.json``; returns the text lines."""
    import json

    from pertouch.evals.runlog import RunLog

    log = RunLog(out)
    names = [c["name"] for c in log.read_spec()["configs"]]
    table = paired_table(log.samples(), names)
    lines = table_lines(table)
    (Path(out) / "paired.json").write_text(json.dumps(table, indent=1), encoding="utf-8")
    (Path(out) / "paired.md").write_text("# Paired evaluation (oracle levels measured on the target)\n\n```\n"
                                         + "\n".join(lines) + "\n```\n", encoding="utf-8")
    return lines
