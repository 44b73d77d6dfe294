"""The web app's working folder and who owns what in it.

Everything the web app writes lives under one folder, ``app_home()/web`` (the
*workspace*): uploaded photos, demo photos, downloads. No value a browser sends
becomes a path by itself: names are checked against a strict pattern and every
path is resolved and checked to lie inside the workspace (:meth:`Workspace.inside`),
so ``../``, absolute paths, ``~`` and NUL bytes are refused with an :class:`InputError`.

A browser is known by a random token (a cookie). Each token owns the conversation
sessions it opened (``owners.json``); a session owned by another token cannot be
seen or changed. A session started by ``pertouch chat`` (owned by nobody) can be
resumed in the browser by its id, which makes it the browser's.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from pathlib import Path

from pertouch.core.errors import InputError, NotFoundError

#: Tokens, session ids, region names, file names the app makes: letters, digits, ``_``, ``-``, ``.``.
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
_TOKEN = re.compile(r"^[a-f0-9]{32}$")


def safe_name(value: object, what: str) -> str:
    """``value`` if it is a plain name (no separators, no ``..``), else InputError."""
    if not isinstance(value, str) or not _SAFE.match(value) or ".." in value:
        raise InputError(f"{what} {str(value)[:60]!r} is not a valid name",
                         hint="use letters, digits, '_', '-' and '.' only (no folders)")
    return value


def new_token() -> str:
    return secrets.token_hex(16)


def valid_token(value: object) -> bool:
    return isinstance(value, str) and bool(_TOKEN.match(value))


class Workspace:
    """The folder the web app may read and write (created), and the session owners."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser().resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._owners_path = self.root / "owners.json"
        try:
            self._owners: dict[str, str] = json.loads(self._owners_path.read_text())
        except (OSError, ValueError):
            self._owners = {}

    def inside(self, *parts: str) -> Path:
        """``root/parts…`` after checking each part is a plain name and the result stays inside."""
        for p in parts:
            safe_name(p, "path part")
        path = self.root.joinpath(*parts).resolve()
        if not path.is_relative_to(self.root):
            raise InputError("that path is outside the web app's folder", hint="use the names the app gives")
        return path

    def folder(self, *parts: str) -> Path:
        """:meth:`inside`, created as a folder."""
        path = self.inside(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    # -- owners ---------------------------------------------------------------
    def owner(self, session_id: str) -> str | None:
        with self._lock:
            return self._owners.get(session_id)

    def claim(self, session_id: str, token: str) -> None:
        """Make ``token`` the owner of ``session_id``; NotFoundError if another token owns it
        (worded like a missing session, so a guess learns nothing)."""
        safe_name(session_id, "session id")
        with self._lock:
            owner = self._owners.get(session_id)
            if owner is not None and owner != token:
                raise NotFoundError(f"no session {session_id!r} for this browser",
                                    hint="open a photo to start a new session")
            if owner is None:
                self._owners[session_id] = token
                tmp = self._owners_path.with_suffix(".tmp")
                tmp.write_text(json.dumps(self._owners))
                tmp.replace(self._owners_path)

    def check_owner(self, session_id: str, token: str) -> None:
        if self.owner(session_id) != token:
            raise NotFoundError(f"no session {session_id!r} for this browser",
                                hint="open a photo to start a new session")
