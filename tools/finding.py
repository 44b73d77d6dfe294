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

from pertouch.errors import NotFoundError
from pertouch.tools import labels as lb
from pertouch.tools import named

if TYPE_CHECKING:
    from pertouch.engine.regions import Region
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
        return scene.make_region("subject", det.people_union(), max(p.score for p in det.people), "people",
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
PLACED_MIN_CONFIDENCE = 0.02


def _placed_like(r: "Region", label: str) -> bool:
    """Does an unsure ``building``/``ground`` region lie where one would? A building fills
    part of the upper frame and reaches its top or a side; ground reaches the bottom and
    lies mostly in the lower half. Both cover at least 5 % of the frame."""
    if label not in PLACED_LABELS or r.confidence < PLACED_MIN_CONFIDENCE or r.area_fraction < 0.05:
        return False
    m = r.mask > 0.5
    h, w = m.shape
    ys = np.nonzero(m)[0]
    cy = float(ys.mean()) / h
    if label == "building":
        return cy < 0.55 and bool(m[: max(1, h // 50)].mean() > 0.2 or m[:, :2].mean() > 0.3 or m[:, -2:].mean() > 0.3)
    return cy > 0.55 and bool(m[-max(1, h // 50):].mean() > 0.3)


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
    seg = get_segmenter(scene.segmenter)
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


def _surface(scene: "Scene", word: str, text: str) -> "Region | None":
    """A wall/floor/table the segmentation has no label for: the part of the photo that is
    neither people nor a confidently labelled sky, vegetation or water, above (wall,
    ceiling) or below (floor, table) the line where the people meet the ground — or the
    middle of the frame when nothing says where that is. None when that part is tiny."""
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
    where = "above" if side == "upper" else "below"
    return scene.make_region(word, mask, SURFACE_CONFIDENCE, "surface",
                             note=f"took '{text}' to be the background {where} {int(100 * line)}% of the height "
                                  f"(no region is labelled {label or word}); point at it with --box if that is wrong")


def find_in_scene(scene: "Scene", text: str) -> "Region":
    """The region ``text`` names (see the module docstring)."""
    from pertouch.tools.perception import FIND_MIN_CONFIDENCE

    key = " ".join(text.strip().lower().split())
    label = lb.canonical_label(key)
    for r in scene.regions:
        if r.name == key and (label is None or r.name != r.label or r.confidence >= FIND_MIN_CONFIDENCE):
            return r
    found = named.resolve(scene, key)
    if found is not None:
        return found
    last = key.split()[-1] if key else ""
    if last in SURFACES:
        found = _surface(scene, last, key)
        if found is not None:
            return found
        if SURFACES[last][0] is None:
            raise NotFoundError(f"no {last} found in this photo", hint=f"here: {scene.region_list()}; {POINTING_HINT}")
    if label is None:
        return _prompted(scene, key)
    return _label(scene, label, key)
