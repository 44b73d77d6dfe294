"""Choose operator strengths so a region's MEASURED levels reach their targets.

The solve runs on the measuring proxy (the photo at 512×512, as measurement sees
it) using a fixed, jittered-systematic sample of the region's pixels (and of its
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

from dataclasses import dataclass
from typing import Callable, Mapping

import math

import numpy as np

from pertouch.engine.ops import operators as op
from pertouch.engine.ops.curves import STRENGTH_RANGE
from pertouch.engine.parametric.sample import RegionSample  # noqa: F401 (re-exported: parametric, estimate)
from pertouch.engine.schema.levels import EXTENDED

#: Per-pixel attributes in chain order (clarity is solved first, on its own).
ORDER = ("temperature", "tint", "brightness", "contrast", "highlights", "shadows", "colorfulness")
LEVEL_TOL = 0.01
PASSES = 1


def first_step(attribute: str, current: float, target: float) -> float | None:
    """A model-based guess of the strength change that moves ``current`` to ``target``.

    Exact for colourfulness (∝ 2**s) and contrast (∝ 4**s) before clipping; a
    mired difference for temperature; a gamma-2.2 guess for brightness.
    """
    if attribute in ("colorfulness", "contrast", "brightness") and current > 1e-6 and target > 1e-6:
        r = math.log2(target / current)
        return {"colorfulness": r, "contrast": 0.5 * r, "brightness": 1.1 * r}[attribute]
    if attribute == "temperature" and current < 0 and target < 0:
        return (1e6 / -target - 1e6 / -current) / 100.0
    return None


def solve_monotone(g: Callable[[float], float], y: float, lo: float, hi: float, x0: float = 0.0,
                   tol: float = 1e-3, max_evals: int = 14, g0: float | None = None,
                   step: float | None = None) -> tuple[float, float]:
    """Find x in [lo, hi] with g(x) ≈ y for an increasing g; returns (x, g(x)).

    Secant steps from ``x0``, bracket expansion, then Illinois false position. If ``y``
    is out of reach the nearer bound is returned.
    """
    fx0 = (g(x0) if g0 is None else g0) - y
    if abs(fx0) <= tol:
        return x0, fx0 + y
    evals = 1
    if step is None or step == 0 or (step > 0) != (fx0 < 0):
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


def to_lin(attribute: str, raw: float) -> float:
    """Coordinates in which an attribute is roughly linear in its strength."""
    if attribute in ("colorfulness", "contrast", "brightness", "clarity"):
        return math.log(max(raw, 1e-3))
    if attribute == "temperature":
        return 1e6 / max(-raw, 500.0)  # mired
    return raw


#: d to_lin(raw) / d strength of each operator on typical photos (the solver's first guess).
MODEL_SLOPE = {"colorfulness": 0.69, "contrast": 1.2, "brightness": 0.55, "temperature": 70.0,
               "tint": 8.0, "highlights": 50.0, "shadows": 60.0}


def from_lin(attribute: str, v: float) -> float:
    """Inverse of :func:`to_lin`."""
    if attribute in ("colorfulness", "contrast", "brightness", "clarity"):
        return math.exp(v)
    if attribute == "temperature":
        return -1e6 / v
    return v


def _range(attribute: str, bounds: Mapping[str, tuple[float, float]] | None) -> tuple[float, float]:
    """The strength interval searched: the operator's range, narrowed by ``bounds``."""
    lo, hi = STRENGTH_RANGE[attribute]
    if bounds and attribute in bounds:
        lo, hi = max(lo, bounds[attribute][0]), min(hi, bounds[attribute][1])
    return lo, hi


