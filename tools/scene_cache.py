"""The on-disk perception cache: segment masks per photo content hash + segmenter spec,
and the people and faces the detectors found per photo.

Files live under ``app_home()/cache/perception/``: ``<hash>_<spec-key>.npz`` holds the
masks as uint8 at cue size plus each segment's label and confidence;
``<hash>_<det-key>.det.npz`` the :class:`~pertouch.tools.detection.Detections` exactly
(float32 person masks cut to their non-zero window, boxes, scores, pose and face
landmarks), so a cached perceive runs no model. The keys also hash the perception code
and data (``pertouch.tools``' sources, calibration tables, the .tflite models) and the
versions of pertouch and ai-edge-litert, so an upgrade that changes segments,
confidences or detections never serves stale ones. Writes are atomic; an unreadable
file is deleted and treated as a miss.
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
    """A hash of the perception code, data and models this process runs (sources, data
    files, .tflite models) and of the pertouch and ai-edge-litert versions."""
    return fingerprint(Path(__file__).resolve().parent)


def fingerprint(root: Path) -> str:
    """:func:`code_fingerprint` of the package folder ``root``."""
    from importlib import metadata

    h = hashlib.sha256()
    for f in sorted([*root.rglob("*.py"), *(root / "data").glob("*.json"), *(root / "data").glob("*.tflite")]):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    for dist in ("pertouch", "ai-edge-litert"):
        try:
            h.update(f"{dist}=={metadata.version(dist)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{dist} absent".encode())
    return h.hexdigest()[:12]


def cache_file(content_hash: str, spec: str) -> Path:
    from pertouch.core.home import app_home

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


# --- detections ---------------------------------------------------------------------------

def detections_file(content_hash: str) -> Path:
    from pertouch.core.home import app_home
    from pertouch.tools.detection import DETECT_SIDE

    key = hashlib.sha256(f"detections|{DETECT_SIDE}|{code_fingerprint()}".encode()).hexdigest()[:10]
    return app_home() / "cache" / "perception" / f"{content_hash}_{key}.det.npz"


def save_detections(content_hash: str, det) -> None:
    """Store a :class:`~pertouch.tools.detection.Detections` exactly, all but its ``rgb``
    proxy (:meth:`~pertouch.tools.detection.Detections.proxy` remakes it from the photo)."""
    arrays: dict[str, np.ndarray] = {}
    meta = {"shape": list(det.shape), "ms": det.ms, "people": [], "faces": []}
    for i, p in enumerate(det.people):
        on = p.mask > 0
        rows, cols = np.flatnonzero(on.any(1)), np.flatnonzero(on.any(0))
        y0, x0 = (int(rows[0]), int(cols[0])) if rows.size else (0, 0)
        y1, x1 = (int(rows[-1]) + 1, int(cols[-1]) + 1) if rows.size else (0, 0)
        arrays[f"p{i}_mask"] = p.mask[y0:y1, x0:x1]
        if p.landmarks is not None:
            arrays[f"p{i}_landmarks"] = p.landmarks
        meta["people"].append({"window": [y0, x0], "box": list(p.box), "score": p.score})
    for i, f in enumerate(det.faces):
        arrays[f"f{i}_keypoints"] = f.keypoints
        if f.landmarks is not None:
            arrays[f"f{i}_landmarks"] = f.landmarks
        meta["faces"].append({"box": list(f.box), "score": f.score})
    path = detections_file(content_hash)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    with os.fdopen(fd, "wb") as fh:
        np.savez_compressed(fh, meta=np.array(json.dumps(meta)), **arrays)
    os.replace(tmp, path)


def load_detections(content_hash: str, rgb: np.ndarray):
    """The cached detections of the photo ``rgb`` (uint8 RGB, content hash ``content_hash``),
    their proxy remade from it on demand, or None on a miss (or an unreadable file, which is
    removed, or one whose proxy size is not this photo's)."""
    from pertouch.tools.detection import Detections, proxy_shape
    from pertouch.tools.faces import Face
    from pertouch.tools.people import Person

    path = detections_file(content_hash)
    if not path.is_file():
        return None
    try:
        with np.load(path) as z:
            meta = json.loads(str(z["meta"]))
            shape = tuple(int(v) for v in meta["shape"])
            people = []
            for i, p in enumerate(meta["people"]):
                crop, (y0, x0) = z[f"p{i}_mask"], p["window"]
                mask = np.zeros(shape, np.float32)
                mask[y0:y0 + crop.shape[0], x0:x0 + crop.shape[1]] = crop
                lm = z[f"p{i}_landmarks"] if f"p{i}_landmarks" in z.files else None
                people.append(Person(mask, tuple(float(v) for v in p["box"]), float(p["score"]), lm))
            faces = [Face(tuple(float(v) for v in f["box"]), float(f["score"]), z[f"f{i}_keypoints"],
                          z[f"f{i}_landmarks"] if f"f{i}_landmarks" in z.files else None)
                     for i, f in enumerate(meta["faces"])]
        if proxy_shape(rgb.shape) != shape:
            return None
        return Detections(shape, people, faces, None, float(meta["ms"]), source=rgb)  # proxy made on demand
    except (OSError, ValueError, KeyError, IndexError):
        path.unlink(missing_ok=True)
        return None
