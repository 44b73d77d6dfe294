"""scripts/gallery.py runs end to end (it once broke silently when the graph's public output
stopped carrying the photo reference): one photo, one style, into a temporary folder."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # one whole agent run (~7 s)
def test_gallery_script_makes_a_pair(tmp_path, monkeypatch):
    monkeypatch.setenv("PERTOUCH_HOME", str(tmp_path / "home"))
    spec = importlib.util.spec_from_file_location("gallery", ROOT / "scripts" / "gallery.py")
    gallery = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gallery)
    out = tmp_path / "g"
    assert gallery.main(["--out", str(out), "--photos", "coffee", "--only", "winter-morning"]) == 0
    files = list(out.glob("*.jpg"))
    assert [f.name for f in files] == ["coffee__winter-morning.jpg"]
    with Image.open(files[0]) as im:
        assert im.format == "JPEG" and im.width <= 640
