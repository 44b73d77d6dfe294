"""`pertouch retouch` never writes over its input unless --overwrite says so."""

from __future__ import annotations

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from pertouch.cli import app

runner = CliRunner()


def _photo(tmp_path):
    from skimage import data

    im = Image.fromarray(data.rocket())
    im.thumbnail((192, 192))
    path = tmp_path / "rocket.png"
    im.save(path)
    return path


def test_output_equal_to_input_is_refused_with_the_right_hint(tmp_path):
    src = _photo(tmp_path)
    before = src.read_bytes()
    res = runner.invoke(app, ["retouch", str(src), "brighter sky", "-o", str(src)])
    assert res.exit_code == 2
    assert "is the input file" in res.stderr and "--overwrite" in res.stderr
    assert src.read_bytes() == before


def test_overwrite_replaces_the_input(tmp_path):
    src = _photo(tmp_path)
    before = np.asarray(Image.open(src)).copy()
    res = runner.invoke(app, ["retouch", str(src), "make the sky a lot brighter", "-o", str(src), "--overwrite"])
    assert res.exit_code == 0, res.output
    after = np.asarray(Image.open(src))
    assert after.shape == before.shape and not np.array_equal(after, before)
    assert (tmp_path / "rocket.png.pertouch.json").is_file()


def test_chat_style_save_over_input_names_no_flag(tmp_path):
    import pytest

    from pertouch.engine.io.outputs import plan_outputs
    from pertouch.core.errors import InputError

    src = _photo(tmp_path)
    with pytest.raises(InputError) as exc:
        plan_outputs([src], src, overwrite=False, overwrite_flag=None)
    assert "--overwrite" not in str(exc.value) + str(getattr(exc.value, "hint", ""))
