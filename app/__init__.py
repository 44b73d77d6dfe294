"""PerTouch: a VLM-driven agent for region-wise photo retouching.

The installed package maps the repository's top-level folders into one import
namespace: ``pertouch.engine`` (``engine/``), ``pertouch.tools`` (``tools/``),
``pertouch.graph`` (``graph/``), ``pertouch.memory`` (``memory/``) and
``pertouch.evals`` (``evals/``); the app shell (CLI, settings) lives in ``app/``.

Importing ``pertouch`` is cheap: nothing heavy is imported at module level.
"""

__version__ = "0.1.0"
