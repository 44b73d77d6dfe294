"""Regions: where an edit applies.

A :class:`Region` is a named soft mask with a semantic label. Masks are float32
``(H, W)`` in [0, 1]; they may be at a lower resolution than the photo (the engine
resizes them edge-aware), but the aspect ratio must match.

>>> import numpy as np
>>> r = Region("sky", np.ones((4, 6), np.float32), label="sky")
>>> r.area_fraction, r.bbox
(1.0, (0, 0, 6, 4))
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Region:
    """A named region: soft mask, semantic label, confidence and measured levels.

    ``name`` is the key recipes use (unique per photo, e.g. ``sky``, ``person_2``);
    ``label`` the semantic class (``sky``, ``person``…); ``levels`` the measured
    level of each registered attribute in the input photo, filled by perception.
    """

    name: str
    mask: np.ndarray
    label: str = ""
    confidence: float = 1.0
    levels: dict[str, float] = field(default_factory=dict)
    source: str = ""
    #: How the region was found, for answers ("took 'the flower' to be the main subject").
    note: str = ""

    def __post_init__(self) -> None:
        m = np.asarray(self.mask)
        if m.ndim != 2:
            raise ValueError(f"region {self.name!r}: mask must be 2-D, got shape {m.shape}")
        if m.dtype == bool or m.dtype == np.uint8:
            m = m.astype(np.float32) / (1.0 if m.dtype == bool else 255.0)
        self.mask = np.clip(m.astype(np.float32, copy=False), 0.0, 1.0)
        if not self.label:
            self.label = self.name

    @property
    def shape(self) -> tuple[int, int]:
        return self.mask.shape  # type: ignore[return-value]

    @property
    def area_fraction(self) -> float:
        return float(self.mask.mean())

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) of the pixels with weight > 0.5, in mask coordinates."""
        ys, xs = np.nonzero(self.mask > 0.5)
        if ys.size == 0:
            return (0, 0, 0, 0)
        return (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)

    def binary(self, threshold: float = 0.5) -> np.ndarray:
        return self.mask > threshold
