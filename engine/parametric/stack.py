"""Solve overlapping region layers together: block Gauss–Seidel over the layers.

Regions are applied in recipe order, each blended over the result so far, so where
they overlap a later region changes what an earlier region's measurement sees (and
an earlier one shows through a later one's soft edge). At a sample pixel the output
is a chain of blends ``x ← x + w_k·(t_k(base) − x)``, which is linear in any one
layer's edit: ``out = rest_i + bw_i·t_i(base)`` with ``rest_i``, ``bw_i`` fixed by the
other layers (:func:`compose`). So each layer is solved as a single region given the
others' current strengths; sweeps run from the top layer down (the top one is the
least affected) until every layer is within tolerance of its targets (at most
:data:`MAX_SWEEPS`). Layers that overlap nothing are solved once, exactly as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pertouch.engine.ops import operators as op
from pertouch.engine.parametric.fast.samplepass import edit_taps
from pertouch.engine.parametric.sample import N_LUT, RegionSample
from pertouch.engine.parametric.solve import LEVEL_TOL, to_lin, from_lin, solve_region

#: At most this many sweeps over overlapping layers (the first one included).
MAX_SWEEPS = 4
#: A layer whose measured pixels show less than this much of its own edit on average
#: (the rest is later layers over it) is *covered*: compensating would need its visible
#: part pushed more than 1/VISIBLE_MIN times as far as asked (extreme, clipped edits), so
#: it is solved on its own as if nothing lay over it, and its report shows the miss.
VISIBLE_MIN = 0.3
#: Compensating for overlaps moves a strength at most this far from the layer's own
#: solution (operator units: ×2 chroma or contrast, ×4 linear gain, 100 mired): where
#: overlapping targets conflict, the miss is reported rather than the pixels wrecked.
COMPENSATE = 1.0


@dataclass
class LayerProblem:
    """One region layer while planning: its sample, weights, targets and current strengths.

    ``wmap``: its blend weights at the sample's ``src`` size; ``support``: (512, 512)
    bool, where its weight may be > 0 (dilated); ``mask512``: where it is measured;
    ``raw_t``: raw targets; ``offset``: calibration offsets; ``params``: the current
    solution and ``alone`` the one as if nothing overlapped it (None = not solved yet;
    either may come from a cache).
    """

    name: str
    sample: RegionSample
    wmap: np.ndarray
    support: np.ndarray
    mask512: np.ndarray
    raw_t: dict[str, float]
    offset: dict[str, float]
    params: op.Params | None = None
    alone: op.Params | None = None
    overlaps: list[int] = field(default_factory=list)
    covered: bool = False
    cache: dict = field(default_factory=dict)   # other layers' weights / edits at the taps


def _at_taps(li: LayerProblem, k: int, lk: LayerProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, weight, edited values) of layer ``k`` at the rows of layer ``li``'s sample
    where its weight is > 0 at some tap (cached per strengths). Where segments only
    touch, that is a thin border: the rest of the sample is left as it is."""
    s = li.sample
    if ("w", k) not in li.cache:
        w = s.weights_at_taps(lk.wmap)
        rows = np.flatnonzero((w > 0).any(axis=1))
        li.cache[("w", k)] = (rows, w[rows][..., None])
    rows, w = li.cache[("w", k)]
    key = ("e", k, lk.params)
    if key not in li.cache:
        stale = [c for c in li.cache if c[0] == "e" and c[1] == k]
        for c in stale[:-2]:  # keep the last few strengths of each layer (a sweep tries 2)
            del li.cache[c]
        li.cache[key] = edit_taps(s.values_at_taps(lk.params.clarity)[rows], op.compile_transform(lk.params, N_LUT))
    return rows, w, li.cache[key]


def find_overlaps(layers: list[LayerProblem]) -> None:
    """Fill each layer's ``overlaps``: the other layers with weight inside its measured mask."""
    boxes = [_bbox(li.mask512) for li in layers]
    for i, li in enumerate(layers):
        b = boxes[i]
        li.overlaps = [k for k, lk in enumerate(layers) if k != i and b is not None
                       and bool((lk.support[b] & li.mask512[b]).any())]


def _bbox(mask: np.ndarray) -> tuple[slice, slice] | None:
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def compose(layers: list[LayerProblem], i: int) -> RegionSample:
    """Layer ``i``'s sample with the other layers (at their current strengths) folded in.

    It depends on the overlapping layers' strengths only (not on layer ``i``'s own), so
    the last one made is kept and reused while they stay the same."""
    li = layers[i]
    state = tuple(layers[k].params for k in li.overlaps)
    hit = li.cache.get(("composed",))
    if hit is not None and hit[0] == state:
        return hit[1]
    out = _compose(layers, i)
    li.cache[("composed",)] = (state, out)
    return out


def _compose(layers: list[LayerProblem], i: int) -> RegionSample:
    li = layers[i]
    s = li.sample
    x = s.orig.copy()
    bw = s.bw.copy()
    rest = None
    for k in sorted(li.overlaps + [i]):
        if k == i:
            rest = x * (1.0 - s.bw[..., None])
            continue
        lk = layers[k]
        if lk.params is None or lk.params.is_identity:
            continue  # not solved yet, or skipped when applied
        rows, wk, ek = _at_taps(li, k, lk)
        if rows.size == 0:
            continue
        if rest is None:
            x[rows] = x[rows] + wk * (ek - x[rows])
        else:
            rest[rows] = rest[rows] + wk * (ek - rest[rows])
            bw[rows] = bw[rows] * (1.0 - wk[..., 0])
    return s.composed(rest, bw)


