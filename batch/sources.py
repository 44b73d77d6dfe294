"""Where a batch's photos come from: files, folders, globs, a CSV manifest, or fsspec URLs.

:func:`expand_paths` turns local files, folders (their photos, sorted) and globs into
paths; :func:`expand_sources` does the same for anything a batch takes:

* ``photo.jpg``, ``folder/``, ``'shots/*.tif'`` — local, as :func:`expand_paths`;
* ``list.csv`` (local or a URL) — one photo per row: column ``input`` (a path relative
  to the CSV, or a URL), optional ``output`` (the output's file name);
* ``s3://bucket/shoot/``, ``gs://b/*.jpg``, ``memory://x/a.png``, ``file:///data/`` —
  any URL `fsspec <https://filesystem-spec.readthedocs.io>`_ opens (the protocol's
  package, e.g. ``s3fs``, must be installed where the photo is read).

:func:`local_copy` gives a worker a local file for a :class:`Source` (remote ones are
copied into a temp folder under their own name, so sidecars name them right).
"""

from __future__ import annotations

import csv
import glob
import io
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterable

from pertouch.core.errors import InputError


@dataclass(frozen=True)
class Source:
    """One photo of a batch: ``uri`` (a local path or an fsspec URL) and, from a CSV,
    the output's file name."""

    uri: str
    output: str | None = None

    @property
    def is_url(self) -> bool:
        return is_url(self.uri)

    @property
    def name(self) -> str:
        """The photo's file name (the last part of its path or URL)."""
        return PurePosixPath(url_path(self.uri)).name if self.is_url else Path(self.uri).name


def is_url(text: str) -> bool:
    """``s3://…``, ``file://…``: a URL (one-letter "schemes" are Windows drives)."""
    scheme, sep, _ = str(text).partition("://")
    return bool(sep) and len(scheme) > 1 and scheme.replace("+", "").replace("-", "").isalnum()


def url_path(url: str) -> str:
    return url.partition("://")[2]


def _extensions() -> set[str]:
    from pertouch.engine.io.read import RAW_EXTENSIONS, READ_EXTENSIONS

    return set(READ_EXTENSIONS) | set(RAW_EXTENSIONS)


def expand_paths(items: Iterable[str]) -> list[Path]:
    """Files, folders (their image files, sorted) and globs → unique paths, in order."""
    exts = _extensions()
    out: list[Path] = []
    for item in items:
        p = Path(item).expanduser()
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.is_file() and q.suffix.lower() in exts)
            if not found:
                raise InputError(f"folder {p} has no photos", hint="it needs .jpg, .png, .tif or .webp files")
            out += found
        elif any(c in item for c in "*?[") and not p.exists():
            found = sorted(Path(m) for m in glob.glob(str(p), recursive=True) if Path(m).is_file())
            if not found:
                raise InputError(f"no files match {item}")
            out += found
        else:
            out.append(p)
    seen: set[Path] = set()
    return [p for p in out if not (p.resolve() in seen or seen.add(p.resolve()))]


def _fs(url: str):
    try:
        import fsspec
    except ImportError:  # pragma: no cover - a dependency
        raise InputError(f"{url}: reading URLs needs fsspec", hint="pip install 'pertouch[scale]'") from None
    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:
        raise InputError(f"{url}: cannot open this URL ({exc})",
                         hint="install the package for its protocol, e.g. s3fs for s3://, gcsfs for gs://") from None


def _expand_url(url: str) -> list[Source]:
    fs, path = _fs(url)
    scheme = url.partition("://")[0]
    exts = _extensions()

    def full(p: str) -> str:
        return p if is_url(p) else f"{scheme}://{p.lstrip('/') if scheme == 'memory' else p}"

    try:
        if any(c in path for c in "*?["):
            found = sorted(p for p in fs.glob(path) if fs.isfile(p))
            if not found:
                raise InputError(f"no files match {url}")
        elif fs.isdir(path):
            found = sorted(p for p in fs.ls(path, detail=False)
                           if fs.isfile(p) and PurePosixPath(p).suffix.lower() in exts)
            if not found:
                raise InputError(f"{url} has no photos", hint="it needs .jpg, .png, .tif or .webp files")
        elif fs.isfile(path):
            found = [path]
        else:
            raise InputError(f"not found: {url}")
    except OSError as exc:
        raise InputError(f"{url}: {exc}") from None
    return [Source(full(p)) for p in found]


def _read_text(uri: str) -> str:
    if is_url(uri):
        fs, path = _fs(uri)
        try:
            with fs.open(path, "rb") as f:
                return f.read().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{uri}: cannot read it ({exc})") from None
    try:
        return Path(uri).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{uri}: cannot read it ({exc})") from None


def _from_csv(uri: str) -> list[Source]:
    rows = list(csv.DictReader(io.StringIO(_read_text(uri))))
    if not rows or "input" not in rows[0]:
        raise InputError(f"{uri}: a batch CSV needs an 'input' column (and may have 'output')",
                         hint="first line: input,output")
    base = uri.rsplit("/", 1)[0] if is_url(uri) else str(Path(uri).parent)
    out = []
    for k, row in enumerate(rows, start=2):
        inp = (row.get("input") or "").strip()
        if not inp:
            raise InputError(f"{uri}, line {k}: the 'input' column is empty")
        if not is_url(inp) and not os.path.isabs(inp):
            inp = f"{base}/{inp}" if is_url(base) else str(Path(base) / inp)
        name = (row.get("output") or "").strip() or None
        if name is not None and (Path(name).name != name or name in (".", "..")):
            raise InputError(f"{uri}, line {k}: output {name!r} must be a file name, not a path")
        out.append(Source(inp, name))
    return out


def expand_sources(items: Iterable[str]) -> list[Source]:
    """Every photo the items name (see the module docstring), unique, in order."""
    out: list[Source] = []
    for item in items:
        item = str(item)
        if item.lower().endswith(".csv"):
            out += _from_csv(item)
        elif is_url(item):
            out += _expand_url(item)
        else:
            out += [Source(str(p)) for p in expand_paths([item])]
    seen: set[str] = set()
    unique = []
    for s in out:
        key = s.uri if s.is_url else str(Path(s.uri).resolve())
        if key not in seen:
            seen.add(key)
            unique.append(s)
    return unique


def local_copy(source: Source, folder: Path) -> Path:
    """A local file holding the photo: the file itself, or a copy of a URL's bytes in
    ``folder`` under the photo's own name (``file://`` URLs are read in place)."""
    if not source.is_url:
        return Path(source.uri)
    fs, path = _fs(source.uri)
    if "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)):
        return Path(path)
    dst = folder / source.name
    try:
        fs.get_file(path, str(dst))
    except FileNotFoundError:
        raise InputError(f"not found: {source.uri}") from None
    return dst
