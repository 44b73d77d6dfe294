"""Image I/O: formats, modes, orientation, ICC, atomic writes, bad input."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from pertouch.engine.io import write as pwrite
from pertouch.engine.io import read as pio
from pertouch.engine.io.read import InputError, load_image, save_image


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[::4, ::3])  # 128×171, not square


# --- round trips ---------------------------------------------------------------------

@pytest.mark.parametrize("ext,fmt,tol", [(".png", "PNG", 0), (".tif", "TIFF", 0),
                                         (".jpg", "JPEG", 3.0), (".webp", "WEBP", 4.0)])
def test_round_trip_8bit(tmp_path, photo, ext, fmt, tol):
    p = save_image(tmp_path / f"x{ext}", photo)
    got = load_image(p)
    assert got.format == fmt and got.bit_depth == 8 and got.pixels.dtype == np.uint8
    assert got.pixels.shape == photo.shape
    diff = np.abs(got.pixels.astype(int) - photo).mean()
    assert diff == 0 if tol == 0 else diff < tol  # lossy: mean error on an aliased crop
    assert Image.open(p).info.get("icc_profile") == pio.srgb_icc_bytes()  # sRGB tagged


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_round_trip_16bit_with_alpha(tmp_path, photo, ext):
    rgb = photo.astype(np.uint16) * 257 + 3
    alpha = np.linspace(0, 65535, photo.shape[1], dtype=np.uint16)[None].repeat(photo.shape[0], 0)
    got = load_image(save_image(tmp_path / f"x{ext}", rgb, alpha=alpha))
    assert got.bit_depth == 16 and got.pixels.dtype == np.uint16
    np.testing.assert_array_equal(got.pixels, rgb)
    np.testing.assert_array_equal(got.alpha, alpha)


def test_16bit_reduced_to_8_for_jpeg(tmp_path, photo):
    got = load_image(save_image(tmp_path / "x.jpg", photo.astype(np.uint16) * 257))
    assert got.pixels.dtype == np.uint8 and np.abs(got.pixels.astype(int) - photo).mean() < 3


def test_alpha_kept_for_png_and_webp_dropped_for_jpeg(tmp_path, photo):
    alpha = np.zeros(photo.shape[:2], np.uint8)
    alpha[:, 40:] = 255
    assert np.array_equal(load_image(save_image(tmp_path / "a.png", photo, alpha=alpha)).alpha, alpha)
    assert np.array_equal(load_image(save_image(tmp_path / "a.webp", photo, alpha=alpha, quality=100)).alpha, alpha)
    assert load_image(save_image(tmp_path / "a.jpg", photo, alpha=alpha)).alpha is None


def test_content_hash_tracks_pixels(tmp_path, photo):
    a = load_image(save_image(tmp_path / "a.png", photo))
    b = load_image(save_image(tmp_path / "b.tif", photo))
    changed = photo.copy()
    changed[0, 0, 0] ^= 1
    c = load_image(save_image(tmp_path / "c.png", changed))
    assert a.content_hash == b.content_hash != c.content_hash
    assert len(a.content_hash) == 16


# --- modes ------------------------------------------------------------------------

def test_grey_and_grey_alpha(tmp_path, photo):
    grey = photo[..., 1]
    Image.fromarray(grey, "L").save(tmp_path / "g.png")
    got = load_image(tmp_path / "g.png")
    assert got.pixels.shape == photo.shape and np.array_equal(got.pixels[..., 2], grey) and got.alpha is None
    la = Image.merge("LA", [Image.fromarray(grey), Image.fromarray(255 - grey)])
    la.save(tmp_path / "la.png")
    got = load_image(tmp_path / "la.png")
    assert np.array_equal(got.pixels[..., 0], grey) and np.array_equal(got.alpha, 255 - grey)


def test_grey_16bit_png(tmp_path):
    g = np.arange(60 * 40, dtype=np.uint16).reshape(40, 60) * 27
    import cv2

    cv2.imwrite(str(tmp_path / "g16.png"), g)
    got = load_image(tmp_path / "g16.png")
    assert got.bit_depth == 16 and np.array_equal(got.pixels[..., 1], g)


def test_palette_with_transparency(tmp_path):
    im = Image.new("P", (8, 6), 0)
    im.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    im.paste(1, (4, 0, 8, 6))
    im.info["transparency"] = 1
    im.save(tmp_path / "p.png", transparency=1)
    got = load_image(tmp_path / "p.png")
    assert tuple(got.pixels[0, 0]) == (255, 0, 0)
    assert got.alpha is not None and got.alpha[0, 0] == 255 and got.alpha[0, 7] == 0


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    cmyk = Image.new("CMYK", (16, 16), (0, 255, 255, 0))  # full magenta + yellow = red
    cmyk.save(tmp_path / "c.jpg", quality=100)
    got = load_image(tmp_path / "c.jpg").pixels
    r, g, b = got[8, 8].astype(int)
    assert r > 200 and g < 60 and b < 60


def test_exif_orientation_applied_and_reset(tmp_path, photo):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise for display
    Image.fromarray(photo).save(tmp_path / "o.png", exif=exif.tobytes())
    got = load_image(tmp_path / "o.png")
    np.testing.assert_array_equal(got.pixels, np.rot90(photo, -1))
    assert Image.Exif().__class__ and got.exif is not None
    e = Image.Exif()
    e.load(got.exif)
    assert e.get(0x0112) == 1
    # the 16-bit path applies orientation the same way
    (tmp_path / "o16.png").write_bytes(pwrite._encode_png16(photo.astype(np.uint16) * 257, exif.tobytes()))
    got16 = load_image(tmp_path / "o16.png")
    np.testing.assert_array_equal(got16.pixels, np.rot90(photo, -1).astype(np.uint16) * 257)


def test_exif_kept_on_save(tmp_path, photo):
    exif = Image.Exif()
    exif[0x010F] = "PerTouchCam"  # Make
    exif[0x0112] = 8
    save_image(tmp_path / "e.jpg", photo, exif=exif.tobytes())
    e = Image.open(tmp_path / "e.jpg").getexif()
    assert e.get(0x010F) == "PerTouchCam" and e.get(0x0112) == 1


def _swapped_rg_profile() -> bytes:
    """A minimal ICC v2 RGB profile whose red and green primaries are swapped."""
    def s15(v: float) -> bytes:
        return struct.pack(">i", round(v * 65536))

    def xyz(x, y, z):
        return b"XYZ " + b"\0" * 4 + s15(x) + s15(y) + s15(z)

    desc_text = b"Swapped RG test\0"
    desc = b"desc" + b"\0" * 4 + struct.pack(">I", len(desc_text)) + desc_text + b"\0" * 8 + b"\0" * 3 + b"\0" * 67
    curv = b"curv" + b"\0" * 4 + struct.pack(">IH", 1, 0x0233) + b"\0\0"  # gamma 2.2
    red, green, blue = (0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141)
    tags = [(b"desc", desc), (b"wtpt", xyz(0.9642, 1.0, 0.8249)), (b"rXYZ", xyz(*green)),
            (b"gXYZ", xyz(*red)), (b"bXYZ", xyz(*blue)), (b"rTRC", curv), (b"gTRC", curv), (b"bTRC", curv),
            (b"cprt", b"text" + b"\0" * 4 + b"none\0\0\0\0")]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for sig, data in tags:
        data += b"\0" * (-len(data) % 4)
        table += sig + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = (struct.pack(">I", size) + b"\0" * 4 + bytes([2, 0x10, 0, 0]) + b"mntrRGB XYZ " + b"\0" * 12
              + b"acsp" + b"\0" * 24 + b"\0" * 4 + s15(0.9642) + s15(1.0) + s15(0.8249) + b"\0" * 48)
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


def test_icc_profile_converted_to_srgb(tmp_path):
    icc = _swapped_rg_profile()
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[..., 0] = 200  # "red" in a profile where red means green
    Image.fromarray(rgb).save(tmp_path / "p.png", icc_profile=icc)
    r, g, b = load_image(tmp_path / "p.png").pixels[4, 4].astype(int)
    assert g > 150 and r < 60
    import tifffile  # Pillow cannot write 16-bit RGB

    tifffile.imwrite(tmp_path / "p16.tif", rgb.astype(np.uint16) * 257, photometric="rgb", iccprofile=icc)
    r, g, b = load_image(tmp_path / "p16.tif").pixels[4, 4].astype(int)
    assert g > 150 * 257 and r < 60 * 257


# --- atomic writes and protection ------------------------------------------------------

def test_refuses_to_overwrite_input(tmp_path, photo):
    src = save_image(tmp_path / "in.png", photo)
    before = src.read_bytes()
    with pytest.raises(InputError, match="is the input"):
        save_image(src, photo[::2], source=src)
    assert src.read_bytes() == before
    save_image(src, photo[::2], source=src, overwrite=True)
    assert load_image(src).pixels.shape[0] == photo[::2].shape[0]


def test_failed_write_leaves_nothing(tmp_path, photo, monkeypatch):
    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pwrite, "_encode", boom)
    with pytest.raises(InputError, match="No space left"):
        save_image(tmp_path / "x.png", photo)
    assert list(tmp_path.iterdir()) == []


def test_bad_output_paths(tmp_path, photo):
    with pytest.raises(InputError, match="does not exist"):
        save_image(tmp_path / "missing" / "x.png", photo)
    with pytest.raises(InputError, match="cannot write .gif"):
        save_image(tmp_path / "x.gif", photo)
    assert list(tmp_path.iterdir()) == []


# --- bad input -------------------------------------------------------------------

def _png_bomb(path: Path, w: int, h: int) -> None:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))


def test_bad_inputs(tmp_path, photo):
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("not a photo")
    (tmp_path / "dir.png").mkdir()
    full = io.BytesIO()
    Image.fromarray(photo).save(full, "JPEG", quality=90)
    (tmp_path / "cut.jpg").write_bytes(full.getvalue()[: len(full.getvalue()) // 2])
    _png_bomb(tmp_path / "bomb.png", 30000, 30000)  # 900 MP
    _png_bomb(tmp_path / "big.png", 12000, 10000)  # 120 MP: over our limit, under Pillow's
    Image.fromarray(photo).save(tmp_path / "anim.gif")
    cases = {"missing.png": "not found", "empty.jpg": "empty", "text.jpg": "not an image",
             "dir.png": "folder", "cut.jpg": "truncated", "bomb.png": "MP limit", "big.png": "MP limit",
             "anim.gif": "does not read"}
    for name, msg in cases.items():
        with pytest.raises(InputError, match=msg) as info:
            load_image(tmp_path / name)
        assert "\n" not in str(info.value), name
    assert not ImageFile.LOAD_TRUNCATED_IMAGES


def test_max_pixels_is_configurable(tmp_path, photo):
    p = save_image(tmp_path / "x.png", photo)
    with pytest.raises(InputError, match="limit"):
        load_image(p, max_pixels=100)
    assert load_image(p, max_pixels=photo.shape[0] * photo.shape[1]).pixels.shape == photo.shape


def test_raw_without_rawpy_is_a_clear_error(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_rawpy(name, *a, **k):
        if name == "rawpy":
            raise ImportError("no rawpy")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_rawpy)
    (tmp_path / "x.dng").write_bytes(b"II*\0fake")
    with pytest.raises(InputError, match=r"pertouch\[raw\]"):
        load_image(tmp_path / "x.dng")
    assert os.path.exists(tmp_path / "x.dng")


def test_the_same_edit_is_the_same_file(tmp_path):
    """The embedded sRGB profile carries a fixed creation date (LittleCMS stamps 'now'), so two
    saves of one image — minutes or years apart — are byte-identical files."""
    import struct

    from pertouch.engine.io.write import PROFILE_DATE

    icc = pio.srgb_icc_bytes()
    assert struct.unpack(">6H", icc[24:36]) == PROFILE_DATE
    assert icc[36:40] == b"acsp"  # still an ICC profile
    rgb = (np.arange(48 * 32 * 3) % 251).astype(np.uint8).reshape(32, 48, 3)
    for ext in (".png", ".jpg", ".tif", ".webp"):
        a, b = tmp_path / f"a{ext}", tmp_path / f"b{ext}"
        pio.save_image(a, rgb)
        pio.save_image(b, rgb)
        assert a.read_bytes() == b.read_bytes(), ext
        assert Image.open(a).info.get("icc_profile") == icc
