"""The offline models that ship in ``tools/data`` (mediapipe's .tflite files), run
with ``ai-edge-litert``: one loader, one lock per model, native logging silenced, and
the thread count each call runs with chosen by measured speed.

>>> m = model("face_detection_short_range.tflite")       # doctest: +SKIP
>>> outs = m.run(np.zeros((1, 128, 128, 3), np.float32))  # doctest: +SKIP
>>> [o.shape for o in outs]                               # doctest: +SKIP
[(1, 896, 16), (1, 896, 1)]

Threads: XNNPACK splits each call over its threads and waits for the slowest, so on
a machine whose cores other programs are using, 2 threads can take twice as long as
1 (measured on the 2-core host under load 1.3: pose detector 21 ms with 2 threads,
10 ms with 1; at another moment, load 1.8: 5 ms with 2, 10 ms with 1). :class:`LiteModel` keeps one
interpreter per thread count (1 and up to :data:`MAX_THREADS`) and runs each call on
the one whose recent calls were faster (:class:`ThreadChoice`); the outputs are the
same with any thread count (tested). ``PERTOUCH_LITERT_THREADS=N`` pins it.

Every model file, where it comes from and its licence: ``tools/data/NOTICE.md``.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import deque
from functools import lru_cache
from importlib import resources

import numpy as np

from pertouch.core.errors import ModelError

#: Most threads one call may use (the host has 2 cores; more never helped these small models).
MAX_THREADS = max(1, min(2, os.cpu_count() or 1))
#: Environment variable that pins the thread count (e.g. ``1`` for steady benchmarks).
THREADS_ENV = "PERTOUCH_LITERT_THREADS"


class ThreadChoice:
    """Which thread count the next call uses: the one whose recent calls (the median of
    the last :attr:`window`, robust to a call that another program preempted) were
    faster; every :attr:`probe_every`-th call, or when the other's last measurement is
    older than :attr:`stale_s`, the other one (so a change in the machine's load is
    noticed). One per model: the models' costs differ."""

    def __init__(self, options: tuple[int, ...], probe_every: int = 8, stale_s: float = 5.0,
                 window: int = 5) -> None:
        self.options = options
        self.probe_every, self.stale_s = probe_every, stale_s
        self.recent: dict[int, deque] = {n: deque(maxlen=window) for n in options}
        self.when: dict[int, float] = {}
        self.calls = 0

    @property
    def typical(self) -> dict[int, float]:
        """Median seconds of the recent calls, per thread count measured so far."""
        return {n: float(np.median(r)) for n, r in self.recent.items() if r}

    def pick(self, now: float) -> int:
        """The thread count for the next call (the first option until another is probed:
        a process that calls a model only a few times never loads a second interpreter)."""
        self.calls += 1
        typical = self.typical
        if not typical:
            return self.options[0]
        best = min(typical, key=typical.get)
        others = [n for n in self.options if n != best]
        if others:
            oldest = min(others, key=lambda n: self.when.get(n, float("-inf")))
            stale = oldest in self.when and now - self.when[oldest] > self.stale_s
            if self.calls % self.probe_every == 0 or stale:
                return oldest
        return best

    def record(self, n: int, seconds: float, now: float) -> None:
        self.recent[n].append(seconds)
        self.when[n] = now


def thread_options() -> tuple[int, ...]:
    """The thread counts calls may use: ``PERTOUCH_LITERT_THREADS`` if set, else 1 … MAX_THREADS."""
    pinned = os.environ.get(THREADS_ENV, "").strip()
    if pinned:
        try:
            n = int(pinned)
        except ValueError:
            raise ModelError(f"{THREADS_ENV}={pinned!r} is not a number", hint="set it to 1 or 2, or unset it") from None
        return (max(1, n),)
    return tuple(range(MAX_THREADS, 0, -1))


class LiteModel:
    """One loaded .tflite model. :meth:`run` is thread-safe (one lock per model).

    ``num_threads``: a fixed thread count; None chooses per call (see the module doc)."""

    def __init__(self, name: str, num_threads: int | None = None) -> None:
        self._path = resources.files("pertouch.tools").joinpath("data", name)
        if not self._path.is_file():
            raise ModelError(f"model file {name} is missing from the package",
                             hint="reinstall pertouch (pip install -e .); tools/data/NOTICE.md says where it comes from")
        self.name = name
        self.choice = ThreadChoice((num_threads,) if num_threads else thread_options())
        self._its: dict = {}
        first = self._interpreter(self.choice.options[0])
        self.inputs = first.get_input_details()
        self.outputs = first.get_output_details()
        self._lock = threading.Lock()

    def _interpreter(self, threads: int):
        if threads not in self._its:
            from ai_edge_litert.interpreter import Interpreter

            with quiet_stderr():  # LiteRT's C++ logs "INFO: Created TensorFlow Lite XNNPACK delegate"
                it = Interpreter(model_path=str(self._path), num_threads=threads)
                it.allocate_tensors()
            self._its[threads] = it
        return self._its[threads]

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of the first input, e.g. ``(1, 128, 128, 3)``."""
        return tuple(int(s) for s in self.inputs[0]["shape"])

    def run(self, *arrays: np.ndarray) -> list[np.ndarray]:
        """Outputs (copies) for float32 inputs in the model's input order."""
        with self._lock:
            n = self.choice.pick(time.perf_counter())
            it = self._interpreter(n)
            for d, a in zip(self.inputs, arrays):
                it.set_tensor(d["index"], np.ascontiguousarray(a, dtype=d["dtype"]))
            t = time.perf_counter()
            it.invoke()
            done = time.perf_counter()
            self.choice.record(n, done - t, done)
            return [it.get_tensor(d["index"]) for d in self.outputs]  # get_tensor copies

    def output(self, outs: list[np.ndarray], name_part: str) -> np.ndarray:
        """The output whose tensor name contains ``name_part`` (models name them, order varies)."""
        for d, o in zip(self.outputs, outs):
            if name_part in d["name"]:
                return o
        raise KeyError(f"{self.name} has no output named like {name_part!r}: {[d['name'] for d in self.outputs]}")


@lru_cache(maxsize=None)
def model(name: str) -> LiteModel:
    """The shared :class:`LiteModel` for ``tools/data/<name>`` (loaded once per process)."""
    return LiteModel(name)


_QUIET_LOCK = threading.Lock()
_quiet = {"depth": 0, "saved": None}  # fd 2's real target while any thread keeps it quiet


@contextlib.contextmanager
def quiet_stderr():
    """Silence native writes to file descriptor 2 for the duration (Python's own stderr too).

    Threads may overlap (two models loading at once): the first one in saves the real
    descriptor and the last one out restores it, so an overlap never leaves fd 2 on
    /dev/null (one thread saving the other's /dev/null did, and hid every later line)."""
    import os
    import sys

    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # a captured stderr (test runners): nothing to do
        yield
        return
    with _QUIET_LOCK:
        if _quiet["depth"] == 0:
            sys.stderr.flush()
            _quiet["saved"] = os.dup(fd)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, fd)
            os.close(null)
        _quiet["depth"] += 1
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _quiet["depth"] -= 1
            if _quiet["depth"] == 0:
                saved, _quiet["saved"] = _quiet["saved"], None
                os.dup2(saved, fd)
                os.close(saved)
