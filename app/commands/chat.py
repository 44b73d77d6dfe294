"""``pertouch chat INPUT [--session ID]``: a conversational retouch session in the terminal.

Reads one instruction per line from stdin (a terminal or a pipe) until EOF or
"quit". Each turn writes a preview file and prints its path. Besides instructions:
"a bit more", "less", "less on the face", "only the sky", "undo", "redo",
"start over", "compare" (before/after side by side), "history", "save as out.jpg"
(full resolution + recipe sidecar; counts as accepting; an existing file needs
"save as out.jpg, overwrite"), "looks good" (accept → remembered for the session's
user). The graph handles every turn (the same answers as the API server gives);
a turn that cannot be done is answered and the chat goes on. Sessions live in
``$PERTOUCH_HOME/sessions.sqlite``; ``--session ID`` resumes one after the process
ended, with its user; two processes on one session take turns.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from pertouch.commands._common import SEGMENTER_HELP

HELP_TEXT = ('Say what to change ("brighter sky", "warmer", "Kodak film"), or: a bit more · less · '
             'less on the face · only the sky · undo · redo · start over · compare · history · '
             'save as out.jpg[, overwrite] · looks good · quit')


def chat(
    input: Optional[Path] = typer.Argument(None, help="Photo to retouch (optional when resuming with --session)."),
    session: Optional[str] = typer.Option(None, "--session", help="Session id to resume (printed at start)."),
    vlm: Optional[str] = typer.Option(None, "--vlm", help="Model: builtin (default, offline), openai:MODEL, hf:PATH, fake:FILE."),
    user: Optional[str] = typer.Option(None, "--user", help="Whose taste to recall and remember."),
    max_rounds: Optional[int] = typer.Option(None, "--max-rounds", help="Most renders per instruction (default 3)."),
    segmenter: Optional[str] = typer.Option(None, "--segmenter", help=SEGMENTER_HELP),
    no_memory: bool = typer.Option(False, "--no-memory", help="Neither recall your taste nor remember accepted results."),
) -> None:
    """Retouch a photo conversationally; each line is one turn."""
    from rich.console import Console

    from pertouch.graph import runtime as rt
    from pertouch.graph.context import ROLES, load_context
    from pertouch.graph.session import Session

    ctx = load_context(vlm=vlm, user=user, max_rounds=max_rounds, segmenter=segmenter, use_memory=not no_memory,
                       cache=rt.process_cache())  # the session's runs use this process's cache
    for spec in dict.fromkeys(ctx.model_for(role) for role in ROLES):
        rt.vlm(spec, cache=ctx.cache)  # a model that cannot be loaded: exit 2 before the session starts
    err = Console(stderr=True, highlight=False)
    with err.status("opening the session…"):
        s = Session(session, str(input) if input else None, ctx, user=user)
    typer.echo(f"session {s.id} ({'resumed' if s.resumed else 'new'}) on {s.image_path}")
    if s.resumed:
        hist = s.history()
        last = next((h for h in reversed(hist) if h.get("result")), None)
        typer.echo(f"{len(hist)} earlier turn(s); current result: {last['result'] if last else 'the original'}")
    interactive = sys.stdin.isatty()
    if interactive:
        typer.echo(HELP_TEXT)
    stdin = typer.get_text_stream("stdin")
    while True:
        if interactive:
            typer.echo("> ", nl=False)
        line = stdin.readline()
        if not line:
            break
        if line.strip().lower() in ("help", "?"):
            typer.echo(HELP_TEXT)
            continue
        with err.status("working…"):
            out = s.turn(line)
        if out.kind == "quit":
            break
        if out.kind == "empty":
            continue
        typer.echo(out.answer)
        if out.preview:
            typer.echo(f"preview: {out.preview}")
    typer.echo(f"resume with: pertouch chat --session {s.id}")


def register(app: typer.Typer) -> None:
    from pertouch.cli import handle_errors

    app.command("chat")(handle_errors(chat))
