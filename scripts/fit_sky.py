"""Fit and judge the sky detector's presence threshold leave-one-photo-out on the TUNE split.

    python scripts/fit_sky.py

For every tune photo: the sky detector's evidence (:func:`pertouch.tools.sky.detect_sky`
on the builtin segmenter's cue proxy) and whether the photo has a labelled sky. For each
left-out photo the threshold is fitted on the others (midway between the strongest
evidence of a photo without a sky and the weakest of one with a sky the detector can
see) and the left-out photo is judged with it. Prints per photo: evidence, the
leave-one-out threshold, the decision, the sky IoU of the detector's mask; then the
leave-one-out accuracy and the threshold fitted on all tune photos (compare with
``pertouch.tools.sky.MIN_EVIDENCE``). Never reads the held-out split.
"""

from __future__ import annotations

import sys

import numpy as np


def fit_threshold(rows: list[tuple[float, bool]]) -> float:
    """Midway between the largest evidence without a sky and the smallest (non-zero) with one."""
    neg = [e for e, has in rows if not has]
    pos = [e for e, has in rows if has and e > 0]
    hi_neg = max(neg, default=0.0)
    above = [e for e in pos if e > hi_neg]
    return 0.5 * (hi_neg + min(above)) if above else hi_neg + 1e-3


def main() -> int:
    from pertouch.evals.photos import load_photo
    from pertouch.evals.segmentation import load_cases, truth
    from pertouch.tools import labels as lb
    from pertouch.tools.detection import detect
    from pertouch.tools.perception import CUE_SIDE, proxy_of
    from pertouch.tools.sky import MIN_EVIDENCE, detect_sky

    rows, names, ious = [], [], []
    for case in load_cases("tune"):
        img = load_photo(case.photo)
        rgb = proxy_of(img, CUE_SIDE)
        cues = lb.compute_cues(rgb, detect(img).evidence(rgb.shape[:2]))
        found = detect_sky(cues.rgb, cues.lab, cues.grad, grey=cues.grey, person=cues.person.mask,
                           person_confidence=cues.person.confidence)
        gt, valid = truth(case, rgb.shape[:2])
        sky = gt.get("sky")
        cand = found.mask
        iou = float((cand & sky & valid).sum() / max(1, ((cand | sky) & valid).sum())) if sky is not None else None
        rows.append((found.evidence, sky is not None))
        names.append(case.name)
        ious.append(iou)
    right = 0
    for i, (name, (ev, has), iou) in enumerate(zip(names, rows, ious)):
        t = fit_threshold(rows[:i] + rows[i + 1:])
        ok = (ev >= t) == has
        right += ok
        print(f"{name:<14} sky {'yes' if has else 'no ':<3} evidence {ev:.2f}  loo threshold {t:.2f}  "
              f"{'right' if ok else 'WRONG'}" + ("" if iou is None else f"  mask IoU {iou:.2f}"))
    print(f"leave-one-photo-out: {right} of {len(rows)} right; threshold on all tune photos "
          f"{fit_threshold(rows):.2f} (shipped MIN_EVIDENCE {MIN_EVIDENCE})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
