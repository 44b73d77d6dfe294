"""Report perception quality on the hand-labelled photos (evals/data/seg/), per split.

    python scripts/eval_segmentation.py [--split tune|heldout] [--segmenter builtin] [--segmenter sam:/m/sam_vit_b.pth]
                                        [--long-side 512] [--case NAME] [--json report.json] [--fit-calibration]

For each split (tune: what thresholds and the calibration map may be fitted on;
heldout: never fitted on, the honest numbers) prints per kind the mean IoU and
boundary F where present, found-when-present and false-found-when-absent rates,
instance recall for people and faces, background IoU on portraits, each goal beside
its number, and the calibration of region confidences (raw; leave-one-photo-out on
tune; the map fitted on tune applied to held-out; the shipped map).
``--fit-calibration`` refits the builtin labeller's map on the TUNE photos only and
writes tools/data/label_calibration.json.

The same per-photo evaluation as a run folder (log, per-photo scores with explanations,
HTML report): ``pertouch eval segmentation [--split tune|heldout] -o RUN_DIR``.
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    from pertouch.evals.segmentation import run

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--segmenter", action="append", help="segmenter spec (repeatable); default builtin")
    ap.add_argument("--split", choices=("tune", "heldout"), help="only this split (default: both)")
    ap.add_argument("--long-side", type=int, default=None, help="downscale photos to this long side first")
    ap.add_argument("--case", action="append", help="only these cases (file names without .json)")
    ap.add_argument("--json", help="write the full report here")
    ap.add_argument("--fit-calibration", action="store_true",
                    help="refit the builtin labeller's confidence map on the tune photos and write it to tools/data/")
    args = ap.parse_args(argv)
    if args.fit_calibration and (args.case or args.long_side or (args.segmenter or ["builtin"]) != ["builtin"]
                                 or args.split == "heldout"):
        ap.error("--fit-calibration fits the builtin segmenter on every tune photo at full size: "
                 "drop --case, --long-side, --segmenter and --split heldout")
    reports = []
    for spec in args.segmenter or ["builtin"]:
        rep = run(spec, args.long_side, args.case, refit=args.fit_calibration, split=args.split)
        reports.append(rep)
        for split, part in rep["splits"].items():
            print(f"\n== {spec}, {split} split ({part['summary']['photos']} photos)"
                  + (f", long side {args.long_side}" if args.long_side else ""))
            print_summary(part["summary"], part["goals"])
            print_cases([c for c in rep["cases"] if c["split"] == split])
            print_calibration(part["calibration"])
    if args.fit_calibration:
        write_calibration(reports[0])
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(reports, f, indent=2)
    return 0


def _f(x: float | None, pct: bool = False) -> str:
    if x is None:
        return "-"
    return f"{100 * x:.0f}%" if pct else f"{x:.3f}"


def print_summary(summary: dict, goals: list[dict]) -> None:
    """Per-kind table, instance recall, portrait background IoU, then the goals."""
    print(f"{'kind':<11} {'IoU':>6} {'bound.F':>8} {'found':>6} {'of':>3} {'false':>6} {'of':>3}  missed / false-found")
    for kind, s in summary["kinds"].items():
        print(f"{kind:<11} {_f(s['iou']):>6} {_f(s['boundary_f']):>8} {_f(s['found_when_present'], True):>6} "
              f"{s['present']:>3} {_f(s['false_found_when_absent'], True):>6} {s['absent']:>3}  "
              f"{', '.join(s['missed']) or '-'} / {', '.join(s['false_found']) or '-'}")
    for kind, s in summary["instances"].items():
        print(f"{kind} instances: " + ("not reported (the scene lists no instances)" if s is None else
              f"recall {_f(s['recall'], True)} of {s['labelled']}, precision {_f(s['precision'], True)} of {s['predicted']}"))
    print(f"background IoU on portraits: {_f(summary['portrait_background_iou'])} ({summary['portraits']} portraits)")
    print("goals (held-out):")
    for g in goals:
        mark = {True: "ok", False: "MISS", None: "n/a"}[g["ok"]]
        val = "-" if g["value"] is None else f"{g['value']:.3f}"
        print(f"  {g['goal']:<42} {val:>6}  goal {g['target']:<7} {mark}")


def print_cases(cases: list[dict]) -> None:
    """One line per photo: IoU of each present kind, false finds."""
    for c in cases:
        per = [f"{k} {v['iou']:.2f}" + ("" if v["found"] else "(not found)") for k, v in c["labels"].items() if v["present"]]
        ff = [f"{k} {v['area']:.0%}" for k, v in c["labels"].items() if not v["present"] and v["false_found"]]
        print(f"  {c['case']:<16} {c['ms']:>7.0f} ms  {', '.join(per)}" + (f"  | false: {', '.join(ff)}" if ff else ""))


def print_calibration(report: dict) -> None:
    """One line per variant (ECE, Brier, accuracy at confidence ≥ 0.5 and below) and a
    reliability table (per bin: mean confidence vs accuracy) for raw and the honest map."""
    print("calibration of region confidences (ECE over bins; accuracy of regions at confidence >= 0.5 / < 0.5):")
    for name, cal in report.items():
        hi, lo = cal["split"]["high"], cal["split"]["low"]
        print(f"  {name:<31} n={cal['n']:<3} ECE {cal['ece']:.3f}  Brier {cal['brier']:.3f}  "
              f">=0.5: {hi['accuracy']} of {hi['n']}  <0.5: {lo['accuracy']} of {lo['n']}  "
              f"mean confidence right {cal['mean_confidence_right']} / wrong {cal['mean_confidence_wrong']}")
    for name in ("raw", "leave_one_photo_out", "fitted_on_tune"):
        if name not in report:
            continue
        print(f"  reliability, {name}:")
        for b in report[name]["bins"]:
            print(f"    confidence {b['range'][0]:.2f}–{b['range'][1]:.2f}: n={b['n']:<3} accuracy {b['accuracy']:.2f}"
                  f" (mean confidence {b['mean_confidence']:.2f})")


def write_calibration(report: dict) -> None:
    """Write the map fitted on the tune split's regions of ``report`` to the package's data file."""
    from importlib import resources

    path = resources.files("pertouch.tools").joinpath("data", "label_calibration.json")
    with open(str(path), "w", encoding="utf-8") as f:
        json.dump(report["fitted_table"], f, indent=2)
        f.write("\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
