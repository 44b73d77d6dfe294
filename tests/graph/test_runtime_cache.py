"""One cache per process, owned by the runtime and passed in the run context (graph/runtime.py)."""

from __future__ import annotations

from pertouch.graph import runtime as rt
from pertouch.graph.builder import build_graph
from pertouch.graph.context import RunContext, load_context


def test_a_run_context_carries_the_process_cache_but_never_shows_it():
    ctx = load_context(max_rounds=2)
    assert ctx.cache is rt.process_cache() and RunContext().cache is rt.process_cache()
    assert "cache" not in ctx.to_json() and "cache" not in repr(ctx) and ctx.problems() == []
    assert RunContext(cache=object()).problems() == ["cache must be a runtime cache, got object"]


def test_a_run_fills_the_cache_of_its_context_and_clear_empties_it(astronaut_png):
    own = rt.RuntimeCache()
    ctx = RunContext(max_rounds=1, use_memory=False, cache=own)
    out = build_graph(internal=True).invoke({"image_path": str(astronaut_png), "instruction": "brighter"},
                                            context=ctx)
    h = out["image"]["hash"]
    assert h in own.photos and (h, ctx.segmenter) in own.scenes and "builtin" in own.models
    assert ctx.engine in own.engines and ctx.engine not in rt.process_cache().engines
    # the tools loaded the segmenter and kept the scene in the run's perception cache
    assert "builtin:" in own.perception.segmenters and (h, "builtin") in own.perception.scenes
    assert own.scenes[(h, ctx.segmenter)].cache is own.perception
    process = rt.process_cache()
    assert h not in process.photos and not process.scenes  # nothing leaked into the process's cache
    assert not (process.perception.scenes or process.perception.segmenters)
    own.clear()
    assert not (own.photos or own.scenes or own.proxies or own.models or own.refs or own.engines)
    assert not (own.perception.scenes or own.perception.segmenters)


def test_found_and_pointed_regions_use_the_runs_perception_cache(astronaut_png):
    own = rt.RuntimeCache()
    ref = rt.open_photo(astronaut_png, cache=own)
    rt.find_region(ref, "builtin", "the face", cache=own)
    rt.add_pointed(ref, "builtin", [{"name": "patch", "box": [75, 20, 150, 100]}], cache=own)
    assert "builtin:" in own.perception.segmenters and own.perception.scenes
    process = rt.process_cache().perception
    assert not (process.scenes or process.segmenters)


def test_clear_empties_the_process_cache_and_the_tools_one(astronaut_png):
    from pertouch.tools.perception_cache import process_perception_cache

    process = rt.process_cache()
    assert process.perception is process_perception_cache()  # what the tools use when given none
    ref = rt.open_photo(astronaut_png)
    rt.scene(ref, "builtin")
    assert ref["hash"] in process.photos and process.perception.scenes and process.perception.segmenters
    process.clear()
    assert not (process.photos or process.refs or process.scenes)
    assert not (process.perception.scenes or process.perception.segmenters)


def test_renders_share_their_caches_engine_and_match_a_fresh_ones(astronaut_png):
    from pertouch.engine.engines import get_engine
    from pertouch.engine.schema.recipe import parse_recipe

    own = rt.RuntimeCache()
    ref = rt.open_photo(astronaut_png, cache=own)
    recipe = {"global": {"attributes": {"temperature": {"by": 0.1}}},
              "regions": {"person": {"label": "person", "attributes": {"brightness": {"by": 0.15}}}}}
    first = rt.render(ref, recipe, segmenter="builtin", engine="parametric", long_side=256, cache=own)
    engine = own.engines["parametric"]
    again = rt.render(ref, recipe, segmenter="builtin", engine="parametric", long_side=256, cache=own)
    assert own.engines["parametric"] is engine and engine.stats == {"plan_cached": 1}  # solved once
    pixels = rt.proxy(ref, 256, cache=own)
    regions = rt._at_size(ref, "builtin", rt.regions_by_name(ref, "builtin", ["person"], cache=own),
                          (pixels.shape[1], pixels.shape[0]), cache=own)
    fresh = get_engine("parametric").render(pixels, parse_recipe(recipe, "plan"), regions)
    assert (first.image == fresh.image).all() and (again.image == fresh.image).all()
    assert "parametric" not in rt.process_cache().engines


def test_concurrent_renders_on_the_shared_engine_match_fresh_engines(astronaut_png):
    """Web sessions render at once through one cache's engine: its shared layer cache must not
    mix their plans."""
    from concurrent.futures import ThreadPoolExecutor

    from pertouch.engine.engines import get_engine
    from pertouch.engine.schema.recipe import parse_recipe

    own = rt.RuntimeCache()
    ref = rt.open_photo(astronaut_png, cache=own)

    def recipe(v: float) -> dict:
        return {"global": {"attributes": {"temperature": {"by": v}}},
                "regions": {"other": {"label": "other", "attributes": {"brightness": {"by": v}}}}}

    values = [0.05, 0.1, 0.15, 0.2] * 3
    with ThreadPoolExecutor(4) as ex:
        outs = list(ex.map(lambda v: rt.render(ref, recipe(v), segmenter="builtin", engine="parametric",
                                               long_side=192, cache=own).image, values))
    pixels = rt.proxy(ref, 192, cache=own)
    regions = rt._at_size(ref, "builtin", rt.regions_by_name(ref, "builtin", ["other"], cache=own),
                          (pixels.shape[1], pixels.shape[0]), cache=own)
    for v, out in zip(values, outs):
        fresh = get_engine("parametric").render(pixels, parse_recipe(recipe(v), "plan"), regions).image
        assert (out == fresh).all(), v
