"""The ``segmentation`` suite: the hand-labelled photos (:mod:`pertouch.evals.seg_cases`)
as samples of :mod:`pertouch.evals.runner`, one per photo.

The solver perceives the photo with the config's segmenter (the same
:func:`~pertouch.evals.segmentation.evaluate_case` that ``scripts/eval_segmentation.py``
uses, so the numbers are the same); the scorers turn its per-kind result into scores
with explanations: ``KIND.iou`` and ``KIND.boundary_f`` where the kind is labelled
(informational unless the kind has an IoU goal, then it passes at the goal),
``KIND.found`` where it is labelled (1 found, 0 missed) and ``KIND.false_found`` where
it is absent (1 clean, 0 found on ≥ 1 % of the photo). A photo passes when every score
that has a verdict passes. :meth:`SegmentationTask.summaries` gives the per-split
summary and goals of :func:`~pertouch.evals.seg_metrics.summarise` per config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pertouch.core.errors import InputError
from pertouch.evals.seg_cases import SCORED, SEPARATE, SPLITS, _check_split, load_cases
from pertouch.evals.seg_metrics import FALSE_FOUND_AREA, GOALS, goal_checks, summarise


class SegmentationTask:
    name = "segmentation"
    cases_path = None

    def __init__(self, cases_path: Path | None = None, split: str | None = None):
        if cases_path is not None:
            raise InputError("the segmentation suite reads the labelled photos of evals/data/seg/, not a case file",
                             hint="drop the case file; choose photos with --split or --filter")
        _check_split(split)
        self.split = split
        self.cases = {c.name: c for c in load_cases(split)}

    def samples(self) -> list[dict[str, Any]]:
        return [{"id": c.name, "category": "portrait" if c.portrait else "scene", "split": c.split,
                 "input": {"case": c.name, "photo": c.photo, "split": c.split, "portrait": c.portrait,
                           "note": c.note}} for c in self.cases.values()]

    def solve(self, sample: dict[str, Any], cfg: dict[str, str], out: Path, epoch: int) -> dict[str, Any]:
        from pertouch.evals.segmentation import evaluate_case

        case = self.cases.get(sample["input"]["case"]) or {c.name: c for c in load_cases()}.get(sample["input"]["case"])
        if case is None:
            return {"error": f"InputError: no labelled photo {sample['input']['case']!r} in evals/data/seg/", "output": {}}
        res = evaluate_case(case, cfg.get("segmenter", "builtin"))
        present = [k for k, v in res["labels"].items() if v["present"]]
        return {"answer": "labelled: " + ", ".join(present), "ms": res["ms"], "timings_ms": {"total": res["ms"]},
                "output": res}

    def score(self, inp: dict[str, Any], output: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return score_labels(output.get("labels") or {})

    def summaries(self, samples: list[dict[str, Any]], configs: list[str]) -> dict[str, Any]:
        """Per config and split: the summary of the scored photos (mean IoU, boundary F,
        found / false-found rates, instance recall, portrait background IoU) and the goals."""
        out: dict[str, Any] = {}
        for name in configs:
            per: dict[str, Any] = {}
            for split in SPLITS:
                res = [s["output"] for s in samples if s["config"] == name and s.get("split") == split
                       and not s.get("error") and s.get("output")]
                if res:
                    summary = summarise(res)
                    per[split] = {"summary": summary, "goals": goal_checks(summary)}
            out[name] = per
        return out


def score_labels(labels: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Scores with explanations from one photo's per-kind results (``score_kind`` rows)."""
    out: dict[str, dict[str, Any]] = {}
    for kind in SCORED + SEPARATE:
        s = labels.get(kind)
        if s is None or (kind in SEPARATE and not s["present"]):
            continue
        if s["present"]:
            goal = GOALS["iou"].get(kind)
            missed = "" if s["found"] else " (not found: the empty mask)"
            out[f"{kind}.iou"] = {"value": s["iou"], "pass": None if goal is None else s["iou"] >= goal,
                                  "explanation": f"IoU {s['iou']:.3f}{missed}"
                                  + (f"; goal ≥ {goal:g}" if goal is not None else "")}
            out[f"{kind}.boundary_f"] = {"value": s["boundary_f"], "pass": None,
                                         "explanation": f"boundary F {s['boundary_f']:.3f}{missed}"}
            out[f"{kind}.found"] = {"value": float(s["found"]), "explanation": "found" if s["found"]
                                    else f"labelled in the photo but '{kind}' was not found"}
        else:
            out[f"{kind}.false_found"] = {
                "value": 0.0 if s["false_found"] else 1.0,
                "explanation": (f"absent but found on {s['area']:.1%} of the photo (≥ {FALSE_FOUND_AREA:.0%})"
                                if s["false_found"] else
                                "absent and not found" if not s["found"] else f"absent; found on only {s['area']:.1%}")}
    return out
