"""A region's measured values, sampled, as a function of its operator strengths.

The solver (:mod:`.solve`) evaluates a region's raw estimator values for many
candidate strengths. It does so on a fixed, jittered-systematic sample of the
region's measuring pixels (and of their 4-neighbour pairs, for contrast): each
sample pixel is a mix of T source taps (cv2 INTER_LINEAR's, so "edit, then resize to
512" is reproduced) blended with the region's weight. When other layers overlap the
region, the sample also carries what they contribute (:meth:`RegionSample.composed`):
the output there is ``rest + bw · edit(x)``, linear in this layer's edit.

One evaluation is one pass over the sample's taps (LUT → 3×3 matrix → soft clip →
blend → tap sum: :mod:`.samplepass`), compiled with numba when it is installed (NumPy
otherwise, same arithmetic in float64).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> proxy = rng.random((64, 64, 3)).astype(np.float32)
>>> s = RegionSample.build(proxy, np.ones((64, 64), bool))
>>> round(s.raw(op.Params(), "brightness"), 6) == round(s.raw(op.Params(brightness=0.0), "brightness"), 6)
True
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from pertouch.engine.measure import stats as ms
from pertouch.engine.measure.estimators import CONTRAST_CAP, perceived_brightness
from pertouch.engine.ops import operators as op
from pertouch.engine.parametric.fast.kernels import axis_coords
from pertouch.engine.parametric.fast.samplepass import moments, transform_taps

N_SAMPLES = 1024
N_PAIRS = 2048
N_LUT = 256


def _stride(size: int, n: int, seed: int = 0) -> np.ndarray:
    """A jittered systematic sample: one index drawn in each of n equal runs of range(size).

    In raster order the runs are row segments, so the sample covers the region evenly
    (a far better mean than n random draws) without aliasing onto a few columns.
    """
    if size <= n:
        return np.arange(size)
    u = np.random.default_rng(seed).random(n)
    return np.minimum(np.floor((np.arange(n) + u) * (size / n)).astype(np.int64), size - 1)


@dataclass
class RegionSample:
    """A region's sample: taps into ``src``, their values and weights, and what others add.

    Rows ``[0, n_px)`` are measuring pixels, ``[n_px, n_px + n_pairs)`` the first and
    ``[n_px + n_pairs, M)`` the second pixel of each 4-neighbour pair. ``taps`` are
    ``(M, T)`` row/column indices into ``src``; ``orig`` ``(M, T, 3)`` their values;
    ``tw`` the tap weights and ``bw`` this layer's blend coefficient ``(M, T)``;
    ``rest`` ``(M, T, 3)``: the output without this layer's edit (``orig·(1 − bw)`` when
    no other layer overlaps it). In *proxy* mode ``src`` is the 512×512 measuring image
    (T = 1); in *exact* mode (small photos) the photo itself (T = 4).
    """

    taps: tuple[np.ndarray, np.ndarray]
    orig: np.ndarray
    tw: np.ndarray
    bw: np.ndarray
    rest: np.ndarray
    n_px: int
    src: np.ndarray
    mask: np.ndarray
    sigma: float
    clar_cache: dict = field(default_factory=dict)
    _memo: dict = field(default_factory=dict)

    @classmethod
    def build(cls, proxy: np.ndarray, mask: np.ndarray, n: int = N_SAMPLES, seed: int = 0,
              weights: np.ndarray | None = None, n_pairs: int = N_PAIRS) -> "RegionSample":
        """``proxy``: (512, 512, 3) float on [0, 1], or the (H, W, 3) photo itself (exact
        mode); ``mask``: (512, 512) bool; ``weights``: blend weights at ``proxy``'s size."""
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        y0, x0 = (int(rows[0]), int(cols[0])) if rows.size else (0, 0)
        sub = mask[y0:int(rows[-1]) + 1, x0:int(cols[-1]) + 1] if rows.size else mask[:0, :0]
        # pixels and pairs found in the mask's bbox (same raster order as in the whole mask);
        # flat indices, turned into rows/columns only for the picks
        sw = sub.shape[1]
        flat = np.flatnonzero(sub)
        pick = _stride(flat.size, n, seed)
        ys, xs = np.divmod(flat[pick], sw)
        hf = np.flatnonzero(sub[:, 1:] & sub[:, :-1])  # in a (sh, sw − 1) raster
        vf = np.flatnonzero(sub[1:] & sub[:-1])        # in a (sh − 1, sw) raster
        pp = _stride(hf.size + vf.size, n_pairs, seed + 1)
        horiz = pp < hf.size
        hy, hx = np.divmod(hf[pp[horiz]], max(sw - 1, 1))
        vy, vx = np.divmod(vf[pp[~horiz] - hf.size], sw)
        ay, ax = np.concatenate([hy, vy]), np.concatenate([hx, vx])
        order = np.concatenate([np.flatnonzero(horiz), np.flatnonzero(~horiz)])
        ay[order], ax[order] = ay.copy(), ax.copy()  # back to the order of pp
        by, bx = ay + (~horiz), ax + horiz
        yy = np.concatenate([ys, ay, by]) + y0
        xx = np.concatenate([xs, ax, bx]) + x0
        h, w = proxy.shape[:2]
        if (h, w) != mask.shape:  # exact mode: the 4 bilinear taps of each measuring pixel
            ry0, ry1, fy = axis_coords(mask.shape[0], h)
            cx0, cx1, fx = axis_coords(mask.shape[1], w)
            ty = np.stack([ry0[yy], ry0[yy], ry1[yy], ry1[yy]], 1)
            tx = np.stack([cx0[xx], cx1[xx], cx0[xx], cx1[xx]], 1)
            a, b = fy[yy][:, None].astype(np.float64), fx[xx][:, None].astype(np.float64)
            tw = np.concatenate([(1 - a) * (1 - b), (1 - a) * b, a * (1 - b), a * b], 1)
        else:
            ty, tx, tw = yy[:, None], xx[:, None], np.ones((yy.size, 1))
        bw = np.ones(ty.shape) if weights is None else weights[ty, tx].astype(np.float64)
        orig = proxy[ty, tx].astype(np.float64)
        sigma = op.clarity_sigma(h, w) if (h, w) != mask.shape else op.clarity_sigma(512, 512)
        return cls((ty, tx), orig, tw, bw, orig * (1.0 - bw[..., None]), int(pick.size), proxy, mask, sigma)

    @property
    def empty(self) -> bool:
        return self.n_px == 0

    def composed(self, rest: np.ndarray, bw: np.ndarray) -> "RegionSample":
        """The same sample with other layers' contributions: output = rest + bw · edit."""
        return replace(self, rest=rest, bw=bw, _memo={})

    def weights_at_taps(self, wmap: np.ndarray) -> np.ndarray:
        """Another layer's weight map (at ``src``'s size) at this sample's taps, float64."""
        return wmap[self.taps].astype(np.float64)

    def values_at_taps(self, clarity: float) -> np.ndarray:
        """``src`` (clarified by ``clarity``) at the taps, ``(M, T, 3)`` float64."""
        return self.orig if clarity == 0.0 else self.clarified(clarity)[self.taps].astype(np.float64)

    def clarified(self, clarity: float) -> np.ndarray:
        """``src`` with clarity applied (cached; the cache may be shared by samples of one src)."""
        if clarity not in self.clar_cache:
            if len(self.clar_cache) > 4:
                self.clar_cache.clear()
            self.clar_cache[clarity] = op.clarity(self.src, clarity, self.sigma)
        return self.clar_cache[clarity]

    def transformed(self, p: op.Params, need_pairs: bool) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """(px, pa, pb) as measured after the per-pixel transform, (N, 3) on the 0–255 scale."""
        t = op.compile_transform(p, N_LUT)
        n_rows = self.orig.shape[0] if need_pairs else self.n_px
        vals = transform_taps(self.values_at_taps(p.clarity), self.rest, self.bw, self.tw, t, n_rows)
        if not need_pairs:
            return vals, None, None
        n_pairs = (self.orig.shape[0] - self.n_px) // 2
        return vals[:self.n_px], vals[self.n_px:self.n_px + n_pairs], vals[self.n_px + n_pairs:]

    def raw(self, p: op.Params, attribute: str) -> float:
        """The attribute's raw estimator value of the region after ``p`` (proxy estimate)."""
        return self.values(p, (attribute,))[attribute]

    def values(self, p: op.Params, attributes) -> dict[str, float]:
        """Several attributes' raw values after ``p`` from ONE transform of the sample (memoised)."""
        if len(self._memo) > 4096:  # a cached sample serves many plans: bound its memo
            self._memo.clear()
        memo = self._memo.setdefault(p, {})
        missing = [a for a in attributes if a not in memo]
        if missing:
            memo.update(self._values(p, missing))
        return {a: memo[a] for a in attributes}

    def _values(self, p: op.Params, attributes) -> dict[str, float]:
        out: dict[str, float] = {}
        if "clarity" in attributes:
            import cv2

            c = self.clarified(p.clarity) if p.clarity else self.src
            if c.shape[:2] != self.mask.shape:
                c = cv2.resize(c.astype(np.float32), self.mask.shape[::-1], interpolation=cv2.INTER_LINEAR)
            out["clarity"] = ms.Measurer(c * 255.0, measured=True).raw(self.mask, ["clarity"])["clarity"]
        rest = [a for a in attributes if a != "clarity"]
        if not rest:
            return out
        if moments is not None and not any(a in ("highlights", "shadows") for a in rest):
            return out | self._moment_values(p, rest)
        px, pa, pb = self.transformed(p, "contrast" in rest)
        mean = px.mean(axis=0)
        for a in rest:
            if a == "contrast":
                out[a] = float(min(((pa - pb) ** 2).sum(axis=1).mean() / 4.0, CONTRAST_CAP)) if len(pa) else 0.0
            elif a == "colorfulness":
                out[a] = ms.colorfulness_px(px)
            elif a in ("highlights", "shadows"):
                out[a] = ms.tail_mean(ms.luma(px), a == "highlights")
            elif a == "brightness":
                out[a] = float(ms.brightness_of_mean(mean))
            elif a == "temperature":
                out[a] = float(ms.temperature_of_mean(mean))
            elif a == "tint":
                out[a] = float(ms.tint_of_mean(mean))
            else:
                raise KeyError(a)
        return out

    def _moment_values(self, p: op.Params, attributes) -> dict[str, float]:
        """Mean-colour, colourfulness and contrast attributes from one compiled pass and one
        moments loop (:func:`_moments_py`); the same values as the NumPy route."""
        need_pairs = "contrast" in attributes
        t = op.compile_transform(p, N_LUT)
        n_rows = self.orig.shape[0] if need_pairs else self.n_px
        vals = transform_taps(self.values_at_taps(p.clarity), self.rest, self.bw, self.tw, t, n_rows)
        mo = np.empty(5)
        n_pairs = (self.orig.shape[0] - self.n_px) // 2 if need_pairs else 0
        moments(vals, self.n_px, n_pairs, mo)
        out: dict[str, float] = {}
        mean = mo[:3].tolist()
        for a in attributes:
            if a == "contrast":
                out[a] = float(min(mo[4] / 4.0, CONTRAST_CAP)) if n_pairs else 0.0
            elif a == "colorfulness":
                out[a] = float(mo[3]) if self.n_px else float("nan")
            elif a == "brightness":
                out[a] = float(perceived_brightness(mean[0], mean[1], mean[2]))
            elif a == "temperature":
                out[a] = ms.temperature_of_mean1(*mean)
            elif a == "tint":
                out[a] = float(ms.tint_of_mean(np.array(mean)))
            else:
                raise KeyError(a)
        return out

    def mean_luma(self) -> float:
        px = self.orig[:self.n_px, 0]
        return float(ms.luma(px).mean()) if len(px) else 0.5
