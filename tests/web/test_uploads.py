import io

import numpy as np
import pytest
from PIL import Image

from pertouch.core.errors import InputError
from pertouch.web import uploads
from pertouch.web.workspace import Workspace


def encoded(fmt: str, size=(32, 24)) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((size[1], size[0], 3), 120, np.uint8)).save(buf, fmt)
    return buf.getvalue()


@pytest.mark.parametrize("fmt,ext", [("JPEG", "jpg"), ("PNG", "png"), ("TIFF", "tif"), ("WEBP", "webp")])
def test_images_are_stored_under_their_hash(tmp_path, fmt, ext):
    ws = Workspace(tmp_path / "ws")
    p = uploads.store_upload(ws, encoded(fmt))
    assert p.suffix == "." + ext and p.parent == ws.root / "uploads" and p.read_bytes() == encoded(fmt)


@pytest.mark.parametrize("data", [b"", b"hello, not an image", b"GIF89a" + b"\0" * 40,
                                  b"\xff\xd8\xff" + b"\0" * 100])
def test_non_images_and_broken_images_are_refused(tmp_path, data):
    with pytest.raises(InputError):
        uploads.store_upload(Workspace(tmp_path / "ws"), data)


def test_too_large_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 100)
    with pytest.raises(InputError, match="MB"):
        uploads.store_upload(Workspace(tmp_path / "ws"), encoded("PNG", (64, 64)) + b"\0" * 200)
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 10**7)
    monkeypatch.setattr(uploads, "MAX_PIXELS", 100)
    with pytest.raises(InputError, match="MP"):
        uploads.store_upload(Workspace(tmp_path / "ws"), encoded("PNG", (64, 64)))


def test_demo_photos_only_by_name(tmp_path):
    ws = Workspace(tmp_path / "ws")
    p = uploads.demo_photo(ws, "flower")
    assert p.is_file() and p.is_relative_to(ws.root)
    for bad in ("../flower", "/etc/passwd", "nope"):
        with pytest.raises(InputError):
            uploads.demo_photo(ws, bad)
