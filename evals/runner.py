"""Run a suite: dataset → solver → scorers → log, for every config and epoch; resumable.

A *task* (see :mod:`pertouch.evals.tasks`) gives the samples (``{"id", "category",
"input"}``), a ``solve(sample, config, run_dir, epoch)`` that returns what happened
(``answer``, ``recipe``, ``image``, ``timings_ms``, ``ms``, ``output``, ``error``) and a
``score(input, output)`` that returns ``{name: {"value", "explanation"}}``.

A run folder that already holds a log of the same suite continues: samples already
logged are skipped (``retry_failed`` reruns the errored ones). ``rescore`` re-applies
the scorers to a log without running anything.
"""

from __future__ import annotations

import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Sequence

from pertouch.core.errors import InputError
from pertouch.evals.runlog import ERROR, RunLog, key, status_of
from pertouch.evals.stats import summarise


def config_name(cfg: dict[str, str]) -> str:
    """A column name: the VLM spec, plus the segmenter / engine when not the default (a
    config without a VLM — the paired suite's — is named by its engine)."""
    if "vlm" not in cfg and "engine" in cfg:
        return cfg["engine"] + (f" seg={cfg['segmenter']}" if cfg.get("segmenter", "builtin") != "builtin" else "")
    parts = [cfg.get("vlm", "builtin")]
    if cfg.get("segmenter", "builtin") != "builtin":
        parts.append(f"seg={cfg['segmenter']}")
    if cfg.get("engine", "parametric") != "parametric":
        parts.append(f"engine={cfg['engine']}")
    if cfg.get("memory", "memory:") != "memory:":
        parts.append(f"memory={cfg['memory']}")
    return " ".join(parts)


