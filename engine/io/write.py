"""Writing images: atomic, sRGB-tagged, EXIF and alpha kept (see :mod:`pertouch.engine.io.read`).

:func:`save_image` writes the format named by the extension (16-bit kept for PNG/TIFF,
8-bit for JPEG/WebP) through a temporary file in the same folder and ``os.replace``.
"""

from __future__ import annotations

import io
import os
import re
import struct
import tempfile
import time
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageCms

from pertouch.core.errors import InputError

WRITE_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF", ".webp": "WEBP"}
_EXIF_ORIENTATION = 0x0112

#: The creation date written in the sRGB profile's header (ICC dateTimeNumber: year, month,
#: day, hour, minute, second). LittleCMS stamps the current time, which made two renders of
#: one recipe differ in their bytes; a fixed date makes the same edit the same file.
PROFILE_DATE = (2026, 1, 1, 0, 0, 0)


@lru_cache(maxsize=1)
def srgb_icc_bytes() -> bytes:
    """The sRGB ICC profile written into every saved image: LittleCMS's built-in sRGB with
    :data:`PROFILE_DATE` as its creation date (its profile ID stays zero, "not computed",
    as LittleCMS writes it)."""
    icc = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    icc[24:36] = struct.pack(">6H", *PROFILE_DATE)
    return bytes(icc)


@lru_cache(maxsize=1)
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(io.BytesIO(srgb_icc_bytes()))


def output_format(path: str | os.PathLike) -> str:
    """The format written for a path's extension; :class:`InputError` if none."""
    ext = Path(path).suffix.lower()
    fmt = WRITE_FORMATS.get(ext)
    if fmt is None:
        raise InputError(f"cannot write {ext or 'files without an extension'}: {path}",
                         hint="name the output .jpg, .png, .tif or .webp")
    return fmt


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True when two paths name the same existing file (or the same resolved path)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()


def save_image(
    path: str | os.PathLike,
    pixels: np.ndarray,
    *,
    alpha: np.ndarray | None = None,
    exif: bytes | None = None,
    quality: int = 95,
    bit_depth: int | None = None,
    source: str | os.PathLike | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``pixels`` (``(H, W, 3)`` uint8/uint16 sRGB) atomically; returns the path.

    ``bit_depth`` defaults to the array's (16 stays 16 for PNG/TIFF; JPEG and WebP
    are always 8). ``source`` is the input file, refused as the target unless
    ``overwrite``. On any error no file (and no temporary) is left behind.
    """
    out = Path(path)
    fmt = output_format(out)
    if not out.parent.is_dir():
        raise InputError(f"output folder {out.parent} does not exist", hint="create it first")
    if out.is_dir():
        raise InputError(f"output {out} is a folder", hint="give a file name such as out.jpg")
    if source is not None and not overwrite and same_file(out, source):
        raise InputError(f"output {out} is the input file", hint="choose another name, or pass --overwrite")
    depth = bit_depth or (16 if pixels.dtype == np.uint16 else 8)
    depth = 8 if fmt in ("JPEG", "WEBP") else depth
    rgb, a = _to_depth(pixels, depth), (None if alpha is None else _to_depth(alpha, depth))
    if fmt == "JPEG":
        a = None
    _write_atomic(out, lambda: _encode(rgb, a, fmt, _reset_orientation(exif), quality))
    return out


#: Temporaries left by a writer killed before it could remove them (``kill -9``) are
#: removed by the next write to the same folder: ours are named ``.NAME.ptPID-XXXX.tmp``
#: and removed when process PID is gone (older ``.NAME.XXXXXXXX.tmp`` ones after an hour).
STALE_AFTER_S = 3600.0
_TEMP = re.compile(r"^\..+\.(?:pt(\d+)-[A-Za-z0-9_]+|[A-Za-z0-9_]{8})\.tmp$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process: alive
        return True
    return True


def clean_stale_temps(folder: str | os.PathLike) -> list[Path]:
    """Remove our hidden temporaries in ``folder`` whose writer is gone; returns them."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for e in entries:
        m = _TEMP.match(e.name)
        if not m or not e.is_file(follow_symlinks=False):
            continue
        try:
            stale = (not _alive(int(m.group(1)))) if m.group(1) else now - e.stat().st_mtime > STALE_AFTER_S
            if stale:
                os.unlink(e.path)
                removed.append(Path(e.path))
        except OSError:
            continue
    return removed


