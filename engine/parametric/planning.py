"""One plan of the parametric engine, step by step (:meth:`ParametricEngine.plan`).

:class:`PlanRun` holds what a plan works on — the photo's measurer, the recipe's entries,
the regions' masks, the layers and solve problems made so far — so each step is a named
method instead of one long loop:

1. :meth:`PlanRun.key` — what the whole plan depends on (a preview re-render hits the cache);
2. :meth:`PlanRun.start` — the solve's source image; the regions' weights start on the
   workers; every region measured at once;
3. :meth:`PlanRun.add` per recipe entry, global first — measure ``before``, make the
   target, then :meth:`PlanRun._solve_global` (solved at once, applied under the regions)
   or :meth:`PlanRun._queue_region` (solved later, overlapping regions together).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

import numpy as np

from pertouch.engine.measure import stats as ms
from pertouch.engine.measure.estimators import MEASURE_SIZE
from pertouch.engine.ops import operators as op
from pertouch.engine.parametric.blend import Weights, luma_unit
from pertouch.engine.parametric.cache import digest
from pertouch.engine.parametric.inputs import mask_array, is_guess, region_mask
from pertouch.engine.parametric.prepare import executor, region_sample, region_weights
from pertouch.engine.parametric.solve import RegionSample, calibrate, solve_region
from pertouch.engine.parametric.stack import LayerProblem
from pertouch.engine.schema.levels import EXTENDED
from pertouch.engine.schema.recipe import GLOBAL, Recipe, RegionEdit

if TYPE_CHECKING:  # pragma: no cover
    from pertouch.engine.parametric.engine import ParametricEngine

#: Photos up to this size are solved on their own pixels (exact); larger ones on the
#: 512×512 measuring image, which then samples them closely anyway.
EXACT_MAX_PIXELS = 600_000
#: A render whose level error exceeds this is corrected once (see ParametricEngine.render) …
CORRECT_ABOVE = 0.015
#: A region whose every target lies within this of its measured level is held: its input
#: pixels are restored (the level error an edit is allowed anyway).
HOLD_TOL = CORRECT_ABOVE


@dataclass
class Layer:
    """One solved edit: where (mask or everywhere), what (params) and the targets."""

    name: str
    params: op.Params
    mask: np.ndarray | None          # None = the whole photo (global)
    before: dict[str, float]          # measured input levels of the edited attributes
    target: dict[str, float]          # target levels
    weights: Weights | None = None    # the region's blend weights (built while planning)
    mask512: np.ndarray | None = None  # where it is measured: (512, 512) bool (None = everywhere)
    feather: bool = False              # a guessed mask: its unsure bands re-fitted (blend)
    hold: bool = False                 # held: the input restored through its weight (no edit)


@dataclass
class Plan:
    """Solved layers. ``shape``: the (H, W) of the photo planned on; the same plan
    applies to any resized copy of it (:meth:`ParametricEngine.apply`)."""

    layers: list[Layer]
    timings_ms: dict[str, float]
    shape: tuple[int, int] = (0, 0)


def measured(image: np.ndarray, exact: bool) -> tuple[ms.Measurer, str]:
    """The photo's measurer and the digest of what the solve samples (the photo itself
    when ``exact``, else its 512×512 measuring image)."""
    meas = ms.Measurer(image)
    return meas, digest(image if exact else meas.rgb)


def planned_entries(recipe: Recipe) -> list[tuple[str, RegionEdit]]:
    """The recipe's entries that do something. "by 0" on a region is a no-op unless the
    global edit or an earlier region's edit changes that attribute: then it holds the region
    at its input level ("brighten everything except the sky"; "darken the wall behind them",
    whose soft border would otherwise reach across thin hair into the faces)."""
    moved = {a for a, ed in recipe.global_.attributes.items() if not ed.is_noop}
    out = []
    for n, e in recipe.entries():
        if not e.is_noop or (n != GLOBAL and moved.intersection(e.attributes)):
            out.append((n, e))
        if n != GLOBAL and not e.is_noop:
            moved |= {a for a, ed in e.attributes.items() if not ed.is_noop}
    return out


class PlanRun:
    """The working state of one :meth:`ParametricEngine.plan` call."""

    def __init__(self, engine: "ParametricEngine", image: np.ndarray, recipe: Recipe, regions: Mapping,
                 corrections: Mapping[str, Mapping[str, float]] | None) -> None:
        self.engine, self.cache, self.table = engine, engine.cache, engine.table
        self.image, self.regions, self.recipe = image, regions, recipe
        self.corrections = corrections or {}
        self.exact = image.shape[0] * image.shape[1] <= EXACT_MAX_PIXELS
        self.meas, pdig = self.cache.photo(image, lambda im: measured(im, self.exact))
        self.src_key = (self.exact, pdig, engine.passes)
        self.entries = planned_entries(recipe)
        self.masks = {n: region_mask(n, regions, image.shape[:2]) for n, e in self.entries if n != GLOBAL}
        self.guessed = {n: is_guess(regions[n]) for n in self.masks}
        self.todo = [n for n, _ in self.entries if n != GLOBAL]
        self.layers: list[Layer] = []
        self.problems: list[LayerProblem] = []
        self.keys: list[tuple] = []
        self.under = op.Params()  # the global layer's strengths, under every region
        self.src_meas: ms.Measurer | None = None
        self.preps: dict[str, tuple] = {}
        self.prepared_at: float | None = None

    def key(self) -> tuple:
        """Everything the whole plan depends on (a preview re-rendered hits the cache)."""
        corr = self.corrections
        return (self.src_key, self.image.shape[:2], self.recipe.model_dump_json(),
                tuple((n, self.cache.mask_digest(mask_array(self.regions[n])), self.guessed[n]) for n in self.masks),
                tuple(sorted((k, tuple(sorted(v.items()))) for k, v in corr.items())))

    def source(self) -> None:
        """What the solve samples: the photo itself (small photos: "edit, then resize to
        512" reproduced exactly) or the 512×512 measuring image (large photos)."""
        self.src = ms.to_unit_float(self.image) if self.exact else self.meas.rgb / 255.0
        self.sigma = op.clarity_sigma(*self.src.shape[:2])

    def start(self) -> None:
        """Start the regions' weights on the workers (independent of the global edit) and
        measure every region at once (one pass over a label image for a partition)."""
        lock, guide_cache = threading.Lock(), {}
        self.wjobs = {n: executor("plan", 2).submit(region_weights, self.cache, mask_array(self.regions[n]),
                                                    self.masks[n], self.image, self.src_key, guide_cache, lock,
                                                    self.guessed[n])
                      for n in self.todo}
        # the regions' weights follow the INPUT's luma (the kernel's guide), at src's size
        self.lum_src = None if self.exact else luma_unit(np.round(self.src * 255).astype(np.uint8))
        self.masks512 = {n: ms.measure_mask(m) for n, m in self.masks.items()}
        self.wanted = sorted({a for _, e in self.entries for a in e.attributes})
        self.raw_all = dict(zip(self.masks512, self.meas.raw_many(list(self.masks512.values()), self.wanted)))
        self.now_all = self.raw_all

    def _prepare_regions(self) -> None:
        """Every region's sample and support, on the workers too (OpenCV, NumPy release the
        GIL); the global edit under them is solved by now."""
        args = (self.image, self.src, self.lum_src, self.src_key, self.under, self.exact)
        self.preps = dict(zip(self.todo, executor("plan", 2).map(
            lambda n: region_sample(self.cache, *self.wjobs[n].result(), self.masks512[n], *args), self.todo)))
        self.prepared_at = time.perf_counter()

    def add(self, name: str, edit: RegionEdit) -> None:
        """Measure one entry's region, make its targets, and solve (global) or queue it."""
        if name != GLOBAL and not self.preps:
            self._prepare_regions()
        weights = w_src = prep = None
        corr = self.corrections.get(name, {})
        key = (self.src_key, edit.model_dump_json(), tuple(sorted(corr.items())))
        if name == GLOBAL:
            mask512, mask = np.ones(MEASURE_SIZE[::-1], bool), None
        else:
            mask, mask512 = self.masks[name], self.masks512[name]
            mdig, weights, prep = self.preps[name]
            key += (mdig, self.under)
            w_src = prep[0]
        names = list(edit.attributes)
        raw_in = self.meas.raw(mask512, names) if name == GLOBAL else {a: self.raw_all[name][a] for a in names}
        before = ms.to_levels(raw_in, self.table)
        if any(math.isnan(v) for v in before.values()):
            return  # empty region at measuring size: nothing to edit
        target = self.engine._targets(edit, before)
        raw_t = {a: float(self.table[a].to_raw(min(EXTENDED, max(-EXTENDED, v + corr.get(a, 0.0)))))
                 for a, v in target.items()}
        sample = RegionSample.build(self.src, mask512) if name == GLOBAL else prep[1]
        now = raw_in if self.src_meas is None else {a: self.now_all[name][a] for a in names}
        hold = name != GLOBAL and all(abs(target[a] - before[a]) <= HOLD_TOL for a in target)
        self.layers.append(Layer(name, op.Params(), mask, before, target, weights,
                                 None if name == GLOBAL else mask512, self.guessed.get(name, False), hold))
        if hold:
            return
        if name == GLOBAL:
            self._solve_global(sample, raw_t, now, key)
        else:
            self._queue_region(name, sample, w_src, prep, mask512, raw_t, now, key)

    def _solve_global(self, sample: RegionSample, raw_t: dict, now: dict, key: tuple) -> None:
        """Solve the global edit now; the regions are measured and solved on top of it."""
        stats = self.engine.stats
        under = self.cache.params.get(("alone", key))
        if under is None:
            under = solve_region(sample, raw_t, self.table, passes=self.engine.passes, measured=now).params
            self.cache.params.put(("alone", key), under)
            stats["solves"] = stats.get("solves", 0) + 1
        self.under = self.layers[-1].params = under
        if not under.is_identity:
            self.src = op.apply_chain(self.src, under, self.sigma)
            self.src_meas = ms.Measurer(self.src) if self.exact else ms.Measurer(self.src * 255.0, measured=True)
            self.now_all = dict(zip(self.masks512, self.src_meas.raw_many(list(self.masks512.values()), self.wanted)))

    def _queue_region(self, name: str, sample: RegionSample, w_src, prep: tuple, mask512: np.ndarray,
                      raw_t: dict, now: dict, key: tuple) -> None:
        """A region's solve problem, solved with the others (overlapping ones together)."""
        offset = calibrate(sample, raw_t, now, sample.mean_luma()) if not sample.empty else {}
        self.problems.append(LayerProblem(name, sample, w_src, prep[2], mask512, raw_t, offset,
                                          alone=self.cache.params.get(("alone", key))))
        self.keys.append(key)
