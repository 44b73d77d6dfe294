"""Image I/O: read any common photo into sRGB pixels, write it back atomically.

:func:`load_image` returns a :class:`Photo`: ``pixels`` ``(H, W, 3)`` uint8 or
uint16 RGB in sRGB, ``alpha`` ``(H, W)`` of the same dtype or ``None``, the EXIF
block (orientation already applied to the pixels and reset to 1), the format and
bit depth. JPEG, PNG, TIFF (8/16-bit) and WebP are read; grey, grey+alpha,
palette (with transparency), CMYK and RGBA images are converted, not rejected;
embedded ICC profiles are converted to sRGB. RAW files are read with ``rawpy``
when the ``raw`` extra is installed.

:func:`save_image` writes the format named by the extension (16-bit kept for
PNG/TIFF, 8-bit for JPEG/WebP), tags sRGB, keeps EXIF and alpha where the format
allows, through a temporary file in the same folder and ``os.replace``: a failed
write leaves nothing behind, and the input file is never overwritten unless asked.

Every bad input raises :class:`~pertouch.core.errors.InputError` with one line.

>>> import numpy as np, tempfile, os
>>> d = tempfile.mkdtemp(); p = os.path.join(d, "x.png")
>>> _ = save_image(p, np.zeros((2, 3, 3), np.uint8))
>>> load_image(p).pixels.shape
(2, 3, 3)
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

from pertouch.engine.io.write import (  # noqa: F401  (writing lives in imwrite; re-exported)
    WRITE_FORMATS, _srgb, output_format, same_file, save_image, srgb_icc_bytes)
from pertouch.core.errors import InputError

#: Largest image (width × height) read by default: 100 megapixels. Checked from the
#: file header before any pixel is decoded (decompression-bomb guard).
DEFAULT_MAX_PIXELS = 100_000_000

#: Pillow format name → our format name (MPO is the multi-picture JPEG phones write).
READ_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "TIFF": "TIFF", "WEBP": "WEBP"}
READ_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp")
RAW_EXTENSIONS = (".dng", ".cr2", ".cr3", ".nef", ".nrw", ".arw", ".raf", ".orf", ".rw2", ".pef", ".srw", ".raw")
_EXIF_ORIENTATION = 0x0112

# Truncated files must fail, not decode to grey: never let anyone flip this on.
ImageFile.LOAD_TRUNCATED_IMAGES = False


@dataclass
class Photo:
    """A decoded photo.

    ``pixels``: ``(H, W, 3)`` uint8 or uint16, sRGB. ``alpha``: ``(H, W)`` same
    dtype or ``None``. ``exif``: EXIF bytes (orientation 1) or ``None``.
    ``format``: ``"JPEG"``, ``"PNG"``, ``"TIFF"``, ``"WEBP"`` or ``"RAW"``.
    """

    pixels: np.ndarray
    alpha: np.ndarray | None = None
    exif: bytes | None = None
    format: str = ""
    bit_depth: int = 8
    path: Path | None = None
    _hash: str | None = field(default=None, repr=False)

    @property
    def shape(self) -> tuple[int, int]:
        """``(H, W)``."""
        return self.pixels.shape[:2]  # type: ignore[return-value]

    @property
    def size(self) -> tuple[int, int]:
        """``(W, H)``, the way image tools print sizes."""
        return self.pixels.shape[1], self.pixels.shape[0]

    @property
    def content_hash(self) -> str:
        """Short sha256 hex over the decoded pixels (shape and dtype included)."""
        if self._hash is None:
            self._hash = pixel_hash(self.pixels)
        return self._hash


def pixel_hash(pixels: np.ndarray) -> str:
    """16-hex-digit sha256 of an array's shape, dtype and bytes."""
    h = hashlib.sha256(f"{pixels.shape}{pixels.dtype.str}".encode())
    h.update(np.ascontiguousarray(pixels).data)
    return h.hexdigest()[:16]


# --- reading ---------------------------------------------------------------------

