"""The ``pertouch`` command line: a thin typer app over the library.

Each command lives in ``app/commands/<name>.py`` and exposes ``register(app)``.
Every command body is wrapped by :func:`handle_errors`, so a :class:`PertouchError`
prints one line on stderr and exits with code 2, never a traceback.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from typing import Any, Callable, TypeVar

import typer

from pertouch.core.errors import PertouchError

F = TypeVar("F", bound=Callable[..., Any])

#: Command modules, in the order ``--help`` lists them.
COMMAND_MODULES = ("apply", "match", "segment", "retouch", "export", "chat", "memory", "eval", "train", "serve")

app = typer.Typer(
    name="pertouch",
    help="PerTouch: retouch photos region by region from plain-language instructions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def error_line(message: str) -> None:
    """Print one error line on stderr."""
    typer.echo(f"error: {message}", err=True)


#: Exit status when the reader of stdout went away: 128 + SIGPIPE, what a Unix tool killed
#: by the signal reports; nothing is printed.
EXIT_BROKEN_PIPE = 141


def stdout_gone() -> bool:
    """True when stdout is a pipe whose reader left (so the broken pipe was ours to print),
    False for another broken pipe (a socket to a server)."""
    import select

    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):  # not a real stdout (tests)
        return False
    if not hasattr(select, "poll"):  # pragma: no cover - Windows: assume it was stdout
        return True
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poller.poll(0))


def quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - no real stdout (tests)
        pass


def handle_errors(fn: F) -> F:
    """Turn expected failures into one stderr line and exit code 2 (1 for bugs)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PertouchError as exc:
            error_line(exc.one_line())
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            error_line("interrupted")
            raise typer.Exit(130) from None
        except BrokenPipeError as exc:  # `pertouch memory list | head -0`: the reader left; stop quietly
            if not stdout_gone():  # another pipe (a socket) broke: a real failure, said below
                return _internal(exc)
            quiet_stdout()
            raise typer.Exit(EXIT_BROKEN_PIPE) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:  # a bug: say so in one line; traceback on request
            return _internal(exc)

    return wrapper  # type: ignore[return-value]


def _internal(exc: Exception) -> Any:
    if os.environ.get("PERTOUCH_DEBUG"):
        raise exc
    error_line(f"internal error: {type(exc).__name__}: {exc} (set PERTOUCH_DEBUG=1 for the traceback)")
    raise typer.Exit(1) from None


@app.callback(invoke_without_command=True)
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True),
) -> None:
    if version:
        from pertouch import __version__

        typer.echo(f"pertouch {__version__}")
        raise typer.Exit(0)


def _register_all() -> None:
    for name in COMMAND_MODULES:  # every one exists: a missing module is a packaging bug, said at once
        importlib.import_module(f"pertouch.commands.{name}").register(app)


_register_all()


def main() -> None:
    """Console-script entry point."""
    try:
        app(prog_name="pertouch")
    except BrokenPipeError:  # printed by click itself (help, usage) into a closed pipe
        quiet_stdout()
        sys.exit(EXIT_BROKEN_PIPE)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
