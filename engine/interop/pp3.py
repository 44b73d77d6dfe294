"""RawTherapee processing profiles (``.pp3``): write one, and render with ``rawtherapee-cli``.

A ``.pp3`` is an INI file (GLib key file). RawTherapee builds a partial profile on top
of its neutral values, so only the sliders an edit moves are written. Region edits are
not written: RawTherapee 5.9's Local Adjustments select areas by shape spots (ellipse,
rectangle) and colour/luminance ranges, never by an image mask, so a PerTouch mask
cannot be carried; :mod:`.plan` lists each such edit as not expressed.

>>> print(pp3_text({"Exposure": {"Compensation": "0.50"}}, ["made by PerTouch"]).splitlines()[0])
# made by PerTouch
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Mapping

import numpy as np

#: The RawTherapee profile version this writer targets (RawTherapee 5.9).
PP3_VERSION = 348
APP_VERSION = "5.9"
RT_CLI = "rawtherapee-cli"


def merge(*parts: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """Section → key → value dicts merged left to right."""
    out: dict[str, dict[str, str]] = {}
    for part in parts:
        for section, keys in part.items():
            out.setdefault(section, {}).update(keys)
    return out


def pp3_text(sections: Mapping[str, Mapping[str, str]], comments: list[str] = ()) -> str:
    """The profile's text: ``comments`` as ``#`` lines, a [Version] block, then ``sections``."""
    lines = [f"# {c}" for c in comments]
    lines += ["[Version]", f"AppVersion={APP_VERSION}", f"Version={PP3_VERSION}", ""]
    for section, keys in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{k}={v}" for k, v in keys.items()]
        lines.append("")
    return "\n".join(lines)


def parse_pp3(text: str) -> dict[str, dict[str, str]]:
    """Section → key → value of a ``.pp3`` (comments and blank lines skipped)."""
    out: dict[str, dict[str, str]] = {}
    section = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = out.setdefault(line[1:-1], {})
        elif "=" in line and section is not None:
            k, _, v = line.partition("=")
            section[k.strip()] = v.strip()
    return out


def rawtherapee_available() -> bool:
    return shutil.which(RT_CLI) is not None


def render_many(photos: list[Path], pp3: str, out_dir: Path) -> list[Path]:
    """Render ``photos`` with the profile text ``pp3`` into 16-bit TIFFs in ``out_dir``.

    RawTherapee keeps its settings under ``$HOME/.config``; a private HOME keeps the
    user's own out of it (and theirs out of the measurement).
    """
    from pertouch.core.errors import PertouchError

    if not rawtherapee_available():
        raise PertouchError(f"{RT_CLI} is not installed", hint="apt-get install rawtherapee-cli")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pertouch-rt-") as home:
        profile = Path(home) / "edit.pp3"
        profile.write_text(pp3, encoding="utf-8")
        env = {**os.environ, "HOME": home, "XDG_CONFIG_HOME": home, "XDG_CACHE_HOME": home}
        cmd = [RT_CLI, "-q", "-a", "-Y", "-t", "-b16", "-o", str(out_dir), "-p", str(profile), "-c",
               *map(str, photos)]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    outs = [out_dir / (Path(p).stem + ".tif") for p in photos]
    missing = [o for o in outs if not o.is_file()]
    if done.returncode or missing:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise PertouchError(f"{RT_CLI} failed (exit {done.returncode}): {tail[0]}")
    return outs


def render(photo: Path, pp3: str) -> np.ndarray:
    """One photo rendered by RawTherapee with ``pp3`` → float RGB in [0, 1] (H, W, 3)."""
    from pertouch.engine.io.read import load_image

    with tempfile.TemporaryDirectory(prefix="pertouch-rt-out-") as tmp:
        (out,) = render_many([Path(photo)], pp3, Path(tmp))
        return load_image(out).pixels
