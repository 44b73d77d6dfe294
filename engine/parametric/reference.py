"""The straightforward renderer: the reference the fast parametric engine is tested against.

Same plan (same solved strengths) as :class:`~pertouch.engine.parametric.engine.ParametricEngine`,
applied the way most research code does it: the whole photo in float32, one
full-resolution pass per operator per region (:func:`pertouch.engine.ops.operators.apply_chain`),
a materialised full-resolution weight map per region, then a blend. Slow (seconds at
12 MP) and memory-hungry, but obviously right; the fast path must agree with it
closely (mean abs diff < 1/255).
"""

from __future__ import annotations

import numpy as np

from pertouch.engine.measure.stats import to_unit_float
from pertouch.engine.ops import operators as op
from pertouch.engine.parametric.blend import Weights
from pertouch.engine.parametric.engine import ParametricEngine, Plan


def quantise(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float [0, 1] → uint8/uint16, rounded half up."""
    scale = 255.0 if dtype == np.uint8 else 65535.0
    return np.clip(np.floor(x.astype(np.float64) * scale + 0.5), 0, scale).astype(dtype)


class ReferenceEngine(ParametricEngine):
    """``render`` as in the parametric engine, with :meth:`apply` done the slow, plain way."""

    name = "reference"

    def apply(self, image: np.ndarray, plan: Plan, out: np.ndarray | None = None) -> np.ndarray:
        """The straightforward chain (``out``, a copy of ``image`` to write into, is not needed)."""
        sigma = op.clarity_sigma(*image.shape[:2])
        x = to_unit_float(image)
        base = x
        out = x.copy()
        for layer in plan.layers:
            if layer.hold:  # a held region: the input blended back through its weight
                w = Weights.build(layer.mask, image, feather=layer.feather).full(image)[..., None]
                out = out + w * (x - out)
                continue
            if layer.params.is_identity:
                continue
            edited = op.apply_chain(base, layer.params, sigma)
            if layer.mask is None:
                base = quantise(edited, image.dtype)
                base = to_unit_float(base)  # the fast path keeps the global result in the input's dtype
                out = base.copy()
                continue
            w = Weights.build(layer.mask, image).full(image)[..., None]
            out = out + w * (edited - out)
        return quantise(out, image.dtype)
