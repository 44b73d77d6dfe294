"""The manifest of a batch: which outputs are finished, made with which recipe.

``OUT_DIR/pertouch-batch.jsonl``: one JSON line per finished photo, appended (and
fsync'ed) by the driver only after the worker wrote the output and its sidecar (both
through a temp file and ``os.replace``). A re-run of the same command skips every photo
whose line names the same output and recipe digest and whose files are still there;
everything else is rendered again. A driver killed while writing leaves at most one
torn last line, which is ignored (that photo is simply redone).
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from pertouch.engine.io.outputs import sidecar_path

MANIFEST_NAME = "pertouch-batch.jsonl"
#: What a manifest line keeps of a task's summary.
KEEP = ("input", "output", "digest", "input_hash", "size", "regions", "missing", "look", "ms", "worker")


class Manifest:
    """Finished outputs of one output folder (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / MANIFEST_NAME
        self._lock = threading.Lock()
        self.entries: dict[str, dict[str, Any]] = {}
        if self.path.is_file():
            text = self.path.read_text(encoding="utf-8", errors="replace")
            if text and not text.endswith("\n"):  # torn by a kill: the next line starts afresh
                with open(self.path, "a", encoding="utf-8") as f:
                    f.write("\n")
            for line in text.splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:  # a torn last line: that photo is redone
                    continue
                if isinstance(entry, dict) and "output" in entry and "digest" in entry:
                    self.entries[_key(entry["output"])] = entry

    def done(self, output: str, digest: str) -> dict[str, Any] | None:
        """The entry when ``output`` is finished with this ``digest`` and still on disk."""
        entry = self.entries.get(_key(output))
        if entry is None or entry.get("digest") != digest:
            return None
        out = Path(output)
        return entry if out.is_file() and sidecar_path(out).is_file() else None

    def add(self, summary: dict[str, Any]) -> dict[str, Any]:
        """Record a finished photo (appended and flushed to disk before returning)."""
        entry = {k: summary[k] for k in KEEP if k in summary}
        entry["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
            self.entries[_key(entry["output"])] = entry
        return entry


def _key(output: str) -> str:
    return str(Path(output).resolve())
