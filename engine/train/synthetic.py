"""Synthetic training pairs: bundled photos re-rendered by the parametric engine with random
recipes, so a PerTouch model can be tried without FiveK (see :mod:`.train_data`)."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from pertouch.engine.parametric.inputs import fit_long_side
from pertouch.engine.schema.attributes import CORE_NAMES
from pertouch.engine.train.data import MIN_REGION_PX, Segmenter, label_image, region_raw, to_rgb8


def random_recipe(regions: Mapping[str, np.ndarray], rng: np.random.Generator, p_edit: float = 0.7):
    """A random recipe of ``to`` edits: each region's attributes edited with probability ``p_edit``."""
    from pertouch.engine.schema.recipe import Recipe

    data: dict = {"global": {"attributes": {a: {"to": round(float(rng.uniform(-0.6, 0.6)), 3)}
                                            for a in CORE_NAMES if rng.random() < 0.5}}, "regions": {}}
    for name in regions:
        attrs = {a: {"to": round(float(rng.uniform(-0.9, 0.9)), 3)} for a in CORE_NAMES if rng.random() < p_edit}
        if attrs:
            data["regions"][name] = {"attributes": attrs}
    return Recipe.model_validate(data)


def synthetic_pair(photo: np.ndarray, segment: Segmenter, rng: np.random.Generator, max_side: int = 768,
                   min_px: int = MIN_REGION_PX) -> dict[str, np.ndarray]:
    """A record made by re-rendering ``photo`` with a random recipe on the parametric engine.

    Like a real pair, its ``raw`` rows are measured on the rendered target, so the map says
    what the target is (the engine does not reach every random level exactly: on 12
    pairs at 512 px the recipe's levels were 0.09–0.30 off per channel on average); the
    recipe is kept as ``recipe`` (UTF-8 JSON bytes).
    """
    from pertouch.engine.engines import get_engine
    from pertouch.engine.schema.regions import Region

    inp = fit_long_side(to_rgb8(photo), max_side)
    labels = label_image(list(segment(inp).values()), inp.shape[:2], min_px)
    n = int(labels.max())
    regions = {f"r{i}": Region(name=f"r{i}", mask=(labels == i).astype(np.float32)) for i in range(1, n + 1)}
    recipe = random_recipe(regions, rng)
    tgt = get_engine("parametric").render(inp, recipe, regions).image
    tgt = np.asarray(tgt, np.uint8)
    raw = region_raw(tgt, labels)
    return {"input": inp, "target": tgt, "labels": labels, "raw": raw,
            "recipe": np.frombuffer(recipe.dumps().encode(), np.uint8)}
