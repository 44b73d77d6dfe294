"""The suites as tasks for :mod:`pertouch.evals.runner`: samples, a solver, scorers.

- ``retouch`` — the agent end to end on a case file (:mod:`pertouch.evals.cases`),
  scored on measured pixels (:mod:`pertouch.evals.scorers`); the input photo and the
  render are saved under ``RUN_DIR/images/``;
- ``parser`` — the instruction corpus (:mod:`pertouch.evals.parser_eval`) through a
  VLM's classify role, scored per field (kind, targets, sizes, protected, style, regions);
- ``conversation`` — multi-turn scripts on a checkpointed thread
  (:mod:`pertouch.evals.conversation`), scored per turn;
- ``segmentation`` — the hand-labelled photos per split (:mod:`pertouch.evals.seg_task`),
  scored per kind (IoU, boundary F, found, false-found);
- ``memory`` — the personalisation scenario (:mod:`pertouch.evals.memory_task`), scored
  per expected recalled preference;
- ``paired`` — engines on (input, retouched) pairs with oracle levels measured on the
  target (:mod:`pertouch.evals.paired_task`), scored by PSNR, SSIM, CIEDE2000 (LPIPS if local).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pertouch.core.errors import InputError

SUITES = ("retouch", "parser", "conversation", "segmentation", "memory", "paired")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "config"


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def category_of(case: Any) -> str:
    """A retouch case's category: its own, else its expected class (``no-edit`` when none)."""
    if case.category:
        return case.category
    return case.expect.class_ or ("no-edit" if case.expect.no_edit else "other")


class RetouchTask:
    name = "retouch"

    def __init__(self, cases_path: Path | None = None):
        from pertouch.evals.cases import load_cases

        self.cases_path = Path(cases_path).resolve() if cases_path else None
        self.cases = load_cases(self.cases_path)

    def samples(self) -> list[dict[str, Any]]:
        return [{"id": c.id, "category": category_of(c), "input": c.model_dump(by_alias=True, exclude_none=True)}
                for c in self.cases]

    def solve(self, sample: dict[str, Any], cfg: dict[str, str], out: Path, epoch: int) -> dict[str, Any]:
        from pertouch.evals.cases import Case
        from pertouch.evals.solver import solve

        case = Case.model_validate(sample["input"])
        inputs = out / "images" / "input"
        inputs.mkdir(parents=True, exist_ok=True)
        img = out / "images" / _slug(cfg.get("name") or cfg.get("vlm", "builtin")) / f"{_slug(case.id)}-e{epoch}.png"
        run = solve(case, vlm=cfg.get("vlm", "builtin"), workdir=inputs,
                    base=self.cases_path.parent if self.cases_path else None,
                    segmenter=cfg.get("segmenter", "builtin"), engine=cfg.get("engine", "parametric"), save_to=img)
        before = inputs / f"{case.id}.png"
        output = run.to_json()
        calls = output.pop("calls")
        mask_image, legend = output.pop("mask_image"), output.pop("mask_legend")
        masks = {"image": _rel(Path(mask_image), out), "legend": legend} if mask_image else None
        return {"answer": run.answer, "recipe": run.recipe, "timings_ms": run.timings_ms, "ms": run.ms,
                "image": _rel(img, out) if run.image else None, "masks": masks,
                "before_image": _rel(before, out) if before.is_file() else None,
                "output": output, "calls": calls, "error": run.model_error}

    def score(self, inp: dict[str, Any], output: dict[str, Any]) -> dict[str, dict[str, Any]]:
        from pertouch.evals.cases import Case
        from pertouch.evals.scorers import score
        from pertouch.evals.solver import Run

        run = Run(**{k: v for k, v in output.items() if k in Run.__dataclass_fields__})
        return {s.name: {"value": s.value, "explanation": s.explanation}
                for s in score(Case.model_validate(inp), run)}


