"""Shared pieces of the reliability checks (issue 15): a small real photo, a mask, the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner


@pytest.fixture()
def photo(tmp_path) -> Path:
    """The rocket photo at 96×64 as photo.png, with a sky mask sky.png beside it."""
    from skimage import data

    from pertouch.engine.io.read import save_image

    px = np.asarray(Image.fromarray(data.rocket()).resize((96, 64)))
    path = save_image(tmp_path / "photo.png", px)
    m = np.zeros((64, 96), np.uint8)
    m[:25] = 255
    Image.fromarray(m).save(tmp_path / "sky.png")
    return path


def cli(*args: str, input: str | None = None):
    """Run the CLI in-process; returns the click Result (exit_code, stdout, stderr)."""
    from pertouch.cli import app

    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def one_error_line(result) -> str:
    """The single `error:` line a failure prints (asserting there is exactly one, exit 2)."""
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "internal error" not in lines[0] and "Traceback" not in result.output
    return lines[0]
