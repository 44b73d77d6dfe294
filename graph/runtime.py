"""What nodes use to reach pixels, masks, models and memory — by reference.

Graph state holds only references (:class:`~pertouch.graph.state.ImageRef`, mask
keys); this module turns them back into arrays through a :class:`RuntimeCache`, so a
node never reloads a photo or re-segments it within one process. There is one cache
per process (:func:`process_cache`); a run reaches it through its context
(``RunContext.cache``) and every function here takes it as ``cache=`` (None = the
process's one). A runtime cache owns the perception cache the tools load segmenters and
keep scenes in (:class:`~pertouch.tools.perception_cache.PerceptionCache`, passed down
as ``cache=``), so its one :meth:`RuntimeCache.clear` empties everything this process
holds in memory, and a run with a cache of its own never touches the process's one. A
reference is checked against the file's content hash, so a changed file is noticed
rather than silently edited. Renders are written as files under ``app_home()/sessions/<id>/``.

Heavy things (VLMs, memory stores) load on first use and are cached per spec.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from pertouch.core.errors import InputError
from pertouch.core.lru import LRU
from pertouch.graph.state import ImageRef, RegionInfo
from pertouch.tools.perception_cache import PerceptionCache, process_perception_cache

_LOCK = threading.RLock()
_CACHE_SIZE = 8


class RuntimeCache:
    """What the runtime keeps between nodes: decoded photos, proxies, scenes, found and
    pointed regions, working-size masks (each the last :data:`_CACHE_SIZE` used), the
    loaded models, render engines and memory stores by spec, and the tools' :class:`PerceptionCache`
    (``perception``: loaded segmenters and perceived scenes; a new one unless given)."""

    def __init__(self, perception: PerceptionCache | None = None) -> None:
        def lru() -> LRU:
            return LRU(_CACHE_SIZE, _LOCK)  # one lock: some steps read or change several at once

        self.photos = lru()    # hash -> Photo
        self.refs = lru()      # (path, size, mtime) -> ImageRef
        self.proxies = lru()   # (hash, size) -> pixels
        self.scenes = lru()    # (hash, segmenter) -> Scene
        self.found = lru()     # (hash, segmenter, text) -> Region
        self.proxy_masks = lru()  # (hash, segmenter, name, size) -> mask
        self.pointed = lru()   # (hash, segmenter, pointer JSON) -> Region the user pointed at
        self.models: dict[str, Any] = {}
        self.engines: dict[str, Any] = {}  # spec -> Engine (keeps its solved layers between renders)
        self.memories: dict[str, tuple[Any, str | None]] = {}
        self.perception = PerceptionCache() if perception is None else perception

    def clear(self) -> None:
        """Forget every cached photo, scene, region, model, memory store and loaded segmenter."""
        with _LOCK:
            for c in (self.photos, self.refs, self.proxies, self.scenes, self.found, self.proxy_masks,
                      self.pointed, self.models, self.engines, self.memories, self.perception):
                c.clear()


#: The process's runtime cache: it owns the process's perception cache (what the tools use
#: when a caller passes none), so clearing it empties the tools' too.
_PROCESS = RuntimeCache(process_perception_cache())


def process_cache() -> RuntimeCache:
    """The process's one :class:`RuntimeCache` (the default of ``RunContext.cache``)."""
    return _PROCESS


def _of(cache: RuntimeCache | None) -> RuntimeCache:
    return _PROCESS if cache is None else cache


# --- photos ----------------------------------------------------------------------

def open_photo(path: str | Path, *, cache: RuntimeCache | None = None) -> ImageRef:
    """Load a photo once, cache it, and return its reference (a file opened before and not
    changed since — same size and modification time — is not decoded again)."""
    from pertouch.engine.io.read import load_image

    try:
        st = Path(path).stat()
        key = (str(Path(path).resolve()), st.st_size, st.st_mtime_ns)
    except OSError:
        key = None  # load_image says what is wrong with the path
    c = _of(cache)
    with _LOCK:
        ref = c.refs.get(key) if key else None
        if ref is not None and ref["hash"] in c.photos:
            return dict(ref)  # type: ignore[return-value]
    photo = load_image(path)
    with _LOCK:
        c.photos[photo.content_hash] = photo
    h, w = photo.pixels.shape[:2]
    ref = {"path": str(Path(path).resolve()), "hash": photo.content_hash, "width": int(w), "height": int(h)}
    if key:
        c.refs.get_or(key, lambda: ref)
    return dict(ref)  # type: ignore[return-value]


def photo(ref: ImageRef, *, cache: RuntimeCache | None = None) -> Any:
    """The :class:`Photo` behind ``ref`` (reloaded from its path after a restart)."""

    def load() -> Any:
        from pertouch.engine.io.read import load_image

        p = load_image(ref["path"])
        if p.content_hash != ref["hash"]:
            raise InputError(f"{ref['path']} changed since the session started",
                             hint="start a new session for the new photo")
        return p

    return _of(cache).photos.get_or(ref["hash"], load)


