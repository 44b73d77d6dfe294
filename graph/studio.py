"""The module ``langgraph.json`` points at: ``langgraph dev`` / LangGraph Studio load ``graph``.

The server's clients are remote: this graph writes full-resolution results only inside
the output folder (``PERTOUCH_OUTPUT_DIR``, default ``$PERTOUCH_HOME/outputs``). The
memory store (ChromaDB + MiniLM, seconds to open) starts loading in the background
when the server imports this module, so the first conversation does not wait for it
(``PERTOUCH_WARMUP=0`` turns that off). Under ``langgraph dev`` the in-memory run queue is
made to pick runs up within ~20 ms instead of 0.5–1 s (:mod:`pertouch.graph.devserver`).
"""

import logging
import os
import threading

from pertouch.graph.builder import build_graph
from pertouch.graph.devserver import poll_seconds, prompt_queue


def _warm_up() -> None:
    from pertouch.graph import runtime as rt

    cache = rt.process_cache()  # the one a client's run context carries (LangGraph makes it without one)
    rt.memory(None, cache=cache)  # never raises: an unavailable store is remembered as a warning
    rt.vlm("builtin", cache=cache)


graph = build_graph(anywhere=False)
logging.getLogger("pertouch").info(prompt_queue(poll_seconds()))
if os.environ.get("PERTOUCH_WARMUP", "1") != "0":
    threading.Thread(target=_warm_up, name="pertouch-warm-up", daemon=True).start()
