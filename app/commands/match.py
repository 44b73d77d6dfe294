"""``pertouch match``: make these photos like that one (or like a user's taste).

    pertouch match ref_out.jpg shoot/ -o matched/                 # ref_out.jpg.pertouch.json beside it
    pertouch match edited.jpg shoot/*.jpg --before original.jpg -o matched/   # edited elsewhere: estimated
    pertouch match --like ana shoot/ -o matched/                  # ana's remembered taste, per scene
    pertouch match ref_out.jpg s3://bucket/shoot/ -o matched/ --executor ray:head:6379

The reference's look is its absolute levels per region label (:mod:`pertouch.batch.looks`);
each photo is segmented, measured and driven to those levels for the labels it has, so
a dark photo brightens more than a bright one. Writes every output with its sidecar,
``matched/match-report.json`` (the look and the achieved levels per photo) and prints
the same as a table. A re-run skips photos already done with the same look.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from pertouch.commands._batch import (CPUS_HELP, EXECUTOR_OPTION_HELP, RESUME_HELP, memory_spec,
                                      run_cli_batch)
from pertouch.commands._common import SEGMENTER_HELP
from pertouch.core.errors import InputError

REPORT_NAME = "match-report.json"


def match_command(
    items: list[str] = typer.Argument(..., metavar="REFERENCE INPUT...",
                                      help="The finished reference photo, then photos, folders, globs, a CSV or URLs "
                                           "(with --like: only the photos)."),
    output: Path = typer.Option(..., "-o", "--output", help="Output folder."),
    before: Optional[Path] = typer.Option(None, "--before", metavar="ORIGINAL",
                                          help="The photo REFERENCE was edited from, when it has no "
                                               ".pertouch.json sidecar: the look is estimated from the pair."),
    like: Optional[str] = typer.Option(None, "--like", metavar="USER",
                                       help="No reference: give each photo USER's remembered taste for its scene."),
    memory: Optional[str] = typer.Option(None, "--memory", metavar="STORE",
                                         help="Memory store for --like (default $PERTOUCH_MEMORY, else the local one)."),
    segmenter: str = typer.Option("builtin", "--segmenter", metavar="S", help=SEGMENTER_HELP),
    engine: str = typer.Option("parametric", "--engine", help="Rendering engine."),
    quality: int = typer.Option(95, "--quality", min=1, max=100, help="JPEG/WebP quality, 1-100."),
    executor: Optional[str] = typer.Option(None, "--executor", metavar="local|ray[:ADDRESS]", help=EXECUTOR_OPTION_HELP),
    jobs: int = typer.Option(0, "--jobs", "-j", min=0, help="Local processes (0: one per CPU); Ray: tasks in flight."),
    cpus: float = typer.Option(1.0, "--cpus-per-photo", help=CPUS_HELP),
    resume: bool = typer.Option(True, "--resume/--no-resume", help=RESUME_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the report as one JSON document."),
) -> None:
    """Give photos the look of a reference (its levels per region), or a user's remembered taste."""
    from pertouch.batch.looks import look_from_pair, look_from_sidecar
    from pertouch.batch.tasks import BatchSpec
    from pertouch.tools.perception_cache import process_perception_cache
    from pertouch.tools.segmentation import get_segmenter

    get_segmenter(segmenter, cache=process_perception_cache())  # a bad spec: one clear error before any work
    if like is not None:
        if before is not None:
            raise InputError("--like USER and --before ORIGINAL do not go together",
                             hint="--like uses the user's memory, not a reference photo")
        if not like.strip():
            raise InputError("--like needs a user name", hint="e.g. --like ana")
        mem = memory_spec(memory)
        if mem.startswith("memory:"):  # in this process only: no worker process can read it
            if (executor or "local") != "local":
                raise InputError(f"--memory {mem}: an in-process store cannot be read by Ray workers",
                                 hint="use a persistent store: chroma:FOLDER or chroma+http://HOST:PORT")
            jobs = 1
        spec = BatchSpec("like", user=like.strip(), memory=mem, segmenter=segmenter, engine=engine, quality=quality)
        extra = {"look": {"source": f"memory of {like.strip()}, per photo"}}
        inputs = items
    else:
        if len(items) < 2:
            raise InputError("give the reference photo and at least one photo to match",
                             hint="pertouch match REFERENCE INPUT... -o DIR (or --like USER INPUT...)")
        ref, inputs = Path(items[0]), items[1:]
        if not ref.is_file():
            raise InputError(f"reference not found: {ref}")
        if before is not None and not before.is_file():
            raise InputError(f"--before {before}: file not found")
        look = look_from_pair(before, ref, segmenter) if before is not None else look_from_sidecar(ref)
        if not look.levels:
            raise InputError(f"{ref}: its recipe changes nothing that can be matched",
                             hint="the reference needs edits on 'global' or on labelled regions")
        spec = BatchSpec("look", look=look.levels, look_source=look.source, segmenter=segmenter, engine=engine,
                         quality=quality)
        extra = {"reference": str(ref), "look": look.to_json()}
        if not as_json:
            typer.echo(f"look of {ref.name} ({look.source}):", err=True)
            for label, levels in look.levels.items():
                typer.echo(f"  {label:<12} " + "  ".join(f"{a} {v:+.2f}" for a, v in levels.items()), err=True)
            for note in look.notes:
                typer.echo(f"  note: {note}", err=True)
    run_cli_batch(spec, inputs, output, executor=executor, jobs=jobs, cpus=cpus,
                  resume=resume, as_json=as_json, table=True, report=REPORT_NAME, extra=extra)


def register(app: typer.Typer) -> None:
    from pertouch.cli import handle_errors

    app.command("match", no_args_is_help=True)(handle_errors(match_command))
