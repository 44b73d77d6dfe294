"""The one home directory that holds all state the app keeps.

``$PERTOUCH_HOME`` when set (tests always set it to a temporary folder), else the
platform's user data directory (``~/.local/share/pertouch`` on Linux).
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "PERTOUCH_HOME"


def app_home(create: bool = True) -> Path:
    """Return the app's home directory, creating it unless ``create`` is False."""
    raw = os.environ.get(ENV_VAR)
    if raw:
        home = Path(raw).expanduser()
    else:
        from platformdirs import user_data_dir

        home = Path(user_data_dir("pertouch", appauthor=False))
    if home.exists() and not home.is_dir():
        from pertouch.core.errors import InputError

        where = f"{ENV_VAR}={raw}" if raw else f"the app's home {home}"
        raise InputError(f"{where} is a file, not a folder", hint=f"point {ENV_VAR} at a folder (or unset it)")
    if create:
        try:
            home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            from pertouch.core.errors import InputError

            raise InputError(f"cannot create the app's home {home}: {exc.strerror or exc}",
                             hint=f"point {ENV_VAR} at a folder you may write to") from None
    return home


def home_path(*parts: str, create_parent: bool = True) -> Path:
    """A path inside the home directory, e.g. ``home_path("memory")``."""
    path = app_home().joinpath(*parts)
    if create_parent:
        path.parent.mkdir(parents=True, exist_ok=True)
    return path