class ParserTask:
    name = "parser"

    def __init__(self, cases_path: Path | None = None):
        from pertouch.evals.parser_eval import load_cases

        self.cases_path = Path(cases_path).resolve() if cases_path else None
        try:
            self.cases = load_cases(self.cases_path)
        except FileNotFoundError:
            raise InputError(f"case file not found: {self.cases_path}") from None
        self._models: dict[str, Any] = {}

    def samples(self) -> list[dict[str, Any]]:
        seen: dict[str, int] = {}
        out = []
        for c in self.cases:  # the corpus has a few repeated ids (di129…): each case is kept, named apart
            n = seen[c["id"]] = seen.get(c["id"], 0) + 1
            out.append({"id": c["id"] if n == 1 else f"{c['id']}#{n}", "category": c.get("category"),
                        "split": c.get("split", "dev"), "input": c})
        return out

    def _model(self, spec: str) -> Any:
        if spec not in self._models:
            from pertouch.graph.vlm.registry import get_vlm

            self._models[spec] = get_vlm(spec)
        return self._models[spec]

    def solve(self, sample: dict[str, Any], cfg: dict[str, str], out: Path, epoch: int) -> dict[str, Any]:
        import time

        from pertouch.graph.vlm.calls import CallRecorder, RecordedVLM

        recorder = CallRecorder()
        t0 = time.perf_counter()
        try:
            model = RecordedVLM(self._model(cfg.get("vlm", "builtin")), recorder)
            got = model.classify(sample["input"]["text"], None).model_dump()
        except Exception as exc:  # a model that fails: an error, never a zero-or-one score
            return {"error": f"{type(exc).__name__}: {exc}", "output": {}, "calls": recorder.entries()}
        ms = round((time.perf_counter() - t0) * 1000.0, 1)
        return {"answer": got.get("explanation") or got.get("kind") or "", "ms": ms, "calls": recorder.entries(),
                "output": {k: got.get(k) for k in ("kind", "targets", "protected", "style", "regions", "explanation")}}

    def score(self, inp: dict[str, Any], output: dict[str, Any]) -> dict[str, dict[str, Any]]:
        from pertouch.evals.parser_eval import FIELDS, score_case

        expect = inp["expect"]
        res = score_case(expect, output)
        out = {}
        for f in FIELDS:
            if f == "exact":
                continue
            want, got = _field(expect, f), _field(output, f)
            out[f] = {"value": float(res[f]), "explanation": "ok" if res[f] else f"expected {want}, got {got}"}
        return out


def _field(d: dict[str, Any], f: str) -> Any:
    if f in ("targets", "sizes"):
        return [f"{t['region']}.{t['attribute']} {t['direction']}"
                + (f" {t.get('shift') if t.get('shift') is not None else t.get('level')}" if f == "sizes" else "")
                for t in d.get("targets") or []]
    return d.get(f)


def make_task(suite: str, cases_path: Path | str | None = None, split: str | None = None) -> Any:
    """The task of a suite name (``cases_path``: another case file than the bundled one;
    ``split``: the segmentation suite's tune or heldout photos only)."""
    path = Path(cases_path) if cases_path else None
    if split is not None and suite != "segmentation":
        raise InputError(f"--split applies to the segmentation suite, not {suite!r}",
                         hint="for the parser's split use --filter heldout")
    if suite == "paired":  # cases_path: the pairs folder or CSV
        from pertouch.evals.paired_task import PairedTask

        return PairedTask(path)
    if suite == "memory":
        from pertouch.evals.memory_task import MemoryTask

        return MemoryTask(path)
    if suite == "segmentation":
        from pertouch.evals.seg_task import SegmentationTask

        return SegmentationTask(path, split)
    if suite == "retouch":
        return RetouchTask(path)
    if suite == "parser":
        return ParserTask(path)
    if suite == "conversation":
        from pertouch.evals.conversation import ConversationTask

        return ConversationTask(path)
    raise InputError(f"unknown suite {suite!r}", hint="use one of: " + ", ".join(SUITES))


def task_for_spec(spec: dict[str, Any]) -> Any:
    return make_task(spec["suite"], spec.get("cases"), spec.get("split"))
