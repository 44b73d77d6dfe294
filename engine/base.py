"""The engine interface that the parametric and the diffusion engines implement."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Protocol, runtime_checkable

import numpy as np

from pertouch.engine.schema.recipe import Recipe
from pertouch.engine.schema.regions import Region


@dataclass(frozen=True)
class Achieved:
    """How close one region/attribute came to its target level."""

    region: str
    attribute: str
    before: float
    target: float
    achieved: float

    @property
    def error(self) -> float:
        return self.achieved - self.target


@dataclass
class RenderResult:
    """The rendered image (same shape and dtype as the input) and the achieved levels."""

    image: np.ndarray
    report: list[Achieved] = field(default_factory=list)
    engine: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)

    def achieved(self, region: str, attribute: str) -> Achieved | None:
        for a in self.report:
            if a.region == region and a.attribute == attribute:
                return a
        return None


@runtime_checkable
class Engine(Protocol):
    """``render(image, recipe, regions) → RenderResult``.

    ``image`` is ``(H, W, 3)`` uint8 or uint16 RGB; the result has the same shape
    and dtype. ``regions`` maps recipe region names to :class:`Region`.
    """

    name: str

    def render(self, image: np.ndarray, recipe: Recipe, regions: Mapping[str, Region]) -> RenderResult: ...
