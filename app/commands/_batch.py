"""CLI glue for batches (``pertouch apply --executor …``, ``pertouch match``): run
:func:`pertouch.batch.executor.run_batch`, stream a line per finished photo on stderr,
print the summary (a table of achieved levels, or ``--json``), exit 2 when a photo failed."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import typer

from pertouch.batch.executor import EXECUTOR_HELP, Outcome, parse_executor, run_batch
from pertouch.batch.sources import expand_sources, is_url
from pertouch.batch.tasks import BatchSpec
from pertouch.commands._common import print_json
from pertouch.engine.io.outputs import write_json_atomic

EXECUTOR_OPTION_HELP = "Run as a resumable batch on: " + EXECUTOR_HELP + "."
CPUS_HELP = "CPUs each photo's task declares (Ray schedules by it; 12-MP photos: 2)."
RESUME_HELP = "Skip photos the output folder's pertouch-batch.jsonl lists as done with this recipe."


def wants_batch(items: list[str], executor: str | None) -> bool:
    """True when a run must go through the batch path: ``--executor`` given, a URL or a CSV."""
    return executor is not None or any(is_url(i) or i.lower().endswith(".csv") for i in items)


def _progress(total: int, started: float):
    count = [0]

    def on_result(s: dict, state: str) -> None:
        count[0] += 1
        head = f"[{count[0]}/{total}] {state:<7} {s['input']}"
        if state == "error":
            typer.echo(f"{head}: {s['error']}", err=True)
        elif state == "skipped":
            typer.echo(f"{head} (done before, same recipe)", err=True)
        else:
            rate = count[0] / max(time.perf_counter() - started, 1e-9)
            typer.echo(f"{head} → {s['output']}  {s['ms']:.0f} ms  on {s.get('worker', '?')}  ({rate:.1f}/s)", err=True)

    return on_result


def level_rows(summary: dict) -> list[tuple[str, str, dict]]:
    return [(r, a, v) for r, attrs in summary.get("regions", {}).items() for a, v in attrs.items()]


def print_table(results: list[dict]) -> None:
    """Achieved levels per photo: region, attribute, before → target (achieved)."""
    typer.echo(f"{'photo':<24} {'region':<12} {'attribute':<13} {'before':>7} {'target':>7} {'achieved':>8}")
    for s in results:
        name = Path(s["output"]).name
        for r, a, v in level_rows(s):
            typer.echo(f"{name[:24]:<24} {r:<12} {a:<13} {v['before']:>7.2f} {v['target']:>7.2f} {v['achieved']:>8.2f}")
            name = ""
        if s.get("missing"):
            typer.echo(f"{name[:24]:<24} (not in this photo: {', '.join(s['missing'])})")


def run_cli_batch(spec: BatchSpec, items: list[str], output: Path, *, executor: str | None, jobs: int,
                  cpus: float, resume: bool, as_json: bool, table: bool = False,
                  report: str | None = None, extra: dict[str, Any] | None = None) -> Outcome:
    """Run a batch from the command line (see the module docstring); raises typer.Exit on failures."""
    ex = parse_executor(executor or "local", jobs, cpus)
    sources = expand_sources(items)
    started = time.perf_counter()
    typer.echo(f"{len(sources)} photos → {output}/ on {executor or 'local'}", err=True)
    outcome = run_batch(spec, sources, output, ex, resume=resume, on_result=_progress(len(sources), started))
    elapsed = time.perf_counter() - started
    results = sorted(outcome.done + outcome.skipped, key=lambda s: s["output"])
    doc = {**(extra or {}), "results": results, "errors": outcome.errors, "manifest": str(outcome.manifest),
           "done": len(outcome.done), "skipped": len(outcome.skipped), "seconds": round(elapsed, 2)}
    if report:
        write_json_atomic(output / report, doc)
    if as_json:
        print_json(doc)
    else:
        if table:
            print_table(results)
        rate = len(outcome.done) / elapsed if elapsed > 0 else 0.0
        typer.echo(f"{len(outcome.done)} rendered, {len(outcome.skipped)} done before, {len(outcome.errors)} failed"
                   f" in {elapsed:.1f} s ({rate:.2f} photos/s); manifest: {outcome.manifest}"
                   + (f"; report: {output / report}" if report else ""))
    if outcome.errors:
        raise typer.Exit(outcome.exit_code or 1)
    return outcome


def memory_spec(option: str | None) -> str:
    """The memory store every worker opens: ``--memory``, else $PERTOUCH_MEMORY, else the
    default persistent store (as an absolute path, so workers elsewhere find the same)."""
    from pertouch.memory.factory import ENV_VAR, default_path

    return option or os.environ.get(ENV_VAR) or f"chroma:{default_path()}"
