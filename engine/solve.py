"""Choose operator strengths so a region's MEASURED levels reach their targets.

The solve runs on the measuring proxy (the photo at 512×512, as measurement sees
it) using a fixed, deterministic sample of the region's pixels (and of its
4-neighbour pairs, for contrast). Each attribute is a monotone 1-D problem in its
operator's strength (safeguarded secant / Illinois false position inside the
operator's range); because attributes interact, a few Gauss–Seidel passes run over
them in chain order until every level is within tolerance.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> proxy = rng.random((512, 512, 3)).astype(np.float32) * 0.5 + 0.2
>>> s = RegionSample.build(proxy, np.ones((512, 512), bool))
>>> p = solve_region(s, {"brightness": 140.0}).params
>>> abs(s.raw(p, "brightness") - 140.0) < 0.5
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from pertouch.engine import measure as ms
from pertouch.engine import operators as op
from pertouch.engine.estimators import CONTRAST_CAP

#: Per-pixel attributes in chain order (clarity is solved first, on its own).
ORDER = ("temperature", "tint", "brightness", "contrast", "highlights", "shadows", "colorfulness")
N_SAMPLES = 3000
N_LUT = 1024
PASSES = 4


@dataclass
class RegionSample:
    """Pixels of one region on the proxy: ``px`` (N, 3) and pairs ``pa``/``pb`` (P, 3) on [0, 1]."""

    px: np.ndarray
    pa: np.ndarray
    pb: np.ndarray
    crop: np.ndarray | None = None      # proxy crop + mask, for clarity
    crop_mask: np.ndarray | None = None
    idx: tuple = ()
    _clar: dict = field(default_factory=dict)

    @classmethod
    def build(cls, proxy: np.ndarray, mask: np.ndarray, n: int = N_SAMPLES, seed: int = 0) -> "RegionSample":
        """``proxy`` (512, 512, 3) float32 on [0, 1]; ``mask`` (512, 512) bool."""
        rng = np.random.default_rng(seed)
        ys, xs = np.nonzero(mask)
        pick = np.sort(rng.choice(ys.size, min(n, ys.size), replace=False)) if ys.size else np.zeros(0, int)
        hy, hx = np.nonzero(mask[:, 1:] & mask[:, :-1])
        vy, vx = np.nonzero(mask[1:] & mask[:-1])
        ay = np.concatenate([hy, vy]); ax = np.concatenate([hx, vx])
        by = np.concatenate([hy, vy + 1]); bx = np.concatenate([hx + 1, vx])
        pp = np.sort(rng.choice(ay.size, min(n, ay.size), replace=False)) if ay.size else np.zeros(0, int)
        idx = ((ys[pick], xs[pick]), (ay[pp], ax[pp]), (by[pp], bx[pp]))
        if ys.size:
            y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
            crop, cmask = proxy[y0:y1, x0:x1], mask[y0:y1, x0:x1]
            idx = tuple((i[0] - y0, i[1] - x0) for i in idx)
        else:
            crop, cmask = proxy[:1, :1], mask[:1, :1]
        return cls(crop[idx[0]].astype(np.float64), crop[idx[1]].astype(np.float64),
                   crop[idx[2]].astype(np.float64), crop, cmask, idx)

    @property
    def empty(self) -> bool:
        return len(self.px) == 0

    def _inputs(self, clarity: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if clarity == 0.0:
            return self.px, self.pa, self.pb
        if clarity not in self._clar:
            c = op.clarity(self.crop, clarity, op.clarity_sigma(512, 512))
            self._clar = {clarity: tuple(c[i].astype(np.float64) for i in self.idx)}
        return self._clar[clarity]

    def transformed(self, p: Params_, need_pairs: bool) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """(px, pa, pb) after the per-pixel transform, on the 0–255 scale."""
        t = op.compile_transform(p, N_LUT)
        px, pa, pb = self._inputs(p.clarity)

        def run(v: np.ndarray) -> np.ndarray:
            f = np.clip(v, 0.0, 1.0) * (N_LUT - 1)
            k = np.minimum(f.astype(np.int64), N_LUT - 2)
            fr = f - k
            c = np.stack([t.lut[ch][k[:, ch]] * (1 - fr[:, ch]) + t.lut[ch][k[:, ch] + 1] * fr[:, ch]
                          for ch in range(3)], axis=1)
            return op.soft_clip(c @ t.matrix.T.astype(np.float64), *t.margins) * 255.0

        return run(px), (run(pa) if need_pairs else None), (run(pb) if need_pairs else None)

    def raw(self, p: Params_, attribute: str) -> float:
        """The attribute's raw estimator value of the region after ``p`` (proxy estimate)."""
        if attribute == "clarity":
            c = op.clarity(self.crop, p.clarity, op.clarity_sigma(512, 512)) if p.clarity else self.crop
            return ms.Measurer(c * 255.0, measured=True).raw(self.crop_mask, ["clarity"])["clarity"]
        px, pa, pb = self.transformed(p, attribute == "contrast")
        if attribute == "contrast":
            return float(min(((pa - pb) ** 2).sum(axis=1).mean() / 4.0, CONTRAST_CAP)) if len(pa) else 0.0
        if attribute == "colorfulness":
            return ms.colorfulness_px(px)
        if attribute in ("highlights", "shadows"):
            return ms.tail_mean(ms.luma(px), attribute == "highlights")
        mean = px.mean(axis=0)
        if attribute == "brightness":
            return float(ms.brightness_of_mean(mean))
        if attribute == "temperature":
            return float(ms.temperature_of_mean(mean))
        if attribute == "tint":
            return float(ms.tint_of_mean(mean))
        raise KeyError(attribute)

    def mean_luma(self) -> float:
        return float(ms.luma(self.px).mean()) if len(self.px) else 0.5


