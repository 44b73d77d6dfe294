"""Batches on a Ray cluster: one Ray task per photo.

Each photo is a task of :func:`pertouch.batch.tasks.run_task` declared with
``num_cpus`` (``--cpus-per-photo``), ``max_retries`` (Ray runs it again on another
worker when its worker process or node dies) and ``retry_exceptions=[OSError]`` (a
flaky disk or object store). The shared :class:`BatchSpec` is put in the object store
once. At most ``jobs`` tasks are in flight (default: twice the cluster's CPUs), so a
batch of a million photos does not queue a million tasks, and results stream back as
they finish (:func:`ray.wait`), not at the end.

The driver connects to ``address`` (``auto``, ``HOST:PORT`` of a ``ray start --head``,
or ``ray://HOST:10001``); without one, to ``$RAY_ADDRESS``, else it starts a one-machine
Ray. Every node must have PerTouch installed in the same Python environment: workers
import :mod:`pertouch.batch.tasks` by name and read inputs by path or URL, so on several
machines inputs and ``-o`` must be shared storage (NFS) or URLs (``s3://``).
"""

from __future__ import annotations

import os
from typing import Iterator

from pertouch.batch.tasks import BatchSpec, Task, run_task
from pertouch.core.errors import InputError


def _connect(address: str | None) -> bool:
    """Connect (or start); True when this call did (so it shuts down at the end)."""
    try:
        import ray
    except ImportError:  # pragma: no cover - an optional dependency
        raise InputError("--executor ray needs Ray", hint="pip install 'pertouch[scale]'") from None
    if ray.is_initialized():
        return False
    target = address or os.environ.get("RAY_ADDRESS") or None
    if target:
        if target != "auto":
            _reachable(target)
        _token_auth_like_ray_start()
    try:
        ray.init(address=target, log_to_driver=False, configure_logging=False,
                 include_dashboard=None if target else False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = target or "a new local cluster"
        raise InputError(f"cannot reach the Ray cluster at {where}: {str(exc).splitlines()[0]}",
                         hint="start one with: ray start --head --port=6379, then --executor ray:HOST:6379") from None
    return True


def _token_auth_like_ray_start() -> None:
    """``ray start`` turns token authentication on when ``~/.ray/auth_token`` exists and
    ``RAY_AUTH_MODE`` is unset; Ray 2.60's driver does not when it joins such a cluster
    (it is then refused: "Authentication token is missing"). Decide the same way."""
    try:
        from ray._private.authentication.authentication_token_setup import (
            maybe_enable_token_auth_if_token_available)
    except ImportError:  # another Ray version: it decides itself
        return
    import logging

    log = logging.getLogger(maybe_enable_token_auth_if_token_available.__module__)
    level = log.level
    log.setLevel(logging.ERROR)  # its "token authentication is enabled" warning: the cluster's business
    try:
        maybe_enable_token_auth_if_token_available(warn_if_disabled=False)
    finally:
        log.setLevel(level)


def _reachable(address: str, timeout: float = 5.0) -> None:
    """InputError within ``timeout`` when nothing listens at ``HOST:PORT`` (Ray itself
    would retry for minutes)."""
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise InputError(f"--executor ray:{address}: expected HOST:PORT, ray://HOST:PORT or auto",
                         hint="e.g. --executor ray:10.0.0.5:6379 (the port `ray start --head` printed)")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise InputError(f"cannot reach the Ray cluster at {address} ({exc.strerror or exc})",
                         hint="start one with: ray start --head --port=6379, then --executor ray:HOST:6379") from None


def run_on_ray(spec: BatchSpec, tasks: list[Task], address: str | None = None, *, jobs: int = 0,
               cpus: float = 1.0, retries: int = 3) -> Iterator[dict]:
    """Results of ``tasks`` as they finish on the cluster at ``address``."""
    import ray
    from ray.exceptions import RayError

    started = _connect(address)
    try:
        remote = ray.remote(run_task).options(num_cpus=cpus, max_retries=retries, retry_exceptions=[OSError],
                                              name="pertouch_photo")
        spec_ref = ray.put(spec)
        window = jobs or max(2, int(2 * ray.cluster_resources().get("CPU", 1) / cpus))
        pending: dict = {}
        queue = iter(tasks)

        def fill() -> None:
            for t in queue:
                pending[remote.remote(spec_ref, t)] = t
                if len(pending) >= window:
                    return

        fill()
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                t = pending.pop(ref)
                try:
                    yield ray.get(ref)
                except RayError as exc:  # retries spent: the worker kept dying, or an I/O error persisted
                    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                    yield {"input": t.source.uri, "output": t.output, "digest": t.digest, "exit_code": 1,
                           "error": f"failed on Ray after {retries} retries: {type(exc).__name__}: {first}"}
            fill()
    finally:
        if started:
            ray.shutdown()
