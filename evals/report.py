"""Run a suite and write its log: cases → solver → scorers → metrics → log.

The log is machine-readable JSONL (one line per case, with scores and the run) and
a summary JSON; the Markdown report is rendered from the log.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any, Callable, Iterable

from pertouch.evals.cases import Case
from pertouch.evals.scorers import SCORERS, passed, score
from pertouch.evals.solver import solve


def run_suite(cases: Iterable[Case], *, vlm: str, out: Path, base: Path | None = None,
              on_case: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Solve and score every case; write ``log.jsonl``, ``summary.json``, ``report.md`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    photos = out / "photos"
    photos.mkdir(exist_ok=True)
    rows: list[dict[str, Any]] = []
    with (out / "log.jsonl").open("w", encoding="utf-8") as log:
        for case in cases:
            run = solve(case, vlm=vlm, workdir=photos, base=base)
            scores = score(case, run)
            row = {"id": case.id, "instruction": case.instruction, "photo": case.photo,
                   "passed": passed(scores),
                   "scores": {s.name: {"value": s.value, "explanation": s.explanation} for s in scores},
                   "run": run.to_json()}
            rows.append(row)
            log.write(json.dumps(row) + "\n")
            log.flush()
            if on_case:
                on_case(row)
    summary = metrics(rows, vlm)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    (out / "report.md").write_text(render_markdown(summary, rows))
    return summary


def metrics(rows: list[dict[str, Any]], vlm: str) -> dict[str, Any]:
    names = [s.__name__ for s in SCORERS]
    per: dict[str, float | None] = {}
    for row in rows:
        for key, sc in row["scores"].items():
            per.setdefault(key, None)
    for key in per:
        vals = [r["scores"][key]["value"] for r in rows if r["scores"][key]["value"] is not None]
        per[key] = round(statistics.fmean(vals), 3) if vals else None
    n = len(rows)
    return {"vlm": vlm, "cases": n, "passed": sum(r["passed"] for r in rows),
            "pass_rate": round(sum(r["passed"] for r in rows) / n, 3) if n else 0.0,
            "scores": per, "scorers": names,
            "median_ms": round(statistics.median(r["run"]["ms"] for r in rows), 1) if n else 0.0}


def render_markdown(summary: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    keys = list(summary["scores"])
    lines = [f"# PerTouch eval — vlm `{summary['vlm']}`", "",
             f"{summary['passed']}/{summary['cases']} cases passed ({summary['pass_rate']:.0%}); "
             f"median {summary['median_ms']:.0f} ms per case.", "",
             "| case | pass | " + " | ".join(keys) + " | rounds | ms |",
             "|---|---|" + "---|" * len(keys) + "---|---|"]
    for r in rows:
        cells = []
        for k in keys:
            v = r["scores"][k]["value"]
            cells.append("–" if v is None else f"{v:.2f}")
        lines.append(f"| {r['id']} | {'✓' if r['passed'] else '✗'} | " + " | ".join(cells)
                     + f" | {r['run']['rounds']} | {r['run']['ms']:.0f} |")
    lines += ["", "## Why", ""]
    for r in rows:
        notes = "; ".join(f"{k}: {v['explanation']}" for k, v in r["scores"].items() if v["value"] is not None)
        lines.append(f"- **{r['id']}** ({r['instruction']}): {notes}")
    return "\n".join(lines) + "\n"
