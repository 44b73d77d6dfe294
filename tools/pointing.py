"""Pointing at a region: box and point prompts → a named region, without weights.

A user who says "make the flower more vivid" on a photo where the segmenter knows no
"flower" points at it: ``--box flower=120,40,380,300`` or ``--point flower=250,170``.

- :class:`Pointer`: a name, an optional box ``(x0, y0, x1, y1)`` and points ``(x, y)``,
  all in full-photo pixel coordinates (x right, y down; ``x1``/``y1`` exclusive, like
  :attr:`Region.bbox`). :func:`parse_box` / :func:`parse_point` read the CLI text
  (``"x0,y0,x1,y1"``, ``"name=x0,y0,x1,y1"``, ``"x,y"``, ``"name=x,y"``; default name
  ``selection``); :func:`collect_pointers` joins several ``--point`` (and one ``--box``)
  with the same name into one pointer. Coordinates are checked against the photo when
  it is known (:meth:`Pointer.check`).
- :func:`pointed_mask`: float32 ``(H, W)`` mask in [0, 1] at the photo's size. A
  segmenter that answers prompts (SAM) is asked first; otherwise OpenCV GrabCut
  (5 iterations) runs on a crop around the box (or around a window grown from the
  point's colour), at most 512 px on its long side; the connected part touching the
  points (or the box centre) is kept, small holes are filled, and the crop mask is
  brought to full resolution edge-aware (:func:`pertouch.tools.refine.refine_masks`).
  A box mask is clipped to the box.
- :func:`pointed_region`: the :class:`~pertouch.engine.schema.regions.Region` named after the
  pointer, label = name, confidence 0.9 (the user pointed), levels measured like every
  other region (:mod:`pertouch.tools.region_levels`), source ``box``/``point``
  (``+sam`` when the segmenter answered).

Errors: bad text or coordinates outside the photo → :class:`InputError`; nothing
separable → :class:`NotFoundError` (suggesting a tighter box).

>>> p = parse_box("flower=120,40,380,300")
>>> p.name, p.box, p.points
('flower', (120, 40, 380, 300), ())
>>> collect_pointers([], ["5,6", "7,8"])[0].points
((5, 6), (7, 8))
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

import cv2
import numpy as np

from pertouch.engine.schema.regions import Region
from pertouch.core.errors import InputError, NotFoundError

DEFAULT_NAME = "selection"
#: Confidence of a region the user pointed at.
CONFIDENCE = 0.9
#: Longest side of the crop GrabCut works on.
WORK_SIDE = 512
ITERATIONS = 5
BOX_SYNTAX = "expected X0,Y0,X1,Y1 or NAME=X0,Y0,X1,Y1 in photo pixels, e.g. --box flower=120,40,380,300"
POINT_SYNTAX = "expected X,Y or NAME=X,Y in photo pixels, e.g. --point flower=250,170"
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
#: Colour distance (Lab, lightness at half weight) under which a pixel is "like the point".
_SIMILAR = 18.0


@dataclass(frozen=True)
class Pointer:
    """A named box and/or points in full-photo pixels (``x1``, ``y1`` exclusive)."""

    name: str
    box: tuple[int, int, int, int] | None = None
    points: tuple[tuple[int, int], ...] = ()

    @property
    def source(self) -> str:
        return "box" if self.box is not None else "point"

    def text(self) -> str:
        """How the user gave it: ``--box flower=1,2,3,4 --point flower=5,6``."""
        parts = [f"--box {self.name}={','.join(map(str, self.box))}"] if self.box else []
        return " ".join(parts + [f"--point {self.name}={x},{y}" for x, y in self.points])

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "box": list(self.box) if self.box else None,
                "points": [list(p) for p in self.points]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Pointer":
        """A pointer from a client's JSON (``{"name", "box", "points"}``), checked like the CLI's
        ``--box``/``--point``: the name becomes a mask file name, so only :data:`_NAME` names pass."""
        try:
            name = str(data.get("name") or DEFAULT_NAME).strip().lower()
            box = data.get("box")
            box_t = tuple(int(v) for v in box) if box else None
            points = tuple((int(x), int(y)) for x, y in data.get("points") or ())
        except (TypeError, ValueError, AttributeError):
            raise InputError(f"pointer {data!r}: give name, box [x0, y0, x1, y1] and/or points [[x, y], …] "
                             "in whole pixels") from None
        if not _NAME.match(name) or name == "global":
            raise InputError(f"pointer name {name[:60]!r} is not allowed", hint="a name starts with a letter and "
                             "has letters, digits, _ or - (up to 40), e.g. flower")
        if box_t is not None and len(box_t) != 4 or box_t is None and not points:
            raise InputError(f"pointer {name!r}: give a box [x0, y0, x1, y1] or at least one point [x, y]")
        return cls(name, box_t, points)  # type: ignore[arg-type]

    def check(self, width: int, height: int) -> None:
        """Raise :class:`InputError` when the box or a point lies outside a ``width``×``height`` photo."""
        where = f"the photo is {width}×{height} px (x 0–{width - 1}, y 0–{height - 1})"
        if self.box is not None:
            x0, y0, x1, y1 = self.box
            if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
                raise InputError(f"--box {self.name}={x0},{y0},{x1},{y1} is outside the photo: {where}",
                                 hint="X1 and Y1 may be at most the width and the height")
        for x, y in self.points:
            if not (0 <= x < width and 0 <= y < height):
                raise InputError(f"--point {self.name}={x},{y} is outside the photo: {where}")


# --- parsing -------------------------------------------------------------------------

def _split(raw: str, option: str, syntax: str, count: int) -> tuple[str, list[int]]:
    text = raw.strip()
    name, sep, coords = text.rpartition("=")
    name = name.strip().lower() if sep else DEFAULT_NAME
    if sep and not _NAME.match(name):
        raise InputError(f"{option} {raw!r}: bad name {name!r}", hint="a name starts with a letter and has letters, "
                         "digits, _ or - (up to 40), e.g. flower")
    if name == "global":
        raise InputError(f"{option} {raw!r}: 'global' means the whole photo",
                         hint="name the pointed region, e.g. flower")
    parts = [p.strip() for p in coords.split(",")]
    if len(parts) != count:
        raise InputError(f"{option} {raw!r}: {syntax}")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise InputError(f"{option} {raw!r}: {syntax}") from None
    if not all(np.isfinite(values)):
        raise InputError(f"{option} {raw!r}: {syntax}")
    return name, [int(round(v)) for v in values]


def parse_box(text: str) -> Pointer:
    """``"x0,y0,x1,y1"`` or ``"name=x0,y0,x1,y1"`` → :class:`Pointer` (InputError when malformed)."""
    name, (x0, y0, x1, y1) = _split(text, "--box", BOX_SYNTAX, 4)
    if x1 <= x0 or y1 <= y0:
        raise InputError(f"--box {text!r}: X1 must be greater than X0 and Y1 greater than Y0", hint=BOX_SYNTAX)
    return Pointer(name, (x0, y0, x1, y1))


def parse_point(text: str) -> Pointer:
    """``"x,y"`` or ``"name=x,y"`` → :class:`Pointer` (InputError when malformed)."""
    name, (x, y) = _split(text, "--point", POINT_SYNTAX, 2)
    return Pointer(name, None, ((x, y),))


def collect_pointers(boxes: Sequence[str], points: Sequence[str]) -> list[Pointer]:
    """Parse ``--box`` and ``--point`` values; the same name joins one pointer (one box each)."""
    joined: dict[str, Pointer] = {}
    for p in [parse_box(b) for b in boxes] + [parse_point(q) for q in points]:
        old = joined.get(p.name)
        if old is None:
            joined[p.name] = p
            continue
        if old.box is not None and p.box is not None:
            raise InputError(f"--box {p.name}=… is given twice", hint="one box per name: name the other one "
                             "differently, e.g. --box flower_2=…")
        joined[p.name] = Pointer(p.name, old.box or p.box, old.points + p.points)
    return list(joined.values())


def check_names(pointers: Sequence[Pointer], taken: Sequence[str]) -> None:
    """InputError when a pointer is named like one of the photo's regions (``taken``)."""
    for p in pointers:
        if p.name in taken:
            raise InputError(f"{p.text()}: the photo already has a region named {p.name!r}",
                             hint=f"give the pointed region another name, e.g. {p.name}_2 or my_{p.name}")


