"""``pertouch serve``: the conversational web app on a local port (the app is :mod:`pertouch.web`)."""

from __future__ import annotations

import ipaddress
from typing import List, Optional

import typer

LOCAL = "127.0.0.1"


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_command(
    host: str = typer.Option(LOCAL, "--host", help="Address to bind (default loopback only)."),
    port: int = typer.Option(7860, "--port", min=1, max=65535, help="Port to listen on."),
    vlm: Optional[List[str]] = typer.Option(None, "--vlm", help="Model for every role (default $PERTOUCH_VLM or "
                                            "builtin); repeat it to offer several, the first is the default."),
    segmenter: Optional[List[str]] = typer.Option(None, "--segmenter", help="Segmenter (default $PERTOUCH_SEGMENTER "
                                                  "or builtin); repeat it to offer several."),
    engine: Optional[List[str]] = typer.Option(None, "--engine", help="Engine (default $PERTOUCH_ENGINE or "
                                               "parametric; reference is always offered); repeat it to offer several."),
) -> None:
    """Start the web app: open a photo, chat, point at regions, move sliders, download the result."""
    import uvicorn

    from pertouch.graph.context import load_context
    from pertouch.graph.runtime import process_cache
    from pertouch.web.app import create_app

    if not is_loopback(host):
        typer.echo(f"warning: binding {host}: anyone who can reach this address can use the app and its "
                   f"photos; use --host {LOCAL} to keep it on this machine", err=True)
    offer = {"vlm": vlm or [], "segmenter": segmenter or [], "engine": engine or []}
    # the server's one runtime cache is this process's: every session, render and preview uses it
    ctx = load_context(**{k: v[0] if v else None for k, v in offer.items()}, cache=process_cache())
    app = create_app(ctx=ctx, offer=offer)
    app.state.service.warm_up()  # the memory's text model loads while the first photo is opened
    typer.echo(f"PerTouch web app on http://{host}:{port}/ (Ctrl-C stops it)", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    from pertouch.cli import handle_errors

    app.command("serve")(handle_errors(serve_command))
