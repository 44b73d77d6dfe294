"""User-facing errors.

Every error a person can cause (bad file, bad recipe, missing model folder…) is a
:class:`PertouchError`: one line that says what was wrong and how to fix it. The CLI
prints it on stderr and exits with code 2, never a traceback.
"""

from __future__ import annotations


class PertouchError(Exception):
    """An error caused by input, settings or environment, shown to the user as one line.

    ``hint`` says how to fix it; it is appended to the message after " — ".
    """

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message.strip().replace("\n", " ")
        self.hint = hint.strip().replace("\n", " ") if hint else None
        super().__init__(self.one_line())

    def one_line(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


class InputError(PertouchError):
    """Bad input file: missing, unreadable, not an image, too large, mismatched."""


class RecipeError(PertouchError):
    """A recipe (or an inline --set edit) that does not validate."""


class ModelError(PertouchError):
    """A model path or model provider that cannot be loaded or used."""


class NotFoundError(PertouchError):
    """A named thing (region, memory, session) that does not exist."""
