"""Wiring: the retouching agent as a LangGraph state machine.

perceive → classify → (strong | weak-optimize | weak-style → recall → plan |
out-of-scope → respond | session follow-up → render) ; plan → render → critique →
(re-plan | respond) → remember (when accepted). Routing nodes return
``Command[Literal[...]]``, so their exits show in the drawn graph.

>>> g = build_graph()
>>> sorted(n for n in g.get_graph().nodes if not n.startswith("__"))[:3]
['classify', 'critique', 'perceive']
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from pertouch.graph.context import RunContext
from pertouch.graph.nodes.classify import classify
from pertouch.graph.nodes.critique import critique
from pertouch.graph.nodes.perceive import perceive
from pertouch.graph.nodes.plan import plan
from pertouch.graph.nodes.recall import recall
from pertouch.graph.nodes.remember import remember
from pertouch.graph.nodes.render import render
from pertouch.graph.nodes.respond import respond
from pertouch.graph.state import RetouchState


def build_graph(checkpointer: Any = None) -> Any:
    """The compiled agent graph (``checkpointer``: e.g. a SqliteSaver for sessions)."""
    g = StateGraph(RetouchState, context_schema=RunContext)
    for name, fn in (("perceive", perceive), ("classify", classify), ("recall", recall), ("plan", plan),
                     ("render", render), ("critique", critique), ("respond", respond), ("remember", remember)):
        g.add_node(name, fn)
    g.add_edge(START, "perceive")
    g.add_edge("perceive", "classify")
    g.add_edge("recall", "plan")
    g.add_edge("remember", END)
    return g.compile(checkpointer=checkpointer, name="pertouch")


def mermaid() -> str:
    """The graph's Mermaid drawing (what the README shows)."""
    return build_graph().get_graph().draw_mermaid()
