"""Editor sidecars checked by the real tools: exiftool reads every written XMP tag back,
rawtherapee-cli applies the .pp3 and moves each global attribute the way PerTouch's render does."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from pertouch.engine.interop.plan import plan
from pertouch.engine.interop.pp3 import parse_pp3, render
from pertouch.engine.interop.sidecars import RegionInfo, to_pp3, to_xmp
from pertouch.engine.measure.stats import measure_image_levels
from pertouch.engine.schema.recipe import Recipe

needs_exiftool = pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool is not installed")
needs_rt = pytest.mark.skipif(shutil.which("rawtherapee-cli") is None, reason="rawtherapee-cli is not installed")


def _exiftool(path) -> dict:
    out = subprocess.run(["exiftool", "-j", "-n", "-struct", "-XMP-crs:all", "-XMP-pertouch:all", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)[0]


@needs_exiftool
def test_exiftool_reads_back_every_written_tag(tmp_path):
    r = Recipe.model_validate({
        "global": {"attributes": {"brightness": {"by": 0.2}, "contrast": {"by": -0.1}, "colorfulness": {"by": 0.2},
                                  "temperature": {"by": 0.3}, "tint": {"by": -0.1}, "highlights": {"by": -0.1},
                                  "shadows": {"by": 0.1}, "clarity": {"by": 0.1}}},
        "regions": {"sky": {"label": "sky", "attributes": {"brightness": {"by": -0.2}, "colorfulness": {"by": 0.1}}},
                    "person": {"label": "person", "attributes": {"temperature": {"by": 0.2}}}}})
    out = to_xmp(plan(r, None), {"sky": RegionInfo("masks/sky.png", (0.5, 0.2))})
    path = tmp_path / "photo.xmp"
    path.write_text(out.text)
    got = _exiftool(path)
    assert got["ProcessVersion"] == 11.0 and got["WhiteBalance"] == "Custom"
    for tag, v in out.values["global"].items():
        assert float(got[tag]) == pytest.approx(v, abs=1e-9), tag
    groups = {g["CorrectionName"]: g for g in got["MaskGroupBasedCorrections"]}
    assert set(groups) == {"sky", "person"}
    for name in groups:
        for tag, v in out.values[name].items():
            assert float(groups[name][tag]) == pytest.approx(v, abs=1e-6), (name, tag)
        (mask,) = groups[name]["CorrectionMasks"]
        assert mask["What"] == "Mask/Image" and mask["MaskActive"] is True
    assert groups["sky"]["CorrectionMasks"][0]["MaskSubType"] == 2
    assert groups["sky"]["CorrectionMasks"][0]["ReferencePoint"] == "0.500000 0.200000"
    assert groups["sky"]["CorrectionMasks"][0]["MaskFile"] == "masks/sky.png"
    assert groups["person"]["CorrectionMasks"][0]["MaskSubType"] == 1


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    from pertouch.engine.parametric.inputs import fit_long_side
    from pertouch.engine.io.read import save_image
    from pertouch.evals.photos import load_photo

    p = tmp_path_factory.mktemp("rt") / "china.png"
    pixels = fit_long_side(load_photo("sklearn:china.jpg"), 256)
    save_image(p, pixels)
    return p, pixels


@needs_rt
@pytest.mark.parametrize("attribute", ["brightness", "contrast", "colorfulness", "temperature", "tint",
                                       "highlights", "shadows", "clarity"])
@pytest.mark.parametrize("by", [-0.25, 0.25])
def test_rawtherapee_moves_like_pertouch(photo, attribute, by):
    from pertouch.engine.engines import get_engine

    path, pixels = photo
    start = measure_image_levels(pixels, attributes=[attribute])[attribute]
    r = Recipe.model_validate({"global": {"attributes": {attribute: {"by": by}}}})
    ours = get_engine("parametric").render(pixels, r, {}).image
    moved_ours = measure_image_levels(ours, attributes=[attribute])[attribute] - start
    out = to_pp3(plan(r, {"global": {attribute: start}}))
    if out.not_expressed:  # a one-sided RawTherapee tool asked the other way: said, not written
        assert attribute in ("highlights", "shadows", "clarity")
        assert out.not_expressed[0].startswith(f"global.{attribute}")
        return
    assert parse_pp3(out.text)  # a profile RawTherapee reads (it fails on a bad one below)
    theirs = render(path, out.text)
    moved_theirs = measure_image_levels(theirs, attributes=[attribute])[attribute] - start
    assert np.sign(moved_ours) == np.sign(moved_theirs) == np.sign(by), (moved_ours, moved_theirs)
    if attribute in ("brightness", "contrast", "colorfulness", "temperature"):  # the core four: clearly
        assert abs(moved_theirs) > 0.05
