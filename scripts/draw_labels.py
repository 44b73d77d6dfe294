"""Draw a hand-labelled case's polygons over its photo, to check the labels by eye.

    python scripts/draw_labels.py CASE [--out labels.png] [--only person,face] [--crop X0,Y0,X1,Y1]
                                       [--zoom 2] [--grid 50]

CASE is a file name in evals/data/seg/ (without .json) or a path to a case JSON.
Writes a PNG (default /tmp/labels/CASE.png): each kind a translucent colour with its
outline, each person and face instance outlined and numbered, ignore hatched grey,
the derived background not drawn. ``--crop`` (photo pixels) and ``--zoom`` look closer;
``--grid`` draws a labelled grid every N photo pixels for reading coordinates.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

#: RGB per kind.
COLOURS = {"person": (255, 40, 40), "face": (255, 220, 0), "sky": (60, 140, 255), "vegetation": (40, 200, 60),
           "building": (170, 90, 255), "wall": (255, 120, 220), "ground": (150, 100, 40), "floor": (255, 150, 60),
           "road": (90, 90, 90), "water": (0, 220, 220), "snow": (255, 255, 255), "subject": (255, 0, 255)}


def load_case(name: str):
    from pertouch.evals.segmentation import Case

    path = Path(name)
    if not path.suffix:
        from importlib import resources

        path = Path(str(resources.files("pertouch.evals").joinpath("data", "seg", name + ".json")))
    d = json.loads(path.read_text())
    return Case(path.stem, d["photo"], tuple(d["size"]), d.get("regions", {}), d.get("ignore", []), d.get("note", ""),
                d.get("split", "tune"), d.get("instances", {}), bool(d.get("portrait", False)))


def draw(case, only: set[str] | None = None, crop: tuple[int, int, int, int] | None = None, zoom: float = 1.0,
         grid: int = 0):
    """RGB uint8 overlay of ``case``'s labels."""
    import cv2
    import numpy as np

    from pertouch.evals.photos import load_photo
    from pertouch.evals.segmentation import instance_masks, labelled, rasterise

    img = load_photo(case.photo).astype(np.float32)
    if (img.shape[1], img.shape[0]) != tuple(case.size):
        raise SystemExit(f"{case.name}: photo is {img.shape[1]}x{img.shape[0]}, case says {case.size}")
    out = img.copy()
    masks = labelled(case)
    show = [k for k in COLOURS if k in masks and (not only or k in only)]
    for k in show:
        m = masks[k] & ~masks["face"] if k == "person" and "face" in masks and (not only or "face" in only) else masks[k]
        out[m] = 0.55 * out[m] + 0.45 * np.array(COLOURS[k], np.float32)
    ign = rasterise(case.ignore, case.size)
    hatch = ((np.add.outer(np.arange(ign.shape[0]), np.arange(ign.shape[1])) // 4) % 2).astype(bool)
    out[ign & hatch] = 128
    x0, y0, x1, y1 = crop or (0, 0, case.size[0], case.size[1])
    out = out[y0:y1, x0:x1]
    out = cv2.resize(out, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_NEAREST if zoom >= 2 else cv2.INTER_AREA)
    out = np.clip(out, 0, 255).astype(np.uint8)

    def contours(m):
        sub = np.ascontiguousarray(m[y0:y1, x0:x1].astype(np.uint8))
        sub = cv2.resize(sub, (out.shape[1], out.shape[0]), interpolation=cv2.INTER_NEAREST)
        return cv2.findContours(sub, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)[0]

    for k in show:
        cv2.drawContours(out, contours(masks[k]), -1, COLOURS[k], 1)
    for kind in ("person", "face"):
        if only and kind not in only:
            continue
        for i, m in enumerate(instance_masks(case, kind), 1):
            cs = contours(m)
            if not cs:
                continue
            cv2.drawContours(out, cs, -1, (0, 0, 0) if kind == "face" else (255, 255, 255), 1)
            x, y, w, h = cv2.boundingRect(np.concatenate(cs))
            at = (x + 2, y + 14) if kind == "person" else (x + w - 12, y + h - 3)
            cv2.putText(out, f"{kind[0]}{i}", at, cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 3)
            cv2.putText(out, f"{kind[0]}{i}", at, cv2.FONT_HERSHEY_SIMPLEX, 0.45, COLOURS[kind], 1)
    if grid:
        for gx in range((x0 // grid + 1) * grid, x1, grid):
            px = round((gx - x0) * zoom)
            out[:, px] = out[:, px] // 2 + 100
            cv2.putText(out, str(gx), (px + 2, 12), cv2.FONT_HERSHEY_PLAIN, 0.9, (255, 255, 0), 1)
        for gy in range((y0 // grid + 1) * grid, y1, grid):
            py = round((gy - y0) * zoom)
            out[py, :] = out[py, :] // 2 + 100
            cv2.putText(out, str(gy), (2, py - 2), cv2.FONT_HERSHEY_PLAIN, 0.9, (255, 255, 0), 1)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case", help="case name in evals/data/seg/ or a path to a case JSON")
    ap.add_argument("--out", help="PNG to write (default /tmp/labels/CASE.png)")
    ap.add_argument("--only", help="comma-separated kinds to draw (default all)")
    ap.add_argument("--crop", help="X0,Y0,X1,Y1 in photo pixels")
    ap.add_argument("--zoom", type=float, default=1.0)
    ap.add_argument("--grid", type=int, default=0, help="grid spacing in photo pixels (0: none)")
    args = ap.parse_args(argv)
    from PIL import Image

    case = load_case(args.case)
    crop = tuple(int(v) for v in args.crop.split(",")) if args.crop else None
    rgb = draw(case, set(args.only.split(",")) if args.only else None, crop, args.zoom, args.grid)
    out = Path(args.out or f"/tmp/labels/{case.name}.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(out)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
