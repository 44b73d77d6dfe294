"""The parametric engine (default): analytic operators, full resolution, milliseconds.

``ParametricEngine(table).render(image, recipe, regions) → RenderResult``

1. *Plan* (shared with :mod:`pertouch.engine.parametric.reference`): measure the input at
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
import time
from typing import Mapping

import numpy as np

from pertouch.engine.base import Achieved, RenderResult
from pertouch.engine.measure import stats as ms
from pertouch.engine.ops import operators as op
from pertouch.engine.parametric.blend import Weights, weights_for
from pertouch.engine.parametric.cache import LayerCache
from pertouch.engine.parametric.fast.kernels import apply_layer
from pertouch.engine.parametric.fast.restore import restore_layer
from pertouch.engine.parametric.inputs import check_aspect, check_image, downsize  # noqa: F401 (re-exported)
from pertouch.engine.parametric.planning import (CORRECT_ABOVE, EXACT_MAX_PIXELS, HOLD_TOL, Layer, Plan,  # noqa: F401 (re-exported)
                                                 PlanRun)
from pertouch.engine.parametric.prepare import copy_image, executor, opencv_threads
from pertouch.engine.parametric.stack import LayerProblem, find_overlaps, solve_layers
from pertouch.engine.schema.levels import LevelTable, default_table
from pertouch.engine.schema.recipe import Recipe, RegionEdit
from pertouch.engine.schema.regions import Region


#: ... a render whose worst level error exceeds CORRECT_ABOVE gets one correction pass when
#: the photo is at most this large (beyond, the proxy is close to the photo and a second
#: full-resolution pass costs more than it buys).
CORRECT_MAX_PIXELS = 600_000


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
        run = PlanRun(self, image, recipe, regions, corrections)
        plan_key = run.key()
        hit = self.cache.plans.get(plan_key)
        if hit is not None:
            self.stats = {"plan_cached": 1}
            return Plan(list(hit.layers), {"measure": (time.perf_counter() - t0) * 1e3, "solve": 0.0}, hit.shape)
        run.source()
        t1 = time.perf_counter()
        with opencv_threads(1):  # two workers are the parallelism: OpenCV's would oversubscribe
            run.start()
            for name, edit in run.entries:  # global first: the regions are solved on top of it
                run.add(name, edit)
        t_prep = run.prepared_at or t1
        self._solve(run.problems, run.keys)
        solved = {pr.name: pr.params for pr in run.problems}
        for layer in run.layers:
            if layer.name in solved:
                layer.params = solved[layer.name] or op.Params()
        t_end = time.perf_counter()
        plan = Plan(run.layers, {"measure": (t1 - t0) * 1e3, "prepare": (t_prep - t1) * 1e3,
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
            check_aspect(image.shape[:2], tuple(plan.shape))
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
