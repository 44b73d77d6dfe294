"""A configured segmenter as a plain function ``image → {region name: full-resolution mask}``,
the shape training data (:mod:`pertouch.engine.train.data`) and the paired evaluation take."""

from __future__ import annotations

from typing import Callable

import numpy as np


def make_segmenter(spec: str) -> Callable[[np.ndarray], dict[str, np.ndarray]]:
    """The segmenter ``spec`` (as ``--segmenter``) as ``image → {name: mask}``; a bad spec fails here."""
    from pertouch.tools.perception import perceive
    from pertouch.tools.segmentation import get_segmenter

    get_segmenter(spec)  # a bad spec fails here, before any photo

    def segment(image: np.ndarray) -> dict[str, np.ndarray]:
        scene = perceive(image, spec, cache=False)
        return {r.name: scene.full_mask(r) for r in scene.regions}

    return segment
