"""A small learned classifier of stuff classes (sky, water, vegetation, building, ground)
for superpixels and masks, fitted on the TUNE photos only.

:func:`stuff_features` turns :func:`pertouch.tools.labels.group_features` output, plus
a few per-photo context maps, into one feature row per group (colour mean and spread,
position, texture, straight-edge density, brightness relative to the photo and to its
top band, the colour and texture of the neighbourhood around the group, grey photo,
close-up subject). A multinomial logistic regression (weights in
``tools/data/stuff_classifier.npz``, written by ``scripts/fit_labeller.py``, which
chooses its regularisation leave-one-photo-out on the tune split) gives the
log-probability of each of :data:`CLASSES`; ``other`` is everything that is none of them
(objects, furniture, animals). People are not its business: the person cue decides them.

Not yet used by the builtin segmenter: scored leave-one-photo-out on the tune photos it
gets 0.54 of superpixel area right, and wired in place of the hand rules
(:func:`pertouch.tools.labels.class_scores`) it found sky, vegetation and building on
fewer held-out photos than they do (2026-12-06), so the rules stay the default.

>>> import numpy as np
>>> stuff_model() is not None
True
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Mapping

import cv2
import numpy as np

CLASSES: tuple[str, ...] = ("sky", "water", "vegetation", "building", "ground", "other")
MODEL_FILE = "stuff_classifier.npz"
#: Names of the feature columns, in order (the shipped weights are checked against them).
FEATURES: tuple[str, ...] = (
    "L", "a", "b", "C", "sdL", "tex", "logtex", "y", "y2", "top", "lines", "structure", "relL", "closeup", "grey",
    "ctxL", "ctxa", "ctxb", "ctxtex", "ctxlines", "dL_top", "da_top", "db_top", "topL", "topC", "imgtex", "area",
    "x_edge", "bottom")


def context_maps(lab: np.ndarray, grad: np.ndarray, lines: np.ndarray | None) -> np.ndarray:
    """Per-pixel neighbourhood maps ``(h, w, 5)``: L, a, b, texture and straight-edge density
    blurred over a tenth of the proxy's diagonal (what surrounds a superpixel)."""
    h, w = grad.shape
    s = max(1.0, 0.1 * float(np.hypot(h, w)))
    ln = lines if lines is not None else np.zeros_like(grad)
    stack = np.dstack([lab, grad[..., None], ln[..., None]]).astype(np.float32)
    small = max(1, int(round(s / 3)))
    if small > 1:  # blur a smaller copy: the same result to within a pixel, much faster
        out = []
        for c in range(stack.shape[2]):  # OpenCV resizes at most 4 channels at once
            sm = cv2.resize(stack[..., c], (max(1, w // small), max(1, h // small)), interpolation=cv2.INTER_AREA)
            out.append(cv2.resize(cv2.GaussianBlur(sm, (0, 0), s / small), (w, h), interpolation=cv2.INTER_LINEAR))
        return np.dstack(out)
    return cv2.GaussianBlur(stack, (0, 0), s)


def stuff_features(f: Mapping[str, np.ndarray], groups: np.ndarray, n: int, lab: np.ndarray, grad: np.ndarray,
                   lines: np.ndarray | None, grey: bool) -> np.ndarray:
    """Feature rows ``(n, len(FEATURES))`` float64 for group ids ``0..n-1`` of ``groups``."""
    h, w = groups.shape
    g = groups.ravel()
    cnt = np.maximum(np.bincount(g, minlength=n), 1).astype(np.float64)

    def mean(x: np.ndarray) -> np.ndarray:
        return np.bincount(g, weights=x.ravel().astype(np.float64), minlength=n) / cnt

    ctx = context_maps(lab, grad, lines)
    band = lab[: max(1, h // 8)].reshape(-1, 3).mean(axis=0).astype(np.float64)
    xs = np.abs(np.linspace(-1, 1, w, dtype=np.float32))[None, :].repeat(h, 0)
    bottom = np.zeros((h, w), np.float32)
    bottom[-max(1, h // 40):] = 1
    zero = np.zeros(n)
    cols = {
        "L": f["L"], "a": f["a"], "b": f["b"], "C": f["C"], "sdL": f["sdL"], "tex": f["tex"],
        "logtex": np.log1p(f["tex"]), "y": f["y"], "y2": f["y"] ** 2, "top": np.minimum(f["top"], 1.0),
        "lines": f.get("lines", zero), "structure": f.get("structure", zero), "relL": f.get("relL", zero),
        "closeup": f.get("closeup", zero), "grey": np.full(n, float(grey)),
        "ctxL": mean(ctx[..., 0]), "ctxa": mean(ctx[..., 1]), "ctxb": mean(ctx[..., 2]), "ctxtex": mean(ctx[..., 3]),
        "ctxlines": mean(ctx[..., 4]), "dL_top": f["L"] - band[0], "da_top": f["a"] - band[1],
        "db_top": f["b"] - band[2], "topL": np.full(n, band[0]), "topC": np.full(n, float(np.hypot(band[1], band[2]))),
        "imgtex": np.full(n, float(grad.mean())), "area": np.sqrt(f["area"]), "x_edge": mean(xs),
        "bottom": np.minimum(mean(bottom) * 40, 1.0),
    }
    return np.stack([np.asarray(cols[k], np.float64) for k in FEATURES], axis=1)


@lru_cache(maxsize=1)
def stuff_model() -> dict[str, np.ndarray] | None:
    """The shipped weights (``tools/data/stuff_classifier.npz``), or None when absent."""
    path = resources.files("pertouch.tools").joinpath("data", MODEL_FILE)
    if not path.is_file():
        return None
    with path.open("rb") as fh:
        z = np.load(fh, allow_pickle=False)
        model = {k: z[k] for k in z.files}
    names = tuple(str(s) for s in model["features"])
    if names != FEATURES or tuple(str(s) for s in model["classes"]) != CLASSES:
        raise RuntimeError(f"{MODEL_FILE} was fitted for other features or classes; "
                           "re-fit it with `python scripts/fit_labeller.py`")
    return model


def predict_log_proba(x: np.ndarray, model: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """Log-probabilities ``(n, len(CLASSES))`` of feature rows ``x`` under ``model``
    (default: the shipped one): standardise, ``layers`` affine maps with ReLU between, softmax."""
    m = model if model is not None else stuff_model()
    if m is None:
        raise RuntimeError(f"tools/data/{MODEL_FILE} is missing; fit it with `python scripts/fit_labeller.py`")
    z = (x - m["mean"]) / m["scale"]
    for i in range(int(m["layers"])):
        z = z @ m[f"W{i}"] + m[f"b{i}"]
        if i < int(m["layers"]) - 1:
            z = np.maximum(z, 0)
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))
