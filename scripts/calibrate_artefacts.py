"""Reproduce the artefact gate's calibration table (``engine/data/artefact_calibration.json``).

Each case is a tuning photo (:func:`pertouch.evals.photos.load_photo`), the instruction it
came from and the recipe the agent planned for it (stored, so planner changes do not move
the table), and how the render LOOKED (right/wrong, judged by eye on PNGs zoomed where
edges and region borders meet; ``looks.before``: the engine before the artefact work,
``looks.after``: the engine now). For every case this renders the recipe at the working
resolution through the graph's runtime (the builtin segmenter's regions, found regions
included), measures the gate on the exact pixels and on JPEG previews (q95, as the
critique sees them), writes ``<out>/<case>.png`` (before | after) and prints the table.

Run: ``python scripts/calibrate_artefacts.py [--out /tmp/artefacts/calibration] [--only chelsea]
[--write LABEL]``. ``--write`` stores the measured values under ``runs[LABEL]`` in the JSON
(the run for the old engine was made the same way with ``PYTHONPATH`` pointing at a
checkout of the commit before the artefact work, with this script's ``engine/measure/artefacts.py``
copied in). A region a stored recipe names that the segmenter no longer finds is left out
(listed in the row's ``missing``).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np

TABLE = Path(__file__).resolve().parents[1] / "engine" / "data" / "artefact_calibration.json"
PHOTOS = {"chelsea": "skimage:chelsea", "coffee": "skimage:coffee", "astronaut": "skimage:astronaut",
          "rocket": "skimage:rocket", "china": "sklearn:china.jpg", "flower": "sklearn:flower.jpg",
          "zidane": "wheel:ultralytics==8.4.190:ultralytics/assets/zidane.jpg",
          "bus": "wheel:ultralytics==8.4.190:ultralytics/assets/bus.jpg",
          "t1": "wheel:insightface==2.1:insightface/data/images/t1.jpg"}
SKIN = ("astronaut", "zidane", "t1", "bus")  # photos with people: skin hue measured


def jpeg(px: np.ndarray) -> np.ndarray:
    """``px`` through a q95 4:4:4 JPEG, as the critique's previews are written."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(px).save(buf, format="JPEG", quality=95, subsampling=0)
    return np.asarray(Image.open(buf).convert("RGB"))


def measure_case(case: dict, folder: Path, out: Path) -> dict:
    import cv2

    from pertouch.engine.measure.artefacts import measure_artefacts
    from pertouch.evals.photos import load_photo
    from pertouch.graph import runtime as rt

    path = folder / f"{case['photo']}.png"
    if not path.exists():
        cv2.imwrite(str(path), load_photo(PHOTOS[case["photo"]])[..., ::-1])
    ref = rt.open_photo(path)
    have = {r.name for r in rt.scene(ref, "builtin").regions}
    recipe = {"format": "pertouch-recipe", "version": 1, **json.loads(json.dumps(case["recipe"]))}
    for name in list(recipe["regions"]):
        if name not in have:
            try:
                rt.find_region(ref, "builtin", name)
            except Exception:  # noqa: BLE001 - the segmenter no longer has it: left out below
                pass
    found = rt.regions_by_name(ref, "builtin", list(recipe["regions"]))
    missing = [n for n in recipe["regions"] if n not in found]
    for name in missing:  # the segmenter no longer has it: leave it out, say so
        del recipe["regions"][name]
    res = rt.render(ref, recipe, segmenter="builtin", engine="parametric", long_side=1024)
    before, after = rt.proxy8(ref, 1024), rt.to8(res.image)
    skin = None
    if case["photo"] in SKIN:
        try:
            skin = rt.scene(ref, "builtin").find("skin").mask
        except Exception:  # noqa: BLE001 - no skin found: not measured
            skin = None
    exact = measure_artefacts(before, after, skin_mask=skin)
    preview = measure_artefacts(jpeg(before), jpeg(after), skin_mask=skin)
    cv2.imwrite(str(out / f"{case['case']}.png"), np.concatenate([before, after], 1)[..., ::-1])
    return {"exact": exact.to_json()["values"], "preview": preview.to_json()["values"],
            "failed": preview.failed, "missing": missing}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="/tmp/artefacts/calibration", help="where the before|after PNGs go")
    ap.add_argument("--only", nargs="*", default=[], help="cases whose name contains one of these")
    ap.add_argument("--write", metavar="LABEL", help="store the values under runs[LABEL] in the table")
    ap.add_argument("--looks", default="after", choices=["before", "after"], help="which judgement to compare with")
    args = ap.parse_args()
    os.environ.setdefault("PERTOUCH_HOME", tempfile.mkdtemp(prefix="pertouch-cal-"))
    table = json.loads(TABLE.read_text())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    folder = out / "photos"
    folder.mkdir(exist_ok=True)
    rows = {}
    keys = ("blotches", "halos", "noise", "banding", "clipping", "skin_hue")
    print(f"{'case':44s} {'looks':5s} " + " ".join(f"{k[:8]:>8s}" for k in keys) + "  gate")
    agree = 0
    for case in table["cases"]:
        if args.only and not any(t in case["case"] for t in args.only):
            continue
        row = measure_case(case, folder, out)
        rows[case["case"]] = row
        looks = case["looks"][args.looks]
        ok = (looks == "wrong") == bool(row["failed"])
        agree += ok
        vals = " ".join("       -" if row["preview"][k] is None else f"{row['preview'][k]:8.3f}" for k in keys)
        print(f"{case['case'][:44]:44s} {looks:5s} {vals}  {','.join(row['failed']) or 'pass'}"
              f"{'' if ok else '  <-- disagrees'}{'  missing ' + ','.join(row['missing']) if row['missing'] else ''}")
    print(f"gate agrees with the eye on {agree}/{len(rows)} cases")
    if args.write:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).resolve().parents[1]).stdout.strip()
        table.setdefault("runs", {})[args.write] = {"commit": commit, "looks": args.looks, "rows": rows}
        TABLE.write_text(json.dumps(table, indent=1) + "\n")
        print(f"wrote runs[{args.write!r}] to {TABLE}")


if __name__ == "__main__":
    main()
