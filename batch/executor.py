"""Run a batch: one task per photo, on local processes or a Ray cluster, resumable.

:func:`run_batch` plans one output per source in ``out_dir``, skips the photos the
folder's manifest (:mod:`pertouch.batch.manifest`) already has with this recipe digest,
hands the rest to an executor and records each finished photo in the manifest as its
result arrives (``on_result`` sees it too: progress streams, nothing waits for the end).

Executors (``--executor``):

* ``local`` — this machine's processes (:class:`concurrent.futures.ProcessPoolExecutor`,
  ``jobs`` of them; ``jobs=1`` renders in this process). A worker that dies (killed,
  out of memory) breaks the pool: the unfinished photos go to a new pool, at most
  :data:`MAX_RETRIES` times.
* ``ray`` / ``ray:ADDRESS`` — a Ray cluster (:mod:`pertouch.batch.ray_exec`): one Ray
  task per photo with its CPUs declared, retried by Ray when its worker dies.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from pertouch.batch.manifest import Manifest
from pertouch.batch.sources import Source
from pertouch.batch.tasks import BatchSpec, Task, run_task
from pertouch.core.errors import InputError

#: How often a photo is tried again after its worker died (or an I/O error).
MAX_RETRIES = 3
EXECUTOR_HELP = ("local (this machine's processes), ray (a Ray cluster: $RAY_ADDRESS or a new local one), "
                 "or ray:HOST:PORT / ray:auto (an existing cluster)")


@dataclass(frozen=True)
class Executor:
    """``kind`` ``local`` or ``ray``; ``address`` of a Ray cluster (None: $RAY_ADDRESS or a new one)."""

    kind: str
    address: str | None = None
    jobs: int = 0  # local: processes (0: one per CPU, at most 8); ray: photos in flight (0: 2 × cluster CPUs)
    cpus_per_photo: float = 1.0


def parse_executor(text: str, jobs: int = 0, cpus_per_photo: float = 1.0) -> Executor:
    """``local``, ``ray``, ``ray:auto``, ``ray:10.0.0.5:6379``, ``ray:ray://head:10001``."""
    kind, _, address = (text or "local").strip().partition(":")
    kind = kind.lower()
    if kind not in ("local", "ray") or (kind == "local" and address):
        raise InputError(f"--executor {text!r}: unknown executor", hint=EXECUTOR_HELP)
    if cpus_per_photo <= 0:
        raise InputError(f"--cpus-per-photo {cpus_per_photo:g}: must be more than 0")
    return Executor(kind, address or None, jobs, cpus_per_photo)


@dataclass
class Outcome:
    """What a batch did: ``done`` (rendered now), ``skipped`` (finished before, from the
    manifest), ``errors``; every entry a summary dict."""

    done: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    manifest: Path | None = None

    @property
    def exit_code(self) -> int:
        return max((int(e.get("exit_code", 1)) for e in self.errors), default=0)


def plan_tasks(spec: BatchSpec, sources: list[Source], out_dir: Path) -> list[Task]:
    """One task per source, outputs in ``out_dir`` (created) named as the inputs
    (:func:`pertouch.engine.io.outputs.plan_outputs`) unless a CSV row names one."""
    from pertouch.engine.io.read import WRITE_FORMATS
    from pertouch.engine.io.outputs import plan_outputs

    if not sources:
        raise InputError("no input photos given")
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"-o {out_dir}: a batch writes into a folder, and this is a file")
    if not out_dir.parent.is_dir():
        raise InputError(f"output folder {out_dir.parent} does not exist", hint="create it first")
    if not out_dir.exists() and out_dir.suffix.lower() in WRITE_FORMATS:
        raise InputError(f"-o {out_dir}: a batch writes into a folder, and this names a photo",
                         hint="give a folder, e.g. -o out/")
    out_dir.mkdir(exist_ok=True)
    paths = [Path(s.uri) if not s.is_url else Path(s.name) for s in sources]
    outs = plan_outputs(paths, out_dir, overwrite=spec.overwrite)
    targets = [str(out_dir / s.output if s.output else o) for s, o in zip(sources, outs)]
    if len(set(targets)) != len(targets):
        twice = next(t for t in targets if targets.count(t) > 1)
        raise InputError(f"two photos would both be written to {twice}", hint="make the CSV's 'output' column unique")
    digest = spec.digest()
    return [Task(s, t, digest) for s, t in zip(sources, targets)]


