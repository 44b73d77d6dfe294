"""The default level table: derived by scripts/fit_levels.py, documented, loadable; engines take tables."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from pertouch.engine.measure.stats import measure_image_levels
from pertouch.engine.schema.attributes import REGISTRY
from pertouch.engine.schema.levels import default_table, load_table

ROOT = Path(__file__).resolve().parents[3]


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
    from pertouch.engine.parametric.engine import ParametricEngine
    from pertouch.engine.schema.recipe import Recipe

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


@pytest.mark.parametrize("name", list(REGISTRY))
def test_extension_is_monotone_continuous_and_invertible(name):
    from pertouch.engine.schema.levels import EXTENDED

    s = default_table()[name]
    q = np.asarray(s.quantiles)
    span = q[-1] - q[0]
    lo = q[0] - span if s.coordinate != "log" else q[0] / 50
    raw = np.linspace(lo, q[-1] + span, 4001)
    lv = s.to_level(raw)
    assert np.all(np.diff(lv) >= -1e-12) and lv.min() >= -EXTENDED and lv.max() <= EXTENDED
    for (end, level, _), sign in zip(s._ends, (-1.0, 1.0)):  # continuous where the table ends
        assert s.to_level(end) == pytest.approx(level, abs=1e-9)
        assert s.to_level(end + sign * 1e-6 * max(1.0, abs(end))) == pytest.approx(level, abs=1e-3)
    levels = np.linspace(-EXTENDED, EXTENDED, 61)
    assert np.allclose(s.to_level(s.to_raw(levels)), levels, atol=1e-6)


def test_beyond_the_table_measures_beyond_one():
    t = default_table()
    b = t["brightness"]
    assert b.to_level(b.quantiles[-1] * 1.02) > 1.0 and b.to_level(b.quantiles[0] * 0.5) < -1.0
    # log coordinate: equal ratios past the end give equal level steps
    e = b._ends[1][0]
    assert b.to_level(e * 1.02) - 1.0 == pytest.approx(b.to_level(e * 1.0404) - b.to_level(e * 1.02), rel=1e-6)
    # temperature: the rocket's blue sky (bluer than 25000 K, where CCT itself runs off)
    # sits among the bluest fitted regions; a deeper blue is past every fitted photo
    from pertouch.engine.measure.stats import temperature_of_mean

    def level(rgb):
        return t["temperature"].to_level(float(temperature_of_mean(np.array(rgb, float))))

    assert -1.0 < level([44, 57, 84]) < -0.6
    assert -1.3 < level([20, 40, 120]) < -1.0 and level([20, 40, 120]) < level([35, 60, 120]) < level([44, 57, 84])


def test_tied_end_is_a_censored_tail():
    """Knots tied at an end (a clamped fit, or a bounded estimator) take the run's inner level."""
    from pertouch.engine.schema.levels import LevelScale

    s = LevelScale("tint", tuple([-5.0] * 11 + list(np.linspace(-4.0, 4.0, 90))))
    assert s.to_level(-5.0) == pytest.approx(-0.8)
    assert s.to_level(-5.5) < -0.8 and s.to_raw(-1.0) < -5.0
    lv = s.to_level(np.linspace(-8, 5, 501))
    inside = lv[np.abs(lv) < 1.5]
    assert inside.size > 400 and np.all(np.diff(inside) > 0)


def test_temperature_continues_monotone_past_the_locus():
    """A cooler white balance keeps lowering the temperature value, past where CCT is infinite."""
    from pertouch.engine.ops.colormath import srgb_decode, srgb_encode
    from pertouch.engine.ops.curves import temperature_gains
    from pertouch.engine.measure.estimators import temperature_of_xyz
    from pertouch.engine.measure.stats import _xyz_of_mean, temperature_of_mean

    sky = np.array([44.0, 57.0, 84.0]) / 255.0
    vals = [float(temperature_of_mean(srgb_encode(np.clip(srgb_decode(sky) * temperature_gains(s), 0, 1)) * 255))
            for s in np.linspace(-2.5, 1.0, 36)]
    assert np.all(np.isfinite(vals)) and np.all(np.diff(vals) > 0)
    assert temperature_of_xyz(_xyz_of_mean(np.array([255.0, 255.0, 255.0]))) == pytest.approx(-6504, abs=15)


def test_scalar_to_level_matches_the_array_route():
    """The solver's one-value fast path gives np.interp's levels."""
    from pertouch.engine.schema.levels import default_table

    t = default_table()
    for a in ("colorfulness", "contrast", "temperature", "brightness"):
        sc = t[a]
        knots = sc._core[0]
        xs = np.linspace(knots[0], knots[-1], 301)[1:-1]
        got = np.array([sc.to_level(float(x)) for x in xs])
        assert np.abs(got - sc.to_level(xs)).max() <= 1e-12


def test_scalar_to_raw_matches_the_array_route():
    from pertouch.engine.schema.levels import default_table

    t = default_table()
    for a in ("colorfulness", "contrast", "temperature", "brightness"):
        sc = t[a]
        lv = np.linspace(-0.999, 0.999, 301)
        got = np.array([sc.to_raw(float(x)) for x in lv])
        assert np.allclose(got, sc.to_raw(lv), rtol=1e-12, atol=1e-9)