def temp_beside(out: Path) -> tuple[int, str]:
    """A new hidden temporary file next to ``out`` (``mkstemp``'s fd and path), after
    removing stale ones; an OSError (a folder we may not write) → :class:`InputError`."""
    clean_stale_temps(out.parent)
    try:
        return tempfile.mkstemp(prefix=f".{out.name}.pt{os.getpid()}-", suffix=".tmp", dir=out.parent)
    except OSError as exc:
        raise InputError(f"cannot write in {out.parent}: {exc.strerror or exc}",
                         hint="choose an output folder you may write to, or fix its permissions") from None


def _write_atomic(out: Path, data: Callable[[], bytes]) -> None:
    """Write ``data()`` to ``out`` through a temporary file in the same folder and a rename:
    on any error (encoding included) no file, and no temporary, is left behind; an
    OSError becomes a one-line :class:`InputError`."""
    fd, tmp = temp_beside(out)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data())
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, out)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise InputError(f"cannot write {out}: {exc.strerror or exc}") from None
        raise


def save_mask_png(path: str | os.PathLike, mask: np.ndarray) -> Path:
    """Write a soft mask ``(H, W)`` in [0, 1] as a 16-bit grey PNG, atomically.

    :func:`pertouch.engine.io.masks.load_mask` reads it back as ``round(m · 65535) / 65535``
    (the same values a 16-bit RGB copy gives, at a third of the encoding time)."""
    import cv2

    out = Path(path)
    m16 = (np.clip(mask, 0, 1) * 65535 + 0.5).astype(np.uint16)

    def encode() -> bytes:
        ok, enc = cv2.imencode(".png", m16, [cv2.IMWRITE_PNG_COMPRESSION, 4])
        if not ok:
            raise OSError(f"PNG encoder failed for {out.name}")
        return enc.tobytes()

    _write_atomic(out, encode)
    return out


def _to_depth(a: np.ndarray, depth: int) -> np.ndarray:
    if a.dtype == np.uint8:
        return a if depth == 8 else a.astype(np.uint16) * 257
    if a.dtype == np.uint16:
        return a if depth == 16 else ((a.astype(np.uint32) + 128) // 257).astype(np.uint8)
    raise ValueError(f"pixels must be uint8 or uint16, got {a.dtype}")


def _reset_orientation(exif: bytes | None) -> bytes | None:
    if not exif:
        return None
    e = Image.Exif()
    try:
        e.load(exif)
    except Exception:  # unreadable EXIF is dropped, not fatal
        return None
    if _EXIF_ORIENTATION in e:
        e[_EXIF_ORIENTATION] = 1
    return e.tobytes()


def _encode(rgb: np.ndarray, alpha: np.ndarray | None, fmt: str, exif: bytes | None, quality: int) -> bytes:
    arr = rgb if alpha is None else np.dstack([rgb, alpha])
    if rgb.dtype == np.uint16 and fmt == "PNG":
        return _encode_png16(arr, exif)
    if rgb.dtype == np.uint16:  # TIFF
        import tifffile

        buf = io.BytesIO()
        tifffile.imwrite(buf, arr, photometric="rgb", compression="zlib", iccprofile=srgb_icc_bytes(),
                         extrasamples=("unassalpha",) if alpha is not None else None)
        return buf.getvalue()
    im = Image.fromarray(np.ascontiguousarray(arr), "RGB" if alpha is None else "RGBA")
    kw: dict = {"icc_profile": srgb_icc_bytes()}
    if exif:
        kw["exif"] = exif
    if fmt == "JPEG":
        kw.update(quality=quality, subsampling=0 if quality >= 90 else 2, optimize=False)
    elif fmt == "WEBP":
        kw.update(quality=quality, method=4)
    elif fmt == "PNG":
        kw.update(compress_level=4)
    elif fmt == "TIFF":
        kw.update(compression="tiff_adobe_deflate")
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _encode_png16(arr: np.ndarray, exif: bytes | None) -> bytes:
    """16-bit PNG through OpenCV, with iCCP (sRGB) and eXIf chunks added after IHDR."""
    import cv2

    bgr = arr[..., [2, 1, 0, 3][: arr.shape[2]]]
    ok, enc = cv2.imencode(".png", np.ascontiguousarray(bgr), [cv2.IMWRITE_PNG_COMPRESSION, 4])
    if not ok:
        raise OSError("PNG encoder failed")
    data = enc.tobytes()
    extra = _png_chunk(b"iCCP", b"sRGB\x00\x00" + zlib.compress(srgb_icc_bytes()))
    if exif:
        extra += _png_chunk(b"eXIf", exif[6:] if exif.startswith(b"Exif\x00\x00") else exif)
    ihdr_end = 8 + 8 + 13 + 4  # signature + IHDR length/type + 13 data bytes + CRC
    return data[:ihdr_end] + extra + data[ihdr_end:]
