"""Kept for code written against ``pertouch.errors``: the error types live in :mod:`pertouch.core.errors`."""

from pertouch.core.errors import InputError, ModelError, NotFoundError, PertouchError, RecipeError

__all__ = ["PertouchError", "InputError", "RecipeError", "ModelError", "NotFoundError"]
