"""``pertouch memory``: look at, move and prune what PerTouch remembers of your taste.

::

    pertouch memory list [--user U] [--kind result|feedback] [--limit N] [--json]
    pertouch memory show ID [--json]
    pertouch memory forget ID            |  pertouch memory forget --user U
    pertouch memory export FILE [--user U]   (JSONL, one record a line)
    pertouch memory import FILE
    pertouch memory stats [--json]
    pertouch memory recall --user U "scene description" [--image PHOTO] [--json]
    pertouch memory feedback --user U "too warm" [--scene "..."]

``--store`` (or ``PERTOUCH_MEMORY``) picks the store: ``chroma`` (default, under the
app's home), ``chroma:FOLDER``, ``chroma+http://HOST:PORT``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

import typer

from pertouch.core.errors import InputError

memory_app = typer.Typer(help="List, show, forget, export and import remembered preferences.",
                         no_args_is_help=True)

STORE_HELP = "memory store: chroma (default), chroma:FOLDER, chroma+http://HOST:PORT, memory:"
StoreOpt = typer.Option(None, "--store", help=STORE_HELP, envvar="PERTOUCH_MEMORY")
JsonOpt = typer.Option(False, "--json", help="print machine-readable JSON")


def _open(store: Optional[str]):
    from pertouch.memory.factory import open_memory

    return open_memory(store)


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def _print_json(data) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False))


def list_command(user: Optional[str] = typer.Option(None, "--user", "-u", help="only this user's memories"),
                 kind: Optional[str] = typer.Option(None, "--kind", help="result or feedback"),
                 limit: int = typer.Option(50, "--limit", "-n", help="newest N (0 = all)"),
                 as_json: bool = JsonOpt, store: Optional[str] = StoreOpt) -> None:
    """List memories, newest first."""
    if kind not in (None, "result", "feedback"):
        raise InputError(f"unknown kind {kind!r}", hint="use --kind result or --kind feedback")
    records = _open(store).list(user=user, kind=kind, limit=limit or None)
    if as_json:
        _print_json([{"id": r.id, "user": r.user, "kind": r.kind, "timestamp": r.timestamp,
                      "rating": r.rating, "scene_description": r.scene_description,
                      "feedback": r.feedback, "levels": r.levels} for r in records])
        return
    if not records:
        typer.echo("no memories" + (f" for {user}" if user else ""))
        return
    for r in records:
        what = r.feedback if r.kind == "feedback" else r.scene_description
        typer.echo(f"{r.id}  {_when(r.timestamp)}  {r.user:<12} {r.kind:<8} {r.rating:+.1f}  {what[:60]}")


def show_command(record_id: str = typer.Argument(..., help="memory id (see `pertouch memory list`)"),
                 as_json: bool = JsonOpt, store: Optional[str] = StoreOpt) -> None:
    """Show one memory in full."""
    r = _open(store).get(record_id)
    if as_json:
        _print_json(r.to_json())
        return
    typer.echo(f"id:          {r.id}\nuser:        {r.user}\nkind:        {r.kind}\nwhen:        {_when(r.timestamp)}")
    typer.echo(f"rating:      {r.rating:+.2f}\nscene:       {r.scene_description}\ntags:        {', '.join(r.tags)}")
    typer.echo(f"instruction: {r.instruction}\nimage hash:  {r.image_hash}")
    if r.feedback:
        typer.echo(f"feedback:    {r.feedback}\neffect:      {json.dumps(r.effect.model_dump() if r.effect else {})}")
    typer.echo("levels:")
    for label, attrs in sorted(r.levels.items()):
        typer.echo(f"  {label}: " + ", ".join(f"{a} {v:+.2f}" for a, v in sorted(attrs.items())))


def forget_command(record_id: Optional[str] = typer.Argument(None, help="memory id to delete"),
                   user: Optional[str] = typer.Option(None, "--user", "-u", help="delete ALL of this user's memories"),
                   store: Optional[str] = StoreOpt) -> None:
    """Delete one memory, or every memory of a user (--user)."""
    if (record_id is None) == (user is None):
        raise InputError("give a memory ID or --user NAME (not both)", hint="see `pertouch memory list`")
    mem = _open(store)
    if record_id is not None:
        mem.forget(record_id)
        typer.echo(f"forgot {record_id}")
    else:
        n = mem.forget_user(user)
        typer.echo(f"forgot {n} memor{'y' if n == 1 else 'ies'} of {user}")


def export_command(path: Path = typer.Argument(..., help="JSONL file to write"),
                   user: Optional[str] = typer.Option(None, "--user", "-u", help="only this user's memories"),
                   store: Optional[str] = StoreOpt) -> None:
    """Export memories as JSONL (one record a line; each scene's text vector rides with its first
    record, so importing the file does not embed again) to move your taste between machines."""
    n = _open(store).export(path, user=user)
    typer.echo(f"exported {n} memor{'y' if n == 1 else 'ies'} to {path}")


def import_command(path: Path = typer.Argument(..., help="JSONL file from `pertouch memory export`"),
                   store: Optional[str] = StoreOpt) -> None:
    """Import memories from a JSONL export (same id: replaced)."""
    n = _open(store).import_(path)
    typer.echo(f"imported {n} memor{'y' if n == 1 else 'ies'} from {path}")


def stats_command(as_json: bool = JsonOpt, store: Optional[str] = StoreOpt) -> None:
    """How many memories, per user and kind, and where they live."""
    s = _open(store).stats()
    if as_json:
        _print_json(s)
        return
    typer.echo(f"store:   {s['store']}\nrecords: {s['records']}")
    for user, row in sorted(s["users"].items()):
        typer.echo(f"  {user:<16} {row['result']} results, {row['feedback']} feedback")


def recall_command(description: str = typer.Argument(..., help="what the photo shows"),
                   user: str = typer.Option(..., "--user", "-u", help="whose taste"),
                   image: Optional[Path] = typer.Option(None, "--image", help="the photo (adds its descriptor)"),
                   k: int = typer.Option(8, "--k", help="at most this many memories"),
                   as_json: bool = JsonOpt, store: Optional[str] = StoreOpt) -> None:
    """Show what memory would suggest for a scene: preferred levels and the evidence."""
    descriptor = None
    if image is not None:
        from pertouch.memory.descriptors import image_descriptor

        descriptor = image_descriptor(_read_rgb(image))
    rec = _open(store).recall(user, description, descriptor, k=k)
    if as_json:
        _print_json(rec.to_json())
        return
    if rec.is_empty:
        typer.echo(f"no preferences remembered for {user} on scenes like this")
        return
    for label, attrs in sorted(rec.preferences.items()):
        typer.echo(f"{label}: " + ", ".join(f"{a} {v:+.2f}" for a, v in sorted(attrs.items())))
    for label, attrs in sorted(rec.locks.items()):
        typer.echo(f"locked {label}: {', '.join(attrs)}")
    typer.echo("evidence:")
    for e in rec.evidence:
        typer.echo(f"  {e.similarity:.2f}  {e.record_id}  {e.summary}")


def feedback_command(text: str = typer.Argument(..., help='what you think, e.g. "too warm"'),
                     user: str = typer.Option(..., "--user", "-u", help="whose taste"),
                     scene: str = typer.Option("", "--scene", help="scenes it is about (default: all)"),
                     store: Optional[str] = StoreOpt) -> None:
    """Tell memory a preference directly ("too warm", "never touch skin tones")."""
    r = _open(store).add_feedback(user, text, scene=scene)
    eff = r.effect.model_dump(exclude_defaults=True) if r.effect else {}
    typer.echo(f"remembered {r.id}: {json.dumps(eff) if eff else 'no effect understood (kept as a note)'}")


def _read_rgb(path: Path):
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (OSError, UnidentifiedImageError) as exc:
        raise InputError(f"cannot read {path}: {exc}", hint="give a JPEG/PNG/TIFF photo") from None


def register(app: typer.Typer) -> None:
    from pertouch.cli import handle_errors

    for name, fn in (("list", list_command), ("show", show_command), ("forget", forget_command),
                     ("export", export_command), ("import", import_command), ("stats", stats_command),
                     ("recall", recall_command), ("feedback", feedback_command)):
        memory_app.command(name)(handle_errors(fn))
    app.add_typer(memory_app, name="memory")
