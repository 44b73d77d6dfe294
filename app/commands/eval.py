"""``pertouch eval``: run an evaluation suite and write its log and report.

Suites: ``retouch`` (the agent end to end on cases; the default, cases from
``evals/cases/retouch.jsonl`` or a given JSONL file), ``parser`` (the instruction
corpus through a VLM's classify role). The exit code is 0 when the suite ran, even
if cases failed: the report says which (use ``--min-pass`` to gate CI on a rate).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def eval_command(
    cases: Optional[Path] = typer.Argument(None, help="JSONL case file (default: the bundled retouch suite)."),
    suite: str = typer.Option("retouch", "--suite", help="retouch | parser"),
    vlm: str = typer.Option("builtin", "--vlm", help="builtin, openai:MODEL, hf:PATH, fake:FILE."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Folder for log.jsonl, summary.json, report.md."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
    min_pass: float = typer.Option(0.0, "--min-pass", help="Exit 1 when the pass rate is below this (0–1)."),
) -> None:
    """Run an evaluation suite (cases → agent → scorers → report)."""
    import json
    import time

    from rich.console import Console

    from pertouch.errors import InputError
    from pertouch.home import app_home

    err = Console(stderr=True, highlight=False)
    if suite == "parser":
        from pertouch.evals.parser_eval import evaluate, format_report
        from pertouch.graph.vlm.registry import get_vlm

        model = get_vlm(vlm)
        report = evaluate(lambda text: model.classify(text, None))
        rate = float(report["in_scope"]["exact"])
        if as_json:
            typer.echo(json.dumps(report, default=str))
        else:
            typer.echo(format_report(report))
        if rate < min_pass:
            raise typer.Exit(1)
        return
    if suite != "retouch":
        raise InputError(f"unknown suite {suite!r}", hint="use --suite retouch or --suite parser")

    from pertouch.evals.cases import load_cases
    from pertouch.evals.report import run_suite

    loaded = load_cases(cases)
    out = out or app_home() / "evals" / time.strftime("%Y%m%d-%H%M%S")

    def progress(row: dict) -> None:
        mark = "[green]pass[/]" if row["passed"] else "[red]FAIL[/]"
        err.print(f"{mark} {row['id']:<22} {row['run']['ms']:>7.0f} ms  {row['instruction']}")

    summary = run_suite(loaded, vlm=vlm, out=out, base=cases.parent if cases else None, on_case=progress)
    if as_json:
        typer.echo(json.dumps({**summary, "out": str(out)}))
    else:
        typer.echo(f"{summary['passed']}/{summary['cases']} cases passed; "
                   + ", ".join(f"{k} {v:.2f}" for k, v in summary["scores"].items() if v is not None))
        typer.echo(f"report: {out / 'report.md'}")
    if summary["pass_rate"] < min_pass:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    from pertouch.cli import handle_errors

    app.command("eval")(handle_errors(eval_command))
