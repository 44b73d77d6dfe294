"""Row bands over threads (engine/parametric/fast/rows.py), and no OpenMP parallel regions in the engine.

The engine collapsed when other processes shared the cores (issue 15: 111 → 1675 ms,
CPU time unchanged): numba's OpenMP ``parallel=True`` regions spun and waited for
descheduled threads. The compiled passes are now serial ``nogil`` functions of a row
range and :func:`over_rows` spreads bands over threads; the caller never waits for a
worker that has not started.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from pertouch.engine.parametric.fast import rows


def test_every_row_once_on_several_threads():
    hits = np.zeros(1000, np.int64)
    names = set()
    both = threading.Event()
    lock = threading.Lock()

    def call(ya, yb):
        with lock:
            first = threading.current_thread().name not in names
            names.add(threading.current_thread().name)
            if len(names) == 2:
                both.set()
        hits[ya:yb] += 1
        if first:  # a thread's first band is held until the other thread has one too (with a
            both.wait(10)  # fixed sleep, a busy machine let one thread take every band)

    rows.over_rows(call, 10, 1000, threads=2)
    assert (hits[10:] == 1).all() and (hits[:10] == 0).all()
    assert len(names) == 2


def test_one_thread_or_few_rows_run_on_the_caller():
    seen = []
    rows.over_rows(lambda a, b: seen.append((a, b, threading.current_thread().name)), 0, 500, threads=1)
    rows.over_rows(lambda a, b: seen.append((a, b, threading.current_thread().name)), 0, 40, threads=2)
    me = threading.current_thread().name
    assert seen == [(0, 500, me), (0, 40, me)]
    rows.over_rows(lambda a, b: seen.append(1), 5, 5)  # empty: nothing called
    assert len(seen) == 2


def test_caller_does_not_wait_for_a_worker_that_has_not_started():
    """Workers busy elsewhere (or descheduled): the caller does every band itself."""
    pool = rows.workers(1)
    release = threading.Event()
    pool.submit(release.wait, 10)  # the only worker is held
    try:
        done = threading.Event()
        hits = np.zeros(800, np.int64)

        def run():
            rows.over_rows(lambda a, b: hits.__setitem__(slice(a, b), hits[a:b] + 1), 0, 800, threads=2)
            done.set()

        threading.Thread(target=run, daemon=True).start()
        assert done.wait(5), "over_rows waited for a worker that never started"
        assert (hits == 1).all()
    finally:
        release.set()


def test_errors_reach_the_caller():
    def call(a, b):
        if a > 300:
            raise ValueError("band failed")

    with pytest.raises(ValueError, match="band failed"):
        rows.over_rows(call, 0, 1000, threads=2)


def test_no_openmp_parallel_kernels():
    """Every compiled engine function is serial (``parallel=True`` brought the collapse)."""
    from numba.core.registry import CPUDispatcher

    from pertouch.engine.parametric import blend
    from pertouch.engine.parametric.fast import kernels, restore, samplepass, spans

    found = 0
    for mod in (blend, kernels, restore, samplepass, spans):
        for name, fn in vars(mod).items():
            if isinstance(fn, CPUDispatcher):
                found += 1
                assert not fn.targetoptions.get("parallel"), f"{mod.__name__}.{name} is parallel=True"
    assert found >= 8