def proxy_size(ref: ImageRef, long_side: int) -> tuple[int, int]:
    """(width, height) of the working-resolution proxy (never upscaled)."""
    w, h = ref["width"], ref["height"]
    s = min(1.0, long_side / max(w, h))
    return max(1, round(w * s)), max(1, round(h * s))


def _resize(arr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    if (arr.shape[1], arr.shape[0]) == size:
        return arr
    return cv2.resize(arr, size, interpolation=cv2.INTER_AREA)


def proxy(ref: ImageRef, long_side: int, *, cache: RuntimeCache | None = None) -> np.ndarray:
    """The photo at working resolution, (h, w, 3) in the photo's dtype."""
    size = proxy_size(ref, long_side)
    return _of(cache).proxies.get_or((ref["hash"], size), lambda: _resize(photo(ref, cache=cache).pixels, size))


def to8(pixels: np.ndarray) -> np.ndarray:
    """uint8 view of uint8/uint16 RGB pixels."""
    if pixels.dtype == np.uint8:
        return pixels
    return (pixels.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)


def proxy8(ref: ImageRef, long_side: int, *, cache: RuntimeCache | None = None) -> np.ndarray:
    """The working-resolution proxy as uint8 RGB (for previews and models)."""
    return to8(proxy(ref, long_side, cache=cache))


# --- perception ------------------------------------------------------------------

def scene(ref: ImageRef, segmenter: str, *, cache: RuntimeCache | None = None) -> Any:
    """The perceived :class:`Scene` (regions with full-resolution masks)."""
    from pertouch.tools.perception import perceive

    c = _of(cache)
    return c.scenes.get_or((ref["hash"], segmenter),
                           lambda: perceive(photo(ref, cache=c), segmenter=segmenter, cache=c.perception))


def mask_key(ref: ImageRef, segmenter: str, name: str) -> str:
    return f"{ref['hash'][:16]}:{segmenter}:{name}"


def region_infos(regions: Any, ref: ImageRef, segmenter: str) -> list[RegionInfo]:
    """JSON summaries of :class:`Region` objects (no masks)."""
    return [
        {
            "name": r.name, "label": r.label, "confidence": round(float(r.confidence), 3),
            "area": round(float(r.area_fraction), 4),
            "levels": {k: round(float(v), 4) for k, v in r.levels.items()},
            "mask_key": mask_key(ref, segmenter, r.name),
            **({"note": r.note} if getattr(r, "note", "") else {}),
        }
        for r in regions
    ]


def find_region(ref: ImageRef, segmenter: str, text: str, *, cache: RuntimeCache | None = None) -> Any:
    """A region for ``text`` ("the eagle"); raises NotFoundError when absent."""
    from pertouch.tools.segmentation import get_segmenter

    c = _of(cache)

    def find() -> Any:
        return get_segmenter(segmenter, cache=c.perception).find(photo(ref, cache=c).pixels, text,
                                                                  cache=c.perception)

    return c.found.get_or((ref["hash"], segmenter, text.lower()), find)


def regions_by_name(ref: ImageRef, segmenter: str, names: list[str], *,
                    cache: RuntimeCache | None = None) -> dict[str, Any]:
    """Full-resolution regions for recipe region ``names`` (scene regions + found ones)."""
    sc = scene(ref, segmenter, cache=cache)
    by_name = {r.name: r for r in sc.regions}
    with _LOCK:
        for (h, seg, _text), reg in list(_of(cache).found.items()):
            if h == ref["hash"] and seg == segmenter:
                by_name.setdefault(reg.name, reg)
    return {n: by_name[n] for n in names if n in by_name}


def add_pointed(ref: ImageRef, segmenter: str, pointers: list[dict[str, Any]], *,
                cache: RuntimeCache | None = None) -> list[Any]:
    """The regions the user pointed at (:meth:`pertouch.tools.pointing.Pointer.to_json`
    dicts), computed once per pointer and put where :func:`regions_by_name` and
    :func:`find_region` find them (keyed by photo hash + segmenter + name). A single
    pointed region is also found as ``selection`` ("brighten the selection").

    Raises InputError for a pointer outside the photo or named like a region of the
    scene, NotFoundError when nothing could be separated.
    """
    import json

    from pertouch.engine.schema.regions import Region
    from pertouch.tools.pointing import DEFAULT_NAME as DEFAULT_POINTED
    from pertouch.tools.pointing import Pointer, check_names, pointed_region
    from pertouch.tools.segmentation import get_segmenter

    found = [Pointer.from_json(p) for p in pointers]
    check_names(found, [r.name for r in scene(ref, segmenter, cache=cache).regions])
    c = _of(cache)
    out = []
    for p in found:
        key = (ref["hash"], segmenter, json.dumps(p.to_json(), sort_keys=True))
        reg = c.pointed.get_or(key, lambda p=p: pointed_region(photo(ref, cache=c).pixels, p,
                                                               get_segmenter(segmenter, cache=c.perception)))
        _put_found(c, ref, segmenter, reg)
        out.append(reg)
    if len(out) == 1 and out[0].name != DEFAULT_POINTED:
        # "the selection" names the one pointed region, whatever the user called it
        r = out[0]
        old = c.found.get((ref["hash"], segmenter, DEFAULT_POINTED))
        if old is None or old.mask is not r.mask:
            _put_found(c, ref, segmenter, Region(DEFAULT_POINTED, r.mask, label=r.label, confidence=r.confidence,
                                              levels=dict(r.levels), source=r.source))
    return out


def _put_found(c: RuntimeCache, ref: ImageRef, segmenter: str, reg: Any) -> None:
    """Put ``reg`` in the found-regions cache under its name (a new one drops the
    working-size masks cached for the region it replaces)."""
    key = (ref["hash"], segmenter, reg.name.lower())
    with _LOCK:
        old = c.found.get(key)
        if old is None or old.mask is not reg.mask:
            for k in [k for k in c.proxy_masks if k[:3] == (ref["hash"], segmenter, reg.name)]:
                del c.proxy_masks[k]
        c.found.put(key, reg)


def _at_size(ref: ImageRef, segmenter: str, regions: Mapping[str, Any], size: tuple[int, int], *,
             cache: RuntimeCache | None = None) -> dict[str, Any]:
    from pertouch.engine.schema.regions import Region

    out = {}
    for name, r in regions.items():
        m = _of(cache).proxy_masks.get_or((ref["hash"], segmenter, name, size), lambda r=r: _resize(r.mask, size))
        out[name] = Region(name, m, label=r.label, confidence=r.confidence, levels=dict(r.levels), source=r.source)
    return out


# --- rendering -------------------------------------------------------------------

def render(ref: ImageRef, recipe_json: dict, *, segmenter: str, engine: str,
           long_side: int | None, cache: RuntimeCache | None = None) -> Any:
    """Render ``recipe_json`` on the photo (``long_side`` None = full resolution).

    Returns the engine's :class:`RenderResult` (image + achieved levels).
    """
    from pertouch.engine.schema.recipe import parse_recipe

    recipe = parse_recipe(recipe_json, "plan")
    regions = regions_by_name(ref, segmenter, list(recipe.regions), cache=cache)
    if long_side is None:
        pixels = photo(ref, cache=cache).pixels
    else:
        pixels = proxy(ref, long_side, cache=cache)
        regions = _at_size(ref, segmenter, regions, (pixels.shape[1], pixels.shape[0]), cache=cache)
    return render_engine(engine, cache=cache).render(pixels, recipe, regions)


def render_engine(spec: str, *, cache: RuntimeCache | None = None) -> Any:
    """The engine for ``spec``, one per cache: a session's renders share its solved layers
    (the same recipe rendered again took 60–72 ms instead of 200–237 ms on a 512×512
    photo, 2026-12-06) and a diffusion engine loads its model once."""
    from pertouch.engine.engines import get_engine

    engines = _of(cache).engines
    with _LOCK:
        if spec not in engines:
            engines[spec] = get_engine(spec)
        return engines[spec]


def session_dir(session: str | None) -> Path:
    """``app_home()/sessions/<session>`` (a fresh id when None), created."""
    from pertouch.core.home import app_home

    d = app_home() / "sessions" / (session or uuid.uuid4().hex[:12])
    d.mkdir(parents=True, exist_ok=True)
    return d


def write_preview(pixels: np.ndarray, path: Path) -> str:
    """Write an 8-bit JPEG preview atomically; returns the path as a string."""
    from pertouch.engine.io.read import save_image

    save_image(path, to8(pixels))
    return str(path)


# --- models and memory -------------------------------------------------------------

def vlm(spec: str, *, cache: RuntimeCache | None = None) -> Any:
    """The VLM for ``spec`` (cached; raises ModelError for a bad spec)."""
    from pertouch.graph.vlm.registry import get_vlm

    models = _of(cache).models
    with _LOCK:
        if spec not in models:
            models[spec] = get_vlm(spec)
        return models[spec]


def model(ctx: Any, role: str) -> Any:
    """The VLM a run context names for ``role`` (planner, critic, describer, classifier):
    the provider cached in the context's cache, wrapped to record its calls when the context
    carries a call recorder (``ctx.calls``, see :mod:`pertouch.graph.vlm.calls`)."""
    found = vlm(ctx.model_for(role), cache=getattr(ctx, "cache", None))
    recorder = getattr(ctx, "calls", None)
    if recorder is None:
        return found
    from pertouch.graph.vlm.calls import RecordedVLM

    return RecordedVLM(found, recorder)


def memory(spec: str | None, *, cache: RuntimeCache | None = None) -> tuple[Any, str | None]:
    """``(memory or None, warning)``: the agent works without memory, saying why."""
    key = spec or ""
    memories = _of(cache).memories
    with _LOCK:
        if key not in memories:
            try:
                from pertouch.memory.factory import open_memory_or_none

                memories[key] = open_memory_or_none(spec)
            except Exception as exc:  # an unavailable store must not kill the agent
                memories[key] = (None, f"memory unavailable: {type(exc).__name__}: {exc}")
        return memories[key]
