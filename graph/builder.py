"""Wiring: the retouching agent as a LangGraph state machine.

perceive → converse → (a session command: render | respond;
a new instruction: classify → (strong | weak-optimize | weak-style → recall → plan |
out-of-scope, no-op, question → respond)) ; plan → render → critique → (re-plan | respond)
→ (deliver: a full-resolution file was asked for) → (remember: accepted) → finish.
Routing nodes return ``Command[Literal[...]]``, so their exits show in the drawn graph.

Clients send :class:`~pertouch.graph.schemas.RetouchInput` and get
:class:`~pertouch.graph.schemas.RetouchOutput` (``internal=True``: the whole state, for
tests and evaluation).

>>> g = build_graph()
>>> sorted(n for n in g.get_graph().nodes if not n.startswith("__"))[:3]
['classify', 'critique', 'perceive']
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from pertouch.graph.context import RunContext
from pertouch.graph.nodes.classify import classify
from pertouch.graph.nodes.converse import converse
from pertouch.graph.nodes.critique import critique
from pertouch.graph.nodes.deliver import make_deliver
from pertouch.graph.nodes.perceive import perceive
from pertouch.graph.nodes.plan import plan
from pertouch.graph.nodes.recall import recall
from pertouch.graph.nodes.remember import remember
from pertouch.graph.nodes.render import render
from pertouch.graph.nodes.respond import finish, respond
from pertouch.graph.schemas import RetouchInput, RetouchOutput
from pertouch.graph.state import RetouchState


def build_graph(checkpointer: Any = None, *, anywhere: bool = False, internal: bool = False) -> Any:
    """The compiled agent graph.

    ``checkpointer``: e.g. a SqliteSaver for sessions (a thread is a conversation).
    ``anywhere``: a run may write its full-resolution result to any path it names
    (the CLI, whose user owns the machine); otherwise only inside the output folder
    (a server's remote clients). ``internal``: output the whole state, not
    :class:`RetouchOutput`.
    """
    g = StateGraph(RetouchState, context_schema=RunContext, input_schema=RetouchInput,
                   output_schema=RetouchState if internal else RetouchOutput)
    for name, fn in (("perceive", perceive), ("converse", converse), ("classify", classify), ("recall", recall),
                     ("plan", plan), ("render", render), ("critique", critique), ("respond", respond),
                     ("deliver", make_deliver(anywhere)), ("remember", remember), ("finish", finish)):
        g.add_node(name, fn)
    g.add_edge(START, "perceive")
    g.add_edge("recall", "plan")
    g.add_edge("remember", "finish")
    g.add_edge("finish", END)
    return g.compile(checkpointer=checkpointer, name="pertouch")


def mermaid() -> str:
    """The graph's Mermaid drawing (what the README shows)."""
    return build_graph().get_graph().draw_mermaid()