def _joint(sample: RegionSample, p: op.Params, targets: dict[str, float], tol: dict[str, float],
           iters: int = 8, bounds: Mapping[str, tuple[float, float]] | None = None,
           jac0: np.ndarray | None = None) -> tuple[op.Params, np.ndarray | None]:
    """All attributes at once: Newton from a Jacobian (``jac0``, e.g. one a similar solve
    learned, else the operators' model slopes) with Broyden updates, one transform of the
    sample per step; steps are clamped to the strength ranges and halved when they make
    things worse. Gauss–Seidel in :func:`solve_region` mops up. Returns the strengths and
    the Jacobian learned (in :func:`to_lin` coordinates, ``targets``' order)."""
    names = list(targets)
    if not names:
        return p, None
    lo = np.array([_range(a, bounds)[0] for a in names])
    hi = np.array([_range(a, bounds)[1] for a in names])
    y = np.array([to_lin(a, targets[a]) for a in names])
    w = 1.0 / np.array([abs(to_lin(a, targets[a] + tol[a]) - to_lin(a, targets[a])) + 1e-12 for a in names])

    def f(x: np.ndarray) -> np.ndarray:
        v = sample.values(p.with_(**dict(zip(names, map(float, x)))), names)
        return np.array([to_lin(a, v[a]) for a in names]) - y

    x = np.clip(np.array([getattr(p, a) for a in names], np.float64), lo, hi)
    fx = f(x)
    n = len(names)
    # start from a known Jacobian (d lin-value / d strength), else finite differences,
    # else the operators' model slopes; Broyden updates learn the rest along the way
    if jac0 is not None and jac0.shape == (len(names), len(names)) and np.all(np.isfinite(jac0)) \
            and np.all(np.diag(jac0) > 0):
        jac = jac0.astype(np.float64).copy()
    elif FD_START and n > 1 and np.any(np.abs(fx) * w > 1.0):
        jac = _fd_jacobian(f, x, fx, lo, hi, names)
    else:
        jac = np.diag([MODEL_SLOPE.get(a, 1.0) for a in names]).astype(np.float64)
    best, stalled = (float(np.linalg.norm(fx * w)), x), 0
    for _ in range(iters):
        free = ~(((x <= lo) & (fx > 0)) | ((x >= hi) & (fx < 0)))
        if np.all((np.abs(fx) * w <= 1.0) | ~free):
            break
        dx = np.zeros(n)
        sub = np.ix_(free, free)
        dx[free] = np.linalg.lstsq(jac[sub] * w[free, None], -fx[free] * w[free], rcond=None)[0]
        big = np.abs(dx).max()
        if big > 1.5:
            dx *= 1.5 / big
        xn = np.clip(x + dx, lo, hi)
        fn = f(xn)
        if np.linalg.norm(fn * w) > np.linalg.norm(fx * w):
            xh = np.clip(x + 0.5 * (xn - x), lo, hi)
            fh = f(xh)
            if np.linalg.norm(fh * w) < np.linalg.norm(fn * w):
                xn, fn = xh, fh
        step = xn - x
        if not np.any(step):
            break
        jac += np.outer((fn - fx) - jac @ step, step) / float(step @ step)
        nn = float(np.linalg.norm(fn * w))
        if nn < best[0]:
            stalled = stalled + 1 if nn > STALL_GAIN * best[0] else 0
            best = (nn, xn)
        else:
            stalled += 1
        if stalled >= STALL_ITERS:
            break  # conflicting targets: no strengths meet them all; the best compromise stands
        if nn <= np.linalg.norm(fx * w) * 1.5:
            x, fx = xn, fn
    x = best[1]
    return p.with_(**dict(zip(names, map(float, x)))), jac


#: Start a joint solve with no Jacobian to go on from finite differences (one transform
#: per attribute) rather than the model slopes: the attributes pull on each other hard
#: (a temperature shift moves contrast and colourfulness), which Broyden updates along a
#: few wild steps learn slowly.
FD_START = True
FD_STEP = 0.1
#: The joint step stops after this many steps in a row that cut the best weighted error
#: by less than 1 − STALL_GAIN (targets that conflict, e.g. a warm cast on a grey region
#: that must also stay grey, have no exact solution to converge to).
STALL_ITERS = 3
STALL_GAIN = 0.9


def _fd_jacobian(f, x: np.ndarray, fx: np.ndarray, lo: np.ndarray, hi: np.ndarray, names) -> np.ndarray:
    """Forward-difference Jacobian of ``f`` at ``x`` (steps of FD_STEP toward the range's
    inside); a column with no change falls back to the model slope."""
    n = len(names)
    jac = np.zeros((n, n))
    for k in range(n):
        h = FD_STEP if x[k] + FD_STEP <= hi[k] else -FD_STEP
        xk = x.copy()
        xk[k] = float(np.clip(x[k] + h, lo[k], hi[k]))
        d = xk[k] - x[k]
        col = (f(xk) - fx) / d if d != 0 else np.zeros(n)
        if not np.all(np.isfinite(col)) or col[k] <= 0:
            col = np.zeros(n)
            col[k] = MODEL_SLOPE.get(names[k], 1.0)
        jac[:, k] = col
    return jac


@dataclass
class Solution:
    params: op.Params
    raw: dict[str, float]
    #: the Jacobian the joint step learned (attribute order: :data:`ORDER`), a start for
    #: a similar solve (the same region again, or a neighbour); None if none was run
    jac: np.ndarray | None = None


