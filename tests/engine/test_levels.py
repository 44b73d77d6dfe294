"""The default level table: derived by scripts/fit_levels.py, documented, loadable; engines take tables."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from pertouch.engine.attributes import REGISTRY
from pertouch.engine.levels import default_table, load_table
from pertouch.engine.measure import measure_image_levels

ROOT = Path(__file__).resolve().parents[2]


def test_default_table_is_fitted_and_documented():
    t = default_table()
    assert "fit_levels.py" in t.source and "scikit-image" in t.source
    for name in REGISTRY:
        q = np.asarray(t[name].quantiles)
        assert q.size == 101 and np.all(np.diff(q) >= 0)
    # typical photos sit near the middle of the scale
    lv = t["brightness"].to_level(t["brightness"].quantiles[50])
    assert abs(lv) < 0.02


@pytest.mark.slow
def test_fit_script_reproduces_packaged_table():
    spec = importlib.util.spec_from_file_location("fit_levels", ROOT / "scripts" / "fit_levels.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    fitted = mod.fit()
    packaged = json.loads((ROOT / "engine" / "data" / "levels_default.json").read_text())
    for name in REGISTRY:
        assert np.allclose(fitted["attributes"][name]["quantiles"], packaged["attributes"][name]["quantiles"],
                           rtol=1e-6, atol=1e-6), name


def test_engine_accepts_a_loaded_table(tmp_path, astro_small):
    from pertouch.engine.parametric import ParametricEngine
    from pertouch.engine.recipe import Recipe

    data = default_table().to_json()
    q = np.asarray(data["attributes"]["brightness"]["quantiles"])
    data["attributes"]["brightness"]["quantiles"] = list(q * 0.5)  # a "darker" reference population
    data["source"] = "test"
    p = tmp_path / "t.json"
    p.write_text(json.dumps(data))
    table = load_table(p)
    assert measure_image_levels(astro_small, table, ["brightness"])["brightness"] > \
        measure_image_levels(astro_small, None, ["brightness"])["brightness"]
    rec = Recipe.model_validate({"global": {"attributes": {"brightness": {"to": 0.0}}}})
    a = ParametricEngine().render(astro_small, rec, {}).image.mean()
    b = ParametricEngine(table).render(astro_small, rec, {}).image.mean()
    assert b < a  # the same level means a darker image under the darker table
