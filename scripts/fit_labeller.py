"""Fit the builtin labeller's stuff classifier on the TUNE photos (evals/data/seg/) only.

    python scripts/fit_labeller.py [--cache /tmp/stuff_rows.npz] [--out tools/data/stuff_classifier.npz]
                                   [--no-search]

Each tune photo is perceived as the builtin segmenter sees it (the ≤ 384-px cue proxy,
its SLIC superpixels); each superpixel gets the hand label most of its pixels carry
(sky, water, vegetation, building = building + wall, ground = ground + floor + road,
other = labelled pixels of none of them); superpixels that are mostly ignored or
mostly a person are skipped. Features: :func:`pertouch.tools.stuff_classifier.stuff_features`.
Every photo weighs the same (its superpixels share weight 1 / their count).

The model is a multinomial logistic regression (a small one-hidden-layer network did
worse leave-one-photo-out: 0.49 against 0.54); its L2 strength is chosen
leave-one-photo-out on the tune photos (mean per-photo area-weighted superpixel
accuracy), then it is fitted on all of them and written with its feature names. Held-out photos are refused.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GRID = (0.01, 0.03, 0.1, 0.3, 1.0)


def photo_rows(case) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, class ids, pixel counts) of one tune photo's labelled superpixels."""
    from pertouch.evals.photos import load_photo
    from pertouch.evals.segmentation import truth
    from pertouch.tools.labels import group_features
    from pertouch.tools.perception import perceive
    from pertouch.tools.segmenters.builtin import superpixels
    from pertouch.tools.stuff_classifier import CLASSES, stuff_features

    if case.split != "tune":
        raise SystemExit(f"{case.name} is a held-out photo: the labeller is fitted on tune photos only")
    cues = perceive(load_photo(case.photo), cache=False).cues
    sp, n = superpixels(cues)
    f = group_features(cues, sp, n)
    x = stuff_features(f, sp, n, cues.lab, cues.grad, cues.lines, cues.grey)
    masks, valid = truth(case, sp.shape)
    per = np.zeros((n, len(CLASSES) + 2))  # classes…, person, ignored
    g = sp.ravel()
    labelled = np.zeros(sp.shape, bool)
    for i, c in enumerate(CLASSES[:-1]):
        if c in masks:
            m = masks[c] & valid & ~labelled
            per[:, i] = np.bincount(g, weights=m.ravel(), minlength=n)
            labelled |= m
    if "person" in masks:
        m = masks["person"] & valid & ~labelled
        per[:, -2] = np.bincount(g, weights=m.ravel(), minlength=n)
        labelled |= m
    per[:, len(CLASSES) - 1] = np.bincount(g, weights=(valid & ~labelled).ravel(), minlength=n)
    per[:, -1] = np.bincount(g, weights=(~valid).ravel(), minlength=n)
    count = per.sum(axis=1)
    y = per[:, : len(CLASSES)].argmax(axis=1)
    keep = (per[:, -1] < 0.5 * count) & (per[:, -2] < 0.3 * count) & (count > 0)
    return x[keep], y[keep], count[keep]


def collect(cache: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    from pertouch.evals.segmentation import load_cases

    if cache and Path(cache).is_file():
        z = np.load(cache, allow_pickle=False)
        return z["x"], z["y"], z["w"], z["photo"], [str(s) for s in z["names"]]
    xs, ys, ws, ps, names = [], [], [], [], []
    for i, case in enumerate(load_cases("tune")):
        x, y, cnt = photo_rows(case)
        xs.append(x), ys.append(y), ws.append(cnt / cnt.sum()), ps.append(np.full(len(y), i)), names.append(case.name)
        print(f"  {case.name}: {len(y)} superpixels", file=sys.stderr)
    out = np.concatenate(xs), np.concatenate(ys), np.concatenate(ws), np.concatenate(ps), names
    if cache:
        np.savez_compressed(cache, x=out[0], y=out[1], w=out[2], photo=out[3], names=np.array(names))
    return out


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, c_reg: float) -> dict[str, np.ndarray]:
    """A fitted multinomial logistic regression (inverse L2 strength ``c_reg``) as the arrays
    :func:`~pertouch.tools.stuff_classifier.predict_log_proba` reads (one layer)."""
    from sklearn.linear_model import LogisticRegression

    from pertouch.tools.stuff_classifier import CLASSES, FEATURES

    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    # sample weights: every photo the same, and the classes balanced
    cw = np.bincount(y, weights=w, minlength=len(CLASSES))
    sw = w / np.maximum(cw[y], 1e-9)
    net = LogisticRegression(C=c_reg, max_iter=500).fit((x - mean) / scale, y, sample_weight=sw * len(y) / sw.sum())
    W = np.zeros((x.shape[1], len(CLASSES)))
    b = np.full(len(CLASSES), -30.0)  # a class missing from the rows is never predicted
    for j, c in enumerate(net.classes_):
        W[:, c], b[c] = net.coef_[j], net.intercept_[j]
    return {"mean": mean, "scale": scale, "layers": np.array(1), "features": np.array(FEATURES),
            "classes": np.array(CLASSES), "C": np.array(c_reg), "W0": W, "b0": b}


def loo(x, y, w, photo, names, c_reg) -> tuple[float, dict[str, float]]:
    from pertouch.tools.stuff_classifier import predict_log_proba

    per = {}
    for i, name in enumerate(names):
        test = photo == i
        m = fit(x[~test], y[~test], w[~test], c_reg)
        pred = predict_log_proba(x[test], m).argmax(axis=1)
        per[name] = float((w[test] * (pred == y[test])).sum() / w[test].sum())
    return float(np.mean(list(per.values()))), per


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", help="save/load the superpixel rows here (skips perceiving the photos again)")
    ap.add_argument("--out", default=str(ROOT / "tools" / "data" / "stuff_classifier.npz"))
    ap.add_argument("--no-search", action="store_true", help="skip the leave-one-photo-out search (C = 0.1)")
    args = ap.parse_args(argv)
    x, y, w, photo, names = collect(args.cache)
    best = 0.1
    if not args.no_search:
        scores = {}
        for c_reg in GRID:
            scores[c_reg], per = loo(x, y, w, photo, names, c_reg)
            print(f"C {c_reg:g}: leave-one-photo-out accuracy {scores[c_reg]:.3f}")
        best = max(scores, key=lambda k: (round(scores[k], 3), -k))
        _, per = loo(x, y, w, photo, names, best)
        print(f"chosen C {best:g}:", " ".join(f"{k} {v:.2f}" for k, v in per.items()))
    model = fit(x, y, w, best)
    np.savez_compressed(args.out, **model)
    print(f"wrote {args.out} ({len(y)} superpixels from {len(names)} tune photos)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