def visible(sample: RegionSample) -> float:
    """Mean share of the layer's own edit in its measured pixels (1 = nothing over it)."""
    n = sample.n_px
    return float((sample.bw[:n] * sample.tw[:n]).sum(axis=1).mean()) if n else 1.0


def level_errors(layers: list[LayerProblem], i: int, table) -> np.ndarray:
    """Layer ``i``'s predicted level errors (achieved − target) given every layer's strengths."""
    li = layers[i]
    sample = compose(layers, i) if li.overlaps else li.sample
    got = sample.values(li.params, list(li.raw_t))
    if ("levels",) not in li.cache:  # the targets' levels do not change while solving
        li.cache[("levels",)] = {a: float(table[a].to_level(y)) for a, y in li.raw_t.items()
                              if table is not None and a in table}
    want = li.cache[("levels",)]
    out = []
    for a, y in li.raw_t.items():
        raw = from_lin(a, to_lin(a, got[a]) - li.offset.get(a, 0.0))
        out.append(float(table[a].to_level(raw)) - want[a] if a in want else (to_lin(a, raw) - to_lin(a, y)))
    return np.nan_to_num(np.array(out), nan=0.0)


def solve_layers(layers: list[LayerProblem], table, passes: int = 1, stats: dict | None = None,
                 joint: bool = True) -> None:
    """Solve every layer's strengths in place (``params``), overlapping ones jointly.

    First each layer on its own (``alone``: as if nothing overlapped it). Then, when
    ``joint``, sweeps over the overlapping layers (top down): each is re-solved to its
    targets given the others (within :data:`COMPENSATE` of its own solution), and the
    new strengths are kept only if they lower the summed squared level error of it and
    of every layer it reaches (else half the step is tried): a layer cannot meet its
    target by spoiling a neighbour's. ``stats`` counts ``solves`` and ``sweeps``.
    """
    stats = stats if stats is not None else {}
    # attribute set → the Jacobian the last solve learned: the next region's starting point
    # (re-solves over others start from the model slopes: covered, a layer's slopes shrink)
    learned: dict[tuple, np.ndarray] = {}
    for li in layers:
        if li.alone is None:
            names = tuple(sorted(li.raw_t))
            sol = solve_region(li.sample, li.raw_t, table, passes=passes, offset=li.offset, jac=learned.get(names))
            li.alone = sol.params
            if sol.jac is not None:
                learned[names] = sol.jac
            li.params = None
            stats["solves"] = stats.get("solves", 0) + 1
        if li.params is None:
            li.params = li.alone
    if not joint:
        return
    if not any(li.overlaps for li in layers):  # not found yet (a caller may have)
        find_overlaps(layers)
    if not any(li.overlaps for li in layers):
        return  # the usual segmenter case: disjoint regions, each solved once
    reach = {i: [j for j, lj in enumerate(layers) if i in lj.overlaps] for i in range(len(layers))}
    for li in layers:  # how much of a layer shows depends on the weights only
        li.covered = bool(li.overlaps) and visible(compose(layers, layers.index(li))) < VISIBLE_MIN
    judged = {i: [i] + [j for j in reach[i] if not layers[j].covered] for i in range(len(layers))}
    errs = {i: level_errors(layers, i, table) for i, li in enumerate(layers) if li.overlaps or reach[i]}
    tried: dict[int, tuple] = {}  # layer → its and its overlaps' strengths when last re-solved
    for sweep in range(MAX_SWEEPS):
        moved = False
        for i in reversed(range(len(layers))):
            li = layers[i]
            if not li.overlaps or li.covered or np.all(np.abs(errs[i]) <= LEVEL_TOL * 2):
                continue
            state = tuple(layers[k].params for k in [i] + li.overlaps)
            if tried.get(i) == state:
                continue  # nothing it depends on changed since: the same re-solve would be rejected again
            tried[i] = state
            bounds = {a: (getattr(li.alone, a) - COMPENSATE, getattr(li.alone, a) + COMPENSATE) for a in li.raw_t}
            sol = solve_region(compose(layers, i), li.raw_t, table, start=li.params, passes=passes,
                               offset=li.offset, bounds=bounds)
            stats["solves"] = stats.get("solves", 0) + 1
            moved = _try(layers, i, sol.params, judged[i], errs, table) or moved
        stats["sweeps"] = sweep + 1
        if not moved:
            break


def _try(layers: list[LayerProblem], i: int, cand: op.Params, judged: list[int], errs: dict, table) -> bool:
    """Keep ``cand`` (or half the step to it) for layer ``i`` if the judged layers' summed
    squared level error drops; update ``errs``. Returns whether anything was kept."""
    old = layers[i].params
    before = sum(float(errs[j] @ errs[j]) for j in judged)
    for p in (cand, _midway(old, cand)):
        if p == old:
            return False
        layers[i].params = p
        new = {j: level_errors(layers, j, table) for j in judged}
        if sum(float(e @ e) for e in new.values()) < before:
            errs.update(new)
            return True
    layers[i].params = old
    return False


def _midway(a: op.Params, b: op.Params) -> op.Params:
    return a.with_(**{f: 0.5 * (getattr(a, f) + getattr(b, f)) for f in
                      ("temperature", "tint", "brightness", "contrast", "highlights", "shadows", "colorfulness",
                       "clarity")})
