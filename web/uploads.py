"""Photos that reach the web app: uploads (checked) and the bundled demo photos.

An upload is refused with a message when it is larger than :data:`MAX_UPLOAD_BYTES`,
when its bytes are not a JPEG, PNG, TIFF or WebP image (the first bytes are checked,
then the image is decoded), or when it has more than :data:`MAX_PIXELS` pixels. The
browser's file name is never used as a path: the photo is stored as
``uploads/<content hash>.<format>`` inside the workspace.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from pertouch.core.errors import InputError
from pertouch.web.workspace import Workspace, safe_name

#: Largest upload accepted (bytes).
MAX_UPLOAD_BYTES = 60 * 1024 * 1024
#: Largest photo accepted (pixels; 100 MP).
MAX_PIXELS = 100_000_000

#: Demo photos that ship with dependencies (no network): name → :mod:`pertouch.evals.photos` source.
DEMO_PHOTOS = {"china": "sklearn:china.jpg", "flower": "sklearn:flower.jpg", "rocket": "skimage:rocket",
               "coffee": "skimage:coffee", "chelsea": "skimage:chelsea", "astronaut": "skimage:astronaut"}


def sniff(data: bytes) -> str | None:
    """The format the first bytes announce (``jpg``, ``png``, ``tif``, ``webp``), else None."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def store_upload(ws: Workspace, data: bytes) -> Path:
    """Check ``data`` and store it in the workspace; returns the stored file."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError(f"the file is {len(data) / 2**20:.1f} MB, more than the "
                         f"{MAX_UPLOAD_BYTES // 2**20} MB the web app accepts", hint="resize it or use the CLI")
    if not data:
        raise InputError("the file is empty", hint="choose a JPEG, PNG, TIFF or WebP photo")
    fmt = sniff(data)
    if fmt is None:
        raise InputError("that file is not a JPEG, PNG, TIFF or WebP image", hint="choose a photo in one of these formats")
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
            if w * h > MAX_PIXELS:
                raise InputError(f"the photo is {w}×{h} ({w * h / 1e6:.0f} MP), more than "
                                 f"{MAX_PIXELS // 1_000_000} MP", hint="resize it first")
            im.verify()
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"the {fmt.upper()} file could not be decoded ({type(exc).__name__})",
                         hint="it may be damaged; try exporting it again") from None
    name = f"{hashlib.sha256(data).hexdigest()[:24]}.{fmt}"
    path = ws.folder("uploads") / name
    if not path.exists():
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


def demo_photo(ws: Workspace, name: str) -> Path:
    """The demo photo ``name`` written (once) into the workspace."""
    safe_name(name, "demo photo")
    if name not in DEMO_PHOTOS:
        raise InputError(f"no demo photo {name!r}", hint=f"choose one of {', '.join(DEMO_PHOTOS)}")
    path = ws.folder("demo") / f"{name}.png"
    if not path.exists():
        from pertouch.engine.io.read import save_image
        from pertouch.evals.photos import load_photo

        save_image(path, load_photo(DEMO_PHOTOS[name]))
    return path