# --- masks ---------------------------------------------------------------------------

def _as_uint8(rgb: np.ndarray) -> np.ndarray:
    a = np.asarray(rgb)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    a = a[..., :3]
    if a.dtype == np.uint16:
        a = (a >> 8).astype(np.uint8)
    elif a.dtype != np.uint8:
        a = (np.clip(np.nan_to_num(a.astype(np.float32)), 0, 1) * 255 + 0.5).astype(np.uint8)
    return np.ascontiguousarray(a)


def _lab(rgb8: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(cv2.GaussianBlur(rgb8, (3, 3), 0).astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    lab[..., 0] *= 0.5  # shading changes lightness more than colour
    return lab


def _window(rgb8: np.ndarray, points: tuple[tuple[int, int], ...]) -> tuple[int, int, int, int]:
    """A probable-foreground box around the points, sized by how far their colour reaches.

    Rings of growing radius around the first point: the window ends at the first ring
    where fewer than 40 % of the pixels look like the point (a box of 1/4 of the image
    side when the colour never ends). Other points widen it."""
    h, w = rgb8.shape[:2]
    side = max(h, w)
    lab = _lab(rgb8)
    x, y = points[0]
    r_seed = max(2, side // 100)
    ys, xs = np.ogrid[:h, :w]
    d2 = (xs - x) ** 2 + (ys - y) ** 2
    seed = np.median(lab[d2 <= r_seed * r_seed], axis=0)
    like = np.linalg.norm(lab - seed, axis=2) < _SIMILAR
    half = None
    r_in, r = r_seed, max(r_seed * 2, side // 64)
    while r < side // 2:
        ring = (d2 > r_in * r_in) & (d2 <= r * r)
        if ring.any() and like[ring].mean() < 0.4:
            half = int(r * 1.2) + 2
            break
        r_in, r = r, int(r * 1.25) + 1
    if half is None:
        half = side // 8
    half = int(np.clip(half, max(4, side // 32), side // 2))
    px = [p[0] for p in points]
    py = [p[1] for p in points]
    return (max(0, min(px) - half), max(0, min(py) - half), min(w, max(px) + half + 1), min(h, max(py) + half + 1))


def _crop_around(box: tuple[int, int, int, int], shape: tuple[int, ...], margin: float) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    h, w = shape[:2]
    mx = max(4, int((x1 - x0) * margin))
    my = max(4, int((y1 - y0) * margin))
    return max(0, x0 - mx), max(0, y0 - my), min(w, x1 + mx), min(h, y1 + my)


def _keep_touching(fg: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """The connected parts of ``fg`` that touch ``seeds`` (else the largest), small holes filled."""
    n, lab, stats, _ = cv2.connectedComponentsWithStats(fg.astype(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros_like(fg, bool)
    ids = [i for i in np.unique(lab[seeds & fg]) if i]
    if not ids:
        ids = [1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))]
    keep = np.isin(lab, ids)
    # holes (background parts not touching the crop border) under a fifth of the kept area
    nb, blab, bstats, _ = cv2.connectedComponentsWithStats((~keep).astype(np.uint8), connectivity=4)
    border = set(np.unique(np.concatenate([blab[0], blab[-1], blab[:, 0], blab[:, -1]])))
    limit = keep.sum() / 5
    holes = [i for i in range(1, nb) if i not in border and bstats[i, cv2.CC_STAT_AREA] < limit]
    return keep | np.isin(blab, holes) if holes else keep


def _grabcut(rgb8: np.ndarray, pointer: Pointer) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
    """GrabCut on a crop; returns the crop's binary mask at working size and the crop (full pixels)."""
    H, W = rgb8.shape[:2]
    if pointer.box is not None:
        crop = _crop_around(pointer.box, rgb8.shape, 0.2)
    else:
        s = min(1.0, WORK_SIDE / max(H, W))
        small = cv2.resize(rgb8, (max(1, round(W * s)), max(1, round(H * s))), interpolation=cv2.INTER_AREA) \
            if s < 1 else rgb8
        pts = tuple((min(small.shape[1] - 1, int(x * s)), min(small.shape[0] - 1, int(y * s)))
                    for x, y in pointer.points)
        wx0, wy0, wx1, wy1 = _window(small, pts)
        window = (int(wx0 / s), int(wy0 / s), min(W, int(np.ceil(wx1 / s))), min(H, int(np.ceil(wy1 / s))))
        crop = _crop_around(window, rgb8.shape, 0.35)
    cx0, cy0, cx1, cy1 = crop
    cw, ch = cx1 - cx0, cy1 - cy0
    s = min(1.0, WORK_SIDE / max(cw, ch))
    ww, wh = max(1, round(cw * s)), max(1, round(ch * s))
    if min(ww, wh) < 8:
        return None
    work = cv2.resize(rgb8[cy0:cy1, cx0:cx1], (ww, wh), interpolation=cv2.INTER_AREA) if s < 1 \
        else np.ascontiguousarray(rgb8[cy0:cy1, cx0:cx1])

    def to_work(x: float, y: float) -> tuple[int, int]:
        return (int(np.clip(round((x - cx0) * s), 0, ww - 1)), int(np.clip(round((y - cy0) * s), 0, wh - 1)))

    seeds = np.zeros((wh, ww), np.uint8)
    r_seed = max(2, max(ww, wh) // 100)
    for x, y in pointer.points:
        cv2.circle(seeds, to_work(x, y), r_seed, 1, -1)
    if pointer.box is not None:
        (bx0, by0), (bx1, by1) = to_work(*pointer.box[:2]), to_work(pointer.box[2] - 1, pointer.box[3] - 1)
        bx0, by0 = max(bx0, 1), max(by0, 1)  # at least one background pixel on every side
        bx1, by1 = min(bx1, ww - 2), min(by1, wh - 2)
        if bx1 - bx0 < 3 or by1 - by0 < 3:
            return None
        centre = np.zeros_like(seeds)
        cv2.circle(centre, ((bx0 + bx1) // 2, (by0 + by1) // 2), max(2, min(bx1 - bx0, by1 - by0) // 30), 1, -1)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    if pointer.box is not None and not pointer.points:
        mask = np.zeros((wh, ww), np.uint8)
        mask, _, _ = cv2.grabCut(work, mask, (bx0, by0, bx1 - bx0 + 1, by1 - by0 + 1), bgd, fgd, ITERATIONS,
                                 cv2.GC_INIT_WITH_RECT)
        keep_at = centre.astype(bool)
    else:
        mask = np.full((wh, ww), cv2.GC_PR_BGD, np.uint8)
        if pointer.box is not None:
            mask[:] = cv2.GC_BGD
            mask[by0:by1 + 1, bx0:bx1 + 1] = cv2.GC_PR_FGD
        else:
            wx0, wy0 = to_work(*window[:2])
            wx1, wy1 = to_work(window[2] - 1, window[3] - 1)
            mask[wy0:wy1 + 1, wx0:wx1 + 1] = cv2.GC_PR_FGD
            mask[[0, -1], :] = cv2.GC_BGD  # the crop's border is background
            mask[:, [0, -1]] = cv2.GC_BGD
        mask[seeds.astype(bool)] = cv2.GC_FGD
        mask, _, _ = cv2.grabCut(work, mask, None, bgd, fgd, ITERATIONS, cv2.GC_INIT_WITH_MASK)
        keep_at = seeds.astype(bool)
    fg = (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)
    fg = cv2.morphologyEx(fg.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool) | \
        (seeds.astype(bool) & fg)
    return _keep_touching(fg, keep_at), crop


def _get_segmenter(segmenter: Any) -> Any:
    if segmenter is None:
        return None
    from pertouch.tools.segmentation import get_segmenter

    return get_segmenter(segmenter)


def _prompted(rgb8: np.ndarray, pointer: Pointer, seg: Any) -> np.ndarray | None:
    """The segmenter's answer to the prompt at full size, or None (no answer / empty)."""
    H, W = rgb8.shape[:2]
    s = min(1.0, seg.proxy_side / max(H, W))
    proxy = cv2.resize(rgb8, (max(1, round(W * s)), max(1, round(H * s))), interpolation=cv2.INTER_AREA) \
        if s < 1 else rgb8
    boxes = [tuple(int(round(v * s)) for v in pointer.box)] if pointer.box else None
    points = [(int(x * s), int(y * s)) for x, y in pointer.points] or None
    m = seg.prompt(proxy, points=points, boxes=boxes)
    if m is None or (np.asarray(m) > 0.5).mean() == 0:
        return None
    from pertouch.tools.refine import refine_masks

    m = np.asarray(m, np.float32)
    if m.shape != proxy.shape[:2]:
        m = cv2.resize(m, (proxy.shape[1], proxy.shape[0]), interpolation=cv2.INTER_LINEAR)
    return refine_masks([m], rgb8, radius=max(2, round(max(m.shape) / 96)))[0]


def _pointed(rgb: np.ndarray, pointer: Pointer, segmenter: Any) -> tuple[np.ndarray, str]:
    rgb8 = _as_uint8(rgb)
    H, W = rgb8.shape[:2]
    pointer.check(W, H)
    source = pointer.source
    seg = _get_segmenter(segmenter)
    full = _prompted(rgb8, pointer, seg) if seg is not None else None
    if full is not None:
        source += "+sam"
    else:
        from pertouch.tools.refine import refine_masks

        full = np.zeros((H, W), np.float32)
        cut = _grabcut(rgb8, pointer)
        if cut is not None and cut[0].any():
            m, (cx0, cy0, cx1, cy1) = cut
            radius = max(2, round(max(m.shape) / 96))
            full[cy0:cy1, cx0:cx1] = refine_masks([m.astype(np.float32)], rgb8[cy0:cy1, cx0:cx1], radius=radius)[0]
    if pointer.box is not None:
        x0, y0, x1, y1 = pointer.box
        inside = np.zeros_like(full)
        inside[y0:y1, x0:x1] = 1.0
        full *= inside
    if not (full > 0.5).any():
        raise NotFoundError(f"the pointed area ({pointer.text()}) could not be separated from its surroundings",
                            hint="draw a tighter box around the thing, or add --point on it")
    return np.clip(full, 0.0, 1.0).astype(np.float32), source


def pointed_mask(rgb: np.ndarray, pointer: Pointer, segmenter: Any = None) -> np.ndarray:
    """Float32 ``(H, W)`` mask in [0, 1] of what ``pointer`` points at in ``rgb`` (H, W, 3).

    ``segmenter``: a spec or :class:`Segmenter`; one whose ``prompt`` answers (SAM) is
    used, otherwise GrabCut. InputError outside the photo, NotFoundError when empty.
    """
    return _pointed(rgb, pointer, segmenter)[0]


def pointed_region(rgb: np.ndarray, pointer: Pointer, segmenter: Any = None) -> Region:
    """The :class:`Region` named ``pointer.name`` (label = name, confidence 0.9, levels measured)."""
    from pertouch.tools.region_levels import measure_regions

    mask, source = _pointed(rgb, pointer, segmenter)
    levels, _ = measure_regions(rgb, {pointer.name: mask})
    return Region(pointer.name, mask, label=pointer.name, confidence=CONFIDENCE, levels=levels[pointer.name],
                  source=source)
