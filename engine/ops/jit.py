"""The engine's one numba switch: whether the compiled kernels exist.

Every compiled kernel of the engine (:mod:`pertouch.engine.ops.lutcurve`, the label-sum
pass of :mod:`pertouch.engine.measure.stats`, :mod:`pertouch.engine.parametric.fast`)
asks :data:`HAVE_NUMBA` and falls back to NumPy when it is false; nothing else decides.
"""

from __future__ import annotations

try:  # pragma: no cover - exercised whichever way the environment is
    import numba  # noqa: F401

    HAVE_NUMBA = True
except Exception:  # noqa: BLE001 - any import failure means: use the NumPy fallbacks
    HAVE_NUMBA = False
