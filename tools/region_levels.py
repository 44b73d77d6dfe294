"""The levels of every region of a partition, and of the whole frame, measured in one pass.

The photo is measured the reference way (:class:`pertouch.engine.measure.stats.Measurer`:
resized to 512×512, each mask resized with nearest neighbour and thresholded at 0.5);
masks that overlap no other one, and the whole frame, are measured together by one
label-sum pass (:meth:`~pertouch.engine.measure.stats.Measurer.raw_many`), overlapping
masks one by one.

>>> import numpy as np
>>> img = np.zeros((64, 64, 3), np.uint8); img[:, 32:] = 200
>>> left = np.zeros((64, 64), np.float32); left[:, :32] = 1
>>> regions, whole = measure_regions(img, {"dark": left, "light": 1 - left}, levels=False)
>>> bool(regions["dark"]["brightness"] < 1 < 199 < regions["light"]["brightness"])
True
"""

from __future__ import annotations

from functools import lru_cache
from typing import Mapping

import numpy as np

from pertouch.engine.measure.stats import Measurer, measure_mask, to_levels

Levels = dict[str, float]


@lru_cache(maxsize=1)
def _table():
    from pertouch.engine.schema.levels import default_table

    return default_table()


def measure_regions(rgb: np.ndarray, masks: Mapping[str, np.ndarray], *, levels: bool = True
                    ) -> tuple[dict[str, Levels], Levels]:
    """Levels (or raw values with ``levels=False``) per named mask, and of the whole frame.

    ``rgb``: the photo ``(H, W, 3)`` uint8/uint16/float; ``masks``: soft or binary
    ``(h, w)`` masks with the photo's aspect. Every registered attribute is measured;
    a region with no pixel at 512×512 gets NaN for each.
    """
    m = Measurer(rgb)
    names = list(masks)
    *raws, whole = m.raw_many([measure_mask(masks[n]) for n in names], frame=True)
    if not levels:
        return dict(zip(names, raws)), whole
    t = _table()
    return {n: to_levels(r, t) for n, r in zip(names, raws)}, to_levels(whole, t)
