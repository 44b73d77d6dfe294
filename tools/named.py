"""Regions people name that are not object classes.

- **subject / foreground / background** — the subject is the people when the photo has
  any, else the main subject (:mod:`pertouch.tools.subject`); the background is its
  soft complement.
- **instances by position** — "the man on the left", "the woman in the middle", "the
  person on the right", "the two people in front", "the largest face", "everyone",
  "both faces": people and faces are instances (:attr:`Scene.people`, :attr:`Scene.faces`).
- **spatial parts** — "top/bottom/left/right half", "the corners", "the edges"
  (a vignette), "the centre".
- **complements** — "everything except the sky", "all but the people".

:func:`parse` reads a phrase into a :class:`Phrase`; :func:`resolve` turns it into a
full-resolution :class:`~pertouch.engine.schema.regions.Region` on a scene, or returns None
when the phrase is none of these (the caller then tries class labels). A phrase that
is one of these but cannot be found raises :class:`~pertouch.core.errors.NotFoundError`
saying what the photo has instead.

>>> parse("the man on the left")
Phrase(kind='instance', label='person', position='left', count=None, spatial=None, exclude=None)
>>> parse("top half").spatial
'top half'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from pertouch.core.errors import NotFoundError

if TYPE_CHECKING:
    from pertouch.engine.schema.regions import Region

SUBJECT_WORDS = ("main subject", "subject", "foreground", "main object", "what's in focus", "in focus")
BACKGROUND_WORDS = ("background", "backdrop", "surroundings", "backgrounds")
PERSON_WORDS = ("people", "person", "persons", "man", "men", "woman", "women", "guy", "guys", "girl", "girls", "boy",
                "boys", "child", "children", "kid", "kids", "player", "players", "lady", "ladies", "everyone",
                "everybody", "them", "him", "her", "figure", "figures", "couple", "human", "humans")
FACE_WORDS = ("face", "faces")
POSITIONS = {
    "left": "left", "leftmost": "left", "right": "right", "rightmost": "right",
    "middle": "middle", "centre": "middle", "center": "middle", "central": "middle",
    "front": "front", "foreground": "front", "nearest": "front", "closest": "front",
    "back": "back", "behind": "back", "farthest": "back", "furthest": "back",
    "largest": "largest", "biggest": "largest", "tallest": "largest", "main": "largest",
    "smallest": "smallest",
}
COUNTS = {"two": 2, "both": 0, "three": 3, "four": 4, "2": 2, "3": 3, "4": 4, "all": 0, "every": 0, "everyone": 0,
          "everybody": 0, "each": 0}
SPATIAL = {
    "top half": "top half", "upper half": "top half", "top part": "top half", "upper part": "top half",
    "bottom half": "bottom half", "lower half": "bottom half", "bottom part": "bottom half", "lower part": "bottom half",
    "left half": "left half", "left side": "left half", "right half": "right half", "right side": "right half",
    "corners": "corners", "corner": "corners", "edges": "edges", "border": "edges", "borders": "edges",
    "vignette": "corners", "centre of the photo": "centre", "center of the photo": "centre",
    "centre of the image": "centre", "center of the image": "centre",
}
EXCEPT = re.compile(r"\b(?:except(?: for)?|but not|other than|apart from|all but|everything but|excluding)\b")
#: Confidence of a spatial part (it is exactly what was asked).
SPATIAL_CONFIDENCE = 0.95


@dataclass
class Phrase:
    """A region phrase, read. ``kind``: subject, background, instance, spatial or except."""

    kind: str
    label: str | None = None
    position: str | None = None
    count: int | None = None  # 0 = all of them
    spatial: str | None = None
    exclude: str | None = None


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("’", "'"))


def parse(text: str) -> Phrase | None:
    """Read ``text`` as one of the phrases this module resolves, or None."""
    t = " ".join(_words(text))
    m = EXCEPT.search(t)
    if m:
        rest = t[m.end():].strip()
        rest = re.sub(r"^(the|a|an)\s+", "", rest)
        if rest:
            return Phrase("except", exclude=rest)
    if t in ("rest", "the rest", "everything else", "the rest of the photo", "the rest of the image"):
        return Phrase("except", exclude=None)
    for phrase, name in sorted(SPATIAL.items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"\b{phrase}\b", t):
            return Phrase("spatial", spatial=name)
    words = _words(t)
    label = "face" if any(w in FACE_WORDS for w in words) else ("person" if any(w in PERSON_WORDS for w in words)
                                                               else None)
    if label is not None and _other_thing_first(words):
        return None  # "the wall behind them" is a wall, "the table in front of them" a table
    pos = next((POSITIONS[w] for w in words if w in POSITIONS), None)
    count = next((COUNTS[w] for w in words if w in COUNTS), None)
    if label is None:
        if any(re.search(rf"\b{w}\b", t) for w in BACKGROUND_WORDS):
            return Phrase("background")
        if any(re.search(rf"\b{re.escape(w)}\b", t) for w in SUBJECT_WORDS):
            return Phrase("subject")
        if t in ("top", "bottom", "left", "right", "centre", "center", "middle"):
            return Phrase("spatial", spatial={"top": "top half", "bottom": "bottom half", "left": "left half",
                                              "right": "right half"}.get(t, "centre"))
        return None
    if pos is None and count in (None, 0):
        return None if count is None else Phrase("instance", label=label, count=0)
    return Phrase("instance", label=label, position=pos, count=count)


def _other_thing_first(words: list[str]) -> bool:
    """Does a thing that is not a person or a face come before the first person/face word?"""
    from pertouch.tools.labels import canonical_label

    for w in words:
        if w in PERSON_WORDS or w in FACE_WORDS:
            return False
        if w not in POSITIONS and w not in COUNTS and w not in ("the", "a", "an") and canonical_label(w) not in (None, "person", "face"):
            return True
        if w in ("wall", "walls", "floor", "table", "ceiling", "desk"):
            return True
    return False


# --- spatial masks ------------------------------------------------------------------

def spatial_mask(name: str, shape: tuple[int, int]) -> np.ndarray:
    """Soft float32 ``(h, w)`` mask of a spatial part; borders feathered over ~4 % of the short side."""
    h, w = shape
    yy = (np.arange(h, dtype=np.float32)[:, None] + 0.5) / h
    xx = (np.arange(w, dtype=np.float32)[None, :] + 0.5) / w
    f = 0.04 * min(h, w) / max(h, w) * 2

    def ramp(x: np.ndarray) -> np.ndarray:
        return np.clip(0.5 + x / f, 0, 1)

    if name == "top half":
        m = ramp(0.5 - yy) * np.ones_like(xx)
    elif name == "bottom half":
        m = ramp(yy - 0.5) * np.ones_like(xx)
    elif name == "left half":
        m = ramp(0.5 - xx) * np.ones_like(yy)
    elif name == "right half":
        m = ramp(xx - 0.5) * np.ones_like(yy)
    else:
        # normalised distance from the centre (1 at the corners): corners/edges are a vignette
        r = np.sqrt(((xx - 0.5) * 2) ** 2 + ((yy - 0.5) * 2) ** 2) / np.sqrt(2)
        if name == "corners":
            m = np.clip((r - 0.55) / 0.35, 0, 1)
        elif name == "edges":
            d = np.minimum(np.minimum(xx, 1 - xx) * w, np.minimum(yy, 1 - yy) * h) / min(h, w)
            m = np.clip((0.18 - d) / 0.1, 0, 1)
        else:  # centre
            m = np.clip((0.75 - r) / 0.35, 0, 1)
    return np.ascontiguousarray(m, dtype=np.float32)


# --- instances ------------------------------------------------------------------------

def _centre(r: "Region") -> tuple[float, float, float]:
    m = r.mask
    ys, xs = np.nonzero(m > 0.5)
    if xs.size == 0:
        return 0.5, 0.5, 0.0
    h, w = m.shape
    return float(xs.mean() / w), float(ys.max() / h), float(xs.size / (h * w))


def pick(instances: list["Region"], position: str | None, count: int | None) -> list["Region"]:
    """The instances a position/count selects (``count`` 0: all)."""
    if not instances:
        return []
    if count == 0 and position is None:
        return list(instances)
    k = count or 1
    info = {id(r): _centre(r) for r in instances}
    if position == "left":
        order = sorted(instances, key=lambda r: info[id(r)][0])
    elif position == "right":
        order = sorted(instances, key=lambda r: -info[id(r)][0])
    elif position == "middle":
        xs = sorted(info[id(r)][0] for r in instances)
        mid = xs[len(xs) // 2] if len(xs) % 2 else 0.5
        order = sorted(instances, key=lambda r: abs(info[id(r)][0] - mid))
    elif position == "front":  # nearer: lower in the frame and larger
        order = sorted(instances, key=lambda r: -(info[id(r)][1] + 2 * np.sqrt(info[id(r)][2])))
    elif position == "back":
        order = sorted(instances, key=lambda r: info[id(r)][1] + 2 * np.sqrt(info[id(r)][2]))
    elif position == "smallest":
        order = sorted(instances, key=lambda r: info[id(r)][2])
    else:  # largest, or a bare count ("the two people")
        order = sorted(instances, key=lambda r: -info[id(r)][2])
    return order[: (len(instances) if count == 0 else k)]


def _describe(instances: list["Region"], label: str) -> str:
    if not instances:
        return f"no {label}"
    where = ", ".join(f"{r.name} at {int(100 * _centre(r)[0])}% from the left" for r in instances)
    return f"{len(instances)} {plural(label) if len(instances) != 1 else label}: {where}"


def plural(label: str) -> str:
    return {"person": "people"}.get(label, label + "s")


# --- resolving ------------------------------------------------------------------------------

def phrase_name(p: Phrase) -> str:
    """The region name used for a phrase in recipes and answers."""
    if p.kind == "instance":
        noun = {"person": "people", "face": "faces"}[p.label or "person"] if (p.count or 0) != 1 and p.count is not None \
            else (p.label or "person")
        if p.count and p.count > 1:
            return f"{p.position or 'largest'} {p.count} {noun}"
        return f"{p.position} {p.label}" if p.position else f"all {noun}"
    if p.kind == "spatial":
        return p.spatial or "part"
    if p.kind == "except":
        return f"everything except {p.exclude}" if p.exclude else "the rest"
    return p.kind


def resolve(scene: Any, text: str) -> "Region | None":
    """The region ``text`` names on ``scene`` (a :class:`~pertouch.tools.perception.Scene`),
    None when ``text`` is not a phrase this module knows."""
    p = parse(text)
    if p is None:
        return None
    name = phrase_name(p)
    if p.kind == "spatial":
        shape = scene.mask_shape
        return scene.make_region(name, spatial_mask(p.spatial, shape), SPATIAL_CONFIDENCE, "spatial",
                                 note=f"took {text.strip()!r} as the {name} of the frame")
    if p.kind in ("subject", "background"):
        sub = scene.subject()
        if sub is None:
            raise NotFoundError(f"no clear {p.kind} in this photo (no people, and no main subject stands out)",
                                hint="point at the subject with --box x0,y0,x1,y1 or --point x,y; regions here: "
                                     + scene.region_list())
        if p.kind == "subject":
            return sub
        return scene.make_region("background", 1.0 - sub.mask, sub.confidence, "complement of the subject",
                                 note="the background: everything but "
                                      + (sub.note.removeprefix("the subject is ").removeprefix("the subject: ") or "the subject"))
    if p.kind == "except":
        if p.exclude is None:
            raise NotFoundError("'the rest' needs the part it is the rest of",
                                hint="say 'everything except the sky' (or name the region)")
        other = scene.find(p.exclude)
        return scene.make_region(name, 1.0 - other.mask, other.confidence, f"complement of {other.name}",
                                 note=f"{name}: the photo minus the {other.name} region")
    inst = scene.instances(p.label)
    chosen = pick(inst, p.position, p.count)
    if not chosen:
        raise NotFoundError(f"no {p.label} found in this photo",
                            hint="regions here: " + scene.region_list())
    if p.count and p.count > len(inst):
        raise NotFoundError(f"asked for {p.count} {plural(p.label)} but this photo has {_describe(inst, p.label)}",
                            hint="name fewer, or say 'everyone'")
    if p.position in ("middle",) and len(inst) == 2:
        raise NotFoundError(f"there is no {p.label} in the middle: this photo has {_describe(inst, p.label)}",
                            hint=f"say 'the {p.label} on the left' or 'on the right'")
    if len(chosen) == 1 and len(inst) > 1 or len(chosen) < len(inst):
        note = f"{name}: {', '.join(r.name for r in chosen)} of {_describe(inst, p.label)}"
    else:
        note = f"{name}: {_describe(inst, p.label)}"
    mask = np.maximum.reduce([r.mask for r in chosen]) if len(chosen) > 1 else chosen[0].mask
    conf = float(min(r.confidence for r in chosen))
    if len(inst) == 1 and p.position is not None:
        note += f" (the only {p.label}, so '{text.strip()}' is that one)"
    return scene.make_region(name, mask, conf, "instances", note=note)

