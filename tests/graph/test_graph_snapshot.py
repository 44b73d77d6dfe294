"""The agent graph's shape, pinned by its Mermaid drawing (the README shows it).

If the wiring changes on purpose, regenerate the snapshot::

    python -c "from pertouch.graph.builder import mermaid; open('tests/graph/graph.mmd','w').write(mermaid())"
"""

from __future__ import annotations

import json
from pathlib import Path

from pertouch.graph.builder import build_graph, mermaid

HERE = Path(__file__).parent


def test_mermaid_drawing_matches_snapshot():
    assert mermaid() == (HERE / "graph.mmd").read_text(encoding="utf-8")


def test_every_routing_exit_is_drawn():
    g = build_graph().get_graph()
    edges = {(e.source, e.target) for e in g.edges}
    for edge in [("perceive", "converse"), ("perceive", "respond"), ("converse", "classify"), ("converse", "render"),
                 ("converse", "respond"), ("classify", "recall"), ("classify", "respond"), ("recall", "plan"),
                 ("plan", "render"), ("render", "critique"), ("critique", "plan"), ("critique", "respond"),
                 ("respond", "deliver"), ("respond", "remember"), ("respond", "finish"), ("deliver", "remember"),
                 ("deliver", "finish"), ("remember", "finish"), ("finish", "__end__")]:
        assert edge in edges, edge


def test_langgraph_json_points_at_a_compiled_graph(monkeypatch):
    import importlib.util

    monkeypatch.setenv("PERTOUCH_WARMUP", "0")  # no memory start-up in the test process
    conf = json.loads((HERE.parents[1] / "langgraph.json").read_text())
    path, _, attr = conf["graphs"]["pertouch"].partition(":")
    spec = importlib.util.spec_from_file_location("studio", HERE.parents[1] / path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert sorted(getattr(mod, attr).get_graph().nodes) == sorted(build_graph().get_graph().nodes)


def test_clients_see_the_public_schemas_not_the_internal_state():
    g = build_graph()
    inp, out = g.get_input_jsonschema(), g.get_output_jsonschema()
    assert inp["required"] == ["instruction"]
    assert set(inp["properties"]) == {"image_path", "instruction", "user", "accept", "save_to", "overwrite", "pointers"}
    assert {"answer", "status", "result", "saved", "problem", "rounds"} <= set(out["properties"])
    assert not {"stack", "history", "scene", "plan", "base_recipe"} & set(out["properties"])
    internal = build_graph(internal=True).get_output_jsonschema()
    assert {"stack", "history", "plan"} <= set(internal["properties"])
