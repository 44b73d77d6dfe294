"""The styles' restraint: global shifts chosen as operator strengths on the photo.

:func:`gentle_global` turns a look's level shifts into operator strengths within
physical caps, scales them back while they would newly clip the photo (more than
:data:`CLIP_BUDGET`), tint its whites (:data:`WHITE_CAST`) or push a level past
:data:`COUPLED` times its cap, and returns the levels those strengths reach. Used by the
planner's styles (:mod:`pertouch.graph.vlm.builtin.planner`).
"""

from __future__ import annotations

import numpy as np

from pertouch.graph.vlm.builtin.photo_stats import apply_fast, lab, luma, measuring_image


# --- gentle global shifts: the styles' restraint (the planner's _style uses it) ------------

#: A plan may newly clip at most this share of the photo (the critic's defect limit is 2 % of a
#: 256-px preview; half of it leaves room for the full-size render).
CLIP_BUDGET = 0.01
#: A level moves at most its cap by its own operator, and at most this many times the cap with the
#: other operators' coupling (a darker photo has darker shadows; a warmer one measures more colourful).
COUPLED = 2.0
#: How far (Lab |b*|) a look may tint the photo's whites: a white that turns clearly blue or
#: yellow reads as a colour cast, not as light.
WHITE_CAST = 12.0
#: A directed level that the other operators' coupling turns against its way ("winter morning" on a
#: blue photo: brightening and taking colour out measure warmer) gets its own operator strengthened,
#: at most this many times the strength it was solved at alone (6x would let rocket reach −0.033, but the
#: joint solve then overshoots the strength caps on china; at 4x rocket measures −0.023).
STRENGTHEN = 4.0
#: A look's key level counts as moved its whole way within this (the other operators give way until then).
KEY_TOL = 0.005
#: Shifts that can blow or crush pixels (colour amount only upward: taking colour out never
#: clips anything that was not at the edge already).
TONE = ("brightness", "contrast", "highlights", "shadows", "colorfulness")


def newly_clipped(before: np.ndarray, after: np.ndarray) -> float:
    """Share of pixels blown (two channels ≥ 252) or crushed (all channels ≤ 3) in ``after``
    that were not in ``before``; uint8 ``(H, W, 3)`` each."""
    def clipped(x: np.ndarray) -> np.ndarray:
        s = np.sort(x.reshape(-1, 3), axis=1)
        return (s[:, 1] >= 252) | (s[:, 2] <= 3)

    return float((clipped(after) & ~clipped(before)).mean())


def white_b(rgb: np.ndarray) -> float:
    """Mean Lab b* of the brightest 2 % of the unclipped pixels of float RGB ``(H, W, 3)``:
    how yellow (+) or blue (−) the photo's whites look."""
    px = rgb.reshape(-1, 3)
    pool = px[px.max(axis=1) < 0.99]
    if len(pool) < 50:
        pool = px
    y = luma(pool)
    return float(lab(pool[y >= np.percentile(y, 98)])[:, 2].mean())


