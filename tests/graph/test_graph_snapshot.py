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
    for edge in [("classify", "recall"), ("classify", "respond"), ("classify", "render"), ("recall", "plan"),
                 ("plan", "render"), ("render", "critique"), ("critique", "plan"), ("critique", "respond"),
                 ("respond", "remember"), ("respond", "__end__"), ("remember", "__end__")]:
        assert edge in edges, edge


def test_langgraph_json_points_at_a_compiled_graph():
    import importlib.util

    conf = json.loads((HERE.parents[1] / "langgraph.json").read_text())
    path, _, attr = conf["graphs"]["pertouch"].partition(":")
    spec = importlib.util.spec_from_file_location("studio", HERE.parents[1] / path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert sorted(getattr(mod, attr).get_graph().nodes) == sorted(build_graph().get_graph().nodes)