def load_image(path: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Photo:
    """Read a photo as sRGB pixels (see module doc); bad input → :class:`InputError`."""
    p = Path(path)
    _check_file(p)
    if p.suffix.lower() in RAW_EXTENSIONS:
        return _load_raw(p, max_pixels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        im = _open(p, max_pixels)
        try:
            return _decode(im, p)
        except InputError:
            raise
        except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
            raise InputError(f"{p} is truncated or corrupt ({exc})", hint="re-export or re-download it") from None
        finally:
            im.close()


def _check_file(p: Path) -> None:
    if not p.exists():
        raise InputError(f"file not found: {p}")
    if p.is_dir():
        raise InputError(f"{p} is a folder, not an image file")
    if p.stat().st_size == 0:
        raise InputError(f"{p} is empty (0 bytes)")


def _open(p: Path, max_pixels: int) -> Image.Image:
    """Open lazily (header only), check format and size before decoding."""
    if max_pixels > (Image.MAX_IMAGE_PIXELS or 0) // 2:
        Image.MAX_IMAGE_PIXELS = max_pixels * 2  # ours is the binding check; only ever raised
    try:
        im = Image.open(p)
    except UnidentifiedImageError:
        raise InputError(f"{p} is not an image Pillow can read", hint=f"use {_formats_text()}") from None
    except Image.DecompressionBombError:
        raise InputError(f"{p} claims a size far over the {max_pixels / 1e6:.0f} MP limit",
                         hint="downscale it first or raise max_pixels") from None
    except OSError as exc:
        raise InputError(f"cannot read {p}: {exc}") from None
    fmt = READ_FORMATS.get(im.format or "")
    if fmt is None:
        im.close()
        raise InputError(f"{p} is a {im.format} image, which PerTouch does not read", hint=f"use {_formats_text()}")
    w, h = im.size
    if w * h > max_pixels:
        im.close()
        raise InputError(
            f"{p} is {w}×{h} ({w * h / 1e6:.0f} MP), over the {max_pixels / 1e6:.0f} MP limit",
            hint="downscale it first or raise max_pixels",
        )
    if w == 0 or h == 0:
        im.close()
        raise InputError(f"{p} has no pixels ({w}×{h})")
    return im


def _formats_text() -> str:
    return "JPEG, PNG, TIFF or WebP (camera RAW with pertouch[raw])"


def _decode(im: Image.Image, p: Path) -> Photo:
    fmt = READ_FORMATS[im.format]
    exif = im.getexif()
    orientation = int(exif.get(_EXIF_ORIENTATION, 1) or 1)
    icc = im.info.get("icc_profile") or None
    if _is_16bit(im, p):
        im.load()  # full decode through Pillow too: catches truncation the same way
        rgb, alpha = _read_16bit(p, fmt)
        rgb, alpha = _orient(rgb, orientation), (None if alpha is None else _orient(alpha, orientation))
        if icc:
            rgb = _icc_to_srgb_16(rgb, icc, p)
        depth = 16
    else:
        im.load()
        im = ImageOps.exif_transpose(im) or im
        rgb, alpha = _to_rgb8(im, icc, p)
        depth = 8
    if orientation != 1:
        exif[_EXIF_ORIENTATION] = 1
    exif_bytes = exif.tobytes() if len(exif) else None
    return Photo(pixels=rgb, alpha=alpha, exif=exif_bytes, format=fmt, bit_depth=depth, path=p)


def _is_16bit(im: Image.Image, p: Path) -> bool:
    if im.format == "PNG":
        with open(p, "rb") as f:
            head = f.read(26)
        return len(head) == 26 and head[24] == 16  # IHDR bit depth
    if im.format == "TIFF":
        bits = im.tag_v2.get(258, (8,))
        bits = bits if isinstance(bits, tuple) else (bits,)
        if max(bits) > 16:
            raise InputError(f"{p} has {max(bits)}-bit samples", hint="save it as 8- or 16-bit TIFF")
        return max(bits) > 8
    return False


def _read_16bit(p: Path, fmt: str) -> tuple[np.ndarray, np.ndarray | None]:
    """16-bit PNG (via OpenCV) or TIFF (via tifffile) → uint16 RGB and alpha."""
    if fmt == "PNG":
        import cv2

        arr = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
        if arr is None:
            raise InputError(f"{p} is truncated or corrupt")
        if arr.ndim == 3:
            arr = arr[..., [2, 1, 0, 3][: arr.shape[2]]]  # BGR(A) → RGB(A)
    else:
        import tifffile

        with tifffile.TiffFile(p) as tif:
            page = tif.pages[0]
            arr = page.asarray()
            if page.planarconfig == 2 and arr.ndim == 3:  # separate planes: (S, H, W)
                arr = np.moveaxis(arr, 0, -1)
    arr = np.asarray(arr).astype(np.uint16, copy=False)
    if arr.ndim == 2:
        return np.repeat(arr[..., None], 3, axis=2), None
    c = arr.shape[2]
    if c == 2:
        return np.repeat(arr[..., :1], 3, axis=2), np.ascontiguousarray(arr[..., 1])
    alpha = np.ascontiguousarray(arr[..., 3]) if c >= 4 else None
    return np.ascontiguousarray(arr[..., :3]), alpha


def _orient(arr: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1–8) to an ``(H, W[, C])`` array."""
    ops = {2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
           5: lambda a: np.swapaxes(a, 0, 1), 6: lambda a: np.swapaxes(a, 0, 1)[:, ::-1],
           7: lambda a: np.swapaxes(a, 0, 1)[::-1, ::-1], 8: lambda a: np.swapaxes(a, 0, 1)[::-1]}
    op = ops.get(orientation)
    return arr if op is None else np.ascontiguousarray(op(arr))


def _profile(icc: bytes, p: Path) -> ImageCms.ImageCmsProfile | None:
    """The embedded profile, or None when it is sRGB already or unreadable."""
    try:
        prof = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        desc = (ImageCms.getProfileDescription(prof) or "").lower()
    except (ImageCms.PyCMSError, OSError, TypeError, ValueError):
        warnings.warn(f"{p}: ignoring an unreadable ICC profile", stacklevel=3)
        return None
    return None if "srgb" in desc.replace(" ", "") else prof


def _to_rgb8(im: Image.Image, icc: bytes | None, p: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """Any 8-bit Pillow mode → uint8 sRGB ``(H, W, 3)`` and alpha ``(H, W)`` or None."""
    alpha = None
    if im.mode in ("P", "PA"):
        im = im.convert("RGBA" if (im.mode == "PA" or "transparency" in im.info) else "RGB")
    elif im.mode in ("L", "1") and "transparency" in im.info:
        im = im.convert("LA")
    elif im.mode in ("RGB",) and "transparency" in im.info:
        im = im.convert("RGBA")
    elif im.mode.startswith("I") or im.mode == "F":  # 32-bit int/float grey (rare): scale to 8-bit
        a = np.asarray(im, dtype=np.float64)
        peak = 65535.0 if a.max() > 255 else 255.0
        im = Image.fromarray(np.clip(a / peak * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if im.mode in ("RGBA", "RGBa", "LA", "La"):
        alpha = np.asarray(im.getchannel("A"))
        im = im.convert("L" if im.mode[0] == "L" else "RGB")
    prof = _profile(icc, p) if icc else None
    if prof is not None and im.mode in ("RGB", "L", "CMYK"):
        try:
            im = ImageCms.profileToProfile(im, prof, _srgb(), outputMode="RGB")
        except ImageCms.PyCMSError:
            warnings.warn(f"{p}: its ICC profile does not fit its pixels; read without conversion", stacklevel=3)
    if im.mode != "RGB":
        im = im.convert("RGB")
    return np.asarray(im), alpha


def _icc_to_srgb_16(rgb: np.ndarray, icc: bytes, p: Path) -> np.ndarray:
    """Convert uint16 RGB to sRGB through a 33³ LUT sampled from LittleCMS."""
    prof = _profile(icc, p)
    if prof is None:
        return rgb
    n = 33
    axis = np.linspace(0, 255, n).round().astype(np.uint8)
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(n * n, n, 3)
    try:
        out = ImageCms.profileToProfile(Image.fromarray(grid, "RGB"), prof, _srgb(), outputMode="RGB")
    except ImageCms.PyCMSError:
        return rgb
    lut = np.asarray(out, dtype=np.float32).reshape(n, n, n, 3) / 255.0
    x = rgb.astype(np.float32) * ((n - 1) / 65535.0)
    i0 = np.minimum(x.astype(np.int32), n - 2)
    f = x - i0
    res = np.zeros(rgb.shape, np.float32)
    for dr in (0, 1):
        for dg in (0, 1):
            for db in (0, 1):
                w = ((f[..., 0] if dr else 1 - f[..., 0]) * (f[..., 1] if dg else 1 - f[..., 1])
                     * (f[..., 2] if db else 1 - f[..., 2]))
                res += w[..., None] * lut[i0[..., 0] + dr, i0[..., 1] + dg, i0[..., 2] + db]
    return np.clip(res * 65535.0 + 0.5, 0, 65535).astype(np.uint16)


def _load_raw(p: Path, max_pixels: int) -> Photo:
    try:
        import rawpy
    except ImportError:
        raise InputError(f"{p} is a camera RAW file", hint="install the raw extra: pip install 'pertouch[raw]'") from None
    try:
        with rawpy.imread(str(p)) as raw:
            h, w = raw.sizes.height, raw.sizes.width
            if w * h > max_pixels:
                raise InputError(f"{p} is {w}×{h}, over the {max_pixels / 1e6:.0f} MP limit")
            rgb = raw.postprocess(output_bps=16, use_camera_wb=True, output_color=rawpy.ColorSpace.sRGB)
    except InputError:
        raise
    except Exception as exc:  # rawpy raises its own LibRawError family
        raise InputError(f"cannot read RAW file {p}: {exc}") from None
    return Photo(pixels=np.ascontiguousarray(rgb, dtype=np.uint16), format="RAW", bit_depth=16, path=p)


# --- writing ---------------------------------------------------------------------
