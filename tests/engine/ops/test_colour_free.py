"""Colour maths written out for speed (engine/ops/colormath.py) agree with colour-science."""

from __future__ import annotations

import numpy as np
import pytest

colour = pytest.importorskip("colour")

from pertouch.engine.ops import colormath as cm  # noqa: E402


def test_kang2002_and_srgb_matrix_match_colour_science():
    cct = np.linspace(1667.0, 25000.0, 400)
    assert np.allclose(cm.cct_to_xy_kang2002(cct), colour.temperature.CCT_to_xy_Kang2002(cct), atol=1e-12)
    assert np.allclose(cm.XYZ_TO_SRGB, colour.RGB_COLOURSPACES["sRGB"].matrix_XYZ_to_RGB, atol=1e-12)
    assert np.allclose(cm.SRGB_TO_XYZ, colour.RGB_COLOURSPACES["sRGB"].matrix_RGB_to_XYZ, atol=1e-12)
    xy = colour.temperature.CCT_to_xy_Kang2002(cct)
    ref = colour.XYZ_to_sRGB(colour.xy_to_XYZ(xy), apply_cctf_encoding=False)
    assert np.allclose(cm.xy_to_linear_srgb(xy), ref, atol=1e-9)


def test_rendering_a_temperature_edit_does_not_import_colour():
    import subprocess
    import sys

    code = ("import sys; from pertouch.engine.ops import curves, operators; "
            "curves.temperature_gains(0.3); print('colour' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