def _local(spec: BatchSpec, tasks: list[Task], jobs: int) -> Iterator[dict]:
    """Results as they finish, from ``jobs`` local processes (1: this process)."""
    workers = jobs or min(8, os.cpu_count() or 1)
    if workers <= 1 or len(tasks) <= 1:
        for t in tasks:
            yield _retried(spec, t)
        return
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    todo, tries = list(tasks), {t.output: 0 for t in tasks}
    while todo:
        pool = ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=_context(),
                                   initializer=_worker_init)
        pending: dict = {}
        try:
            pending = {pool.submit(run_task, spec, t): t for t in todo}
            todo = []
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    t = pending.pop(fut)
                    try:
                        result = fut.result()
                    except (BrokenProcessPool, OSError) as exc:
                        tries[t.output] += 1
                        if tries[t.output] <= MAX_RETRIES:
                            todo.append(t)
                            continue
                        result = _failed(t, f"gave up after {MAX_RETRIES} retries: {type(exc).__name__}: {exc}")
                    yield result
        finally:  # Ctrl-C or a failure: do not wait for photos nobody will record
            pool.shutdown(wait=not pending, cancel_futures=True)


def _context():
    """Workers fork from a server that imported the renderer once (fast to start, and no
    threads of this process are forked); plain spawn where there is no forkserver."""
    import multiprocessing as mp

    if "forkserver" not in mp.get_all_start_methods():  # pragma: no cover - Windows
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["pertouch.batch.tasks", "pertouch.batch.render", "pertouch.engine.parametric.engine"])
    return ctx


def _worker_init() -> None:
    """One thread per worker process: the processes are the parallelism."""
    import cv2

    cv2.setNumThreads(1)


def _retried(spec: BatchSpec, t: Task) -> dict:
    for attempt in range(MAX_RETRIES + 1):
        try:
            return run_task(spec, t)
        except OSError as exc:
            if attempt == MAX_RETRIES:
                return _failed(t, f"gave up after {MAX_RETRIES} retries: {type(exc).__name__}: {exc}")
    raise AssertionError("unreachable")  # pragma: no cover


def _failed(t: Task, message: str) -> dict:
    return {"input": t.source.uri, "output": t.output, "digest": t.digest, "error": message, "exit_code": 1}


def run_batch(spec: BatchSpec, sources: list[Source], out_dir: Path, executor: Executor | None = None, *,
              resume: bool = True, on_result: Callable[[dict, str], None] | None = None) -> Outcome:
    """Render every source into ``out_dir`` (see the module docstring).

    ``resume``: skip photos the manifest has with this digest (False: redo them all).
    ``on_result(summary, state)``: called as each photo ends, ``state`` one of
    ``"done"``, ``"skipped"``, ``"error"``.
    """
    executor = executor or Executor("local")
    tasks = plan_tasks(spec, sources, out_dir)
    manifest = Manifest(out_dir)
    outcome = Outcome(manifest=manifest.path)
    todo = []
    for t in tasks:
        entry = manifest.done(t.output, t.digest) if resume else None
        if entry is None:
            todo.append(t)
            continue
        outcome.skipped.append(entry)
        if on_result:
            on_result(entry, "skipped")
    results: Iterable[dict]
    if not todo:
        results = []
    elif executor.kind == "ray":
        from pertouch.batch.ray_exec import run_on_ray

        results = run_on_ray(spec, todo, executor.address, jobs=executor.jobs, cpus=executor.cpus_per_photo,
                             retries=MAX_RETRIES)
    else:
        results = _local(spec, todo, executor.jobs)
    for res in results:
        if "error" in res:
            outcome.errors.append(res)
        else:
            manifest.add(res)
            outcome.done.append(res)
        if on_result:
            on_result(res, "error" if "error" in res else "done")
    order = {t.output: k for k, t in enumerate(tasks)}
    for group in (outcome.done, outcome.skipped, outcome.errors):
        group.sort(key=lambda s: order.get(s["output"], len(order)))
    return outcome
