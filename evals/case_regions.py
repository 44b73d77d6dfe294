"""Regions a retouch case gives itself, so scoring does not depend on the agent's segmentation.

A case may name, per region label it scores, where that region is::

    "regions": {"sky": {"box": [0, 0, 1, 0.35]},            # x0, y0, x1, y1 as fractions of the photo
                "person": {"seg": "zidane:subject"},          # a hand-labelled kind of evals/data/seg/NAME.json
                "background": {"seg": "zidane:background"},   # (background = labelled area minus the subject)
                "wall": {"mask": "masks/wall.png"},           # a mask file next to the cases file (white = in)
                "rest": {"box": [0.4, 0.4, 0.6, 0.6], "invert": true}}

The solver measures those labels in these masks — before and after — instead of in the
regions the agent found; other labels are still measured in the agent's own regions.
A ``seg:`` mask is only valid on the photo it was drawn on (checked).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from pertouch.core.errors import InputError


class GivenRegion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    box: tuple[float, float, float, float] | None = Field(None, description="x0, y0, x1, y1 in [0, 1]")
    seg: str | None = Field(None, description="NAME:KIND of a labelled photo in evals/data/seg")
    mask: str | None = Field(None, description="a mask image (white = in), relative to the cases file")
    invert: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> "GivenRegion":
        given = [k for k in ("box", "seg", "mask") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of box, seg or mask (got {', '.join(given) or 'none'})")
        if self.box is not None:
            x0, y0, x1, y1 = self.box
            if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
                raise ValueError(f"box {list(self.box)} must be x0 < x1, y0 < y1, all within [0, 1]")
        if self.seg is not None and ":" not in self.seg:
            raise ValueError(f"seg {self.seg!r} must be NAME:KIND, e.g. zidane:subject")
        return self


def _seg_mask(spec: str, photo: str, shape: tuple[int, int]) -> np.ndarray:
    from pertouch.evals.seg_cases import load_cases, truth

    name, _, kind = spec.partition(":")
    found = {c.name: c for c in load_cases()}
    if name not in found:
        raise InputError(f"no labelled photo {name!r} for region seg:{spec}",
                         hint=f"labelled photos: {', '.join(sorted(found))}")
    case = found[name]
    if case.photo != photo:
        raise InputError(f"seg:{spec} was drawn on {case.photo}, not on this case's photo {photo}",
                         hint="use the labelled photo's own source string as the case's photo")
    masks, _valid = truth(case, shape)
    if kind not in masks:
        raise InputError(f"{name} has no labelled {kind!r}", hint=f"it has: {', '.join(sorted(masks))}")
    return masks[kind]


def _file_mask(path: Path, shape: tuple[int, int]) -> np.ndarray:
    import cv2
    from PIL import Image

    if not path.is_file():
        raise InputError(f"region mask not found: {path}")
    with Image.open(path) as im:
        m = np.asarray(im.convert("L")) >= 128
    return cv2.resize(m.astype(np.uint8), (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST).astype(bool)


def given_mask(region: GivenRegion, photo: str, shape: tuple[int, int], base: Path | None = None) -> np.ndarray:
    """The bool mask ``(h, w)`` = ``shape`` of one given region."""
    h, w = shape
    if region.box is not None:
        x0, y0, x1, y1 = region.box
        m = np.zeros((h, w), bool)
        m[int(round(y0 * h)):max(int(round(y1 * h)), int(round(y0 * h)) + 1),
          int(round(x0 * w)):max(int(round(x1 * w)), int(round(x0 * w)) + 1)] = True
    elif region.seg is not None:
        m = _seg_mask(region.seg, photo, shape)
    else:
        m = _file_mask(Path(region.mask) if base is None else base / str(region.mask), shape)
    m = ~m if region.invert else m
    if not m.any():
        raise InputError(f"the given region {region.model_dump(exclude_none=True)} is empty on this photo")
    return m


def given_masks(regions: dict[str, GivenRegion], photo: str, shape: tuple[int, int],
                base: Path | None = None) -> dict[str, np.ndarray]:
    """Every given region of a case as a bool mask at ``shape``."""
    return {name: given_mask(r, photo, shape, base) for name, r in regions.items()}
