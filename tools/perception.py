"""Scene perception: photo → labelled regions with full-resolution masks and levels.

>>> from skimage import data
>>> scene = perceive(data.rocket())            # doctest: +SKIP
>>> [r.name for r in scene.regions][:2], scene.find("sky").label  # doctest: +SKIP
(['sky', 'ground'], 'sky')

:func:`perceive` runs a segmenter (chosen by a spec string, see
:mod:`pertouch.tools.segmentation`) on a proxy, labels class-agnostic proposals with
:mod:`pertouch.tools.labels`, upsamples masks edge-aware to full resolution
(:mod:`pertouch.tools.refine`) and measures every registered attribute's level
per region and for the whole frame. Results are cached by image content hash +
segmenter spec, in memory (a :class:`~pertouch.tools.perception_cache.PerceptionCache` the
caller passes, else the process's one) and under ``app_home()/cache/perception`` (proxy
masks and the people and faces found), so a second call on the same photo runs no model.

People and faces are found once per photo by the offline detectors
(:mod:`pertouch.tools.detection`): they give the labeller its person cue and the scene
its instances (``Scene.instances("person")``, ``"face"``). Regions form a partition of
the photo (overlaps only at soft borders); ``Scene.find`` also knows what is not in the
partition (:mod:`pertouch.tools.finding`): person parts (face, face skin, eyes, lips,
eyebrows, skin, hair), instances by position, subject/background, spatial parts,
complements, and things an open-vocabulary segmenter or the main subject stands for.
Asking for something absent raises :class:`~pertouch.core.errors.NotFoundError` that says
what the photo has and how to point at the thing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from pertouch.engine.parametric.inputs import fit_long_side
from pertouch.engine.schema.regions import Region
from pertouch.core.errors import InputError, NotFoundError
from pertouch.tools import labels as lb
from pertouch.tools.detection import Detections
from pertouch.tools.detection import detect as detect_people_and_faces
from pertouch.tools.perception_cache import PerceptionCache, perception_cache, process_perception_cache
from pertouch.tools.refine import refine_masks
from pertouch.tools.scene_cache import load_detections, load_segments, save_detections, save_segments
from pertouch.tools.segmentation import Segment, Segmenter, get_segmenter

#: Largest photo perception accepts (width × height); larger ones are rejected.
MAX_PIXELS = 100_000_000
#: Side of the proxy on which labelling cues are computed.
CUE_SIDE = 384
#: Scene masks are at full resolution up to this many pixels; above it they keep the
#: photo's aspect at this size (still edge-aware: the engine upsamples them against the
#: photo again) and :meth:`Scene.full_mask` gives them at full resolution on request.
MASK_MAX_PIXELS = 4_000_000
#: find() ignores regions labelled with less confidence than this (a guess, not a find).
FIND_MIN_CONFIDENCE = 0.3
#: Photos whose short side is below this get one region ("the whole photo").
MIN_SIDE = 16
#: Run the people and face detectors (:mod:`pertouch.tools.detection`).
DETECT = True


@dataclass
class Scene:
    """What perception found in one photo.

    ``regions``: :class:`Region` list (full-resolution float32 masks, unique names such
    as ``sky``, ``person``, ``vegetation_2``, levels filled). ``levels``: global levels.
    ``tags``/``summary``: derived from the labels. ``proxy``: the uint8 cue proxy.
    ``cache``: the :class:`PerceptionCache` it was perceived through (where finding
    looks its segmenter up; None: the process's one).
    """

    regions: list[Region]
    levels: dict[str, float]
    size: tuple[int, int]
    segmenter: str
    content_hash: str
    tags: list[str] = field(default_factory=list)
    summary: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    cues: lb.Cues | None = field(default=None, repr=False)
    pixels: np.ndarray | None = field(default=None, repr=False)
    detections: Any = field(default=None, repr=False)
    _derived: dict[str, Any] = field(default_factory=dict, repr=False)
    cache: PerceptionCache | None = field(default=None, repr=False, compare=False)

    def region(self, name: str) -> Region:
        for r in self.regions:
            if r.name == name:
                return r
        raise NotFoundError(f"no region named {name!r} (regions: {', '.join(r.name for r in self.regions)})")

    def find(self, text: str) -> Region:
        """The region for ``text``: a region name, a label/synonym, a person part, an
        instance by position, subject/background, a spatial part or a complement
        (:mod:`pertouch.tools.finding`). Raises :class:`NotFoundError` saying what is here."""
        from pertouch.tools.finding import find_in_scene

        key = " ".join(text.strip().lower().split())
        if key not in self._derived:
            self._derived[key] = find_in_scene(self, key)
        return self._derived[key]

    def instances(self, label: str) -> list[Region]:
        """``person`` or ``face`` instances (``person_1`` … left to right), full-resolution."""
        from pertouch.tools.finding import instances

        key = f"#instances:{label}"
        if key not in self._derived:
            self._derived[key] = instances(self, label)
        return self._derived[key]

    def subject(self) -> Region | None:
        """The main subject (people, else the main object), or None when none stands out."""
        from pertouch.tools.finding import subject

        if "#subject" not in self._derived:
            self._derived["#subject"] = subject(self)
        return self._derived["#subject"]

    @property
    def mask_shape(self) -> tuple[int, int]:
        """``(h, w)`` of this scene's region masks."""
        W, H = mask_size((self.size[1], self.size[0]))
        return H, W

    def make_region(self, name: str, mask: np.ndarray, confidence: float, source: str, *, note: str = "",
                    label: str | None = None) -> Region:
        """A measured region from a soft mask of any size (brought to :attr:`mask_shape`
        edge-aware when it is smaller)."""
        H, W = self.mask_shape
        m = mask.astype(np.float32)
        if m.shape != (H, W):
            m = _full_res([m], self.pixels, (W, H))[0] if self.pixels is not None and min(m.shape) >= MIN_SIDE \
                else cv2.resize(m, (W, H), interpolation=cv2.INTER_LINEAR)
        levels, _ = _measure(self.pixels, {name: m}) if self.pixels is not None else ({name: {}}, {})
        return Region(name, m, label=label or name, confidence=round(float(confidence), 3), levels=levels[name],
                      source=source, note=note)

    def region_list(self) -> str:
        """``"sky (sky), person_1 (person) …"``: what is here, for answers."""
        found = [f"{r.name} ({r.label})" for r in self.regions]
        if self.detections is not None:
            n, f = len(self.detections.people), len(self.detections.faces)
            if n > 1:
                found.append(f"{n} people")
            if f:
                found.append(f"{f} face{'s' if f > 1 else ''}")
        return ", ".join(found) or "none"

    def full_mask(self, region: Region) -> np.ndarray:
        """``region``'s mask at the photo's full resolution (edge-aware upsampling)."""
        if self.pixels is None or region.mask.shape == self.pixels.shape[:2]:
            return region.mask
        return refine_masks([region.mask], self.pixels, radius=4)[0]

    def to_json(self) -> dict[str, Any]:
        """A JSON summary (no masks)."""
        return {
            "size": list(self.size), "segmenter": self.segmenter, "hash": self.content_hash,
            "summary": self.summary, "tags": self.tags, "levels": _round(self.levels),
            "regions": [region_json(r) for r in self.regions],
        }


def region_json(r: Region) -> dict[str, Any]:
    return {"name": r.name, "label": r.label, "confidence": round(float(r.confidence), 3),
            "area": round(r.area_fraction, 4), "bbox": list(r.bbox), "levels": _round(r.levels),
            "source": r.source}


def _round(d: dict[str, float]) -> dict[str, float | None]:
    return {k: (None if not np.isfinite(v) else round(float(v), 4)) for k, v in d.items()}


# --- input -------------------------------------------------------------------------

def as_rgb8(image: Any) -> tuple[np.ndarray, str]:
    """A Photo or array (grey, RGB, RGBA; uint8/uint16/float 0–1) → uint8 RGB and its hash."""
    from pertouch.engine.io.read import pixel_hash

    pixels = getattr(image, "pixels", image)
    a = np.asarray(pixels)
    if a.ndim not in (2, 3) or a.size == 0 or (a.ndim == 3 and a.shape[2] not in (1, 3, 4)):
        raise InputError(f"cannot segment an array of shape {a.shape}", hint="give an (H, W), (H, W, 3) or (H, W, 4) image")
    if a.shape[0] * a.shape[1] > MAX_PIXELS:
        raise InputError(f"photo too large to segment: {a.shape[1]}×{a.shape[0]} px is over {MAX_PIXELS // 1_000_000} MP",
                         hint="downscale it first")
    h = getattr(image, "content_hash", None) or pixel_hash(a)
    if a.ndim == 3 and a.shape[2] == 4:
        a = a[..., :3]
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.dtype == np.uint16:
        a = (a >> 8).astype(np.uint8)
    elif a.dtype != np.uint8:
        a = (np.clip(np.nan_to_num(a.astype(np.float32)), 0, 1) * 255 + 0.5).astype(np.uint8)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    return np.ascontiguousarray(a), h


def proxy_of(rgb: np.ndarray, side: int) -> np.ndarray:
    """``rgb`` resized so its long side is at most ``side`` (INTER_AREA; :func:`~pertouch.engine.parametric.inputs.fit_long_side`)."""
    return fit_long_side(rgb, side)


# --- the pipeline ------------------------------------------------------------------

def _segments(seg: Segmenter, rgb: np.ndarray, cues: lb.Cues) -> list[Segment]:
    if seg.semantic and seg.proxy_side == CUE_SIDE:
        return seg.segment(cues.rgb, cues)
    proxy = proxy_of(rgb, seg.proxy_side)
    found = seg.segment(proxy, cues)
    h, w = cues.rgb.shape[:2]
    for s in found:
        if s.mask.shape != (h, w):
            s.mask = cv2.resize(s.mask.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    if not seg.semantic:
        found = _partition(found, h, w)
        for s, (label, conf) in zip(found, lb.label_masks(cues, [s.mask > 0.5 for s in found])):
            s.label, s.confidence = label, round(conf, 3)
    return found


def _partition(found: list[Segment], h: int, w: int) -> list[Segment]:
    """Overlapping class-agnostic masks → a partition (higher score wins; the rest is 'other')."""
    owner = np.full((h, w), -1, np.int32)
    order = sorted(range(len(found)), key=lambda i: (-found[i].score, float(found[i].mask.mean())))
    for i in order:
        owner[(found[i].mask > 0.5) & (owner < 0)] = i
    out = [Segment((owner == i).astype(np.float32), score=found[i].score) for i in range(len(found))]
    out = [s for s in out if s.mask.mean() >= 0.002]
    rest = owner < 0
    if rest.mean() >= 0.002:
        out.append(Segment(rest.astype(np.float32), score=0.0))
    return out


def _names(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        seen[lab] = seen.get(lab, 0) + 1
        out.append(lab if seen[lab] == 1 else f"{lab}_{seen[lab]}")
    return out


def _measure(rgb: np.ndarray, masks: dict[str, np.ndarray]) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Levels per region and global, the reference way (photo resized to 512×512 with
    INTER_LINEAR), all regions of a partition in one pass (:mod:`pertouch.tools.region_levels`)."""
    from pertouch.tools.region_levels import measure_regions

    return measure_regions(rgb, masks)


def _summary(regions: list[Region]) -> tuple[list[str], str]:
    tags = []
    for r in sorted(regions, key=lambda r: -r.area_fraction):
        if r.label not in tags and r.label != "other" and r.confidence >= 0.4:
            tags.append(r.label)
    if not tags:
        return [], "a photo with no clearly recognised regions"
    parts = [f"{t} ({sum(r.area_fraction for r in regions if r.label == t):.0%})" for t in tags]
    return tags, "a photo with " + ", ".join(parts)


def _perceive(image: Any, seg: Segmenter, rgb: np.ndarray, h: str, found: Detections | None = None,
              cache: PerceptionCache | None = None) -> Scene:
    t0 = time.perf_counter()
    H, W = rgb.shape[:2]
    timings: dict[str, float] = {}
    detections = None
    cue_rgb = proxy_of(rgb, CUE_SIDE)
    if min(H, W) < MIN_SIDE:
        cues = lb.Cues(cue_rgb, cv2.cvtColor(cue_rgb.astype(np.float32) / 255, cv2.COLOR_RGB2Lab),
                       np.zeros(cue_rgb.shape[:2], np.float32), lb.PersonEvidence(np.zeros(cue_rgb.shape[:2], np.float32), 0.0, [], ""), False)
        segs = [Segment(np.ones(cue_rgb.shape[:2], np.float32), "other", 0.2)]
    else:
        detections = found if found is not None else detect_people_and_faces(rgb) if DETECT else None
        timings["detect"] = (time.perf_counter() - t0) * 1000
        evidence = detections.evidence(cue_rgb.shape[:2]) if detections is not None else None
        cues = lb.compute_cues(cue_rgb, evidence)
        timings["cues"] = (time.perf_counter() - t0) * 1000 - timings["detect"]
        t1 = time.perf_counter()
        segs = _segments(seg, rgb, cues)
        timings["segment"] = (time.perf_counter() - t1) * 1000
    t2 = time.perf_counter()
    full = _full_res([s.mask for s in segs], rgb)
    timings["refine"] = (time.perf_counter() - t2) * 1000
    names = _names([s.label for s in segs])
    t3 = time.perf_counter()
    levels, global_levels = _measure(rgb, {n: s.mask for n, s in zip(names, segs)})
    timings["measure"] = (time.perf_counter() - t3) * 1000
    regions = [Region(n, m, label=s.label, confidence=float(s.confidence), levels=levels[n], source=seg.spec)
               for n, s, m in zip(names, segs, full)]
    tags, summary = _summary(regions)
    timings["total"] = (time.perf_counter() - t0) * 1000
    return Scene(regions, global_levels, (W, H), seg.spec, h, tags, summary, timings, cues, rgb, detections,
                 cache=cache)


def mask_size(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(W, H)`` of scene masks for a photo of ``shape``: full size up to MASK_MAX_PIXELS."""
    H, W = shape[:2]
    if H * W <= MASK_MAX_PIXELS:
        return W, H
    s = (MASK_MAX_PIXELS / (H * W)) ** 0.5
    return max(1, round(W * s)), max(1, round(H * s))


def _full_res(masks: list[np.ndarray], rgb: np.ndarray, size: tuple[int, int] | None = None) -> list[np.ndarray]:
    """Masks upsampled edge-aware to ``size`` = (W, H) (default :func:`mask_size`)."""
    W, H = size or mask_size(rgb.shape)
    if masks and masks[0].shape == (H, W):
        return [m.astype(np.float32) for m in masks]
    if min(H, W) < MIN_SIDE:
        return [cv2.resize(m, (W, H), interpolation=cv2.INTER_NEAREST) for m in masks]
    return refine_masks(masks, rgb, size=(W, H), radius=proxy_refine_radius(masks[0].shape))


def proxy_refine_radius(proxy_shape: tuple[int, ...]) -> int:
    """Guided-filter radius in proxy pixels: about 1 % of the proxy's long side (4 at 384 px).
    Wider windows let borders snap to nearby photo edges (boundary F on the labelled set,
    radius 2 → 4: sky 0.50 → 0.51, person 0.51 → 0.53) but blur borders the luma guide
    cannot see (iso-luminant blue/green): radius 8 failed the sharp-edge test."""
    return max(2, round(max(proxy_shape[:2]) / 96))


# --- perceiving, cached ----------------------------------------------------------------

def perceive(image: Any, segmenter: str | Segmenter = "builtin", *,
             cache: bool | PerceptionCache = True) -> Scene:
    """Segment, label and measure ``image`` (a Photo or an array); cached per photo + spec.

    ``cache``: a :class:`PerceptionCache` (the segmenter and the scene are kept there, the
    masks on disk), True for the process's one, False for a scene made afresh (no memory, no
    disk; the segmenter still comes from the process's cache)."""
    mem = cache if isinstance(cache, PerceptionCache) else process_perception_cache() if cache else None
    seg = get_segmenter(segmenter, cache=mem)
    rgb, h = as_rgb8(image)
    key = (h, seg.spec)
    if mem is not None:
        hit = mem.scenes.hit(key)
        if hit is not None:
            return hit
        found = load_detections(h, rgb) if DETECT and min(rgb.shape[:2]) >= MIN_SIDE else None
        cached = load_segments(h, seg.spec)
        scene = _from_segments(cached, seg, rgb, h, found, mem) if cached is not None \
            else _perceive(image, seg, rgb, h, found, mem)
        mem.scenes.put(key, scene)
        if cached is None and min(rgb.shape[:2]) >= MIN_SIDE:
            save_segments(h, seg.spec, [(r.label, r.confidence) for r in scene.regions],
                          [_cue_size(r.mask, scene.cues) for r in scene.regions])
        if found is None and scene.detections is not None:
            save_detections(h, scene.detections)
        return scene
    return _perceive(image, seg, rgb, h)


def _cue_size(mask: np.ndarray, cues: lb.Cues) -> np.ndarray:
    h, w = cues.rgb.shape[:2]
    return cv2.resize(mask, (w, h), interpolation=cv2.INTER_AREA)


def _from_segments(segs: list[Segment], seg: Segmenter, rgb: np.ndarray, h: str, found: Detections | None,
                   cache: PerceptionCache) -> Scene:
    class _Replay(Segmenter):
        semantic = True
        proxy_side = CUE_SIDE

        def segment(self, rgb_: np.ndarray, cues: Any = None) -> list[Segment]:
            return segs

    replay = _Replay()
    replay.spec = seg.spec
    return _perceive(rgb, replay, rgb, h, found, cache)


# --- finding named things ---------------------------------------------------------------

def find_region(image: Any, text: str, segmenter: str | Segmenter = "builtin", *,
                cache: PerceptionCache | None = None) -> Region:
    """Full-resolution region for ``text`` in ``image`` (perceived through ``cache``, None: the
    process's one); :class:`NotFoundError` when absent."""
    return perceive(image, segmenter, cache=perception_cache(cache)).find(text)


def find(image: Any, text: str, segmenter: str | Segmenter = "builtin") -> np.ndarray:
    """The float32 full-resolution mask for ``text`` (see :func:`find_region`)."""
    return find_region(image, text, segmenter).mask
