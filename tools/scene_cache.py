"""The on-disk perception cache: segment masks per photo content hash + segmenter spec.

Files live under ``app_home()/cache/perception/<hash>_<spec-key>.npz``: the masks as
uint8 at cue size plus each segment's label and confidence. The spec key also hashes
the perception code and data (``pertouch.tools``' sources, calibration tables), so an
upgrade that changes segments or confidences never serves stale ones. Writes are
atomic; an unreadable file is deleted and treated as a miss.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from pertouch.tools.segmentation import Segment


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of the perception code and data this process runs (sources + data files)."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for f in sorted([*root.rglob("*.py"), *(root / "data").glob("*.json")]):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def cache_file(content_hash: str, spec: str) -> Path:
    from pertouch.home import app_home

    key = hashlib.sha256(f"{spec}|{code_fingerprint()}".encode()).hexdigest()[:10]
    return app_home() / "cache" / "perception" / f"{content_hash}_{key}.npz"


def save_segments(content_hash: str, spec: str, segments: list[tuple[str, float]], masks: list[np.ndarray]) -> None:
    """Store ``masks`` (float in [0, 1]) with their ``(label, confidence)``."""
    path = cache_file(content_hash, spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = json.dumps({"segments": [{"label": lab, "confidence": conf} for lab, conf in segments]})
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    with os.fdopen(fd, "wb") as f:
        np.savez_compressed(f, masks=np.stack([(m * 255 + 0.5).astype(np.uint8) for m in masks]), meta=np.array(meta))
    os.replace(tmp, path)


def load_segments(content_hash: str, spec: str) -> list[Segment] | None:
    """The cached segments, or None on a miss (or an unreadable file, which is removed)."""
    path = cache_file(content_hash, spec)
    if not path.is_file():
        return None
    try:
        with np.load(path) as z:
            masks, meta = z["masks"], json.loads(str(z["meta"]))
        return [Segment(m.astype(np.float32) / 255, s["label"], s["confidence"]) for m, s in zip(masks, meta["segments"])]
    except (OSError, ValueError, KeyError):
        path.unlink(missing_ok=True)
        return None
