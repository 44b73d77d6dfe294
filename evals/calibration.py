"""Fit and score the region-confidence calibration map (:func:`pertouch.tools.labels.calibrate`).

Data: one row per predicted region of a scored label on the hand-labelled photos
(:mod:`pertouch.evals.segmentation`): its photo, label, RAW confidence (the
labeller's, before calibration) and whether it is right (most of its pixels lie
inside that label's ground truth).

Model: Platt scaling with a per-family offset,
``logit(p) = slope · logit(raw) + intercept + offset[family]``, fitted by
penalised maximum likelihood (Newton's method): the offsets are pulled to 0 by an
L2 penalty (``shrink``), so a family seen on one or two regions barely moves off the
shared map. Scored honestly by leave-one-photo-out: each photo's regions get the
map fitted on the other photos only.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Callable, Sequence

import numpy as np

from pertouch.tools.labels import FAMILIES, calibrate

#: L2 penalty on per-family offsets (in logit units; 1 region ≈ 0.25 of curvature).
SHRINK = 2.0
#: Tiny L2 penalty on slope and intercept: keeps a perfectly separable set finite.
RIDGE = 0.05


def _logit(c: np.ndarray) -> np.ndarray:
    c = np.clip(np.asarray(c, np.float64), 1e-3, 1 - 1e-3)
    return np.log(c / (1 - c))


def family(label: str) -> str:
    return FAMILIES.get(label, label)


def fit(rows: Sequence[dict[str, Any]], shrink: float = SHRINK, families: bool = True) -> dict[str, Any]:
    """The map's constants from rows with ``label``, ``raw`` and ``correct``.

    ``families=False`` fits the shared slope and intercept only.
    """
    fams = sorted({family(r["label"]) for r in rows}) if families else []
    x = _logit([r["raw"] for r in rows])
    y = np.array([float(r["correct"]) for r in rows])
    X = np.column_stack([x, np.ones_like(x)] + [[float(family(r["label"]) == f) for r in rows] for f in fams])
    pen = np.array([RIDGE, RIDGE] + [shrink] * len(fams))
    w = np.array([1.0, 0.0] + [0.0] * len(fams))
    for _ in range(100):
        p = 1 / (1 + np.exp(-(X @ w)))
        grad = X.T @ (p - y) + pen * w
        hess = (X * (p * (1 - p))[:, None]).T @ X + np.diag(pen)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    bound = 1 / (len(rows) + 2)  # rule of succession: n regions cannot back odds beyond n + 1 to 1
    return {"slope": round(float(w[0]), 4), "intercept": round(float(w[1]), 4),
            "families": {f: round(float(v), 4) for f, v in zip(fams, w[2:])},
            "floor": round(bound, 4), "ceiling": round(1 - bound, 4)}


def leave_one_photo_out(rows: Sequence[dict[str, Any]], fitter: Callable[[Sequence[dict]], dict] = fit) -> list[float]:
    """Each row's calibrated confidence from a map fitted on the OTHER photos' rows."""
    maps = {}
    for case in {r["case"] for r in rows}:
        train = [q for q in rows if q["case"] != case]
        maps[case] = fitter(train) if train else None
    return [calibrate(r["label"], r["raw"], maps[r["case"]]) if maps[r["case"]] else r["raw"] for r in rows]


def split_accuracy(confidences: Sequence[float], correct: Sequence[bool], at: float = 0.5) -> dict[str, Any]:
    """Accuracy (and count) of regions with confidence ≥ ``at`` and below it."""
    c, ok = np.asarray(confidences), np.asarray(correct, bool)

    def acc(sel: np.ndarray) -> dict[str, Any]:
        return {"n": int(sel.sum()), "accuracy": round(float(ok[sel].mean()), 3) if sel.any() else None}

    return {"at": at, "high": acc(c >= at), "low": acc(c < at)}


def brier(confidences: Sequence[float], correct: Sequence[bool]) -> float:
    c, ok = np.asarray(confidences, np.float64), np.asarray(correct, np.float64)
    return round(float(np.mean((c - ok) ** 2)), 4) if len(c) else 0.0


def table(rows: Sequence[dict[str, Any]], cases: Sequence[str]) -> dict[str, Any]:
    """The data file's content: the constants fitted on all rows, and how."""
    return {
        **fit(rows),
        "method": "Platt scaling of logit(raw region confidence), one slope and intercept plus an offset per "
                  f"label family (L2 penalty {SHRINK} on offsets, {RIDGE} on slope and intercept), penalised "
                  "maximum likelihood; kept within [1/(n+2), 1 - 1/(n+2)] for n fitted regions",
        "fitted_on": f"{len(rows)} builtin-labelled regions on the hand-labelled photos evals/data/seg/ "
                     f"({', '.join(cases)}); correct = most of the region's pixels inside that label's truth",
        "refit": "python scripts/eval_segmentation.py --fit-calibration",
        "date": _dt.date.today().isoformat(),
    }