def gentle_global(scene, shifts: dict[str, float], strength_caps: dict[str, tuple[float, float]],
                  directions: dict[str, int] | None = None, level_caps: dict[str, float] | None = None,
                  white_cast: float = WHITE_CAST, keys: tuple[str, ...] = ()) -> tuple[dict[str, float], dict[str, str]]:
    """Global ``by`` shifts the engine renders gently on this photo: (shifts, attribute → why changed).

    Level units are not physical units, and levels are coupled. Where a photo sits on a
    scale decides how strong an operator a level step takes (+0.3 temperature was 240
    mired on the flower — a tungsten cast; +0.25 contrast near the top of the scale blew
    70 % of china's hazy sky), and several level targets solved jointly let one edit pay
    for another (warming raises the colourfulness level, so "warmer and more colourful"
    was solved as warmer and DEsaturated, with contrast and exposure compensating;
    clamping one coupled target sent highlights to +0.94 against contrast −0.75). So the
    operators are chosen first and the levels follow from them, on the photo's
    measuring image:

    1. each shift is solved alone by the engine (:meth:`ParametricEngine.plan`) into an
       operator strength, clamped to ``strength_caps[attr]`` = (most down, most up);
    2. the strengths are applied together with the engine's operators and scaled back,
       each limit by the operators that break it (bisection for the largest share that
       keeps it): a level past ``level_caps[attr]`` by that attribute's own operator
       first; the temperature while the photo's whites (:func:`white_b`, when the
       brightest pixels are whites at all) would turn past b* ±``white_cast``; the tone
       operators (:data:`TONE`) while more than CLIP_BUDGET of the photo would be newly
       clipped; all of them while coupling takes a level past :data:`COUPLED` × its cap. An operator
       whose measured level comes out against ``directions[attr]`` (contrast taken down
       lowers the measured warmth of a warm photo) is left out and the limits checked
       again;
    3. the look's ``keys`` (the attributes that make it: a winter morning is cold) come first:
       a key level that the others' coupling leaves short of its asked shift (desaturating an
       already blue photo lowers its measured coldness) scales those others back (bisection)
       until the key moves its whole way (to its level cap, within KEY_TOL), no operator getting
       stronger; one scaled back so far that the coupling turns its own level the other way is left out;
    4. the shifts returned are the level changes measured on that result, for exactly
       the operators kept: a consistent set of targets, which the engine's joint solve
       meets with those same strengths (checked on china, coffee and the flower: within
       0.06). Shifts of operators left out are 0 and should be left out of the plan.

    Without a readable photo the shifts come back as they are.
    """
    from pertouch.engine.ops import operators as op
    from pertouch.engine.measure.stats import measure_image_levels
    from pertouch.engine.parametric.engine import ParametricEngine
    from pertouch.engine.schema.recipe import Recipe

    rgb, _ = measuring_image(scene)
    if rgb is None or not any(shifts.values()):
        return shifts, {}
    img = (rgb * 255.0 + 0.5).astype(np.uint8)
    engine = ParametricEngine()
    notes: dict[str, str] = {}
    st: dict[str, float] = {}
    for a, v in shifts.items():
        if not v:
            continue
        plan = engine.plan(img, Recipe.model_validate({"global": {"attributes": {a: {"by": v}}}}), {})
        s0 = float(getattr(plan.layers[0].params, a)) if plan.layers else 0.0
        lo, hi = strength_caps.get(a, (-np.inf, np.inf))
        if not lo <= s0 <= hi:
            s0 = float(np.clip(s0, lo, hi))
            notes[a] = "held to a gentle strength on this photo"
        st[a] = s0
    pivot = float(luma(rgb.reshape(-1, 3)).mean())
    names = list(st)
    if not names:
        return {a: 0.0 for a in shifts}, notes
    before = measure_image_levels(rgb, attributes=names)
    w0 = white_b(rgb)
    whites_apply = abs(w0) <= white_cast  # the brightest pixels are whites, not a bright coloured subject
    caps = level_caps or {}

    def render(strengths: dict[str, float]) -> np.ndarray:
        return apply_fast(rgb, op.Params(**strengths, pivot=pivot))

    def levels(out: np.ndarray) -> dict[str, float]:
        after = measure_image_levels(out, attributes=names)
        return {a: after[a] - before[a] for a in names}

    def clips(out: np.ndarray) -> bool:
        return newly_clipped(img, (out * 255.0 + 0.5).astype(np.uint8)) > CLIP_BUDGET

    def tints_whites(out: np.ndarray, t: float) -> bool:
        w = white_b(out)
        return whites_apply and ((t < 0 and w < -white_cast) or (t > 0 and w > white_cast))

    def over_caps(out: np.ndarray) -> bool:  # with the others' coupling: twice the cap at most
        d = levels(out)
        return any(st[a] and a in caps and abs(d[a]) > COUPLED * caps[a] for a in names)

    def shrink(group: list[str], broken, why: str) -> None:
        """Scale the strengths of ``group`` by the largest share (bisection) for which ``broken`` is false."""
        nonlocal st
        group = [a for a in group if st.get(a)]
        if not group or not broken(render(st)):
            return
        full = dict(st)
        lo, hi = 0.0, 1.0
        for _ in range(6):
            mid = 0.5 * (lo + hi)
            trial = {a: (mid * v if a in group else v) for a, v in full.items()}
            if broken(render(trial)):
                hi = mid
            else:
                lo = mid
        st = {a: (lo * v if a in group else v) for a, v in full.items()}
        for a in group:
            notes[a] = f"{'scaled to ' + format(lo, '.0%') if lo else 'left out'} to keep {why}"

    for _ in range(4):  # a level past its cap: that attribute's own operator less, first
        d = levels(render(st))
        own = [a for a in names if abs(st[a]) > 0.02 and a in caps and abs(d[a]) > caps[a] + 0.004]
        if not own:
            break
        for a in own:
            st[a] *= max(0.3, (caps[a] - 0.004) / abs(d[a]))
            notes[a] = "held to the style's cap"
    def short(a: str, d: dict[str, float]) -> bool:  # a directed level that moved less than half its way
        return bool(st.get(a)) and (directions or {}).get(a, 0) * d[a] < 0.5 * abs(shifts[a])

    def compensate(group: list[str]) -> list[str]:
        """Strengthen the own operators of ``group`` (within their strength caps and STRENGTHEN times their first
        strength, a few joint Newton
        steps) until each level, measured on the whole plan, moves the asked way by the asked shift
        again; the attributes still short of half their shift are returned."""
        first: dict[str, float] = {}
        for _ in range(4):
            d = levels(render(st))  # a level the others' coupling turns against its way joins the group
            group += [a for a in names if a not in group and st[a] and (directions or {}).get(a, 0) * d[a] < -0.005]
            for a in group:
                if not st.get(a):
                    continue
                lo, hi = strength_caps.get(a, (-np.inf, np.inf))
                d, without = levels(render(st))[a], levels(render({**st, a: 0.0}))[a]
                slope = (d - without) / st[a]
                if slope * np.sign(shifts[a]) * np.sign(st[a]) <= 0:
                    continue
                first.setdefault(a, st[a])  # at most STRENGTHEN times the strength it had: restraint still
                lo, hi = max(lo, -STRENGTHEN * abs(first[a])), min(hi, STRENGTHEN * abs(first[a]))
                st[a] = float(np.clip(st[a] + (shifts[a] - d) / slope, lo, hi))
        d = levels(render(st))
        return [a for a in group if short(a, d)]

    tried: set[str] = set()
    for attempt in range(3):
        shrink(["temperature"], lambda out: tints_whites(out, st.get("temperature", 0.0)),
               f"the photo's whites within b* ±{white_cast:g}")
        shrink([a for a in TONE if st.get(a) and not (a == "colorfulness" and st[a] < 0)], clips,
               f"no more than {CLIP_BUDGET:.0%} of the photo newly clipped")
        shrink(names, over_caps, f"every level within {COUPLED:g}× the style's caps")  # what coupling adds
        d = levels(render(st))
        against = [a for a in names if st[a] and (directions or {}).get(a, 0) * d[a] < -0.005]
        if not against:
            break
        fresh = [a for a in against if a not in tried]
        if fresh:  # coupling moves these the other way: their own operators make up for it (once) ...
            group = list(fresh)
            old = dict(st)
            left = compensate(group)
            tried.update(group)
            for a in group:
                if abs(st[a] - old[a]) > 1e-3:
                    notes[a] = f"strength {old[a]:+.2f} → {st[a]:+.2f}: the other edits move it the other way"
            against = [a for a in left if (directions or {}).get(a, 0) * levels(render(st))[a] < 0.005]
        for a in against:  # ... failing that, their operators are left out, and the limits checked again
            st[a] = 0.0
            notes[a] = "left out: the other edits move it the other way"
    for k in keys:
        way = (directions or {}).get(k, 0)
        if not (st.get(k) and way):
            continue

        def short_key(out: np.ndarray, k: str = k, way: int = way) -> bool:
            return way * levels(out)[k] < min(abs(shifts[k]), caps.get(k, np.inf)) - KEY_TOL  # its way, to its cap

        now = levels(render(st))[k]
        against = [a for a in names if a != k and st.get(a)
                   and way * (levels(render({**st, a: 0.0}))[k] - now) > 0.002]
        if against and not short_key(render({**st, **{a: 0.0 for a in against}})):
            shrink(against, short_key, f"the look's {k} first")
            d = levels(render(st))
            for a in against:  # scaled back so far that the coupling now turns it the other way: left out
                if st.get(a) and (directions or {}).get(a, 0) * d[a] < -0.005:
                    st[a] = 0.0
                    notes[a] = f"left out: the look's {k} first, and the other edits move it the other way"
    d = levels(render(st))
    return {a: round(d.get(a, 0.0), 3) if st.get(a) else 0.0 for a in shifts}, notes


