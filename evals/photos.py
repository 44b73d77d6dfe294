"""Real photos that packages ship, by a source string, for evaluation and tests.

Sources:

- ``skimage:NAME`` — ``skimage.data.NAME()`` (astronaut, coffee, chelsea, rocket …);
- ``sklearn:FILE`` — scikit-learn's sample images (``china.jpg``, ``flower.jpg``);
- ``matplotlib:FILE`` — matplotlib's sample data (``grace_hopper.jpg``);
- ``wheel:DIST==VERSION:MEMBER`` — a file inside a pinned wheel from the package
  registry, e.g. ``wheel:ultralytics==8.4.190:ultralytics/assets/bus.jpg``. The wheel is
  fetched once with ``pip download --no-deps`` (the registry is the only network this
  project uses) and the member kept in the photo cache (``$PERTOUCH_PHOTO_CACHE``,
  else the user cache folder), so later loads are offline. These photos are not
  committed: their licences are their packages' (see ``evals/data/seg/PHOTOS.md``).

>>> load_photo("skimage:astronaut").shape      # doctest: +SKIP
(512, 512, 3)
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from pertouch.core.errors import InputError

_WHEEL = re.compile(r"^(?P<dist>[A-Za-z0-9_.\-]+)==(?P<ver>[A-Za-z0-9_.\-+]+):(?P<member>.+)$")


def cache_dir() -> Path:
    """Where fetched photos live (created)."""
    raw = os.environ.get("PERTOUCH_PHOTO_CACHE")
    if raw:
        d = Path(raw).expanduser()
    else:
        from platformdirs import user_cache_dir

        d = Path(user_cache_dir("pertouch", appauthor=False)) / "photos"
    d.mkdir(parents=True, exist_ok=True)
    return d


def photo_bytes(spec: str) -> bytes:
    """The encoded file of a ``wheel:`` source (fetched on first use)."""
    kind, _, rest = spec.partition(":")
    m = _WHEEL.match(rest) if kind == "wheel" else None
    if m is None:
        raise InputError(f"not a wheel photo source: {spec!r}", hint="use wheel:DIST==VERSION:PATH/IN/WHEEL")
    dist, ver, member = m["dist"], m["ver"], m["member"]
    target = cache_dir() / f"{dist}-{ver}" / member
    if target.is_file():
        return target.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-q", "-d", tmp,
               f"{dist}=={ver}"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        wheels = list(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            raise InputError(f"could not fetch {dist}=={ver} for photo {member}",
                             hint=(done.stderr.strip().splitlines() or ["pip download failed"])[-1])
        with zipfile.ZipFile(wheels[0]) as z:
            try:
                data = z.read(member)
            except KeyError:
                raise InputError(f"{dist}=={ver} has no file {member}") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_suffix(target.suffix + ".part")
    part.write_bytes(data)
    part.replace(target)
    return data


def load_photo(spec: str) -> np.ndarray:
    """A photo source string → uint8 RGB ``(h, w, 3)``."""
    kind, _, name = spec.partition(":")
    if kind == "skimage":
        from skimage import data

        fn = None if name.startswith("_") else getattr(data, name, None)
        if not callable(fn):
            raise InputError(f"scikit-image ships no photo {name!r}", hint="e.g. skimage:astronaut, skimage:coffee")
        img = np.asarray(fn())
    elif kind == "sklearn":
        from sklearn.datasets import load_sample_image

        img = load_sample_image(name)
    elif kind == "matplotlib":
        import matplotlib.cbook as cbook
        from PIL import Image

        img = np.asarray(Image.open(cbook.get_sample_data(name, asfileobj=False)).convert("RGB"))
    elif kind == "wheel":
        from PIL import Image, ImageOps

        with Image.open(io.BytesIO(photo_bytes(spec))) as im:
            img = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    else:
        raise InputError(f"unknown photo source {spec!r}", hint="use skimage:, sklearn:, matplotlib: or wheel:")
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return np.ascontiguousarray(img[..., :3])
