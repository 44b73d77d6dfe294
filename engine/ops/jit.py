"""The one numba switch: whether the compiled kernels exist, and how a kernel is compiled.

Every compiled kernel (:mod:`pertouch.engine.ops.lutcurve`, the label-sum pass of
:mod:`pertouch.engine.measure.labels`, :mod:`pertouch.engine.parametric.fast`, and the
tools' superpixels, mask upsampling and border refinement) asks :data:`HAVE_NUMBA` or
compiles through :func:`compiled`, and runs NumPy or plain Python when numba is missing;
nothing else decides.
"""

from __future__ import annotations

from typing import Any, Callable

try:  # pragma: no cover - exercised whichever way the environment is
    import numba  # noqa: F401

    HAVE_NUMBA = True
except Exception:  # noqa: BLE001 - any import failure means: use the NumPy fallbacks
    HAVE_NUMBA = False

#: ``numba.prange`` (a loop a ``parallel=True`` kernel splits over threads); ``range`` without numba.
prange: Any = numba.prange if HAVE_NUMBA else range


def compiled(fn: Callable, **options: Any) -> Callable:
    """``fn`` compiled by ``numba.njit(**options)`` when numba is installed; without it ``fn``
    itself (plain Python doing the same arithmetic, much slower)."""
    if not HAVE_NUMBA:
        return fn
    return numba.njit(**options)(fn)
