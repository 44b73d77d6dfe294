"""The parametric engine (default): analytic operators, full resolution, milliseconds.

``ParametricEngine(table).render(image, recipe, regions) → RenderResult``

1. *Plan* (shared with :mod:`pertouch.engine.reference`): measure the input at
   512×512; for ``global`` and then each region in recipe order, turn every edit
   into a target level (``to``, or measured + ``by``) and solve operator strengths
   on the proxy so the region's measured level reaches it (:mod:`.solve`). Regions
   are solved on the proxy after the global edit, which lies under them, and
   overlapping ones together (:mod:`.stack`). The regions' weights, samples and
   supports are prepared on two worker threads meanwhile (:mod:`.prepare`).
2. *Apply*: the global edit is one per-pixel pass over the photo; each region's
   whole edit is ONE fused transform (LUT → 3×3 matrix → soft clip) applied to the
   rows of its bounding box and blended with an edge-aware weight computed on the
   fly from low-resolution guided-filter coefficients (:mod:`.blend`,
   :mod:`.kernels`): inside a region three packed table lookups per pixel, the weight
   arithmetic only along its borders. Later regions go over earlier ones. Pixels
   outside every edited region are bit-identical to the input; an identity recipe
   returns an exact copy (made on its own thread while planning). A *held* region
   (every edit ``by 0`` or ``to`` its measured level) gets no edit: the input is
   blended back through its weight (:mod:`.restore`), so what the global edit clipped
   or shifted there comes back ("brighten everything except the sky").
3. *Report*: the output is measured again; ``Achieved(before, target, achieved)`` per
   region/attribute. On photos up to 0.6 MP, an error above 0.015 triggers one
   correction: targets shift by the measured error, solve and apply run again.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from pertouch.engine import measure as ms
from pertouch.engine import operators as op
from pertouch.engine.base import Achieved, RenderResult
from pertouch.engine.blend import Weights, luma_unit, weights_for
from pertouch.engine.estimators import MEASURE_SIZE
from pertouch.engine.kernels import apply_layer
from pertouch.engine.levels import EXTENDED, LevelTable, default_table
from pertouch.engine.recipe import GLOBAL, Recipe, RegionEdit
from pertouch.engine.regions import Region
from pertouch.engine.solve import RegionSample, calibrate, solve_region
from pertouch.engine.plancache import LayerCache, digest
from pertouch.engine.prepare import copy_image, executor, opencv_threads, region_sample, region_weights
from pertouch.engine.restore import restore_layer
from pertouch.engine.inputs import (_check_aspect, _mask_array, check_image, downsize,  # noqa: F401 (re-exported)
                                   is_guess, region_mask)
from pertouch.engine.stack import LayerProblem, find_overlaps, solve_layers


#: Photos up to this size are solved on their own pixels (exact); larger ones on the
#: 512×512 measuring image, which then samples them closely anyway.
EXACT_MAX_PIXELS = 600_000
#: A render whose worst level error exceeds this gets one correction pass ...
CORRECT_ABOVE = 0.015
#: ... when the photo is at most this large (beyond, the proxy is close to the photo and
#: a second full-resolution pass costs more than it buys).
CORRECT_MAX_PIXELS = 600_000
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


class ParametricEngine:
    """The default engine. ``table`` is the level table (packaged default if None)."""

    name = "parametric"

    def __init__(self, table: LevelTable | None = None, passes: int = 1, joint: bool = True,
                 cache_size: int = 64) -> None:
        self.table = table or default_table()
        self.passes = passes
        #: solve overlapping regions together (:mod:`.stack`); False = each on its own
        self.joint = joint
        #: counters of the last plan: ``solves`` (single-region solves run), ``sweeps``
        self.stats: dict[str, int] = {}
        #: solved layers and region weights of recent plans (:mod:`.plancache`)
        self.cache = LayerCache(cache_size)

    # -- planning (shared with the reference renderer) ----------------------------------
    def _targets(self, edit: RegionEdit, before: dict[str, float]) -> dict[str, float]:
        return {a: e.target(before[a]) for a, e in edit.attributes.items()}

    def plan(self, image: np.ndarray, recipe: Recipe, regions: Mapping,
             corrections: Mapping[str, Mapping[str, float]] | None = None) -> Plan:
        """Solve every layer's strengths on the 512×512 proxy (solved layers are cached).

        ``corrections``: layer → attribute → level offset added to the solve's target
        (from a first render's measured error), the reported target stays the asked one.
        """
        t0 = time.perf_counter()
        check_image(image)
        self.stats = {}
        exact = image.shape[0] * image.shape[1] <= EXACT_MAX_PIXELS
        meas, pdig = self.cache.photo(image, lambda im: _measured(im, exact))
        src_key = (exact, pdig, self.passes)
        # "by 0" on a region is a no-op unless the global edit changes that attribute: then
        # it holds the region at its input level ("brighten everything except the sky")
        moved = {a for a, ed in recipe.global_.attributes.items() if not ed.is_noop}
        entries = [(n, e) for n, e in recipe.entries()
                   if not e.is_noop or (n != GLOBAL and moved.intersection(e.attributes))]
        masks = {n: region_mask(n, regions, image.shape[:2]) for n, e in entries if n != GLOBAL}
        guessed = {n: is_guess(regions[n]) for n in masks}
        # the whole plan, when nothing it depends on changed (a preview re-rendered)
        plan_key = (src_key, image.shape[:2], recipe.model_dump_json(),
                    tuple((n, self.cache.mask_digest(_mask_array(regions[n])), guessed[n]) for n in masks),
                    tuple(sorted((k, tuple(sorted(v.items()))) for k, v in (corrections or {}).items())))
        hit = self.cache.plans.get(plan_key)
        if hit is not None:
            self.stats = {"plan_cached": 1}
            return Plan(list(hit.layers), {"measure": (time.perf_counter() - t0) * 1e3, "solve": 0.0}, hit.shape)
        # what the solve samples: the photo itself (small photos: "edit, then resize to
        # 512" reproduced exactly) or the 512×512 measuring image (large photos)
        src = ms.to_unit_float(image) if exact else meas.rgb / 255.0
        sigma = op.clarity_sigma(*src.shape[:2])
        t1 = time.perf_counter()
        layers: list[Layer] = []
        problems: list[LayerProblem] = []
        keys: list[tuple] = []
        src_meas = None
        guide_cache: dict = {}
        under = op.Params()  # the global layer's strengths, under every region
        todo = [n for n, _ in entries if n != GLOBAL]
        t_prep = t1
        with opencv_threads(1):  # two workers are the parallelism: OpenCV's would oversubscribe
            # the regions' weights (independent of the global edit) start on the workers now
            lock = threading.Lock()
            wjobs = {n: executor("plan", 2).submit(region_weights, self.cache, _mask_array(regions[n]), masks[n],
                                                   image, src_key, guide_cache, lock, guessed[n])
                     for n in todo}
            # the regions' weights follow the INPUT's luma (the kernel's guide), at src's size
            lum_src = None if exact else luma_unit(np.round(src * 255).astype(np.uint8))
            masks512 = {n: ms.measure_mask(m) for n, m in masks.items()}
            wanted = sorted({a for _, e in entries for a in e.attributes})
            # every region measured at once (one pass over a label image for a partition)
            raw_all = dict(zip(masks512, meas.raw_many(list(masks512.values()), wanted)))
            now_all = raw_all
            preps: dict[str, tuple] = {}
            for name, edit in entries:
                if name != GLOBAL and not preps:
                    # every region's sample and support, on the workers too (OpenCV, NumPy
                    # release the GIL); the global edit under them is solved by now
                    args = (image, src, lum_src, src_key, under, exact)
                    preps = dict(zip(todo, executor("plan", 2).map(
                        lambda n: region_sample(self.cache, *wjobs[n].result(), masks512[n], *args), todo)))
                    t_prep = time.perf_counter()
                weights = w_src = None
                corr = (corrections or {}).get(name, {})
                key = (src_key, edit.model_dump_json(), tuple(sorted(corr.items())))
                if name == GLOBAL:
                    mask512, mask = np.ones(MEASURE_SIZE[::-1], bool), None
                else:
                    mask, mask512 = masks[name], masks512[name]
                    mdig, weights, prep = preps[name]
                    key += (mdig, under)
                    w_src = prep[0]
                names = list(edit.attributes)
                raw_in = meas.raw(mask512, names) if name == GLOBAL else {a: raw_all[name][a] for a in names}
                before = ms.to_levels(raw_in, self.table)
                if any(math.isnan(v) for v in before.values()):
                    continue  # empty region at measuring size: nothing to edit
                target = self._targets(edit, before)
                raw_t = {a: float(self.table[a].to_raw(min(EXTENDED, max(-EXTENDED, v + corr.get(a, 0.0)))))
                         for a, v in target.items()}
                sample = RegionSample.build(src, mask512) if name == GLOBAL else prep[1]
                now = raw_in if src_meas is None else {a: now_all[name][a] for a in names}
                hold = name != GLOBAL and all(abs(target[a] - before[a]) <= HOLD_TOL for a in target)
                layers.append(Layer(name, op.Params(), mask, before, target, weights,
                                    None if name == GLOBAL else mask512, guessed.get(name, False), hold))
                if hold:
                    continue
                if name == GLOBAL:
                    under = self.cache.params.get(("alone", key))
                    if under is None:
                        under = solve_region(sample, raw_t, self.table, passes=self.passes, measured=now).params
                        self.cache.params.put(("alone", key), under)
                        self.stats["solves"] = self.stats.get("solves", 0) + 1
                    layers[-1].params = under
                    if not under.is_identity:
                        src = op.apply_chain(src, under, sigma)
                        src_meas = ms.Measurer(src) if exact else ms.Measurer(src * 255.0, measured=True)
                        now_all = dict(zip(masks512, src_meas.raw_many(list(masks512.values()), wanted)))
                    continue
                offset = calibrate(sample, raw_t, now, sample.mean_luma()) if not sample.empty else {}
                problems.append(LayerProblem(name, sample, w_src, prep[2], mask512, raw_t, offset,
                                             alone=self.cache.params.get(("alone", key))))
                keys.append(key)
        self._solve(problems, keys)
        solved = {pr.name: pr.params for pr in problems}
        for layer in layers:
            if layer.name in solved:
                layer.params = solved[layer.name] or op.Params()
        t_end = time.perf_counter()
        plan = Plan(layers, {"measure": (t1 - t0) * 1e3, "prepare": (t_prep - t1) * 1e3,
                             "solve": (t_end - t_prep) * 1e3},
                    image.shape[:2])
        self.cache.plans.put(plan_key, plan)
        return plan

    def _solve(self, problems: list[LayerProblem], keys: list[tuple]) -> None:
        """Solve the region layers, starting from cached solutions; cache the results."""
        find_overlaps(problems)
        joint_keys = [(k, tuple(keys[j] for j in pr.overlaps)) for k, pr in zip(keys, problems)]
        if self.joint:
            for pr, jk in zip(problems, joint_keys):
                pr.params = self.cache.params.get(("joint", jk)) if pr.overlaps else None
        solve_layers(problems, self.table, self.passes, self.stats, joint=self.joint)
        for pr, k, jk in zip(problems, keys, joint_keys):
            self.cache.params.put(("alone", k), pr.alone)
            if self.joint and pr.overlaps:
                self.cache.params.put(("joint", jk), pr.params)

    def report(self, output: np.ndarray, plan: Plan) -> list[Achieved]:
        """Measure the output and compare with every layer's targets."""
        meas = ms.Measurer(output)
        whole = np.ones(meas.rgb.shape[:2], bool)
        masks = [whole if layer.mask is None else layer.mask512 if layer.mask512 is not None
                 else ms.measure_mask(layer.mask) for layer in plan.layers]
        wanted = sorted({a for layer in plan.layers for a in layer.target})
        out: list[Achieved] = []
        for layer, raw in zip(plan.layers, meas.raw_many(masks, wanted)):  # all regions in one pass
            got = ms.to_levels({a: raw[a] for a in layer.target}, self.table)
            out += [Achieved(layer.name, a, layer.before[a], layer.target[a], got[a]) for a in layer.target]
        return out

    # -- rendering ------------------------------------------------------------------
    def apply(self, image: np.ndarray, plan: Plan, out: np.ndarray | None = None) -> np.ndarray:
        """The fast pass: one fused transform per layer, applied on its bbox, blended.

        ``image`` is the photo the plan was solved on, or a resized copy of it (a
        preview): the strengths were solved on the 512×512 proxy, so they hold at any
        size; region weights are rescaled (or rebuilt, below the weight grid's size).
        """
        check_image(image)
        if plan.shape != (0, 0) and image.shape[:2] != tuple(plan.shape):
            _check_aspect(image.shape[:2], tuple(plan.shape))
        n = 256 if image.dtype == np.uint8 else 65536
        base = image
        guide_cache: dict = {}
        out = image.copy() if out is None else out
        changed = False  # a held region needs restoring only once something has changed
        for layer in plan.layers:
            if layer.hold and changed:
                w = _weights_at(layer, image, guide_cache)
                restore_layer(image, out, w.a, w.b, w.bbox, w.spans)
            if layer.hold or layer.params.is_identity:
                continue
            changed = True
            t = op.compile_transform(layer.params, n)
            if layer.mask is None:
                w = Weights.everywhere(image.shape[:2])
                detail = _detail(image, w.bbox, t.clarity)
                base = np.empty_like(image)
                apply_layer(image, base, image, t, w.a, w.b, w.bbox, detail, w.spans)
                out = base.copy()
                continue
            w = _weights_at(layer, image, guide_cache)
            apply_layer(base, out, image, t, w.a, w.b, w.bbox, _detail(base, w.bbox, t.clarity), w.spans)
        return out

    def preview(self, image: np.ndarray, recipe: Recipe, regions: Mapping, max_pixels: int = 1_000_000,
                small: np.ndarray | None = None) -> RenderResult:
        """``recipe`` rendered on a copy of ``image`` of at most ``max_pixels``.

        Strengths are solved for the full photo (on its proxy; cached, so a repeated or
        slightly changed recipe re-solves only what changed) and applied to ``small``,
        a downsized copy the caller keeps, or one made here (area-averaged). The report
        is measured on the preview.
        """
        check_image(image)
        if small is None:
            small = downsize(image, max_pixels)
        if recipe.is_identity:
            return RenderResult(small.copy(), [], self.name, {})
        out, rep, timings = self._apply_report(small, self.plan(image, recipe, regions))
        return RenderResult(out, rep, self.name, timings)

    def _apply_report(self, image: np.ndarray, plan: Plan,
                      out: np.ndarray | None = None) -> tuple[np.ndarray, list[Achieved], dict]:
        t0 = time.perf_counter()
        out = self.apply(image, plan, out)
        t1 = time.perf_counter()
        rep = self.report(out, plan)
        return out, rep, dict(plan.timings_ms, apply=(t1 - t0) * 1e3, report=(time.perf_counter() - t1) * 1e3)

    def render(self, image: np.ndarray, recipe: Recipe, regions: Mapping[str, Region]) -> RenderResult:
        check_image(image)
        if recipe.is_identity:
            return RenderResult(image.copy(), [], self.name, {})
        # the output starts as a copy of the photo: made by a worker thread while planning
        # (OpenCV's copy releases the GIL; 12 MP take ~10 ms)
        copy = executor("copy", 1).submit(copy_image, image)
        out, rep, timings = self._apply_report(image, self.plan(image, recipe, regions), copy.result())
        t1 = time.perf_counter()
        worst = max((abs(a.error) for a in rep), default=0.0)
        if worst > CORRECT_ABOVE and image.shape[0] * image.shape[1] <= CORRECT_MAX_PIXELS:
            # The proxy is not the photo (sampling, resize vs. curve): correct once by the
            # measured error, re-solve and re-render; keep whichever came closer.
            corr: dict[str, dict[str, float]] = {}
            for a in rep:
                if abs(a.error) > CORRECT_ABOVE / 2:
                    corr.setdefault(a.region, {})[a.attribute] = -a.error
            out2, rep2, _ = self._apply_report(image, self.plan(image, recipe, regions, corr))
            if sum(abs(a.error) for a in rep2) < sum(abs(a.error) for a in rep):
                out, rep = out2, rep2
            timings["correct"] = (time.perf_counter() - t1) * 1e3
        return RenderResult(out, rep, self.name, timings)


def _measured(image: np.ndarray, exact: bool) -> tuple[ms.Measurer, str]:
    """The photo's measurer and the digest of what the solve samples (the photo itself
    when ``exact``, else its 512×512 measuring image)."""
    meas = ms.Measurer(image)
    return meas, digest(image if exact else meas.rgb)


def _weights_at(layer: Layer, image: np.ndarray, cache: dict) -> Weights:
    """A region layer's weights for ``image`` (the planned photo or a resized copy)."""
    w = layer.weights
    if w is not None and w.shape == image.shape[:2]:
        return w
    if w is not None and max(image.shape[:2]) >= max(w.a.shape):
        return w.resized(image.shape[:2])
    return weights_for(layer.mask, image, cache, layer.feather)


def _detail(image: np.ndarray, bbox: tuple[int, int, int, int], clarity: float) -> np.ndarray | None:
    """Clarity's detail layer on the bbox (computed with a margin so crop edges match)."""
    if clarity == 0.0:
        return None
    h, w = image.shape[:2]
    sigma = op.clarity_sigma(h, w)
    pad = int(math.ceil(4 * sigma)) + 2  # the Gaussian (4σ) or the guided filter (two boxes of 2σ)
    y0, y1, x0, x1 = bbox
    py0, py1, px0, px1 = max(0, y0 - pad), min(h, y1 + pad), max(0, x0 - pad), min(w, x1 + pad)
    crop = ms.to_unit_float(image[py0:py1, px0:px1])
    d = op.detail_layer(crop, sigma, clarity)
    return np.ascontiguousarray(d[y0 - py0:y1 - py0, x0 - px0:x1 - px0])
