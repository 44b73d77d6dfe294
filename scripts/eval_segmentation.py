"""Report segmentation quality on the hand-labelled set (evals/data/seg/).

    python scripts/eval_segmentation.py [--segmenter builtin] [--segmenter sam:/m/sam_vit_b.pth]
                                        [--long-side 512] [--json report.json] [--fit-calibration]

Prints IoU and boundary F per label (goals for builtin: sky ≥ 0.85, person ≥ 0.75,
vegetation ≥ 0.70), false alarms, and the calibration of region confidences: raw,
with the calibration map fitted leave-one-photo-out (the honest number), and with
the shipped map (fitted on every photo). ``--fit-calibration`` refits the builtin
labeller's map on every photo and writes tools/data/label_calibration.json.
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    from pertouch.evals.segmentation import run

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--segmenter", action="append", help="segmenter spec (repeatable); default builtin")
    ap.add_argument("--long-side", type=int, default=None, help="downscale photos to this long side first")
    ap.add_argument("--case", action="append", help="only these cases (file names without .json)")
    ap.add_argument("--json", help="write the full report here")
    ap.add_argument("--fit-calibration", action="store_true",
                    help="refit the builtin labeller's confidence map on every photo and write it to tools/data/")
    args = ap.parse_args(argv)
    if args.fit_calibration and (args.case or args.long_side or (args.segmenter or ["builtin"]) != ["builtin"]):
        ap.error("--fit-calibration fits the builtin segmenter on every photo at full size: drop --case, --long-side, --segmenter")
    reports = []
    for spec in args.segmenter or ["builtin"]:
        rep = run(spec, args.long_side, args.case, refit=args.fit_calibration)
        reports.append(rep)
        print(f"\n== {spec}" + (f" (long side {args.long_side})" if args.long_side else ""))
        print(f"{'label':<11} {'IoU':>6} {'bound.F':>8} {'photos':>6}  goal   false alarms")
        for lab, s in rep["labels"].items():
            iou = "-" if s["iou"] is None else f"{s['iou']:.3f}"
            bf = "-" if s["boundary_f"] is None else f"{s['boundary_f']:.3f}"
            goal = "" if s["goal"] is None else f"{s['goal']:.2f}" + (" ok" if s["iou"] is not None and s["iou"] >= s["goal"] else " MISS")
            print(f"{lab:<11} {iou:>6} {bf:>8} {s['photos']:>6}  {goal:<7} {', '.join(s['false_alarms'])}")
        for c in rep["cases"]:
            per = ", ".join(f"{k} {v.get('iou', 'FA ' + str(v.get('false_alarm')))}" for k, v in c["labels"].items())
            print(f"  {c['case']:<10} {c['ms']:>7.0f} ms  {per}")
        print_calibration(rep["calibration"])
    if args.fit_calibration:
        write_calibration(reports[0])
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(reports, f, indent=2)
    return 0


def print_calibration(report: dict) -> None:
    """One line per variant (ECE, Brier, accuracy at confidence ≥ 0.5 and below) and a
    reliability table (per bin: mean confidence vs accuracy) for raw and honest."""
    print("calibration of region confidences (ECE over bins; accuracy of regions at confidence >= 0.5 / < 0.5):")
    for name, cal in report.items():
        hi, lo = cal["split"]["high"], cal["split"]["low"]
        print(f"  {name:<31} n={cal['n']:<3} ECE {cal['ece']:.3f}  Brier {cal['brier']:.3f}  "
              f">=0.5: {hi['accuracy']} of {hi['n']}  <0.5: {lo['accuracy']} of {lo['n']}  "
              f"mean confidence right {cal['mean_confidence_right']} / wrong {cal['mean_confidence_wrong']}")
    for name in ("raw", "leave_one_photo_out"):
        print(f"  reliability, {name}:")
        for b in report[name]["bins"]:
            print(f"    confidence {b['range'][0]:.2f}–{b['range'][1]:.2f}: n={b['n']:<3} accuracy {b['accuracy']:.2f}"
                  f" (mean confidence {b['mean_confidence']:.2f})")


def write_calibration(report: dict) -> None:
    """Write the map fitted on every region of ``report`` to the package's data file."""
    from importlib import resources

    path = resources.files("pertouch.tools").joinpath("data", "label_calibration.json")
    with open(str(path), "w", encoding="utf-8") as f:
        json.dump(report["fitted_table"], f, indent=2)
        f.write("\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