def _tolerances(targets: Mapping[str, float], table) -> dict[str, float]:
    out = {}
    for a, r in targets.items():
        if table is not None and a in table:
            lev = table[a].to_level(r)
            span = abs(table[a].to_raw(min(EXTENDED, lev + LEVEL_TOL)) - table[a].to_raw(max(-EXTENDED, lev - LEVEL_TOL))) / 2
            out[a] = max(span, 1e-6 * max(1.0, abs(r)))
        else:
            out[a] = 1e-3 * max(1.0, abs(r))
    return out


def calibrate(sample: RegionSample, targets: Mapping[str, float], measured: Mapping[str, float],
              pivot: float) -> dict[str, float]:
    """Offsets (in :func:`to_lin` coordinates) from the sample's values at identity to the
    region's exact ``measured`` raw values: they remove the sampling error from targets."""
    at_id = sample.values(op.Params(pivot=pivot), list(targets))
    return {a: to_lin(a, at_id[a]) - to_lin(a, measured[a]) for a in targets
            if a in measured and math.isfinite(measured[a])}


def shift_targets(targets: Mapping[str, float], offset: Mapping[str, float]) -> dict[str, float]:
    """Raw targets moved by calibration offsets (see :func:`calibrate`)."""
    return {a: from_lin(a, to_lin(a, y) + offset.get(a, 0.0)) for a, y in targets.items()}


def within(sample: RegionSample, p: op.Params, targets: Mapping[str, float], tol: Mapping[str, float],
           slack: float = 3.0, bounds: Mapping[str, tuple[float, float]] | None = None) -> bool:
    """Whether every attribute of the sample after ``p`` is within ``slack``·tol of its
    (already shifted) raw target, or pinned at the end of its strength range trying."""
    now = sample.values(p, list(targets))
    for a, y in targets.items():
        if abs(now[a] - y) <= slack * tol[a]:
            continue
        lo, hi = _range(a, bounds)
        s = getattr(p, a)
        if not ((s == lo and now[a] > y) or (s == hi and now[a] < y)):
            return False
    return True


def solve_region(sample: RegionSample, targets: Mapping[str, float], table=None,
                 start: op.Params | None = None, passes: int = PASSES,
                 measured: Mapping[str, float] | None = None,
                 offset: Mapping[str, float] | None = None,
                 bounds: Mapping[str, tuple[float, float]] | None = None,
                 jac: np.ndarray | None = None) -> Solution:
    """Strengths that move the region's raw values to ``targets`` (attribute → raw).

    ``measured``: the region's exact raw values now (full mask); the sample's own
    values at identity are then calibrated to them (offset), which removes the
    sampling error from the targets. ``offset``: such offsets computed before (then
    ``measured`` is not needed). ``bounds``: attribute → (lo, hi) narrowing the
    operators' strength ranges. ``jac``: a Jacobian to start from (:class:`Solution`'s).
    """
    p = start or op.Params(pivot=sample.mean_luma())
    if sample.empty or not targets:
        return Solution(p, {})
    tol = _tolerances(targets, table)
    if offset is None:
        offset = calibrate(sample, targets, measured, p.pivot) if measured else {}
    targets = shift_targets(targets, offset)
    if "clarity" in targets:
        lo, hi = _range("clarity", bounds)
        s, _ = solve_monotone(lambda v: sample.raw(p.with_(clarity=v), "clarity"), targets["clarity"], lo, hi,
                              p.clarity, tol["clarity"])
        p = p.with_(clarity=s)
    names = [a for a in ORDER if a in targets]
    p, learned = _joint(sample, p, {a: targets[a] for a in names}, tol, bounds=bounds, jac0=jac)
    for _ in range(passes):
        done = True
        now = sample.values(p, names) if names else {}
        for a in names:
            cur = now[a] if a == names[0] or done else sample.raw(p, a)
            lo, hi = _range(a, bounds)
            s_now = getattr(p, a)
            if abs(cur - targets[a]) <= 3 * tol[a] or (s_now == lo and cur > targets[a]) or (s_now == hi and cur < targets[a]):
                continue
            done = False
            s, _ = solve_monotone(lambda v, a=a: sample.raw(p.with_(**{a: v}), a), targets[a], lo, hi,
                                  getattr(p, a), tol[a], g0=cur, step=first_step(a, cur, targets[a]))
            p = p.with_(**{a: s})
        if done:
            break
    got = sample.values(p, list(targets))
    return Solution(p, {a: from_lin(a, to_lin(a, got[a]) - offset.get(a, 0.0)) for a in targets}, learned)
