"""How a :class:`~pertouch.tools.perception.Scene` finds the region a word names.

In order, for a lower-case phrase:

1. a region's own name (``sky``, ``vegetation_2``);
2. a phrase :mod:`pertouch.tools.named` knows: subject / foreground / background,
   an instance by position ("the man on the left", "the two people in front",
   "the largest face", "everyone"), a spatial part ("top half", "the corners"), a
   complement ("everything except the sky");
3. a class label or synonym (``trees`` → vegetation): people and faces come from the
   detectors (every instance, their union), parts of people (face skin, eyes, lips,
   eyebrows, skin, hair) from the face mesh and the people masks, other labels from
   the segmentation (regions labelled with less than ``FIND_MIN_CONFIDENCE`` are
   guesses and are not returned);
4. anything else ("the flower", "the bus"): the segmenter's text prompt (an
   open-vocabulary backend or chain, see :mod:`pertouch.tools.segmentation`); failing
   that, when the photo has one clear main subject that is not a person, the subject,
   with a lower confidence and a note that says so; else :class:`NotFoundError`
   listing what the photo has and how to point at the thing.

Every returned region carries ``confidence`` and a ``note`` saying how it was found.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from pertouch.core.errors import NotFoundError
from pertouch.tools import labels as lb
from pertouch.tools import named

if TYPE_CHECKING:
    from pertouch.engine.schema.regions import Region
    from pertouch.tools.perception import Scene

#: A thing the segmenter cannot name is taken to be the main subject only when the
#: subject is at least this sure, and the answer says so; its confidence is scaled down.
SUBJECT_FALLBACK_MIN = 0.5
SUBJECT_FALLBACK_SCALE = 0.7
POINTING_HINT = ("point at it with --box x0,y0,x1,y1 (or --box name=x0,y0,x1,y1) or --point x,y, "
                 "or use an open-vocabulary segmenter (--segmenter builtin+clipseg:FOLDER)")


def instances(scene: "Scene", label: str) -> list["Region"]:
    """Every ``person`` or ``face`` in the photo, left to right, as full-resolution regions."""
    det = scene.detections
    if det is None or label not in ("person", "face"):
        return []
    out = []
    if label == "person":
        for i, p in enumerate(det.people, 1):
            out.append(scene.make_region(f"person_{i}", p.mask, p.score, "pose model", label="person",
                                         note=f"person {i} of {len(det.people)}"))
    else:
        for i, f in enumerate(det.faces, 1):
            out.append(scene.make_region(f"face_{i}", det.face_mask(f, "face"), f.score, "face detector", label="face",
                                         note=f"face {i} of {len(det.faces)} ({int(f.height)} px tall on the detector's proxy)"))
    return out


def subject(scene: "Scene") -> "Region | None":
    """The people when there are any, else the main subject, or None."""
    det = scene.detections
    if det is not None and det.people:
        n = len(det.people)
        mask = det.people_union()
        faces = det.part("face")  # a face whose body the pose model missed is still somebody
        if faces is not None:
            mask = np.maximum(mask, faces)
        return scene.make_region("subject", mask, max(p.score for p in det.people), "people",
                                 note=f"the subject is the {'person' if n == 1 else f'{n} people'}")
    if scene.cues is None or scene.pixels is None:
        return None
    from pertouch.tools.subject import main_subject

    found = main_subject(scene.cues.rgb)
    if found is None:
        return None
    return scene.make_region("subject", found.mask, found.confidence, "main subject", note=f"the subject: {found.how}")


def _union(scene: "Scene", name: str, regions: list["Region"], note: str) -> "Region":
    if len(regions) == 1:
        r = regions[0]
        if r.name == name:
            return replace(r, note=note) if note and not r.note else r
        return scene.make_region(name, r.mask, r.confidence, r.source, note=note, label=name)
    mask = np.maximum.reduce([r.mask for r in regions])
    conf = float(np.average([r.confidence for r in regions], weights=[r.area_fraction + 1e-9 for r in regions]))
    return scene.make_region(name, mask, conf, regions[0].source, note=note, label=name)


#: Labels whose unsure regions are still taken when their place in the frame fits.
PLACED_LABELS = ("building", "ground")
#: ...but only when the calibrated confidence says the label is at least this likely
#: (below it the region is a guess whatever its place) and the region covers at least
#: ``PLACED_MIN_AREA`` of the frame.
PLACED_MIN_CONFIDENCE = 0.2
PLACED_MIN_AREA = 0.05
#: A building reaches the top edge across this share of the width, or a side edge along
#: this share of the height; ground covers this share of the bottom edge.
PLACED_TOP_COVER = 0.2
PLACED_SIDE_COVER = 0.3
PLACED_BOTTOM_COVER = 0.5


def _placed_like(r: "Region", label: str) -> bool:
    """Does an unsure ``building``/``ground`` region lie where one would? A building lies
    in the upper part of the frame and reaches its top (across a fifth of the width) or a
    side (along a third of the height); ground lies in the lower part and spans half of
    the bottom edge (what the photo stands on). Both cover at least 5 % of the frame and
    are at least :data:`PLACED_MIN_CONFIDENCE` likely."""
    if label not in PLACED_LABELS or r.confidence < PLACED_MIN_CONFIDENCE or r.area_fraction < PLACED_MIN_AREA:
        return False
    m = r.mask > 0.5
    h, w = m.shape
    ys = np.nonzero(m)[0]
    if ys.size == 0:
        return False
    cy = float(ys.mean()) / h
    edge = max(1, h // 50)
    if label == "building":
        side = max(float(m[:, :2].any(axis=1).mean()), float(m[:, -2:].any(axis=1).mean()))
        return cy < 0.55 and (float(m[:edge].any(axis=0).mean()) >= PLACED_TOP_COVER or side >= PLACED_SIDE_COVER)
    return cy > 0.55 and float(m[-edge:].any(axis=0).mean()) >= PLACED_BOTTOM_COVER


def _label(scene: "Scene", label: str, text: str) -> "Region":
    from pertouch.tools.perception import FIND_MIN_CONFIDENCE

    in_partition = any(r.label == label and r.confidence >= FIND_MIN_CONFIDENCE for r in scene.regions)
    if label in ("person", "face") and scene.detections is not None and not in_partition:
        inst = scene.instances(label)
        if inst:
            return _union(scene, label, inst, f"all {len(inst)} {named.plural(label)}" if len(inst) > 1 else f"the {label}")
        if label == "face":
            why = "no person" if not scene.detections.people else "no visible face"
            raise NotFoundError(f"no face found in this photo ({why})", hint="regions here: " + scene.region_list())
    if label in lb.PARTS:
        return _part(scene, label)
    labelled = [r for r in scene.regions if r.label == label]
    hits = [r for r in labelled if r.confidence >= FIND_MIN_CONFIDENCE]
    if not hits:
        placed = [r for r in labelled if _placed_like(r, label)]
        if placed:
            return _union(scene, label, placed,
                          f"the segmenter is unsure ({max(r.confidence for r in placed):.2f}) that this is the {label}, "
                          f"but it lies where a {label} would; point at it with --box if that is wrong")
        guess = f"; a {max(r.confidence for r in labelled):.2f}-confidence guess was ignored" if labelled else ""
        raise NotFoundError(f"no {label} found in this photo{guess}", hint="regions here: " + scene.region_list())
    word = text.strip()
    note = f"'{word}' → the {label} region" if word not in (label, f"the {label}") else ""
    if len(hits) == 1:
        r = hits[0]
        if note and not r.note:
            return scene.make_region(r.name, r.mask, r.confidence, r.source, note=note, label=r.label)
        return r
    return _union(scene, label, hits, note or f"{len(hits)} {label} regions")


def _part(scene: "Scene", part: str) -> "Region":
    det = scene.detections
    m = det.part(part) if det is not None else None
    if m is None:
        people = det is not None and bool(det.people or det.faces)
        why = "no person" if not people else f"no visible {part.replace('_', ' ')}"
        raise NotFoundError(f"no {part.replace('_', ' ')} found in this photo ({why})",
                            hint="regions here: " + scene.region_list())
    n = len(det.faces) if part != "skin" else len(det.people)
    conf = min([f.score for f in det.faces] or [p.score for p in det.people]) * (0.95 if det.faces else 0.7)
    what = part.replace("_", " ")
    return scene.make_region(part, m, conf, "face mesh" if part not in ("skin", "hair") else "people + face mesh",
                             note=f"{what} of {n} {'person' if n == 1 else 'people'}")


def _prompted(scene: "Scene", text: str) -> "Region":
    from pertouch.tools.perception import proxy_of
    from pertouch.tools.segmentation import get_segmenter, is_empty

    name = "_".join(text.lower().replace("the ", " ").split())[:40] or "found"
    seg = get_segmenter(scene.segmenter, cache=scene.cache)  # the cache the scene came through
    if scene.pixels is not None:
        proxy = proxy_of(scene.pixels, seg.proxy_side)
        ask = getattr(seg, "ask", None)  # a chain says which member answered
        m, who = ask(proxy, text=text) if ask is not None else (seg.prompt(proxy, text=text), scene.segmenter)
        if not is_empty(m):
            return scene.make_region(name, m.astype(np.float32), 0.5, who, note=f"'{text}' found by {who}")
    sub = scene.subject()
    det = scene.detections
    people = det is not None and bool(det.people)
    if sub is not None and not people and sub.confidence >= SUBJECT_FALLBACK_MIN and len(text.split()) <= 3:
        return scene.make_region(name, sub.mask, sub.confidence * SUBJECT_FALLBACK_SCALE, "main subject",
                                 note=f"took '{text}' to be the photo's main subject ({sub.note.removeprefix('the subject: ')}); "
                                      f"if that is wrong, {POINTING_HINT}")
    raise NotFoundError(f"no {text.strip()!r} found in this photo",
                        hint=f"here: {scene.region_list()}; {POINTING_HINT}")


#: Surfaces people name: the label whose region stands for them, and which side of the
#: people's ground line they lie on when no region has that label.
SURFACES = {"wall": ("building", "upper"), "walls": ("building", "upper"), "ceiling": (None, "upper"),
            "floor": ("ground", "lower"), "floors": ("ground", "lower"), "table": (None, "lower"),
            "tabletop": (None, "lower"), "desk": (None, "lower")}
SURFACE_CONFIDENCE = 0.4
#: A wall or floor no region is labelled with is taken only inside a room: no sky, long
#: straight edges (frames, doors, corners) in the part of the photo it would be — at
#: least this mean :func:`~pertouch.tools.labels.straight_lines` density there, which a
#: studio backdrop, a blurred background or a close-up's surroundings do not reach — and
#: at least this share of that part flat (|∇L| < 1: a painted wall, not a crowd).
ROOM_MIN_LINES = 0.025
ROOM_MIN_FLAT = 0.3
#: A floor also needs people whose feet are in the photo: a box ending above this share
#: of the height.
FEET_MAX_Y = 0.95


def _in_room(scene: "Scene", mask: np.ndarray, word: str) -> str | None:
    """Why ``mask`` (a candidate wall/floor at :attr:`Scene.mask_shape`) is not a room's
    wall or floor, or None when the photo says it is (see :data:`ROOM_MIN_LINES`)."""
    import cv2

    from pertouch.tools.perception import FIND_MIN_CONFIDENCE

    if any(r.label in ("sky", "clouds") and r.confidence >= FIND_MIN_CONFIDENCE for r in scene.regions):
        return "the photo has a sky (outdoors the building or ground region answers)"
    cues = scene.cues
    if cues is None or cues.lines is None:
        return "no cues to tell a room"
    h, w = cues.lines.shape
    zone = cv2.resize(mask.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA) > 0.5
    if zone.mean() < 0.03:
        return "too little of the photo is left"
    if float(cues.lines[zone].mean()) < ROOM_MIN_LINES:
        return "no straight edges of a room there"
    if float((cues.grad[zone] < 1.0).mean()) < ROOM_MIN_FLAT:
        return "no flat surface there"
    if SURFACES[word][1] == "lower":
        det = scene.detections
        if det is None or not any(p.box[3] < FEET_MAX_Y * det.shape[0] for p in det.people):
            return "no one's feet are in the photo"
    return None


def _surface(scene: "Scene", word: str, text: str) -> "Region | None":
    """A wall/floor/table the segmentation has no label for: the part of the photo that is
    neither people nor a confidently labelled sky, vegetation or water, above (wall,
    ceiling) or below (floor, table) the line where the people meet the ground — or the
    middle of the frame when nothing says where that is. None when that part is tiny,
    and for a wall or floor when the photo is not of a room (:func:`_in_room`)."""
    from pertouch.tools.perception import FIND_MIN_CONFIDENCE

    label, side = SURFACES[word]
    if label is not None and any(r.label == label and r.confidence >= FIND_MIN_CONFIDENCE for r in scene.regions):
        return None  # the labelled region answers
    H, W = scene.mask_shape
    taken = np.zeros((H, W), np.float32)
    for r in scene.regions:
        if r.label in ("sky", "clouds", "vegetation", "water", "person") and r.confidence >= FIND_MIN_CONFIDENCE:
            taken = np.maximum(taken, r.mask)
    sub = scene.subject()
    if sub is not None:
        taken = np.maximum(taken, sub.mask)
    det = scene.detections
    line = 0.6
    if det is not None and det.people:
        # the people's waist line: below it a table or floor, above it the wall
        line = float(np.clip(np.median([(p.box[1] + p.box[3]) / 2 for p in det.people]) / det.shape[0] + 0.1, 0.35, 0.85))
    rows = (np.arange(H, dtype=np.float32)[:, None] + 0.5) / H
    band = np.clip((line - rows) / 0.04 + 0.5, 0, 1) if side == "upper" else np.clip((rows - line) / 0.04 + 0.5, 0, 1)
    mask = (1 - taken) * band
    if float((mask > 0.5).mean()) < 0.03:
        return None
    if label is not None and _in_room(scene, mask, word) is not None:
        return None
    where = "above" if side == "upper" else "below"
    return scene.make_region(word, mask, SURFACE_CONFIDENCE, "surface",
                             note=f"took '{text}' to be the background {where} {int(100 * line)}% of the height "
                                  f"(no region is labelled {label or word}); point at it with --box if that is wrong")


def find_in_scene(scene: "Scene", text: str) -> "Region":
    """The region ``text`` names (see the module docstring)."""
    from pertouch.tools.perception import FIND_MIN_CONFIDENCE

    key = " ".join(text.strip().lower().split())
    label = lb.canonical_label(key)
    same_label = [r for r in scene.regions if r.label == label and r.confidence >= FIND_MIN_CONFIDENCE]
    for r in scene.regions:
        if r.name == key and (label is None or r.name != r.label or r.confidence >= FIND_MIN_CONFIDENCE) \
                and not (r.name == label and len(same_label) > 1):  # "vegetation" is every vegetation region
            return r
    found = named.resolve(scene, key)
    if found is not None:
        return found
    last = next((w for w in key.split() if w in SURFACES), "")  # "the wall behind them"
    if last in SURFACES:
        found = _surface(scene, last, key)
        if found is not None:
            return found
        if SURFACES[last][0] is None:
            raise NotFoundError(f"no {last} found in this photo", hint=f"here: {scene.region_list()}; {POINTING_HINT}")
    if label is None:
        return _prompted(scene, key)
    return _label(scene, label, key)