Params_ = op.Params


def solve_monotone(g: Callable[[float], float], y: float, lo: float, hi: float, x0: float = 0.0,
                   tol: float = 1e-3, max_evals: int = 14, g0: float | None = None) -> tuple[float, float]:
    """Find x in [lo, hi] with g(x) ≈ y for an increasing g; returns (x, g(x)).

    Secant steps from ``x0``, bracket expansion, then Illinois false position. If ``y``
    is out of reach the nearer bound is returned.
    """
    fx0 = (g(x0) if g0 is None else g0) - y
    if abs(fx0) <= tol:
        return x0, fx0 + y
    evals = 1
    step = 0.3 if fx0 < 0 else -0.3
    xa, fa = x0, fx0
    xb = float(np.clip(x0 + step, lo, hi))
    fb = g(xb) - y
    evals += 1
    best = min(((xa, fa), (xb, fb)), key=lambda t: abs(t[1]))
    while fa * fb > 0 and evals < max_evals:  # expand with secant extrapolation
        if abs(fb) <= tol:
            return xb, fb + y
        if xb in (lo, hi):
            return best[0], best[1] + y
        slope = (fb - fa) / (xb - xa) if xb != xa else 0.0
        jump = -fb / slope if slope > 0 else 2 * (xb - xa)
        jump = float(np.clip(jump, -4 * abs(xb - xa) - 0.1, 4 * abs(xb - xa) + 0.1))
        xa, fa = xb, fb
        xb = float(np.clip(xb + jump, lo, hi))
        fb = g(xb) - y
        evals += 1
        best = min((best, (xb, fb)), key=lambda t: abs(t[1]))
    side = 0
    while evals < max_evals and abs(best[1]) > tol and fa * fb <= 0:
        xc = xb - fb * (xb - xa) / (fb - fa) if fb != fa else 0.5 * (xa + xb)
        fc = g(xc) - y
        evals += 1
        best = min((best, (xc, fc)), key=lambda t: abs(t[1]))
        if fc * fb < 0:
            xa, fa = xb, fb
            side = 0
        else:
            fa = fa * 0.5 if side == -1 else fa
            side = -1
        xb, fb = xc, fc
    return best[0], best[1] + y


@dataclass
class Solution:
    params: op.Params
    raw: dict[str, float]


def _tolerances(targets: Mapping[str, float], table) -> dict[str, float]:
    out = {}
    for a, r in targets.items():
        if table is not None and a in table:
            lev = table[a].to_level(r)
            span = abs(table[a].to_raw(min(1.0, lev + 0.002)) - table[a].to_raw(max(-1.0, lev - 0.002))) / 2
            out[a] = max(span, 1e-6 * max(1.0, abs(r)))
        else:
            out[a] = 1e-3 * max(1.0, abs(r))
    return out


def solve_region(sample: RegionSample, targets: Mapping[str, float], table=None,
                 start: op.Params | None = None, passes: int = PASSES) -> Solution:
    """Strengths that move the region's raw values to ``targets`` (attribute → raw)."""
    p = start or op.Params(pivot=sample.mean_luma())
    if sample.empty or not targets:
        return Solution(p, {})
    tol = _tolerances(targets, table)
    if "clarity" in targets:
        lo, hi = op.STRENGTH_RANGE["clarity"]
        s, _ = solve_monotone(lambda v: sample.raw(p.with_(clarity=v), "clarity"), targets["clarity"], lo, hi,
                              p.clarity, tol["clarity"])
        p = p.with_(clarity=s)
    names = [a for a in ORDER if a in targets]
    raw: dict[str, float] = {}
    for _ in range(passes):
        done = True
        for a in names:
            cur = sample.raw(p, a)
            if abs(cur - targets[a]) <= tol[a]:
                continue
            done = False
            lo, hi = op.STRENGTH_RANGE[a]
            s, _ = solve_monotone(lambda v, a=a: sample.raw(p.with_(**{a: v}), a), targets[a], lo, hi,
                                  getattr(p, a), tol[a], g0=cur)
            p = p.with_(**{a: s})
        if done:
            break
    raw = {a: sample.raw(p, a) for a in targets}
    return Solution(p, raw)
