"""One batch task = one photo: the spec every task shares, and the function a worker runs.

:class:`BatchSpec` is plain data (it travels to Ray workers on other machines): what to
do — ``apply`` a recipe, give a ``look`` (``pertouch match``), or a user's remembered
taste (``like``) — and how (segmenter, engine, level table, quality). Its
:meth:`~BatchSpec.digest` is the recipe digest a manifest stores beside each finished
output, so a re-run skips exactly the photos already done *with this recipe*.

:func:`run_task` renders one photo through :func:`pertouch.batch.render.render_one`
(the code path of ``pertouch apply``) and returns its summary. A bad photo (a
:class:`PertouchError`) is returned as an ``error`` entry, not raised: retrying cannot
fix it. An ``OSError`` (a flaky network disk or object store) is raised, so the
executor retries it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import socket
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pertouch.batch.sources import Source
from pertouch.core.errors import InputError, PertouchError

MODES = ("apply", "look", "like")


@dataclass(frozen=True)
class BatchSpec:
    """What every photo of a batch gets (see the module docstring)."""

    mode: str
    recipe: dict | None = None  # apply: recipe JSON
    recipe_dir: str | None = None  # apply: where the recipe's relative paths start
    look: dict | None = None  # look: {label: {attribute: level}}
    look_source: str = ""
    user: str | None = None  # like
    memory: str | None = None  # like: the memory store spec (a path or URL every worker can reach)
    segmenter: str = "builtin"
    engine: str = "parametric"
    levels: str | None = None  # level table JSON path (None: packaged)
    quality: int = 95
    save_maps: bool = False
    overwrite: bool = False

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode {self.mode!r} is not one of {MODES}")

    def digest(self) -> str:
        """sha256 (16 hex) of everything that changes an output (not where it runs)."""
        data = {k: v for k, v in asdict(self).items() if k not in ("overwrite", "look_source")}
        if self.levels:
            data["levels"] = hashlib.sha256(Path(self.levels).read_bytes()).hexdigest()
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Task:
    """One photo: where it comes from, where its output goes, the spec's digest."""

    source: Source
    output: str
    digest: str


@functools.lru_cache(maxsize=4)
def _table(path: str | None):
    from pertouch.engine.schema.levels import load_table

    return None if path is None else load_table(path)


@functools.lru_cache(maxsize=2)
def _memory(spec: str | None):
    from pertouch.memory.factory import open_memory

    return open_memory(spec)


@functools.lru_cache(maxsize=4)
def _recipe(text: str):
    from pertouch.engine.schema.recipe import parse_recipe

    return parse_recipe(json.loads(text), "batch recipe")


def _plan(spec: BatchSpec):
    """``(job, regions_of, recipe_of, extra)`` for one photo of ``spec``."""
    from pertouch.batch.looks import Look, recipe_for_look, remembered_look, segmented_region
    from pertouch.batch.render import Job

    base = _recipe(json.dumps(spec.recipe, sort_keys=True)) if spec.recipe else _recipe("{}")
    job = Job(base, Path(spec.recipe_dir) if spec.recipe_dir else None, {}, spec.engine, _table(spec.levels),
              Path(spec.levels) if spec.levels else None, batch=True, save_maps=spec.save_maps,
              overwrite=spec.overwrite, quality=spec.quality)
    extra: dict[str, Any] = {}
    if spec.mode == "apply":
        def regions_of(photo, recipe):
            if all(e.is_noop for e in recipe.regions.values()):
                return {}
            from pertouch.tools.perception import perceive

            scene = perceive(photo, spec.segmenter)
            return {name: segmented_region(scene, name, e.label or name, spec.segmenter)
                    for name, e in recipe.regions.items()}
        return job, regions_of, None, extra

    def recipe_of(photo):
        look = Look(spec.look or {}, spec.look_source) if spec.mode == "look" else \
            remembered_look(photo, spec.user or "", _memory(spec.memory), spec.segmenter)
        recipe, regions, missing = recipe_for_look(photo, look, spec.segmenter)
        extra.update(regions=regions, missing=missing, look=look.source)
        return recipe

    return job, (lambda photo, recipe: extra["regions"]), recipe_of, extra


def run_task(spec: BatchSpec, task: Task) -> dict:
    """Render one photo of a batch; returns its summary (or ``{"error": …}``).

    Every summary names ``input`` (the source URI), ``output``, ``digest`` and the
    ``worker`` (host:pid) that made it.
    """
    from pertouch.batch.render import render_one
    from pertouch.batch.sources import local_copy

    where = f"{socket.gethostname()}:{os.getpid()}"
    base = {"input": task.source.uri, "output": task.output, "digest": task.digest, "worker": where}
    try:
        job, regions_of, recipe_of, extra = _plan(spec)
        with tempfile.TemporaryDirectory(prefix="pertouch-batch-") as tmp:
            inp = local_copy(task.source, Path(tmp))
            if not inp.exists():
                raise InputError(f"file not found: {task.source.uri}")
            summary = render_one(inp, Path(task.output), job, regions_of, recipe_of=recipe_of)
    except PertouchError as exc:
        return {**base, "error": exc.one_line(), "exit_code": exc.exit_code}
    except OSError:
        raise  # transient I/O: the executor retries
    except Exception as exc:  # a bug in one photo must not stop the others
        return {**base, "error": f"internal error: {type(exc).__name__}: {exc}", "exit_code": 1}
    summary.update(base)
    if extra.get("missing") is not None:
        summary["missing"] = extra["missing"]
        summary["look"] = extra["look"]
    if job.warnings:
        summary["warnings"] = sorted(set(job.warnings))
    return summary
