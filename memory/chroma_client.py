"""Chroma clients: one per store location per process.

Chroma refuses a second client for one path with other settings, so every
:class:`~pertouch.memory.chroma_store.ChromaMemory` of a path shares one (a resource, like
an open file, not state a run could see). Telemetry is off.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

_CLIENTS: dict[str, Any] = {}
_CLIENTS_LOCK = threading.Lock()


def _settings() -> Any:
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False, allow_reset=False)


def client_for(path: Path) -> Any:
    """The cached PersistentClient for ``path`` (one per path per process)."""
    import chromadb

    key = str(path.resolve())
    with _CLIENTS_LOCK:
        if key not in _CLIENTS:
            _CLIENTS[key] = chromadb.PersistentClient(path=key, settings=_settings())
        return _CLIENTS[key]


def http_client(url: str) -> Any:
    """The cached HttpClient for a ``chroma+http(s)://host:port`` store."""
    import chromadb

    u = urlparse(url.replace("chroma+", "", 1))
    key = f"{u.scheme}://{u.hostname}:{u.port}"
    with _CLIENTS_LOCK:
        if key not in _CLIENTS:
            _CLIENTS[key] = chromadb.HttpClient(host=u.hostname or "localhost", port=u.port or 8000,
                                                ssl=u.scheme == "https", settings=_settings())
        return _CLIENTS[key]
