"""The module ``langgraph.json`` points at: ``langgraph dev`` / LangGraph Studio load ``graph``."""

from pertouch.graph.builder import build_graph

graph = build_graph()
