"""Where results go: output paths, recipe sidecars and their masks, atomic JSON.

- :func:`plan_outputs`: one output path per input (a folder for several), never the
  input itself unless allowed;
- :func:`sidecar_path`: ``out.jpg`` → ``out.jpg.pertouch.json``;
- :func:`sidecar_masks`: each region's mask beside the sidecar (16-bit PNG), paths
  relative to it;
- :func:`write_json_atomic`: JSON through a temp file and ``os.replace``;
- :func:`check_writable`: the output folder takes a new file (checked before rendering);
- :func:`relative_to`: a path as the sidecar stores it.

Used by the CLI (``pertouch apply``, ``retouch``, ``chat``) and by the graph's result
writer (:mod:`pertouch.graph.output`), so both write the same files.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Sequence

from pertouch.core.errors import InputError


def plan_outputs(inputs: Sequence[Path], out: Path, *, overwrite: bool,
                 overwrite_flag: str | None = "--overwrite") -> list[Path]:
    """One output path per input. Several inputs (or an existing folder) → ``out/NAME``.

    ``overwrite_flag``: how the caller's user allows writing over an input (named in the
    error's hint); None where there is no such way (chat's "save as").
    """
    from pertouch.engine.io.read import WRITE_FORMATS, output_format, same_file

    if len(inputs) == 1 and not out.is_dir():
        output_format(out)
        if not out.parent.is_dir():
            raise InputError(f"output folder {out.parent} does not exist", hint="create it first")
        targets = [out]
    else:
        if out.exists() and not out.is_dir():
            raise InputError(f"-o {out}: with several inputs the output must be a folder")
        if not out.exists():
            if not out.parent.is_dir():
                raise InputError(f"output folder {out.parent} does not exist", hint="create it first")
            out.mkdir()
        targets, used = [], set()
        for p in inputs:
            name = p.name if p.suffix.lower() in WRITE_FORMATS else p.stem + ".tif"
            stem, suffix, k = Path(name).stem, Path(name).suffix, 2
            while name in used:
                name, k = f"{stem}_{k}{suffix}", k + 1
            used.add(name)
            targets.append(out / name)
    for src, dst in zip(inputs, targets):
        if not overwrite and src.exists() and same_file(src, dst):
            how = f", or pass {overwrite_flag}" if overwrite_flag else ""
            raise InputError(f"output {dst} is the input file", hint=f"choose another output{how}")
    for folder in dict.fromkeys(t.parent for t in targets):
        check_writable(folder)
    return targets


def check_writable(folder: Path) -> None:
    """:class:`InputError` unless a file can be created in ``folder`` — tried for real (a
    permission check alone says yes to root on a read-only mount), before any rendering."""
    from pertouch.engine.io.write import temp_beside

    fd, tmp = temp_beside(folder / "write-check")
    os.close(fd)
    os.unlink(tmp)


def sidecar_path(output: Path) -> Path:
    """``out.jpg`` → ``out.jpg.pertouch.json``."""
    return output.with_name(output.name + ".pertouch.json")


def write_json_atomic(path: Path, data: Any) -> Path:
    """Write JSON through a temp file in the same folder and ``os.replace``."""
    from pertouch.engine.io.write import temp_beside

    fd, tmp = temp_beside(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, ensure_ascii=False)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def relative_to(path: Path, start: Path) -> str:
    """``path`` relative to ``start`` in POSIX form (absolute when on another drive)."""
    try:
        return Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()
    except ValueError:  # another drive
        return str(path.resolve())


def sidecar_masks(regions: dict, out: Path, created: list[Path]) -> dict[str, str]:
    """Region → mask path relative to the sidecar; outside files are copied next to it.

    Computed masks (segmentation) are stored as 16-bit grey PNGs, encoded on two threads."""
    from concurrent.futures import ThreadPoolExecutor

    from pertouch.engine.io.write import save_mask_png

    folder, paths, todo = out.parent, {}, []
    masks_dir = out.with_name(out.name + ".masks")
    for name, region in regions.items():
        src = Path(region.source) if region.source else None
        if src is not None and src.is_file() and folder.resolve() in src.resolve().parents \
                and masks_dir.resolve() not in src.resolve().parents:
            paths[name] = relative_to(src, folder)
            continue
        if not masks_dir.exists():
            masks_dir.mkdir()
            created.append(masks_dir)
        if src is not None and src.is_file():
            dst = masks_dir / f"{name}{src.suffix.lower()}"
            shutil.copyfile(src, dst)
        else:  # a computed mask (segmentation)
            dst = masks_dir / f"{name}.png"
            todo.append((dst, region.mask))
        paths[name] = relative_to(dst, folder)
    if todo:
        with ThreadPoolExecutor(max_workers=2) as pool:  # OpenCV's PNG encoder releases the GIL
            list(pool.map(lambda job: save_mask_png(*job), todo))
    return paths
