"""``pertouch eval``: run an evaluation suite into a run folder, re-score it, view it.

    pertouch eval [SUITE] [CASES.jsonl] [--vlm A --vlm B …] [--epochs N] [--limit N]
                  [--filter EXPR] [--retry-failed] [--concurrency N] -o RUN_DIR
    pertouch eval CASES.jsonl …          # the retouch suite on another case file
    pertouch eval rescore RUN_DIR        # re-apply the scorers to the log, no model calls
    pertouch eval view RUN_DIR           # the path of the run's report.html (and open it)

Suites: ``retouch`` (default), ``parser``, ``conversation``, ``memory`` (``--memory
SPEC``: the store each sample is taught in, default ``memory:``), ``segmentation``
(``--split tune|heldout``: one split of the labelled photos; its summary per split is
printed and kept in ``summary.json`` under ``suite_summary``), ``paired`` (``--pairs
DIR_OR_CSV``: engines on retouched pairs with oracle levels measured on the target, one
row per ``--engine``, the parametric engine first; the table is also in ``paired.md``). The run folder holds
``spec.json``, ``log.jsonl`` (one sample per case, config and epoch), ``images/``,
``summary.json``, ``report.md`` and ``report.html``; running into a folder that holds
a run of the same suite continues it. The exit code is 0 when the suite ran, even if
cases failed (``--min-pass`` gates on a rate), and 1 when a config could score
nothing because every sample errored.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer


def eval_command(
    args: Optional[List[str]] = typer.Argument(None, help="[SUITE] [CASES.jsonl], a CASES.jsonl, "
                                               "'rescore RUN_DIR' or 'view RUN_DIR'."),
    suite: Optional[str] = typer.Option(None, "--suite", help="retouch | parser | conversation | segmentation | memory "
                                        "| paired"),
    pairs: Optional[Path] = typer.Option(None, "--pairs", help="paired: pairs folder (input + expert folders) or CSV."),
    split: Optional[str] = typer.Option(None, "--split", help="segmentation: tune | heldout (default both)."),
    vlm: Optional[List[str]] = typer.Option(None, "--vlm", help="builtin, openai:MODEL, hf:PATH, fake:FILE; "
                                            "repeat for a side-by-side run (one column each)."),
    segmenter: str = typer.Option("builtin", "--segmenter", help="Segmenter spec for every config."),
    engine: Optional[List[str]] = typer.Option(None, "--engine", help="Render engine (default parametric); repeat "
                                               "for engines side by side."),
    memory: str = typer.Option("memory:", "--memory", help="memory suite: store spec (memory:, chroma: per sample)."),
    epochs: int = typer.Option(1, "--epochs", help="Run every case N times (intervals over epochs)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Only the first N (matching) cases."),
    filter_expr: Optional[str] = typer.Option(None, "--filter", help="Regex (or substring) on case id / category / split."),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Rerun the samples that errored in RUN_DIR."),
    concurrency: int = typer.Option(1, "--concurrency", "-j", help="Samples solved at once (threads; cases are "
                                    "independent — worth it for remote models)."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Run folder (default: PERTOUCH_HOME/evals/TIME)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
    min_pass: float = typer.Option(0.0, "--min-pass", help="Exit 1 when a config's pass rate is below this (0–1)."),
    no_open: bool = typer.Option(False, "--no-open", help="view: print the path only."),
) -> None:
    """Run an evaluation suite (cases → agent → scorers → log → report)."""
    import json
    import time

    from rich.console import Console

    from pertouch.core.errors import InputError
    from pertouch.evals import runner
    from pertouch.evals.tasks import SUITES, make_task, task_for_spec
    from pertouch.core.home import app_home

    err = Console(file=_own_stderr(), highlight=False, soft_wrap=True)
    args = list(args or [])
    if args and args[0] in ("rescore", "view"):
        if len(args) != 2:
            raise InputError(f"'pertouch eval {args[0]}' needs one RUN_DIR", hint=f"pertouch eval {args[0]} RUN_DIR")
        run_dir = Path(args[1])
        if args[0] == "view":
            _view(run_dir, no_open)
            return
        summary = runner.rescore(run_dir, task_for_spec)
        _finish(summary, run_dir, as_json, min_pass, err)
        return
    cases: Path | None = None
    if args and args[0] in SUITES:
        named = args.pop(0)
        if suite and suite != named:
            raise InputError(f"two suites given: {named} and --suite {suite}")
        suite = named
    if args:
        cases = Path(args.pop(0))
    if args:
        raise InputError(f"unexpected arguments: {' '.join(args)}", hint="pertouch eval [SUITE] [CASES.jsonl] -o RUN_DIR")
    if cases is not None and not cases.is_file():
        raise InputError(f"case file not found: {cases}")
    if pairs is not None and (suite != "paired" or cases is not None):
        raise InputError("--pairs is the paired suite's input", hint="pertouch eval paired --pairs DIR_OR_CSV -o RUN_DIR")
    task = make_task(suite or "retouch", pairs or cases, split)
    engines = list(engine or ["parametric"])
    configs = [{"vlm": v, "segmenter": segmenter, "engine": e} for v in (vlm or ["builtin"]) for e in engines]
    if suite == "paired":  # no VLM: one config per engine, the parametric engine first
        configs = [{"engine": e, "segmenter": segmenter} for e in dict.fromkeys(["parametric", *engines])]
    if (suite or "retouch") == "memory":
        configs = [dict(c, memory=memory) for c in configs]
    run_dir = out or app_home() / "evals" / time.strftime("%Y%m%d-%H%M%S")
    total = len(runner.select(task.samples(), filter_expr, limit)) * len(configs) * epochs
    seen = [0]

    def progress(row: dict) -> None:
        seen[0] += 1
        mark = {"pass": "[green]pass[/]", "fail": "[red]FAIL[/]", "error": "[yellow]ERROR[/]"}[row["status"]]
        if total <= 120 or row["status"] != "pass" or seen[0] % 50 == 0:
            text = row["input"].get("instruction") or row["input"].get("text") or ""
            if row["input"].get("turns"):
                text = " → ".join(t.get("say", "") for t in row["input"]["turns"])
            extra = f"  {row['error'][:100]}" if row["error"] else ""
            err.print(f"[{seen[0]}/{total}] {mark} {row['config']:<12} {row['id']:<24} "
                      f"{row['ms'] or 0:>7.0f} ms  {text[:60]}{extra}")

    summary = runner.run(task, configs=configs, out=run_dir, epochs=epochs, limit=limit, filter_expr=filter_expr,
                         retry_failed=retry_failed, on_sample=progress, concurrency=concurrency)
    _finish(summary, run_dir, as_json, min_pass, err)


def _own_stderr():
    """A stream on a copy of the stderr descriptor, for the progress lines: a native library
    that points descriptor 2 at /dev/null while it loads (and, raced by another thread,
    leaves it there) cannot swallow them. The captured stderr of a test runner is kept."""
    import os
    import sys

    try:
        return os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1, encoding="utf-8", errors="replace")
    except (AttributeError, OSError, ValueError):
        return sys.stderr


def _finish(summary: dict, run_dir: Path, as_json: bool, min_pass: float, err) -> None:
    import json

    from pertouch.evals.report import summary_lines

    if as_json:
        typer.echo(json.dumps({**summary, "out": str(run_dir)}, default=str))
    else:
        for line in summary_lines(summary):
            typer.echo(line)
        for name, c in summary["configs"].items():
            means = ", ".join(f"{k} {v:.2f}" for k, v in c["scores"].items() if v is not None)
            if means and not summary.get("suite_summary"):  # a suite summary gives them per split
                typer.echo(f"  {name} scorer means (scored samples): {means}")
            for split, r in c.get("by_split", {}).items():
                scored = r["passed"] + r["failed"]
                typer.echo(f"  {name} split {split}: {r['passed']}/{scored} pass" + (f", {r['errors']} error" if r["errors"] else ""))
        for line in _suite_lines(summary.get("suite_summary") or {}):
            typer.echo(line)
        if summary.get("suite") == "paired":
            from pertouch.evals.paired_task import write_table

            for line in write_table(run_dir):
                typer.echo(line)
        typer.echo(f"report: {run_dir / 'report.html'}")
    dead = [n for n, c in summary["configs"].items() if c["errors"] and c["passed"] + c["failed"] == 0]
    if dead:
        err.print(f"[yellow]every sample of {', '.join(dead)} errored: nothing was scored[/]")
        raise typer.Exit(1)
    if any((c["pass_rate"] or 0.0) < min_pass for c in summary["configs"].values()):
        raise typer.Exit(1)


def _suite_lines(suite_summary: dict) -> list[str]:
    """The segmentation suite's per-split summary: per kind mean IoU, boundary F, found
    and false-found rates, then the goals missed."""
    def f(x, pct=False):
        return "-" if x is None else (f"{100 * x:.0f}%" if pct else f"{x:.3f}")

    lines = []
    for name, per in suite_summary.items():
        for split, part in per.items():
            s = part["summary"]
            lines.append(f"  {name} {split} split ({s['photos']} photos): kind IoU / boundary F / found / false-found")
            for kind, k in s["kinds"].items():
                lines.append(f"    {kind:<11} {f(k['iou']):>6} {f(k['boundary_f']):>6} "
                             f"{f(k['found_when_present'], True):>5} of {k['present']:<3} "
                             f"{f(k['false_found_when_absent'], True):>5} of {k['absent']}")
            missed = [g["goal"] for g in part["goals"] if g["ok"] is False]
            lines.append(f"    goals missed: {', '.join(missed) or 'none'}")
    return lines


def _view(run_dir: Path, no_open: bool) -> None:
    from pertouch.core.errors import InputError

    report = run_dir / "report.html"
    if not report.is_file():
        raise InputError(f"no report in {run_dir}", hint="run 'pertouch eval rescore RUN_DIR' to write it from the log")
    typer.echo(str(report.resolve()))
    if not no_open:
        import webbrowser

        try:
            webbrowser.open(report.resolve().as_uri())
        except Exception:  # no browser here: the path printed is the answer
            pass


def register(app: typer.Typer) -> None:
    from pertouch.cli import handle_errors

    app.command("eval")(handle_errors(eval_command))
