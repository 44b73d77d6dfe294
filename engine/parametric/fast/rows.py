"""Row bands of a compiled per-pixel pass, shared by the calling thread and worker threads.

The fused passes (:mod:`.kernels`, :mod:`.restore`) are compiled ``nogil`` functions
of a row range. :func:`over_rows` cuts the rows into bands and lets the calling
thread and :func:`workers` pool threads take bands from one counter until none is
left; the caller then waits only for bands being worked on, never for a worker that
has not started yet.

Why not numba's ``parallel=True``: its OpenMP layer makes each parallel region a
hand-off to threads that spin at the barrier (GNU OpenMP's default, and ``torch``
loads its own ``libgomp.so.1`` first, so ``OMP_WAIT_POLICY`` set by us may come too
late). On a quiet machine that costs nothing; with other processes on the cores the
spinning threads take the time slices the working thread needs, and every region
ends with a wait for a descheduled thread. A 12 MP render with two busy processes on
the 2-core machine went from 111 ms to 1675 ms (solve 34 → 1497 ms, ~230 parallel
regions of 0.1 ms each) while a plain NumPy chain slowed 5.5×. Here a band that is
not taken is done by the caller, and idle workers sleep on a lock (no spinning).
"""

from __future__ import annotations

import itertools
import os
import threading
from functools import lru_cache
from typing import Callable

import numpy as np

#: Bands per thread (the last band's wait is at most this fraction of a thread's share).
BANDS_PER_THREAD = 4
#: No band is smaller than this many rows (a call costs ~10 µs of Python).
MIN_BAND_ROWS = 32


def cores() -> int:
    """The cores this process may run on (its affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


@lru_cache(maxsize=None)
def workers(n: int):
    """The pool of ``n`` worker threads for row bands (made on first use)."""
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=n, thread_name_prefix="pertouch-rows")


#: Threads a pass uses: the caller plus ``THREADS - 1`` workers (``PERTOUCH_ENGINE_THREADS``
#: overrides; 1 = everything on the calling thread).
THREADS = max(1, min(int(os.environ.get("PERTOUCH_ENGINE_THREADS", "0") or 0) or cores(), 8))


class _Bands:
    """One pass: bands handed out by a counter, a count of bands finished."""

    def __init__(self, call: Callable[[int, int], None], bounds: np.ndarray) -> None:
        self.call, self.bounds = call, bounds
        self.taken = itertools.count()  # next() is atomic under the GIL
        self.left = len(bounds) - 1
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.error: BaseException | None = None

    def work(self) -> None:
        n = len(self.bounds) - 1
        while True:
            k = next(self.taken)
            if k >= n:
                return
            try:
                if self.error is None:
                    self.call(int(self.bounds[k]), int(self.bounds[k + 1]))
            except BaseException as exc:  # noqa: BLE001 - re-raised on the calling thread
                self.error = exc
            with self.lock:
                self.left -= 1
                if self.left == 0:
                    self.done.set()


def over_rows(call: Callable[[int, int], None], y0: int, y1: int, threads: int | None = None) -> None:
    """``call(ya, yb)`` over bands covering rows ``[y0, y1)``, on up to ``threads`` threads
    (default :data:`THREADS`). ``call`` must write only its own rows and release the GIL."""
    threads = THREADS if threads is None else max(1, threads)
    n = y1 - y0
    bands = min(threads * BANDS_PER_THREAD, n // MIN_BAND_ROWS)
    if threads == 1 or bands < 2:
        if n > 0:
            call(y0, y1)
        return
    job = _Bands(call, np.linspace(y0, y1, bands + 1).round().astype(np.int64))
    pool = workers(threads - 1)
    for _ in range(min(threads - 1, bands - 1)):
        pool.submit(job.work)
    job.work()
    job.done.wait()
    if job.error is not None:
        raise job.error
