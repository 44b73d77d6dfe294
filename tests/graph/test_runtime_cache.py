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
    process = rt.process_cache()
    assert h not in process.photos and not process.scenes  # nothing leaked into the process's cache
    own.clear()
    assert not (own.photos or own.scenes or own.proxies or own.models or own.refs)


def test_clear_cache_empties_the_process_cache(astronaut_png):
    ref = rt.open_photo(astronaut_png)
    rt.scene(ref, "builtin")
    assert ref["hash"] in rt.process_cache().photos
    rt.clear_cache()
    process = rt.process_cache()
    assert not (process.photos or process.refs or process.scenes)