def select(samples: list[dict[str, Any]], filter_expr: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Samples whose id or category matches ``filter_expr`` (a regular expression, or a
    plain substring when it is not one), then the first ``limit``."""
    if filter_expr:
        try:
            rx = re.compile(filter_expr, re.IGNORECASE)
            match: Callable[[str], bool] = lambda s: bool(rx.search(s))  # noqa: E731
        except re.error:
            match = lambda s: filter_expr.lower() in s.lower()  # noqa: E731
        samples = [s for s in samples if match(s["id"]) or match(s.get("category") or "")
                   or match(s.get("split") or "")]
    ids = [s["id"] for s in samples]
    if len(set(ids)) != len(ids):
        raise InputError(f"repeated case ids: {sorted({i for i in ids if ids.count(i) > 1})[:5]}",
                         hint="give every case its own id")
    if limit is not None:
        samples = samples[: max(0, limit)]
    if not samples:
        raise InputError("no case matches", hint="loosen --filter or raise --limit")
    return samples


def _check_same_run(log: RunLog, spec: dict[str, Any]) -> None:
    if not log.spec_path.is_file():
        return
    old = log.read_spec()
    if old.get("suite") != spec["suite"]:
        raise InputError(f"{log.out} holds a '{old.get('suite')}' run, not '{spec['suite']}'",
                         hint="give another -o folder, or the same suite to continue that run")


def run(task: Any, *, configs: Sequence[dict[str, str]], out: Path, epochs: int = 1, limit: int | None = None,
        filter_expr: str | None = None, retry_failed: bool = False,
        on_sample: Callable[[dict[str, Any]], None] | None = None, render: bool = True,
        concurrency: int = 1) -> dict[str, Any]:
    """Run every selected sample for every config and epoch not yet logged in ``out``;
    returns the summary (also written with the reports).

    ``concurrency``: samples solved at once on that many threads (cases are independent;
    worth it for remote models, whose calls wait on the network). Each finished sample is
    appended whole, under a lock, so the log stays one sample per line and a killed run
    continues where it stopped, whatever the order they finished in."""
    if epochs < 1:
        raise InputError("--epochs must be at least 1")
    if concurrency < 1:
        raise InputError("--concurrency must be at least 1")
    log = RunLog(out)
    samples = select(task.samples(), filter_expr, limit)
    names = [config_name(c) for c in configs]
    if len(set(names)) != len(names):
        raise InputError(f"the same config was given twice: {names}")
    spec = {"suite": task.name, "cases": str(task.cases_path) if task.cases_path else None,
            "configs": [dict(c, name=n) for c, n in zip(configs, names)], "epochs": epochs,
            "ids": [s["id"] for s in samples], "split": getattr(task, "split", None), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    _check_same_run(log, spec)
    if log.spec_path.is_file():  # keep configs of an earlier invocation in the report too
        old = log.read_spec()
        have = {c["name"] for c in spec["configs"]}
        spec["configs"] = [c for c in old.get("configs", []) if c["name"] not in have] + spec["configs"]
        spec["ids"] = list(dict.fromkeys([*old.get("ids", []), *spec["ids"]]))
        spec["epochs"] = max(epochs, int(old.get("epochs", 1)))
    log.write_spec(spec)
    done = {key(s): s for s in log.samples()}
    jobs = [(cfg, name, epoch, sample) for cfg, name in zip(configs, names) for epoch in range(1, epochs + 1)
            for sample in samples
            if (name, sample["id"], epoch) not in done
            or (retry_failed and done[(name, sample["id"], epoch)]["status"] == ERROR)]
    lock = threading.Lock()

    def one(job: tuple[dict[str, str], str, int, dict[str, Any]]) -> None:
        cfg, name, epoch, sample = job
        t0 = time.perf_counter()
        try:
            res = task.solve(sample, dict(cfg, name=name), log.out, epoch)
        except Exception as exc:  # the harness itself broke on this sample: an error, not a score
            res = {"error": f"{type(exc).__name__}: {exc}", "output": {}}
        res.setdefault("ms", round((time.perf_counter() - t0) * 1000.0, 1))
        row = make_sample(task, sample, name, epoch, res)
        with lock:
            log.append(row)
            done[(name, sample["id"], epoch)] = row
            if on_sample:
                on_sample(row)

    if concurrency == 1 or len(jobs) <= 1:
        for job in jobs:
            one(job)
    else:
        pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="eval")
        try:
            for fut in [pool.submit(one, job) for job in jobs]:
                fut.result()  # a broken log write or progress callback stops the run, loudly
        except BaseException:  # Ctrl-C or a broken write: start nothing more; the log holds what finished
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown()
    return write_reports(log, task) if render else summarise(list(done.values()), names)


def make_sample(task: Any, sample: dict[str, Any], config: str, epoch: int, res: dict[str, Any]) -> dict[str, Any]:
    """One log line from a task's solve result (scores applied unless it errored)."""
    error = res.get("error")
    scores = {} if error else task.score(sample["input"], res.get("output") or {})
    return {"config": config, "id": sample["id"], "epoch": epoch, "category": sample.get("category"),
            "split": sample.get("split"), "input": sample["input"], "answer": res.get("answer", ""),
            "recipe": res.get("recipe"), "image": res.get("image"), "before_image": res.get("before_image"),
            "masks": res.get("masks"),
            "timings_ms": res.get("timings_ms") or {}, "ms": res.get("ms"), "output": res.get("output") or {},
            "calls": res.get("calls") or [], "scores": scores, "status": status_of(scores, error), "error": error}


def rescore(out: Path, task_for: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """Re-apply the suite's scorers to every logged sample (no solving); rewrite the reports."""
    log = RunLog(out)
    spec = log.read_spec()
    task = task_for(spec)
    rows = []
    for s in log.samples():
        if not s.get("error"):
            s["scores"] = task.score(s["input"], s.get("output") or {})
        s["status"] = status_of(s.get("scores") or {}, s.get("error"))
        rows.append(s)
    log.rewrite(rows)
    return write_reports(log, task)


def write_reports(log: RunLog, task: Any = None) -> dict[str, Any]:
    """``summary.json``, ``report.md`` and ``report.html`` from the log; a task with a
    ``summaries(samples, configs)`` adds its own summary (key ``suite_summary``)."""
    from pertouch.evals.html import render_html
    from pertouch.evals.report import render_markdown

    spec = log.read_spec()
    names = [c["name"] for c in spec["configs"]]
    samples = log.samples()
    order = {i: n for n, i in enumerate(spec.get("ids", []))}
    samples.sort(key=lambda s: (order.get(s["id"], len(order)), s["id"], s["epoch"]))
    summary = {"suite": spec["suite"], "epochs": spec.get("epochs", 1), **summarise(samples, names)}
    if task is not None and hasattr(task, "summaries"):
        summary["suite_summary"] = task.summaries(samples, names)
    (log.out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    (log.out / "report.md").write_text(render_markdown(spec, summary, samples), encoding="utf-8")
    (log.out / "report.html").write_text(render_html(spec, summary, samples), encoding="utf-8")
    return summary
