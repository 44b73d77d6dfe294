"""PerTouch: a VLM-driven agent for region-wise photo retouching.

The installed package maps the repository's top-level folders into one import
namespace: ``pertouch.engine`` (``engine/``), ``pertouch.tools`` (``tools/``),
``pertouch.graph`` (``graph/``), ``pertouch.memory`` (``memory/``),
``pertouch.evals`` (``evals/``), ``pertouch.web`` (``web/``, the web app's server) and
``pertouch.core`` (``core/``: errors and the home folder, which every layer uses); the
app shell (CLI argument parsing and printing) lives in ``app/``. Layering, checked by
``tests/test_layering.py``: core ← engine ← tools ← memory ← graph ← evals ← web ← app.

Importing ``pertouch`` is cheap: nothing heavy is imported at module level.
"""

__version__ = "0.1.0"
