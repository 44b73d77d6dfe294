"""The measured slider mapping, the plan from levels to sliders, and Camera Raw values (no external tools)."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.core.errors import PertouchError, RecipeError
from pertouch.engine.interop import camera_raw as cr
from pertouch.engine.interop.controls import CONTROLS, Curve, fitted_table, monotone, parse_fitted
from pertouch.engine.interop.plan import plan
from pertouch.engine.interop.sidecars import recipe_from_xmp, to_pp3, to_xmp
from pertouch.engine.schema.recipe import Recipe

CORE = ("brightness", "contrast", "colorfulness", "temperature")


def recipe(attrs: dict, regions: dict | None = None) -> Recipe:
    return Recipe.model_validate({"global": {"attributes": attrs}, "regions": regions or {}})


def test_shipped_table_has_every_control_monotone_with_its_error():
    t = fitted_table()
    assert set(t.curves) == set(CONTROLS)
    for name, curve in t.curves.items():
        d = np.diff(curve.delta)
        assert np.all(d >= 0) or np.all(d <= 0), name
        assert curve.delta[list(curve.slider).index(CONTROLS[name].neutral)] == pytest.approx(0.0, abs=0.05), name
        assert 0.0 <= t.errors[name]["loo_level_mae"] < 0.3, name
    # the sliders move their attribute the way their names say
    assert t.curve("exposure").delta_of(1.0) > 0 > t.curve("exposure").delta_of(-1.0)
    assert t.curve("temperature").delta_of(9000) > 0 > t.curve("temperature").delta_of(4000)  # RT: higher K, warmer
    assert t.curve("highlights").delta_of(50) < 0 < t.curve("shadows").delta_of(50)


def test_curve_inverse_and_clamping():
    c = Curve((-2.0, 0.0, 2.0), (-0.5, 0.0, 0.4))
    for v in (-1.5, -0.3, 0.0, 0.7, 1.9):
        assert c.slider_of(c.delta_of(v))[0] == pytest.approx(v, abs=1e-6)
    assert c.slider_of(0.9) == (2.0, True)
    down = Curve((0.0, 50.0, 100.0), (0.0, -4.0, -9.0))
    assert down.slider_of(-4.0) == (pytest.approx(50.0), False)
    with pytest.raises(ValueError):
        Curve((0.0, 1.0, 2.0), (0.0, 1.0, 0.5))


def test_monotone_pools_violators():
    assert monotone(np.array([0.0, 2.0, 1.0, 3.0]), True).tolist() == [0.0, 1.5, 1.5, 3.0]
    assert monotone(np.array([3.0, 1.0, 2.0]), False).tolist() == [3.0, 1.5, 1.5]


def test_bad_table_is_one_line_error():
    with pytest.raises(PertouchError, match="not an interop table"):
        parse_fitted({"format": "x"}, "t.json")
    with pytest.raises(PertouchError, match="no fitted curve"):
        parse_fitted({"format": "pertouch-interop", "controls": {}}, "t.json")


@pytest.mark.parametrize("attribute", CORE + ("tint", "highlights", "shadows", "clarity"))
def test_sliders_grow_with_the_shift_and_follow_its_sign(attribute):
    values = []
    for by in (-0.3, -0.1, 0.1, 0.3):
        p = plan(recipe({attribute: {"by": by}}), {"global": {attribute: 0.0}})
        (s,) = p.sliders
        values.append(cr.acr_value(s, p.fitted))
        assert (s.delta > 0) == (by > 0)
    assert values == sorted(values) or values == sorted(values, reverse=True)
    assert values[0] != values[-1]


def test_levels_decide_the_slider_for_the_same_to():
    r = recipe({"brightness": {"to": 0.5}})
    dark = plan(r, {"global": {"brightness": -0.5}}).sliders[0].pp3
    bright = plan(r, {"global": {"brightness": 0.4}}).sliders[0].pp3
    assert dark > bright > 0


def test_to_without_the_photo_is_an_error_by_assumes_level_0():
    with pytest.raises(RecipeError, match="--photo"):
        plan(recipe({"brightness": {"to": 0.5}}), None)
    p = plan(recipe({"brightness": {"by": 0.2}}), None)
    assert p.sliders[0].assumed_from and "level 0" in p.notes[0]


def test_one_sided_rawtherapee_tools_say_what_they_cannot_do():
    p = plan(recipe({"shadows": {"by": -0.2}, "clarity": {"by": -0.2}, "highlights": {"by": 0.2}}), None)
    out = to_pp3(p)
    assert [n.split(":")[0] for n in out.not_expressed] == ["global.shadows", "global.clarity", "global.highlights"]
    assert "[Shadows & Highlights]\n" not in out.text and "[Local Contrast]\n" not in out.text
    xmp = to_xmp(p).values["global"]  # Camera Raw's sliders are two-sided: mirrored curve
    assert xmp["Shadows2012"] < 0 and xmp["Clarity2012"] < 0 and xmp["Highlights2012"] > 0


def test_regions_become_mask_groups_only_for_sky_and_subject():
    regions = {"sky": {"label": "sky", "attributes": {"brightness": {"by": -0.2}}},
               "tree": {"label": "tree", "attributes": {"contrast": {"by": 0.2}}}}
    p = plan(recipe({"brightness": {"by": 0.1}}, regions), None)
    out = to_xmp(p)
    assert out.values["sky"]["LocalExposure2012"] < 0
    assert "tree" not in out.values and out.not_expressed[0].startswith("tree (label 'tree')")
    assert 'crs:MaskSubType="2"' in out.text and "pertouch:NotExpressed" in out.text
    assert all(n.startswith(("sky:", "tree:")) for n in to_pp3(p).not_expressed)


def test_raw_photos_leave_white_balance_out_of_the_xmp():
    p = plan(recipe({"temperature": {"by": 0.2}, "brightness": {"by": 0.1}}), None)
    out = to_xmp(p, raw_input=True)
    assert "IncrementalTemperature" not in out.text and "Exposure2012" in out.text
    assert out.not_expressed[0].startswith("global.temperature: on a raw photo")


@pytest.mark.parametrize("start", [None, {"brightness": 0.5, "contrast": -0.3, "colorfulness": 0.2,
                                          "temperature": -0.4, "highlights": 0.1, "shadows": -0.2}])
def test_xmp_round_trip_recovers_the_shifts(start):
    shifts = {"brightness": 0.2, "contrast": -0.15, "colorfulness": 0.25, "temperature": -0.2,
              "highlights": -0.1, "shadows": 0.15}
    levels = {"global": start} if start else None
    text = to_xmp(plan(recipe({k: {"by": v} for k, v in shifts.items()}), levels)).text
    back, notes = recipe_from_xmp(text, "x.xmp", start)
    got = {k: e.by for k, e in back.global_.attributes.items()}
    assert set(got) == set(shifts)
    for k, v in shifts.items():  # slider values are rounded to whole units (EV to 0.01)
        assert got[k] == pytest.approx(v, abs=0.04), k


def test_import_reads_vibrance_and_skips_what_it_cannot():
    text = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/" crs:Vibrance="+40" '
            'crs:Temperature="5200" crs:Dehaze="10"><crs:Exposure2012>-0.5</crs:Exposure2012></rdf:Description>'
            '</rdf:RDF></x:xmpmeta>')
    r, notes = recipe_from_xmp(text, "p.xmp")
    assert r.global_.attributes["colorfulness"].by > 0 and r.global_.attributes["brightness"].by < 0
    assert any("Temperature=5200" in n for n in notes) and any("Dehaze" in n for n in notes)
    with pytest.raises(PertouchError, match="none of the sliders"):
        recipe_from_xmp(text.replace('crs:Vibrance="+40"', "").replace("-0.5", "0"), "p.xmp")


def test_side_effects_of_other_sliders_are_untangled():
    from dataclasses import replace

    from pertouch.engine.interop.plan import untangle

    fitted = replace(fitted_table(), cross={"exposure": {"colorfulness": 0.5}})
    assert untangle(["brightness", "colorfulness"], [0.2, 0.1], fitted) == pytest.approx([0.2, 0.0])
    assert untangle(["colorfulness"], [0.1], fitted) == [0.1]  # alone: nothing to untangle
    tangled = replace(fitted, cross={"exposure": {"colorfulness": 1.0}, "saturation": {"brightness": 1.0}})
    assert untangle(["brightness", "colorfulness"], [0.2, 0.1], tangled) == [0.2, 0.1]  # singular: left as is
    r = recipe({"brightness": {"by": 0.2}, "colorfulness": {"by": 0.1}})
    s = {x.attribute: x for x in plan(r, {"global": {"brightness": 0.0, "colorfulness": 0.0}}, fitted=fitted).sliders}
    assert s["colorfulness"].primary < s["colorfulness"].delta and s["brightness"].primary == s["brightness"].delta


def test_region_sliders_are_what_is_left_after_the_global_ones():
    sky = {"sky": {"label": "sky", "attributes": {"brightness": {"by": -0.2}}}}
    levels = {"global": {"brightness": 0.2}, "sky": {"brightness": 0.6}}
    alone = plan(recipe({}, sky), levels).of("sky")[0]
    under = plan(recipe({"brightness": {"by": 0.2}}, sky), levels)
    g, s = under.of("global")[0], under.of("sky")[0]
    assert s.to_level == alone.to_level  # the region's target is absolute, as in PerTouch
    assert s.delta == pytest.approx(alone.delta - g.primary)  # Lightroom adds the mask group to the global
    assert s.pp3 < alone.pp3 < 0
